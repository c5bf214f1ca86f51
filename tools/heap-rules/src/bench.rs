//! The benchmark's figures as `dma-heap bench` prints them for machines, one line each, and
//! the parser `bootlog bench-svg` reads them back with: one definition of the format.
//!
//! The tables of `dma-heap bench` are for people (rounded, aligned); after them the runner
//! prints every figure exactly, one [`Figure`] a line, each [`PREFIX`] then a kind and
//! `key=value` fields separated by single spaces:
//!
//! ```text
//! # bench-figure: run iterations=200 churn-steps=500 churn-min=4096 churn-max=8388608 page=4096
//! # bench-figure: heap name=camera@70000000 kind=coherent capacity=67108864
//! # bench-figure: latency heap=camera@70000000 size=4096 median-ns=58000 p99-ns=545000
//! # bench-figure: frames heap=camera@70000000 frame=3110400 count=21
//! # bench-figure: churn heap=camera@70000000 live-bytes=38147072 live-buffers=22 largest=12582912
//! ```
//!
//! `capacity=-` is a heap of unknown size (the system heap). A figure that was not measured
//! (skipped or failed) has no line. Values are decimal; heap names are node names, which hold
//! no space or `=`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What starts every figure line.
pub const PREFIX: &str = "# bench-figure: ";

/// One figure of the benchmark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Figure {
    /// How the benchmark ran.
    Run {
        /// Timed alloc+free pairs per heap and size.
        iterations: u64,
        /// Steps of the churn workload.
        churn_steps: u64,
        /// Smallest churn buffer, in bytes.
        churn_min: u64,
        /// Largest churn buffer, in bytes.
        churn_max: u64,
        /// The page size of the machine.
        page: u64,
    },
    /// A heap that was measured.
    Heap {
        /// The heap's name in `/dev/dma_heap`.
        name: String,
        /// `system`, `cma` or `coherent`.
        kind: String,
        /// Bytes behind the heap, when known.
        capacity: Option<u64>,
    },
    /// Alloc+free latency of one size on one heap.
    Latency {
        /// The heap.
        heap: String,
        /// Bytes per buffer.
        size: u64,
        /// Median, in nanoseconds.
        median_ns: u64,
        /// 99th percentile, in nanoseconds.
        p99_ns: u64,
    },
    /// How many frames of one size fit in a heap.
    Frames {
        /// The heap.
        heap: String,
        /// Bytes per frame (before rounding to pages).
        frame: u64,
        /// Frames allocated before `ENOMEM`.
        count: u64,
    },
    /// What the churn workload left.
    Churn {
        /// The heap.
        heap: String,
        /// Bytes live at the end.
        live_bytes: u64,
        /// Buffers live at the end.
        live_buffers: u64,
        /// The largest single allocation still possible.
        largest: u64,
    },
}

/// A line that starts with [`PREFIX`] but is not a figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadFigure(pub String);

impl fmt::Display for BadFigure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFigure {}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |n| n.to_string())
}

impl fmt::Display for Figure {
    /// The line, [`PREFIX`] included, without a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        match self {
            Figure::Run {
                iterations,
                churn_steps,
                churn_min,
                churn_max,
                page,
            } => write!(
                f,
                "run iterations={iterations} churn-steps={churn_steps} churn-min={churn_min} churn-max={churn_max} page={page}"
            ),
            Figure::Heap {
                name,
                kind,
                capacity,
            } => write!(f, "heap name={name} kind={kind} capacity={}", opt(*capacity)),
            Figure::Latency {
                heap,
                size,
                median_ns,
                p99_ns,
            } => write!(
                f,
                "latency heap={heap} size={size} median-ns={median_ns} p99-ns={p99_ns}"
            ),
            Figure::Frames { heap, frame, count } => {
                write!(f, "frames heap={heap} frame={frame} count={count}")
            }
            Figure::Churn {
                heap,
                live_bytes,
                live_buffers,
                largest,
            } => write!(
                f,
                "churn heap={heap} live-bytes={live_bytes} live-buffers={live_buffers} largest={largest}"
            ),
        }
    }
}

struct Fields<'a> {
    kind: &'a str,
    map: BTreeMap<&'a str, &'a str>,
}

impl<'a> Fields<'a> {
    fn text(&mut self, key: &str) -> Result<&'a str, BadFigure> {
        self.map
            .remove(key)
            .ok_or_else(|| BadFigure(format!("{} figure without {key}=", self.kind)))
    }

    fn name(&mut self, key: &str) -> Result<String, BadFigure> {
        let v = self.text(key)?;
        if v.is_empty() {
            return Err(BadFigure(format!(
                "{} figure with an empty {key}=",
                self.kind
            )));
        }
        Ok(v.to_string())
    }

    fn number(&mut self, key: &str) -> Result<u64, BadFigure> {
        let v = self.text(key)?;
        v.parse().map_err(|_| {
            BadFigure(format!(
                "{} figure: {key}={v} is not a decimal number",
                self.kind
            ))
        })
    }

    fn maybe_number(&mut self, key: &str) -> Result<Option<u64>, BadFigure> {
        if self.map.get(key) == Some(&"-") {
            self.map.remove(key);
            return Ok(None);
        }
        self.number(key).map(Some)
    }

    fn done(self, figure: Figure) -> Result<Figure, BadFigure> {
        match self.map.keys().next() {
            Some(k) => Err(BadFigure(format!(
                "{} figure with an unknown field {k}=",
                self.kind
            ))),
            None => Ok(figure),
        }
    }
}

