//! Sizes and addresses on the command line and in reports.

/// 1 KiB.
pub const KIB: u64 = 1 << 10;
/// 1 MiB.
pub const MIB: u64 = 1 << 20;
/// 1 GiB.
pub const GIB: u64 = 1 << 30;

/// Parses a size the way the kernel's `memparse()` reads `cma=64M`: a decimal or `0x` number
/// with an optional binary suffix `K`, `M`, `G` or `T` (`KiB`, `MB`, ... are accepted too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let (digits, unit) = if lower.starts_with("0x") {
        (lower.as_str(), 1)
    } else {
        let end = lower
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(lower.len());
        let unit = match &lower[end..] {
            "" | "b" => 1,
            "k" | "kb" | "kib" => KIB,
            "m" | "mb" | "mib" => MIB,
            "g" | "gb" | "gib" => GIB,
            "t" | "tb" | "tib" => 1 << 40,
            other => return Err(format!("{s:?}: unknown unit {other:?} (use K, M, G or T)")),
        };
        (&lower[..end], unit)
    };
    let n = parse_number(digits).map_err(|e| format!("{s:?}: {e}"))?;
    n.checked_mul(unit)
        .ok_or_else(|| format!("{s:?}: too large for 64 bits"))
}

/// Parses an address: `0x` hex or decimal.
pub fn parse_address(s: &str) -> Result<u64, String> {
    parse_number(&s.trim().to_ascii_lowercase()).map_err(|e| format!("{s:?}: {e}"))
}

fn parse_number(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse::<u64>(),
    };
    r.map_err(|_| "not a number".to_string())
}

/// `64 MiB`, `4 KiB`, or the exact hex byte count when no binary unit divides it.
pub fn format_size(n: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if n >= unit && n % unit == 0 {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n:#x} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 * MIB));
        assert_eq!(parse_size("64MiB"), Ok(64 * MIB));
        assert_eq!(parse_size("2g"), Ok(2 * GIB));
        assert_eq!(parse_size("0x4000000"), Ok(64 * MIB));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("64X").unwrap_err().contains("unknown unit"));
        assert!(parse_size("M").unwrap_err().contains("not a number"));
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_address("0x1_0000_0000"), Ok(1 << 32));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_size(64 * MIB), "64 MiB");
        assert_eq!(format_size(3 * GIB), "3 GiB");
        assert_eq!(format_size(0x1800000), "24 MiB");
        assert_eq!(format_size(0x100), "0x100 B");
        assert_eq!(format_size(0), "0x0 B");
    }
}
