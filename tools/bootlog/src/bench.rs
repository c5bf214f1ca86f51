//! `bootlog bench-svg`: the picture of a bench boot, drawn from the figures the runner
//! prints ([`heap_rules::bench`]) on the build host.
//!
//! [`Bench::read`] collects the figure lines of the log's console stream (the runner's lines,
//! joined again where a kernel record cut one in two); [`render`] draws three panels:
//!
//! - alloc+free latency per size for every heap: a bar to the median and a whisker to the
//!   99th percentile, on a logarithmic time axis;
//! - the frames that fit in each heap of known size, 1080p and 4K NV12, as bars, with the
//!   share of the heap they use;
//! - fragmentation after the churn workload: per heap, its size as one bar, the part still
//!   live, and of the free part the largest single buffer that could still be allocated.

use heap_rules::bench::{format_duration, percent, Figure};
use heap_rules::size::{format_bytes, format_size};
use picture::{text_width, Anchor, Svg};

use crate::console;

/// The figures of one heap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeapFigures {
    /// Its name in `/dev/dma_heap`.
    pub name: String,
    /// `system`, `cma` or `coherent`.
    pub kind: String,
    /// Bytes behind it, when known.
    pub capacity: Option<u64>,
    /// `(size, median ns, p99 ns)` per measured size.
    pub latency: Vec<(u64, u64, u64)>,
    /// `(frame bytes, count)` per frame size.
    pub frames: Vec<(u64, u64)>,
    /// `(live bytes, live buffers, largest)` after the churn.
    pub churn: Option<(u64, u64, u64)>,
}

/// Everything a bench boot printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bench {
    /// Alloc+free pairs per heap and size.
    pub iterations: u64,
    /// Steps of the churn workload.
    pub churn_steps: u64,
    /// Smallest and largest churn buffer.
    pub churn_sizes: (u64, u64),
    /// The machine's page size.
    pub page: u64,
    /// The heaps, in the order the runner measured them.
    pub heaps: Vec<HeapFigures>,
}

impl Bench {
    /// Reads the figures of a console log; `Err((line, message))` names the first line that
    /// is a bad figure, or says the log has none (line 0).
    pub fn read(log: &[u8]) -> Result<Bench, (usize, String)> {
        let mut bench = Bench::default();
        let mut run = false;
        for line in console::split(log).console {
            let Some(figure) = Figure::parse(line.text.trim_end()) else {
                continue;
            };
            let figure = figure.map_err(|e| (line.number, e.to_string()))?;
            let n = line.number;
            let heap = |b: &mut Bench, name: &str| -> Result<usize, (usize, String)> {
                b.heaps
                    .iter()
                    .position(|h| h.name == name)
                    .ok_or_else(|| (n, format!("a figure of heap {name} before its heap figure")))
            };
            match figure {
                Figure::Run {
                    iterations,
                    churn_steps,
                    churn_min,
                    churn_max,
                    page,
                } => {
                    if run {
                        return Err((n, "a second run figure: two bench runs in one log".into()));
                    }
                    run = true;
                    bench.iterations = iterations;
                    bench.churn_steps = churn_steps;
                    bench.churn_sizes = (churn_min, churn_max);
                    bench.page = page;
                }
                Figure::Heap {
                    name,
                    kind,
                    capacity,
                } => {
                    if bench.heaps.iter().any(|h| h.name == name) {
                        return Err((n, format!("heap {name} twice")));
                    }
                    bench.heaps.push(HeapFigures {
                        name,
                        kind,
                        capacity,
                        ..HeapFigures::default()
                    });
                }
                Figure::Latency {
                    heap: h,
                    size,
                    median_ns,
                    p99_ns,
                } => {
                    let i = heap(&mut bench, &h)?;
                    bench.heaps[i].latency.push((size, median_ns, p99_ns));
                }
                Figure::Frames {
                    heap: h,
                    frame,
                    count,
                } => {
                    let i = heap(&mut bench, &h)?;
                    bench.heaps[i].frames.push((frame, count));
                }
                Figure::Churn {
                    heap: h,
                    live_bytes,
                    live_buffers,
                    largest,
                } => {
                    let i = heap(&mut bench, &h)?;
                    bench.heaps[i].churn = Some((live_bytes, live_buffers, largest));
                }
            }
        }
        if !run {
            return Err((
                0,
                "no bench figures (`# bench-figure: run ...`): not the log of a bench boot (dmaheap.run=bench), or of a runner older than them".into(),
            ));
        }
        Ok(bench)
    }
}

