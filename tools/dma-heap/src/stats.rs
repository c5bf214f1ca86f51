//! Small statistics for the benchmark: percentiles of latency samples and
//! how much of a region a number of buffers use.

use std::time::Duration;

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

/// A duration for a table cell: `850 us`, `12.3 ms`, `1.25 s`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} us")
    } else if us < 100_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us < 1e6 {
        format!("{:.0} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `part / whole` as a percentage with one decimal (`74.2%`); `-` when
/// `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    // Integer arithmetic, rounded half up, so the text does not depend on
    // floating-point formatting.
    let tenths = (u128::from(part) * 1000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
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
    fn durations_and_percentages() {
        assert_eq!(format_duration(Duration::from_nanos(850_400)), "850 us");
        assert_eq!(format_duration(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(format_duration(Duration::from_micros(250_000)), "250 ms");
        assert_eq!(format_duration(Duration::from_millis(1250)), "1.25 s");
        // 16 1080p NV12 frames in 64 MiB; 21 of them.
        assert_eq!(percent(16 * 3_110_400, 64 << 20), "74.2%");
        assert_eq!(percent(21 * 3_110_400, 64 << 20), "97.3%");
        assert_eq!(percent(0, 10), "0.0%");
        assert_eq!(percent(10, 10), "100.0%");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(percent(1, 2000), "0.1%"); // 0.05% rounds up
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
