//! A small deterministic pseudo-random generator (xorshift64*), so that
//! stress runs and benchmarks do the same thing on every boot and a
//! failing sequence can be replayed from its seed.

/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
/// generators, scrambled", 2016): 64 bits of state, period 2^64 - 1.
#[derive(Debug, Clone)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    /// A generator seeded with `seed`. The state must not be zero, so a zero
    /// seed is replaced by a fixed odd constant.
    pub fn new(seed: u64) -> XorShift64 {
        XorShift64 {
            state: if seed == 0 {
                0x9e37_79b9_7f4a_7c15
            } else {
                seed
            },
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0). Uses the high bits through a
    /// 128-bit multiply (Lemire), bias at most n / 2^64.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A whole number of `page`-sized pages between `min` and `max` bytes
    /// (both rounded to pages, at least one page), log-uniformly
    /// distributed: each power-of-two band of sizes is as likely as any
    /// other, so small buffers are as common as large ones, as in a real
    /// mix of metadata buffers and frames.
    pub fn log_uniform_size(&mut self, min: u64, max: u64, page: u64) -> u64 {
        let page = page.max(1);
        let lo = min.div_ceil(page).max(1);
        let hi = (max / page).max(lo);
        // Bands [2^b, 2^(b+1)) of page counts overlapping lo..=hi.
        let first = 63 - lo.leading_zeros();
        let last = 63 - hi.leading_zeros();
        let band = first + self.below(u64::from(last - first + 1)) as u32;
        let band_lo = (1u64 << band).max(lo);
        let band_hi = ((1u64 << band) * 2 - 1).min(hi);
        self.range(band_lo, band_hi) * page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sequence() {
        // xorshift64* from seed 1, computed by hand from the recurrence.
        let mut r = XorShift64::new(1);
        let mut x: u64 = 1;
        for _ in 0..5 {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            assert_eq!(r.next_u64(), x.wrapping_mul(0x2545_f491_4f6c_dd1d));
        }
        assert_eq!(XorShift64::new(1).next_u64(), 0x47e4_ce4b_896c_dd1d);
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a: Vec<u64> = {
            let mut r = XorShift64::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = XorShift64::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = XorShift64::new(43);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Seed 0 would be stuck at 0 forever; it is replaced.
        let mut z = XorShift64::new(0);
        assert_ne!(z.next_u64(), 0);
    }

    #[test]
    fn bounded_values() {
        let mut r = XorShift64::new(7);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(9, 3), 9);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let v = r.range(10, 15);
            assert!((10..=15).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "every value comes up: {seen:?}");
        let _ = r.range(0, u64::MAX);
    }

    #[test]
    fn log_uniform_sizes() {
        let mut r = XorShift64::new(3);
        let (min, max, page) = (4096, 4 << 20, 4096);
        let mut small = 0;
        let mut large = 0;
        for _ in 0..4000 {
            let s = r.log_uniform_size(min, max, page);
            assert!((min..=max).contains(&s), "{s}");
            assert_eq!(s % page, 0);
            if s <= 64 << 10 {
                small += 1;
            }
            if s > 1 << 20 {
                large += 1;
            }
        }
        // 11 equally likely bands of page counts: 1, 2-3, ..., 512-1023 and
        // {1024}. About 4/11 of the sizes are at most 16 pages (bands 1-15,
        // plus 16 itself), about 3/11 above 256 pages (1 MiB).
        assert!(small > 1200 && small < 1700, "{small}");
        assert!(large > 900 && large < 1300, "{large}");
        // Degenerate ranges.
        assert_eq!(r.log_uniform_size(4096, 4096, 4096), 4096);
        assert_eq!(r.log_uniform_size(0, 0, 4096), 4096);
        assert_eq!(r.log_uniform_size(5000, 6000, 4096), 8192);
    }
}
