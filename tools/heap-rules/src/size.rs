//! Sizes and addresses written by people (command lines, board tables), and sizes in reports.
//!
//! The one grammar every tool accepts:
//!
//! ```text
//! size    = number [unit]
//! address = number
//! number  = decimal | hex
//! decimal = digit { digit | "_" }
//! hex     = ("0x" | "0X") hexdigit { hexdigit | "_" }
//! unit    = ("K" | "M" | "G" | "T") ["iB"]          letters in either case
//! ```
//!
//! Units are binary: `4K` and `4KiB` are 4096 bytes, `64M` 64 MiB, `0x40M` 64 MiB too (the
//! kernel's `memparse()` reads `cma=64M` and `0x40M` the same way). `_` separates digit groups
//! (`0x1_0000_0000`). There is no `KB`/`MB`/`B`: a size either has a binary unit or is a byte
//! count. No blanks, no sign, no fraction.

use crate::error::{Error, Result};

/// 1 KiB.
pub const KIB: u64 = 1 << 10;
/// 1 MiB.
pub const MIB: u64 = 1 << 20;
/// 1 GiB.
pub const GIB: u64 = 1 << 30;
/// 1 TiB.
pub const TIB: u64 = 1 << 40;

const UNITS: [(char, u64, &str); 4] = [
    ('K', KIB, "KiB"),
    ('M', MIB, "MiB"),
    ('G', GIB, "GiB"),
    ('T', TIB, "TiB"),
];

fn fault(value: &str, what: impl Into<String>) -> Error {
    Error::Size {
        value: value.to_string(),
        what: what.into(),
    }
}

/// Splits `s` into its number and the rest; `Err` if there is no number.
fn number(s: &str) -> Result<(u64, &str)> {
    let (digits, radix, rest) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => {
            let end = hex
                .find(|c: char| !(c.is_ascii_hexdigit() || c == '_'))
                .unwrap_or(hex.len());
            (&hex[..end], 16, &hex[end..])
        }
        None => {
            let end = s
                .find(|c: char| !(c.is_ascii_digit() || c == '_'))
                .unwrap_or(s.len());
            (&s[..end], 10, &s[end..])
        }
    };
    if digits.is_empty() || digits.starts_with('_') {
        return Err(fault(
            s,
            "expected a number: decimal (4096) or hex (0x1000), optionally followed by K, M, G or T",
        ));
    }
    let n = u64::from_str_radix(&digits.replace('_', ""), radix)
        .map_err(|_| fault(s, "too large for 64 bits"))?;
    Ok((n, rest))
}

/// Parses a size in bytes: `4096`, `0x1000`, `4K`, `4KiB`, `64M`, `0x40M`, `1G`.
pub fn parse_size(s: &str) -> Result<u64> {
    let (n, rest) = number(s)?;
    if rest.is_empty() {
        return Ok(n);
    }
    let mut chars = rest.chars();
    let letter = chars.next().map(|c| c.to_ascii_uppercase());
    let tail = chars.as_str();
    let unit = UNITS
        .iter()
        .find(|(u, _, _)| Some(*u) == letter)
        .filter(|_| tail.is_empty() || tail.eq_ignore_ascii_case("ib"))
        .map(|(_, bytes, _)| *bytes)
        .ok_or_else(|| {
            fault(
                s,
                format!("unknown unit {rest:?} (use K, M, G or T, or KiB, MiB, GiB or TiB)"),
            )
        })?;
    n.checked_mul(unit)
        .ok_or_else(|| fault(s, "too large for 64 bits"))
}

/// Parses an address: `0x` hex or decimal, without a unit.
pub fn parse_address(s: &str) -> Result<u64> {
    match number(s)? {
        (n, "") => Ok(n),
        (_, rest) => Err(fault(
            s,
            format!("{rest:?} after the number: an address is decimal or 0x hex"),
        )),
    }
}

