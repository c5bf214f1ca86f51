//! The coherent heap driver's statistics in debugfs:
//! `/sys/kernel/debug/coherent_heap/<heap>`.
//!
//! ```text
//! region: camera@70000000
//! base: 0x70000000
//! size: 67108864
//! in_use: 8192
//! peak: 1052672
//! allocations: 12
//! failures: 1
//! buffers: 2
//! 0x70000000 4096
//! 0x70001000 4096
//! ```
//!
//! One line per live buffer follows the counters: its DMA address (the
//! physical address: the heap's device has no IOMMU) and length, sorted by
//! address.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The driver's debugfs directory.
pub const COHERENT_DEBUGFS: &str = "/sys/kernel/debug/coherent_heap";

/// A live buffer as debugfs lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LiveBuffer {
    /// DMA (= physical) address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
}

impl LiveBuffer {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.addr.saturating_add(self.len)
    }
}

/// The statistics of one heap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Node name of the region, unit address included.
    pub region: String,
    /// Physical base of the region.
    pub base: u64,
    /// Size of the region in bytes.
    pub size: u64,
    /// Bytes in live buffers.
    pub in_use: u64,
    /// Highest `in_use` seen.
    pub peak: u64,
    /// Successful allocations since boot.
    pub allocations: u64,
    /// Failed allocations since boot.
    pub failures: u64,
    /// Live buffers, sorted by address.
    pub live: Vec<LiveBuffer>,
}

fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl HeapStats {
    /// Parses the text of a stats file. Every counter must be present once;
    /// the buffer lines must number `buffers:`.
    pub fn parse(text: &str) -> std::result::Result<HeapStats, String> {
        let mut s = HeapStats::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut buffers = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim();
                if seen.contains(&key) {
                    return Err(format!("line {n}: '{key}' repeated"));
                }
                seen.push(key);
                if key == "region" {
                    s.region = value.trim().to_owned();
                    continue;
                }
                let v = parse_number(value)
                    .ok_or_else(|| format!("line {n}: '{key}' is not a number: {line:?}"))?;
                match key {
                    "base" => s.base = v,
                    "size" => s.size = v,
                    "in_use" => s.in_use = v,
                    "peak" => s.peak = v,
                    "allocations" => s.allocations = v,
                    "failures" => s.failures = v,
                    "buffers" => buffers = Some(v),
                    _ => return Err(format!("line {n}: unknown field '{key}'")),
                }
            } else {
                let mut parts = line.split_whitespace();
                let (Some(a), Some(l), None) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(format!("line {n}: expected 'ADDRESS LENGTH': {line:?}"));
                };
                if !a.starts_with("0x") {
                    return Err(format!("line {n}: address {a:?} is not 0x hex"));
                }
                let (Some(addr), Some(len)) = (parse_number(a), parse_number(l)) else {
                    return Err(format!("line {n}: expected 'ADDRESS LENGTH': {line:?}"));
                };
                s.live.push(LiveBuffer { addr, len });
            }
        }
        for key in [
            "region",
            "base",
            "size",
            "in_use",
            "peak",
            "allocations",
            "failures",
            "buffers",
        ] {
            if !seen.contains(&key) {
                return Err(format!("no '{key}:' line"));
            }
        }
        let buffers = buffers.unwrap_or(0);
        if buffers != s.live.len() as u64 {
            return Err(format!(
                "'buffers: {buffers}' but {} buffer line(s)",
                s.live.len()
            ));
        }
        Ok(s)
    }

    /// Reads `dir/heap` (normally under [`COHERENT_DEBUGFS`]).
    pub fn read_in(dir: &Path, heap: &str) -> Result<HeapStats> {
        let path = dir.join(heap);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        HeapStats::parse(&text).map_err(|msg| Error::Format { path, msg })
    }

    /// The stats file of `heap` in the default debugfs directory.
    pub fn path(heap: &str) -> PathBuf {
        Path::new(COHERENT_DEBUGFS).join(heap)
    }

    /// Reads `/sys/kernel/debug/coherent_heap/HEAP`.
    pub fn read(heap: &str) -> Result<HeapStats> {
        HeapStats::read_in(Path::new(COHERENT_DEBUGFS), heap)
    }

    /// Live buffers as a count.
    pub fn buffers(&self) -> u64 {
        self.live.len() as u64
    }

    /// Sum of the live buffers' lengths.
    pub fn live_bytes(&self) -> u64 {
        self.live.iter().map(|b| b.len).sum()
    }

    /// Checks the invariants that hold at any time: live buffers sorted,
    /// non-empty, inside `[base, base + size)` and not overlapping; their
    /// lengths add up to `in_use`; `in_use <= peak`; `in_use <= size`.
    /// Returns every violation found.
    pub fn check_invariants(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let end = self.base.saturating_add(self.size);
        for (i, b) in self.live.iter().enumerate() {
            if b.len == 0 {
                errs.push(format!("buffer {:#x} has length 0", b.addr));
            }
            if b.addr < self.base || b.end() > end {
                errs.push(format!(
                    "buffer {:#x}+{} lies outside the region [{:#x}, {end:#x})",
                    b.addr, b.len, self.base
                ));
            }
            if let Some(prev) = i.checked_sub(1).map(|p| self.live[p]) {
                if prev.addr >= b.addr {
                    errs.push(format!(
                        "buffers not sorted by address: {:#x} before {:#x}",
                        prev.addr, b.addr
                    ));
                } else if prev.end() > b.addr {
                    errs.push(format!(
                        "buffers overlap: {:#x}+{} and {:#x}+{}",
                        prev.addr, prev.len, b.addr, b.len
                    ));
                }
            }
        }
        if self.live_bytes() != self.in_use {
            errs.push(format!(
                "in_use is {} but the live buffers add up to {}",
                self.in_use,
                self.live_bytes()
            ));
        }
        if self.in_use > self.peak {
            errs.push(format!("in_use {} above peak {}", self.in_use, self.peak));
        }
        if self.in_use > self.size {
            errs.push(format!(
                "in_use {} above the region size {}",
                self.in_use, self.size
            ));
        }
        errs
    }

    /// The live buffers that are not in `before` (same address and length).
    pub fn new_since(&self, before: &HeapStats) -> Vec<LiveBuffer> {
        self.live
            .iter()
            .filter(|b| before.live.binary_search(b).is_err())
            .copied()
            .collect()
    }
}

