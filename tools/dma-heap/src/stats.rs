//! Small statistics for the benchmark: percentiles of latency samples, and
//! plain-text tables; durations and shares print as `heap_rules::bench` says.

use std::time::Duration;

pub use heap_rules::bench::{format_duration, percent};

/// The `p`-th percentile (0 < p <= 100) of `sorted` by the nearest-rank
/// method: the smallest sample such that at least p% of the samples are
/// less than or equal to it. `None` for no samples.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Median and 99th percentile of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// 50th percentile (nearest rank).
    pub median: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Number of samples.
    pub samples: usize,
}

impl Latency {
    /// Summarises `samples` (in any order); `None` if there are none.
    pub fn from_samples(mut samples: Vec<Duration>) -> Option<Latency> {
        samples.sort_unstable();
        Some(Latency {
            median: percentile(&samples, 50.0)?,
            p99: percentile(&samples, 99.0)?,
            samples: samples.len(),
        })
    }
}

/// Lays out `rows` (the first one being the header) as a plain-text table:
/// columns left-aligned, two spaces apart, no trailing blanks.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=200).collect();
        assert_eq!(percentile(&v, 50.0), Some(100));
        assert_eq!(percentile(&v, 99.0), Some(198));
        assert_eq!(percentile(&v, 100.0), Some(200));
        assert_eq!(percentile(&v, 0.1), Some(1));
        assert_eq!(percentile(&[7u32], 99.0), Some(7));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
        let v = [1, 2, 3, 4];
        assert_eq!(percentile(&v, 50.0), Some(2));
        assert_eq!(percentile(&v, 99.0), Some(4));
    }

    #[test]
    fn latency_summary_sorts() {
        let samples: Vec<Duration> = [5u64, 1, 4, 2, 3]
            .iter()
            .map(|&us| Duration::from_micros(us))
            .collect();
        let l = Latency::from_samples(samples).unwrap();
        assert_eq!(l.median, Duration::from_micros(3));
        assert_eq!(l.p99, Duration::from_micros(5));
        assert_eq!(l.samples, 5);
        assert!(Latency::from_samples(Vec::new()).is_none());
    }

    #[test]
    fn table_layout() {
        let rows = vec![
            vec!["HEAP".into(), "SIZE".into(), "NOTE".into()],
            vec!["camera".into(), "64 MiB".into(), "".into()],
            vec!["system".into(), "-".into(), "x".into()],
        ];
        assert_eq!(
            table(&rows),
            "HEAP    SIZE    NOTE\ncamera  64 MiB\nsystem  -       x\n"
        );
        assert_eq!(table(&[]), "");
    }
}