/// `64 MiB`, `4 KiB`: the largest binary unit that divides `n` exactly; else `1000 B`.
pub fn format_size(n: u64) -> String {
    UNITS
        .iter()
        .rev()
        .find(|(_, unit, _)| n >= *unit && n % unit == 0)
        .map_or_else(
            || format!("{n} B"),
            |(_, unit, name)| format!("{} {name}", n / unit),
        )
}

/// Like [`format_size`] when a binary unit of at most MiB divides the size
/// exactly (`4 KiB`, `3 MiB`), else MiB with two decimals (`3.00 MiB`):
/// for measured amounts in tables and notes.
pub fn format_bytes(n: u64) -> String {
    let exact = n % MIB == 0 || (n < MIB && n % KIB == 0);
    if exact {
        format_size(n)
    } else {
        format!("{:.2} MiB", n as f64 / MIB as f64)
    }
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

    fn what(s: &str) -> String {
        parse_size(s).unwrap_err().to_string()
    }

    #[test]
    fn the_grammar_accepts() {
        for (s, n) in [
            ("4096", 4096),
            ("0", 0),
            ("0x1000", 4096),
            ("0X1000", 4096),
            ("4K", 4096),
            ("4k", 4096),
            ("4KiB", 4096),
            ("4kib", 4096),
            ("64M", 64 * MIB),
            ("64MiB", 64 * MIB),
            ("0x40M", 64 * MIB),
            ("2g", 2 * GIB),
            ("1GiB", GIB),
            ("2T", 2 * TIB),
            ("0x4000000", 64 * MIB),
            ("1_000", 1000),
            ("0x1_0000_0000", 1 << 32),
            ("18446744073709551615", u64::MAX),
            ("16777215T", 16_777_215 << 40),
        ] {
            assert_eq!(parse_size(s), Ok(n), "{s}");
        }
    }

    #[test]
    fn the_grammar_refuses() {
        for s in ["", "K", "-1", "+1", "0x", "_1", "0x_1", " 4K", "4K "] {
            assert!(parse_size(s).is_err(), "{s:?}");
        }
        assert_eq!(
            what("12Q"),
            "unknown unit \"Q\" (use K, M, G or T, or KiB, MiB, GiB or TiB)"
        );
        for s in ["4KB", "4MB", "512B", "1.5M", "4Kx", "4KiBs", "0x10g0"] {
            assert!(what(s).starts_with("unknown unit"), "{s}");
        }
        assert_eq!(what("18446744073709551616"), "too large for 64 bits");
        assert_eq!(what("16777216T"), "too large for 64 bits");
        assert!(what("M").starts_with("expected a number"));
        assert_eq!(
            parse_size("12Q"),
            Err(Error::Size {
                value: "12Q".into(),
                what: "unknown unit \"Q\" (use K, M, G or T, or KiB, MiB, GiB or TiB)".into()
            })
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("0x1_0000_0000"), Ok(1 << 32));
        assert_eq!(parse_address("4096"), Ok(4096));
        assert_eq!(
            parse_address("64M").unwrap_err().to_string(),
            "\"M\" after the number: an address is decimal or 0x hex"
        );
        assert!(parse_address("auto").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_size(64 * MIB), "64 MiB");
        assert_eq!(format_size(3 * GIB), "3 GiB");
        assert_eq!(format_size(0x1800000), "24 MiB");
        assert_eq!(format_size(3 << 19), "1536 KiB");
        assert_eq!(format_size(2 * TIB), "2 TiB");
        assert_eq!(format_size(0x100), "256 B");
        assert_eq!(format_size(0), "0 B");
        // What format_size writes, without the blank, parses back.
        for n in [4096, 64 * MIB, 3 * GIB, 2 * TIB, 1000] {
            let shown = format_size(n);
            let text = shown.strip_suffix(" B").unwrap_or(&shown).replace(' ', "");
            assert_eq!(parse_size(&text), Ok(n), "{text}");
        }
    }
}