const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
const FONT: f64 = 11.0;
const LEFT: f64 = 90.0;

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn capacity_text(h: &HeapFigures) -> String {
    h.capacity
        .map_or_else(|| "size unknown".into(), format_size)
}

/// A decade of nanoseconds as a tick label: `1 us`, `10 ms`.
fn decade(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "us")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{v:.0} {unit}")
}

fn heading(svg: &mut Svg, y: f64, text: &str, note: &str) {
    svg.text(
        12.0,
        y,
        14.0,
        Anchor::Start,
        text,
        &[("font-weight", "bold")],
    );
    svg.text(
        12.0,
        y + 16.0,
        10.0,
        Anchor::Start,
        note,
        &[("fill", "#555555")],
    );
}

/// The picture; `machine` and `commit` go into its title.
pub fn render(bench: &Bench, machine: &str, commit: &str) -> String {
    let title = format!("dma-heap bench on {machine}, {commit}");
    let mut svg = Svg::headed(
        &title,
        &format!(
            "{} heaps; page size {}; figures from the runner's `# bench-figure:` lines",
            bench.heaps.len(),
            format_size(bench.page)
        ),
    );
    // Legend: one colour per heap, the same in every panel.
    let mut x = 12.0;
    let mut y = 62.0;
    for (i, h) in bench.heaps.iter().enumerate() {
        let label = format!("{} ({}, {})", h.name, h.kind, capacity_text(h));
        let w = 18.0 + text_width(&label, FONT) + 18.0;
        if x + w > 980.0 && x > 12.0 {
            x = 12.0;
            y += 18.0;
        }
        svg.rect(x, y - 10.0, 12.0, 12.0, &[("fill", colour(i))]);
        svg.text(x + 18.0, y, FONT, Anchor::Start, &label, &[]);
        x += w;
    }
    let y = latency_panel(&mut svg, bench, y + 40.0);
    let y = frames_panel(&mut svg, bench, y + 30.0);
    churn_panel(&mut svg, bench, y + 30.0);
    svg.finish(16.0)
}