impl Figure {
    /// Reads a line: `None` if it does not start with [`PREFIX`] (it is no figure at all),
    /// else the figure or what is wrong with it.
    pub fn parse(line: &str) -> Option<Result<Figure, BadFigure>> {
        let rest = line.strip_prefix(PREFIX)?;
        Some(Figure::parse_fields(rest))
    }

    fn parse_fields(rest: &str) -> Result<Figure, BadFigure> {
        let mut words = rest.split(' ');
        let kind = words.next().unwrap_or_default();
        let mut map = BTreeMap::new();
        for w in words {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| BadFigure(format!("{kind} figure: {w:?} is not key=value")))?;
            if map.insert(k, v).is_some() {
                return Err(BadFigure(format!("{kind} figure with {k}= twice")));
            }
        }
        let mut f = Fields { kind, map };
        let figure = match kind {
            "run" => Figure::Run {
                iterations: f.number("iterations")?,
                churn_steps: f.number("churn-steps")?,
                churn_min: f.number("churn-min")?,
                churn_max: f.number("churn-max")?,
                page: f.number("page")?,
            },
            "heap" => Figure::Heap {
                name: f.name("name")?,
                kind: f.name("kind")?,
                capacity: f.maybe_number("capacity")?,
            },
            "latency" => Figure::Latency {
                heap: f.name("heap")?,
                size: f.number("size")?,
                median_ns: f.number("median-ns")?,
                p99_ns: f.number("p99-ns")?,
            },
            "frames" => Figure::Frames {
                heap: f.name("heap")?,
                frame: f.number("frame")?,
                count: f.number("count")?,
            },
            "churn" => Figure::Churn {
                heap: f.name("heap")?,
                live_bytes: f.number("live-bytes")?,
                live_buffers: f.number("live-buffers")?,
                largest: f.number("largest")?,
            },
            other => return Err(BadFigure(format!("unknown figure {other:?}"))),
        };
        f.done(figure)
    }
}

/// A duration as the benchmark's tables and pictures print it: `850 us`, `12.3 ms`, `1.25 s`.
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn all() -> Vec<Figure> {
        vec![
            Figure::Run {
                iterations: 200,
                churn_steps: 500,
                churn_min: 4096,
                churn_max: 8 << 20,
                page: 4096,
            },
            Figure::Heap {
                name: "camera@70000000".into(),
                kind: "coherent".into(),
                capacity: Some(64 << 20),
            },
            Figure::Heap {
                name: "system".into(),
                kind: "system".into(),
                capacity: None,
            },
            Figure::Latency {
                heap: "camera@70000000".into(),
                size: 4096,
                median_ns: 58_000,
                p99_ns: 545_000,
            },
            Figure::Frames {
                heap: "camera@70000000".into(),
                frame: 3_110_400,
                count: 21,
            },
            Figure::Churn {
                heap: "camera@70000000".into(),
                live_bytes: 38_147_072,
                live_buffers: 22,
                largest: 12 << 20,
            },
        ]
    }

    #[test]
    fn every_figure_reads_back_as_printed() {
        for f in all() {
            let line = f.to_string();
            assert!(line.starts_with(PREFIX));
            assert!(!line.contains('\n'));
            assert_eq!(Figure::parse(&line), Some(Ok(f)), "{line}");
        }
    }

    #[test]
    fn the_documented_lines_are_the_printed_ones() {
        let doc: Vec<&str> = include_str!("bench.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! "))
            .filter(|l| l.starts_with(PREFIX))
            .collect();
        assert_eq!(doc.len(), 5);
        for line in doc {
            let f = Figure::parse(line).unwrap().unwrap();
            assert_eq!(f.to_string(), line);
        }
    }

    #[test]
    fn other_lines_are_not_figures() {
        assert_eq!(Figure::parse("# bench: done"), None);
        assert_eq!(Figure::parse("camera  coherent  64 MiB"), None);
    }

    #[test]
    fn bad_figures_say_what_is_wrong() {
        let bad = |rest: &str| {
            Figure::parse(&format!("{PREFIX}{rest}"))
                .unwrap()
                .unwrap_err()
                .0
        };
        assert_eq!(bad("speed x=1"), "unknown figure \"speed\"");
        assert_eq!(bad("frames heap=a frame=1"), "frames figure without count=");
        assert_eq!(
            bad("frames heap=a frame=1 count=x"),
            "frames figure: count=x is not a decimal number"
        );
        assert_eq!(
            bad("frames heap=a frame=1 count=2 extra=3"),
            "frames figure with an unknown field extra="
        );
        assert_eq!(
            bad("frames heap=a heap=b"),
            "frames figure with heap= twice"
        );
        assert_eq!(
            bad("frames heap= frame=1 count=2"),
            "frames figure with an empty heap="
        );
        assert_eq!(bad("heap name=a kind=cma"), "heap figure without capacity=");
        assert_eq!(
            bad("latency heap=a size"),
            "latency figure: \"size\" is not key=value"
        );
    }
}
