//! Range arithmetic: free space in DRAM, and the lowest aligned spot that fits.

use heap_rules::Range;

/// 4 GiB: 32-bit DMA masters reach only below it.
pub const FOUR_GIB: u64 = 1 << 32;

/// `[start, end)` in 128 bits, so that a range ending at 2^64 is representable.
type Span = (u128, u128);

fn span(r: &Range) -> Span {
    (u128::from(r.base), r.end())
}

fn range((start, end): Span) -> Range {
    // Spans here come from u64 ranges, so start < 2^64; a size of 2^64 is clipped by one byte.
    Range::new(start as u64, (end - start).min(u128::from(u64::MAX)) as u64)
}

fn spans(ranges: &[Range]) -> Vec<Span> {
    let mut s: Vec<Span> = ranges.iter().filter(|r| r.size != 0).map(span).collect();
    s.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(s.len());
    for (start, end) in s {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// The ranges sorted, with overlapping and adjacent ones merged.
pub fn merge(ranges: &[Range]) -> Vec<Range> {
    spans(ranges).into_iter().map(range).collect()
}

/// Whether `r` lies wholly inside the union of `ranges`.
pub fn contains(ranges: &[Range], r: &Range) -> bool {
    let (start, end) = span(r);
    spans(ranges).iter().any(|&(s, e)| s <= start && end <= e)
}

/// The parts of `a` that are also in `b`.
pub fn intersect(a: &[Range], b: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    for &(s1, e1) in &spans(a) {
        for &(s2, e2) in &spans(b) {
            let (s, e) = (s1.max(s2), e1.min(e2));
            if s < e {
                out.push(range((s, e)));
            }
        }
    }
    out
}

/// The parts of `window` not covered by `occupied`.
pub fn subtract(window: &[Range], occupied: &[Range]) -> Vec<Range> {
    let taken = spans(occupied);
    let mut out = Vec::new();
    for (mut start, end) in spans(window) {
        for &(ts, te) in &taken {
            if te <= start || ts >= end {
                continue;
            }
            if ts > start {
                out.push(range((start, ts)));
            }
            start = start.max(te);
        }
        if start < end {
            out.push(range((start, end)));
        }
    }
    out
}

/// The lowest base, a multiple of `align`, where `size` bytes fit inside one of `free`.
pub fn first_fit(free: &[Range], size: u64, align: u64) -> Option<u64> {
    let align = u128::from(align.max(1));
    spans(free).into_iter().find_map(|(start, end)| {
        let base = start.div_ceil(align) * align;
        (base + u128::from(size) <= end && base <= u128::from(u64::MAX)).then_some(base as u64)
    })
}

/// The lowest aligned free spot for `size` bytes in `dram` outside `occupied`: below 4 GiB if
/// there is room there, else wholly above it, else anywhere.
pub fn lowest_free(dram: &[Range], occupied: &[Range], size: u64, align: u64) -> Option<u64> {
    let free = subtract(dram, occupied);
    let low = intersect(&free, &[Range::new(0, FOUR_GIB)]);
    let high = intersect(&free, &[Range::new(FOUR_GIB, u64::MAX - FOUR_GIB)]);
    first_fit(&low, size, align)
        .or_else(|| first_fit(&high, size, align))
        .or_else(|| first_fit(&free, size, align))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 1 << 20;

    #[test]
    fn merge_and_contain() {
        let banks = [
            Range::new(0x8000_0000, 0x4000_0000),
            Range::new(0x4000_0000, 0x4000_0000),
        ];
        assert_eq!(merge(&banks), [Range::new(0x4000_0000, 0x8000_0000)]);
        // A region spanning two adjacent banks is inside the DRAM.
        assert!(contains(&banks, &Range::new(0x7000_0000, 0x2000_0000)));
        assert!(!contains(&banks, &Range::new(0xb000_0000, 0x2000_0000)));
    }

    #[test]
    fn subtract_and_fit() {
        let dram = [Range::new(0, 64 * M)];
        let taken = [Range::new(0, 10 * M), Range::new(20 * M, 4 * M)];
        assert_eq!(
            subtract(&dram, &taken),
            [Range::new(10 * M, 10 * M), Range::new(24 * M, 40 * M)]
        );
        let free = subtract(&dram, &taken);
        assert_eq!(first_fit(&free, 8 * M, 2 * M), Some(10 * M));
        assert_eq!(first_fit(&free, 8 * M, 16 * M), Some(32 * M));
        assert_eq!(first_fit(&free, 41 * M, 2 * M), None);
    }

    #[test]
    fn prefers_below_four_gib() {
        let dram = [Range::new(0xf000_0000, 0x2000_0000)];
        assert_eq!(lowest_free(&dram, &[], 64 * M, 2 * M), Some(0xf000_0000));
        let taken = [Range::new(0xf000_0000, 0x0800_0000)];
        // 128 MiB left below 4 GiB: 0xf8000000-0xffffffff.
        assert_eq!(
            lowest_free(&dram, &taken, 128 * M, 2 * M),
            Some(0xf800_0000)
        );
        // 256 MiB does not fit below 4 GiB any more: wholly above it rather than across.
        assert_eq!(lowest_free(&dram, &taken, 256 * M, 2 * M), Some(FOUR_GIB));
        // 384 MiB fits only across 4 GiB.
        assert_eq!(
            lowest_free(&dram, &taken, 384 * M, 2 * M),
            Some(0xf800_0000)
        );
    }

    #[test]
    fn top_of_the_address_space() {
        let dram = [Range::new(u64::MAX - 0xfff, 0x1000)];
        assert_eq!(first_fit(&dram, 0x1000, 0x1000), Some(u64::MAX - 0xfff));
        assert_eq!(first_fit(&dram, 0x1000, 0x2000), None);
    }
}