/// Alloc+free latency: groups of bars per size, a log time axis. Returns the panel's bottom.
fn latency_panel(svg: &mut Svg, bench: &Bench, top: f64) -> f64 {
    heading(
        svg,
        top,
        "alloc+free latency per size",
        &format!(
            "bar: median, whisker: 99th percentile, of {} alloc+free pairs per heap and size (CLOCK_MONOTONIC); logarithmic time axis",
            bench.iterations
        ),
    );
    let mut sizes: Vec<u64> = bench
        .heaps
        .iter()
        .flat_map(|h| h.latency.iter().map(|l| l.0))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let values: Vec<u64> = bench
        .heaps
        .iter()
        .flat_map(|h| h.latency.iter().flat_map(|l| [l.1, l.2]))
        .filter(|&v| v > 0)
        .collect();
    let plot_top = top + 36.0;
    let height = 260.0;
    let bottom = plot_top + height;
    if sizes.is_empty() || values.is_empty() {
        svg.text(
            LEFT,
            plot_top + 20.0,
            FONT,
            Anchor::Start,
            "no latency figures",
            &[],
        );
        return plot_top + 30.0;
    }
    let lo = (*values.iter().min().unwrap() as f64).log10().floor();
    let hi = (*values.iter().max().unwrap() as f64)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let y_of = |ns: u64| bottom - ((ns.max(1) as f64).log10() - lo) / (hi - lo) * height;
    let bar = 14.0;
    let group = bench.heaps.len() as f64 * (bar + 4.0) + 36.0;
    let right = LEFT + 10.0 + sizes.len() as f64 * group;
    for d in (lo as i32)..=(hi as i32) {
        let ns = 10f64.powi(d);
        let y = bottom - (f64::from(d) - lo) / (hi - lo) * height;
        svg.line(LEFT, y, right, y, &[("stroke", "#e3e3e3")]);
        svg.text(LEFT - 6.0, y + 4.0, FONT, Anchor::End, &decade(ns), &[]);
    }
    svg.line(LEFT, plot_top, LEFT, bottom, &[("stroke", "#000000")]);
    svg.line(LEFT, bottom, right, bottom, &[("stroke", "#000000")]);
    for (g, &size) in sizes.iter().enumerate() {
        let gx = LEFT + 28.0 + g as f64 * group;
        for (i, h) in bench.heaps.iter().enumerate() {
            let Some(&(_, median, p99)) = h.latency.iter().find(|l| l.0 == size) else {
                continue;
            };
            let x = gx + i as f64 * (bar + 4.0);
            let (ym, yp) = (y_of(median), y_of(p99));
            let tip = format!(
                "{}, {}: median {}, p99 {}",
                h.name,
                format_size(size),
                format_duration(std::time::Duration::from_nanos(median)),
                format_duration(std::time::Duration::from_nanos(p99))
            );
            svg.group(Some(&tip));
            svg.rect(x, ym, bar, bottom - ym, &[("fill", colour(i))]);
            svg.line(
                x + bar / 2.0,
                ym,
                x + bar / 2.0,
                yp,
                &[("stroke", "#222222")],
            );
            svg.line(
                x + 2.0,
                yp,
                x + bar - 2.0,
                yp,
                &[("stroke", "#222222"), ("stroke-width", "2")],
            );
            svg.end_group();
        }
        let mid = gx + (bench.heaps.len() as f64 * (bar + 4.0) - 4.0) / 2.0;
        svg.text(
            mid,
            bottom + 16.0,
            FONT,
            Anchor::Middle,
            &format_size(size),
            &[],
        );
    }
    svg.text(
        (LEFT + right) / 2.0,
        bottom + 32.0,
        FONT,
        Anchor::Middle,
        "buffer size",
        &[("fill", "#555555")],
    );
    bottom + 36.0
}

/// Frames that fit, as bars. Returns the panel's bottom.
fn frames_panel(svg: &mut Svg, bench: &Bench, top: f64) -> f64 {
    heading(
        svg,
        top,
        "frames per region",
        "NV12 frames allocated one after the other until ENOMEM; bar length: frames; the share of the heap they use after it",
    );
    let mut frames: Vec<u64> = bench
        .heaps
        .iter()
        .flat_map(|h| h.frames.iter().map(|f| f.0))
        .collect();
    frames.sort_unstable();
    frames.dedup();
    let max = bench
        .heaps
        .iter()
        .flat_map(|h| h.frames.iter().map(|f| f.1))
        .max()
        .unwrap_or(0)
        .max(1);
    let name_w = bench
        .heaps
        .iter()
        .map(|h| text_width(&h.name, FONT))
        .fold(0.0, f64::max);
    let x0 = 12.0 + name_w * 1.1 + 96.0;
    let width = 420.0;
    let mut y = top + 40.0;
    let mut none = Vec::new();
    for (i, h) in bench.heaps.iter().enumerate() {
        if h.frames.is_empty() {
            none.push(h.name.as_str());
            continue;
        }
        svg.text(
            12.0,
            y + 10.0,
            FONT,
            Anchor::Start,
            &h.name,
            &[("font-weight", "bold")],
        );
        for &frame in &frames {
            let Some(&(_, count)) = h.frames.iter().find(|f| f.0 == frame) else {
                continue;
            };
            let label = frame_name(frame);
            svg.text(x0 - 6.0, y + 10.0, FONT, Anchor::End, &label, &[]);
            let w = width * count as f64 / max as f64;
            let opacity = if frame == frames[0] { "1" } else { "0.55" };
            svg.rect(
                x0,
                y,
                w,
                13.0,
                &[("fill", colour(i)), ("fill-opacity", opacity)],
            );
            let used = h
                .capacity
                .map_or_else(|| "-".into(), |cap| percent(count * frame, cap));
            svg.text(
                x0 + w + 6.0,
                y + 10.0,
                FONT,
                Anchor::Start,
                &format!("{count} frames, {used} of {}", capacity_text(h)),
                &[],
            );
            y += 17.0;
        }
        y += 8.0;
    }
    not_measured(svg, y, &none)
}

