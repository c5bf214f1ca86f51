//! Byte sizes on the command line and in output. The grammar of sizes is
//! `heap-rules`' (decimal or `0x` hex, with an optional `K`, `M`, `G` or
//! `T`, or `KiB` ... `TiB`), the same as `dtregion`'s; this module names
//! the argument at fault and adds the spellings only `dma-heap` prints.

pub use heap_rules::size::{format_bytes, format_size};
use heap_rules::size::{GIB, KIB, MIB, TIB};

use crate::error::{Error, Result};

/// Parses a byte count by `heap-rules`' grammar: `4096`, `0x1000`, `4K`,
/// `4KiB`, `64M`, `1G`.
///
/// `arg` names the argument in the error message.
pub fn parse_size(arg: &'static str, s: &str) -> Result<u64> {
    heap_rules::size::parse_size(s).map_err(|e| Error::InvalidArgument {
        arg,
        value: s.into(),
        msg: e.to_string(),
    })
}

/// Test-name spelling: `4096` -> `4k`, `8388608` -> `8m`, `1000` -> `1000b`.
pub fn size_tag(n: u64) -> String {
    for (unit, bytes) in [('t', TIB), ('g', GIB), ('m', MIB), ('k', KIB)] {
        if n != 0 && n % bytes == 0 {
            return format!("{}{unit}", n / bytes);
        }
    }
    format!("{n}b")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shared_grammar() {
        assert_eq!(parse_size("SIZE", "4096").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "0x1000").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "4k").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "4KiB").unwrap(), 4096);
        assert_eq!(parse_size("SIZE", "64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("SIZE", "1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("SIZE", "2T").unwrap(), 2 << 40);
        assert_eq!(parse_size("SIZE", "0").unwrap(), 0);
    }

    #[test]
    fn rejects_garbage_naming_the_argument() {
        let msg = |s| parse_size("SIZE", s).unwrap_err().to_string();
        assert_eq!(
            msg("12Q"),
            "invalid SIZE '12Q': unknown unit \"Q\" (use K, M, G or T, or KiB, MiB, GiB or TiB)"
        );
        assert!(msg("").starts_with("invalid SIZE '': expected a number"));
        assert!(msg("-1").starts_with("invalid SIZE '-1': expected a number"));
        assert!(msg("512B").contains("unknown unit \"B\""));
        assert!(msg("1.5M").contains("unknown unit \".5M\""));
        assert_eq!(
            msg("18446744073709551616"),
            "invalid SIZE '18446744073709551616': too large for 64 bits"
        );
        assert_eq!(
            msg("16777216T"),
            "invalid SIZE '16777216T': too large for 64 bits"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(3 << 19), "1536 KiB");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(size_tag(4096), "4k");
        assert_eq!(size_tag(8 << 20), "8m");
        assert_eq!(size_tag(1), "1b");
        assert_eq!(size_tag(2 << 40), "2t");
    }
}
