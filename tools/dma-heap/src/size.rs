//! Byte sizes on the command line (`4096`, `4K`, `64M`, `1G`) and in output.

use crate::error::{Error, Result};

const UNITS: [(char, u32); 4] = [('K', 10), ('M', 20), ('G', 30), ('T', 40)];

/// Parses a byte count: decimal digits with an optional binary suffix
/// `K`, `M`, `G` or `T` (any case, optionally followed by `iB` or `B`):
/// `4096`, `4K`, `4KiB`, `64M`, `1G`.
///
/// `arg` names the argument in the error message.
pub fn parse_size(arg: &'static str, s: &str) -> Result<u64> {
    let err = |msg: &str| Error::InvalidArgument {
        arg,
        value: s.into(),
        msg: msg.into(),
    };
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(digits_end);
    if digits.is_empty() {
        return Err(err(
            "expected a number of bytes such as 4096, 4K, 64M or 1G",
        ));
    }
    let shift = match suffix {
        "" | "B" | "b" => 0,
        _ => {
            let mut chars = suffix.chars();
            let unit = chars.next().map(|c| c.to_ascii_uppercase());
            let rest = chars.as_str();
            let shift = UNITS
                .iter()
                .find(|(u, _)| Some(*u) == unit)
                .map(|(_, s)| *s);
            match (shift, rest) {
                (Some(shift), "" | "B" | "iB" | "ib" | "IB") => shift,
                _ => return Err(err(&format!("unknown unit '{suffix}' (use K, M, G or T)"))),
            }
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| err("number does not fit in 64 bits"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| err("size does not fit in 64 bits"))
}

/// `4096` -> `4 KiB`, `1572864` -> `1536 KiB`, `1000` -> `1000 B`: the
/// largest binary unit that divides the size exactly.
pub fn format_size(n: u64) -> String {
    for (unit, shift) in UNITS.iter().rev() {
        if n != 0 && n % (1u64 << shift) == 0 {
            return format!("{} {unit}iB", n >> shift);
        }
    }
    format!("{n} B")
}

/// Like [`format_size`] when a binary unit of at most MiB divides the size
/// exactly (`4 KiB`, `3 MiB`), else MiB with two decimals (`3.00 MiB`):
/// for measured amounts in tables and notes.
pub fn format_bytes(n: u64) -> String {
    let exact = n % (1 << 20) == 0 || (n < (1 << 20) && n % (1 << 10) == 0);
    if exact {
        format_size(n)
    } else {
        format!("{:.2} MiB", n as f64 / f64::from(1 << 20))
    }
}

/// Test-name spelling: `4096` -> `4k`, `8388608` -> `8m`, `1000` -> `1000b`.
pub fn size_tag(n: u64) -> String {
    for (unit, shift) in UNITS.iter().rev() {
        if n != 0 && n % (1u64 << shift) == 0 {
            return format!("{}{}", n >> shift, unit.to_ascii_lowercase());
        }
    }
    format!("{n}b")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_bytes() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(4096), "4 KiB");
        assert_eq!(format_bytes(3 << 20), "3 MiB");
        assert_eq!(format_bytes((3 << 20) + 4096), "3.00 MiB");
        assert_eq!(format_bytes(1536 << 10), "1.50 MiB");
        assert_eq!(format_bytes(280_224 << 10), "273.66 MiB");
    }

    #[test]
    fn parses_suffixes() {
        assert_eq!(parse_size("SIZE", "4096").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "4K").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "4k").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "4KiB").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("SIZE", "1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("SIZE", "2T").unwrap(), 2 << 40);
        assert_eq!(parse_size("SIZE", "0").unwrap(), 0);
        assert_eq!(parse_size("SIZE", "512B").unwrap(), 512);
    }

    #[test]
    fn rejects_garbage_with_a_clear_message() {
        let msg = |s| parse_size("SIZE", s).unwrap_err().to_string();
        assert_eq!(
            msg(""),
            "invalid SIZE '': expected a number of bytes such as 4096, 4K, 64M or 1G"
        );
        assert_eq!(
            msg("K"),
            "invalid SIZE 'K': expected a number of bytes such as 4096, 4K, 64M or 1G"
        );
        assert_eq!(
            msg("-1"),
            "invalid SIZE '-1': expected a number of bytes such as 4096, 4K, 64M or 1G"
        );
        assert_eq!(
            msg("12Q"),
            "invalid SIZE '12Q': unknown unit 'Q' (use K, M, G or T)"
        );
        assert_eq!(
            msg("1.5M"),
            "invalid SIZE '1.5M': unknown unit '.5M' (use K, M, G or T)"
        );
        assert_eq!(
            msg("4Kx"),
            "invalid SIZE '4Kx': unknown unit 'Kx' (use K, M, G or T)"
        );
        assert_eq!(
            msg("0x1000"),
            "invalid SIZE '0x1000': unknown unit 'x1000' (use K, M, G or T)"
        );
    }

    #[test]
    fn rejects_overflow() {
        let msg = |s| parse_size("SIZE", s).unwrap_err().to_string();
        assert_eq!(
            msg("18446744073709551616"),
            "invalid SIZE '18446744073709551616': number does not fit in 64 bits"
        );
        assert_eq!(
            msg("16777216T"),
            "invalid SIZE '16777216T': size does not fit in 64 bits"
        );
        assert_eq!(parse_size("SIZE", "16777215T").unwrap(), 16_777_215 << 40);
        assert_eq!(
            parse_size("SIZE", "18446744073709551615").unwrap(),
            u64::MAX
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(1 << 20), "1 MiB");
        assert_eq!(format_size(3 << 19), "1536 KiB");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(format_size(0), "0 B");
        assert_eq!(size_tag(4096), "4k");
        assert_eq!(size_tag(8 << 20), "8m");
        assert_eq!(size_tag(1), "1b");
    }
}