fn frame_name(frame: u64) -> String {
    match frame {
        3_110_400 => "1080p NV12".into(),
        12_441_600 => "4K NV12".into(),
        other => format!("{other} B"),
    }
}

/// Fragmentation after churn. Returns the panel's bottom.
fn churn_panel(svg: &mut Svg, bench: &Bench, top: f64) -> f64 {
    heading(
        svg,
        top,
        "fragmentation after churn",
        &format!(
            "{} steps of random alloc/free ({}-{}, log-uniform), about half of the heap kept live; bar: the heap, grey: live, hatched: free, colour: the largest single buffer still possible",
            bench.churn_steps,
            format_size(bench.churn_sizes.0),
            format_size(bench.churn_sizes.1)
        ),
    );
    let name_w = bench
        .heaps
        .iter()
        .map(|h| text_width(&h.name, FONT))
        .fold(0.0, f64::max);
    let x0 = 12.0 + name_w + 16.0;
    let width = 420.0;
    let mut y = top + 40.0;
    let mut none = Vec::new();
    for (i, h) in bench.heaps.iter().enumerate() {
        let (Some((live, buffers, largest)), Some(cap)) = (h.churn, h.capacity) else {
            none.push(h.name.as_str());
            continue;
        };
        if cap == 0 {
            none.push(h.name.as_str());
            continue;
        }
        let free = cap.saturating_sub(live);
        let scale = |b: u64| width * b as f64 / cap as f64;
        svg.text(
            12.0,
            y + 12.0,
            FONT,
            Anchor::Start,
            &h.name,
            &[("font-weight", "bold")],
        );
        svg.rect(
            x0,
            y,
            width,
            16.0,
            &[("fill", "#ffffff"), ("stroke", "#444444")],
        );
        svg.rect(x0, y, scale(live), 16.0, &[("fill", "#b0b0b0")]);
        // The free part, hatched.
        let mut hx = x0 + scale(live) + 2.0;
        while hx + 6.0 <= x0 + width {
            svg.line(hx, y + 16.0, hx + 6.0, y, &[("stroke", "#d0d0d0")]);
            hx += 6.0;
        }
        svg.rect(
            x0 + scale(live),
            y + 3.0,
            scale(largest),
            10.0,
            &[("fill", colour(i))],
        );
        svg.rect(
            x0,
            y,
            width,
            16.0,
            &[("fill", "none"), ("stroke", "#444444")],
        );
        svg.text(
            x0 + width + 8.0,
            y + 12.0,
            FONT,
            Anchor::Start,
            &format!(
                "largest {} = {} of {} free; {} live in {buffers} buffers",
                format_bytes(largest),
                percent(largest, free),
                format_bytes(free),
                format_bytes(live)
            ),
            &[],
        );
        y += 26.0;
    }
    not_measured(svg, y, &none)
}