/// Heap names with a stats file in `dir`, sorted.
pub fn list_in(dir: &Path) -> Result<Vec<String>> {
    crate::heap::list_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
region: camera@70000000
base: 0x70000000
size: 67108864
in_use: 1052672
peak: 2097152
allocations: 12
failures: 1
buffers: 2
0x70000000 4096
0x70100000 1048576
";

    #[test]
    fn parses_the_driver_format() {
        let s = HeapStats::parse(SAMPLE).unwrap();
        assert_eq!(s.region, "camera@70000000");
        assert_eq!(s.base, 0x7000_0000);
        assert_eq!(s.size, 64 << 20);
        assert_eq!(s.in_use, 1_052_672);
        assert_eq!(s.peak, 2 << 20);
        assert_eq!(s.allocations, 12);
        assert_eq!(s.failures, 1);
        assert_eq!(
            s.live,
            [
                LiveBuffer {
                    addr: 0x7000_0000,
                    len: 4096
                },
                LiveBuffer {
                    addr: 0x7010_0000,
                    len: 1 << 20
                }
            ]
        );
        assert!(
            s.check_invariants().is_empty(),
            "{:?}",
            s.check_invariants()
        );
        assert_eq!(s.buffers(), 2);
    }

    #[test]
    fn rejects_malformed_text() {
        let missing = SAMPLE.replace("peak: 2097152\n", "");
        assert_eq!(HeapStats::parse(&missing).unwrap_err(), "no 'peak:' line");
        let count = SAMPLE.replace("buffers: 2", "buffers: 3");
        assert_eq!(
            HeapStats::parse(&count).unwrap_err(),
            "'buffers: 3' but 2 buffer line(s)"
        );
        let bad = SAMPLE.replace("size: 67108864", "size: lots");
        assert!(HeapStats::parse(&bad)
            .unwrap_err()
            .starts_with("line 3: 'size' is not a number"));
        let extra = format!("{SAMPLE}0x70200000\n");
        assert!(HeapStats::parse(&extra)
            .unwrap_err()
            .contains("expected 'ADDRESS LENGTH'"));
        let dec = format!("{SAMPLE}1879048192 4096\n");
        assert!(HeapStats::parse(&dec).unwrap_err().contains("not 0x hex"));
        let twice = format!("{SAMPLE}failures: 2\n");
        assert!(HeapStats::parse(&twice).unwrap_err().contains("repeated"));
        let unknown = format!("{SAMPLE}colour: 2\n");
        assert!(HeapStats::parse(&unknown)
            .unwrap_err()
            .contains("unknown field"));
    }

    #[test]
    fn invariant_violations_are_named() {
        let mut s = HeapStats::parse(SAMPLE).unwrap();
        s.live.push(LiveBuffer {
            addr: 0x7010_0800,
            len: 4096,
        });
        s.live.push(LiveBuffer {
            addr: 0x7400_0000,
            len: 4096,
        });
        s.in_use = 100 << 20;
        let errs = s.check_invariants();
        assert!(
            errs.iter()
                .any(|e| e.starts_with("buffers overlap: 0x70100000+1048576 and 0x70100800+4096")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e
                    .contains("0x74000000+4096 lies outside the region [0x70000000, 0x74000000)")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("in_use is 104857600 but")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.contains("above peak")), "{errs:?}");
        assert!(
            errs.iter().any(|e| e.contains("above the region size")),
            "{errs:?}"
        );

        let mut s = HeapStats::parse(SAMPLE).unwrap();
        s.live.swap(0, 1);
        assert!(s.check_invariants()[0].starts_with("buffers not sorted"));
    }

    #[test]
    fn new_buffers_since() {
        let before = HeapStats::parse(SAMPLE).unwrap();
        let mut after = before.clone();
        after.live.insert(
            1,
            LiveBuffer {
                addr: 0x7000_1000,
                len: 8192,
            },
        );
        assert_eq!(
            after.new_since(&before),
            [LiveBuffer {
                addr: 0x7000_1000,
                len: 8192
            }]
        );
        assert!(before.new_since(&after).is_empty());
    }
}