/// The footnote of a panel under `y`: the heaps of unknown size it leaves
/// out, if any. Returns the panel's new bottom.
fn not_measured(svg: &mut Svg, y: f64, none: &[&str]) -> f64 {
    if none.is_empty() {
        return y;
    }
    svg.text(
        12.0,
        y + 8.0,
        10.0,
        Anchor::Start,
        &format!("not measured (size unknown): {}", none.join(", ")),
        &[("fill", "#555555")],
    );
    y + 16.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> String {
        let figures = [
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
            Figure::Latency {
                heap: "camera@70000000".into(),
                size: 4096,
                median_ns: 45_000,
                p99_ns: 276_000,
            },
            Figure::Latency {
                heap: "camera@70000000".into(),
                size: 8 << 20,
                median_ns: 5_570_000,
                p99_ns: 9_936_000,
            },
            Figure::Frames {
                heap: "camera@70000000".into(),
                frame: 3_110_400,
                count: 21,
            },
            Figure::Churn {
                heap: "camera@70000000".into(),
                live_bytes: 38_146_048,
                live_buffers: 22,
                largest: 12 << 20,
            },
            Figure::Heap {
                name: "sys<tem>".into(),
                kind: "system".into(),
                capacity: None,
            },
            Figure::Latency {
                heap: "sys<tem>".into(),
                size: 4096,
                median_ns: 24_000,
                p99_ns: 66_000,
            },
        ];
        let mut s = String::from("[    1.000000] Linux version 7.2\r\n# bench: done?\r\n");
        for f in figures {
            s.push_str(&format!("{f}\r\n"));
        }
        s
    }

    #[test]
    fn reads_the_figures() {
        let b = Bench::read(log().as_bytes()).unwrap();
        assert_eq!(b.iterations, 200);
        assert_eq!(b.heaps.len(), 2);
        assert_eq!(
            b.heaps[0].latency,
            [(4096, 45_000, 276_000), (8 << 20, 5_570_000, 9_936_000)]
        );
        assert_eq!(b.heaps[0].frames, [(3_110_400, 21)]);
        assert_eq!(b.heaps[0].churn, Some((38_146_048, 22, 12 << 20)));
        assert_eq!(b.heaps[1].capacity, None);
    }

    #[test]
    fn a_figure_cut_by_a_kernel_record_is_joined_again() {
        let log = log().replace(
            "size=8388608 ",
            "size=83[    2.000000] cma: something\r\n88608 ",
        );
        let b = Bench::read(log.as_bytes()).unwrap();
        assert_eq!(b.heaps[0].latency[1].0, 8 << 20);
    }

    #[test]
    fn bad_logs_name_the_line() {
        assert_eq!(
            Bench::read(b"[ 0.1] hello\n# bench: done\n").unwrap_err().0,
            0
        );
        let bad = log().replace("count=21", "count=lots");
        let (line, msg) = Bench::read(bad.as_bytes()).unwrap_err();
        assert_eq!(line, 7);
        assert!(msg.contains("count=lots"), "{msg}");
        let orphan = log().replace("heap name=camera@70000000", "heap name=other");
        let (line, msg) = Bench::read(orphan.as_bytes()).unwrap_err();
        assert_eq!(line, 5);
        assert!(
            msg.contains("camera@70000000 before its heap figure"),
            "{msg}"
        );
    }

    #[test]
    fn the_picture_is_well_formed_and_names_every_heap() {
        let b = Bench::read(log().as_bytes()).unwrap();
        let svg = render(&b, "virt", "v1-2-gabc & dirty");
        let texts = picture::texts(&svg).expect("well-formed");
        assert_eq!(texts[0], "dma-heap bench on virt, v1-2-gabc & dirty");
        for h in &b.heaps {
            assert!(
                texts.iter().any(|t| t.starts_with(&h.name)),
                "{} in {texts:?}",
                h.name
            );
        }
        for want in [
            "alloc+free latency per size",
            "frames per region",
            "fragmentation after churn",
            "21 frames, 97.3% of 64 MiB",
            "largest 12 MiB = 43.4% of 27.62 MiB free; 36.38 MiB live in 22 buffers",
            "not measured (size unknown): sys<tem>",
            "4 KiB",
            "8 MiB",
        ] {
            assert!(texts.iter().any(|t| t == want), "no {want:?} in {texts:?}");
        }
    }

    #[test]
    fn decades() {
        assert_eq!(decade(1e4), "10 us");
        assert_eq!(decade(1e6), "1 ms");
        assert_eq!(decade(1e8), "100 ms");
        assert_eq!(decade(100.0), "100 ns");
    }
}
