//! `dtregion map`: the board's physical address space as an SVG picture, drawn from the same
//! [`Report`] that `dtregion check` prints.
//!
//! Four lanes side by side, high addresses at the top: the DRAM banks; the `dma-ranges`
//! windows of the tree's buses (what their DMA masters reach, in CPU addresses); the board
//! table's keep-out ranges and the `/memreserve/` entries; the `/reserved-memory` regions
//! (heaps, CMA pools, firmware carve-outs). Overlapping items of a lane get columns of their
//! own. A dashed line marks 4 GiB. Each item is labelled with its name, range and size, in its
//! box when it fits there, else to the right with a leader line; the problems of a region
//! outline it (red: error, orange: warning, grey: note) and are written under its label.
//! Regions without a fixed address (placed at boot) and problems that concern no drawn item
//! are listed below the axis.
//!
//! The axis is broken ([`Axis`]): every address where an item starts or ends, and 4 GiB, is a
//! boundary; each span between two boundaries is as high as the logarithm of its size makes
//! it (at least [`MIN_SPAN`] px), and a span that no item covers is cut to a thin band. So a
//! 4 KiB carve-out stays visible next to 8 GiB of DRAM, and the picture is not to scale.

use heap_rules::size::format_size;
use heap_rules::{Decision, Range};
use picture::{text_width, wrap, Anchor, Svg};

use crate::check::{Problem, RegionRow, Report, Severity};
use crate::regions::DmaWindow;

/// 4 GiB: above it, 32-bit DMA masters cannot reach.
pub const FOUR_GIB: u128 = 1 << 32;
/// The height of the smallest span, a page or less.
pub const MIN_SPAN: f64 = 14.0;
/// Pixels added per doubling of a span's size above a page.
const PER_DOUBLING: f64 = 6.0;
/// The height of a span no item covers.
const CUT_SPAN: f64 = 18.0;
const FONT: f64 = 10.0;
const LINE: f64 = 12.5;
/// The narrowest column of a lane, and the only width of the `/reserved-memory` lane,
/// whose labels are written beside it.
const LANE_WIDTH: f64 = 160.0;
/// The widest column of the other lanes, which widen to hold their labels.
const MAX_LANE_WIDTH: f64 = 330.0;
/// The lines of a label that must fit in its box for it to be written there: name, range,
/// size. The lines after them are written too where there is room.
const INNER_LINES: usize = 3;
const LANE_GAP: f64 = 14.0;
const AXIS_X: f64 = 150.0;
const TOP: f64 = 112.0;
/// Characters per line of a label beside the lanes.
const LABEL_CHARS: usize = 96;

/// What the picture shows, besides the check's report.
#[derive(Clone, Copy, Debug)]
pub struct MapInput<'a> {
    /// The first line of the title (the board's name and key, or the file).
    pub title: &'a str,
    /// The check of the tree.
    pub report: &'a Report,
    /// The tree's `dma-ranges` windows.
    pub windows: &'a [DmaWindow],
}

/// The lanes, left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Lane {
    Dram,
    Dma,
    KeepOut,
    Reserved,
}

impl Lane {
    const ALL: [Lane; 4] = [Lane::Dram, Lane::Dma, Lane::KeepOut, Lane::Reserved];

    fn title(self) -> &'static str {
        match self {
            Lane::Dram => "DRAM",
            Lane::Dma => "dma-ranges windows",
            Lane::KeepOut => "keep-out, /memreserve/",
            Lane::Reserved => "/reserved-memory",
        }
    }
}

/// How an item is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Dram,
    Dma,
    KeepOut,
    MemReserve,
    Heap,
    Cma,
    Reserved,
    Disabled,
}

impl Kind {
    /// Fill and stroke.
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Kind::Dram => ("#fff6d5", "#b39b3b"),
            Kind::Dma => ("#ebe1f7", "#6a4c9c"),
            Kind::KeepOut => ("#ffe3c2", "#c76a12"),
            Kind::MemReserve => ("#c9c9c9", "#555555"),
            Kind::Heap => ("#bfe5b8", "#2e7d32"),
            Kind::Cma => ("#bcd6f0", "#1f5f9e"),
            Kind::Reserved => ("#dedede", "#666666"),
            Kind::Disabled => ("#ffffff", "#999999"),
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Kind::Dram => "DRAM bank",
            Kind::Dma => "dma-ranges window",
            Kind::KeepOut => "keep-out (board table)",
            Kind::MemReserve => "/memreserve/",
            Kind::Heap => "coherent heap",
            Kind::Cma => "CMA pool (reusable)",
            Kind::Reserved => "other reserved region",
            Kind::Disabled => "disabled",
        }
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "#d32f2f",
        Severity::Warning => "#ef7d00",
        Severity::Note => "#7a8a94",
    }
}

/// One box of the picture.
#[derive(Clone, Debug)]
struct Item {
    lane: Lane,
    kind: Kind,
    /// `[start, end)`; `None` for a region placed at boot.
    span: Option<(u128, u128)>,
    /// The label: its first line names the item ([`labels`]).
    lines: Vec<String>,
    /// Problems, worst first.
    problems: Vec<Problem>,
}

impl Item {
    fn worst(&self) -> Option<Severity> {
        self.problems.iter().map(|p| p.severity).min()
    }
}

fn span(r: &Range) -> (u128, u128) {
    (u128::from(r.base), r.end())
}

fn range_line(r: &Range) -> String {
    format!("{r}  {}", format_size(r.size))
}

fn region_description(r: &RegionRow) -> String {
    let what = match (&r.decision, &r.heap) {
        (Decision::Exported, Some(h)) => format!("heap /dev/dma_heap/{h}"),
        (Decision::Exported, None) => "heap".to_string(),
        (d, _) => format!("not a heap: {d}"),
    };
    if r.flags.is_empty() {
        what
    } else {
        format!("{what}; {}", r.flags.join(", "))
    }
}

fn region_kind(r: &RegionRow) -> Kind {
    if r.flags.contains(&"disabled") {
        Kind::Disabled
    } else if r.decision == Decision::Exported {
        Kind::Heap
    } else if r.flags.contains(&"reusable") {
        Kind::Cma
    } else {
        Kind::Reserved
    }
}

/// The items of the picture, and the problems that concern none of them.
fn items(input: &MapInput<'_>) -> (Vec<Item>, Vec<Problem>) {
    let report = input.report;
    let mut out = Vec::new();
    let source = match report.memory.source {
        crate::check::MemorySource::Tree => "/memory",
        crate::check::MemorySource::BoardTable => "board table",
        crate::check::MemorySource::None => "none",
    };
    for (i, b) in report.memory.banks.iter().enumerate() {
        out.push(Item {
            lane: Lane::Dram,
            kind: Kind::Dram,
            span: Some(span(b)),
            lines: vec![
                format!("DRAM bank {i}"),
                b.to_string(),
                format_size(b.size),
                format!("from {source}"),
            ],
            problems: Vec::new(),
        });
    }
    for w in input.windows {
        out.push(Item {
            lane: Lane::Dma,
            kind: Kind::Dma,
            span: Some(span(&w.range)),
            lines: vec![
                w.node.clone(),
                w.range.to_string(),
                format_size(w.range.size),
                format!("bus address {:#x}", w.bus),
            ],
            problems: Vec::new(),
        });
    }
    for k in &report.keep_out {
        out.push(Item {
            lane: Lane::KeepOut,
            kind: Kind::KeepOut,
            span: Some(span(&k.range())),
            lines: vec![
                format!("keep-out {}", k.name),
                k.range().to_string(),
                format_size(k.size),
                k.why.clone(),
            ],
            problems: Vec::new(),
        });
    }
    for (i, m) in report.memreserve.iter().enumerate() {
        out.push(Item {
            lane: Lane::KeepOut,
            kind: Kind::MemReserve,
            span: (m.size != 0).then(|| span(m)),
            lines: vec![
                format!("/memreserve/ {i}"),
                m.to_string(),
                format_size(m.size),
            ],
            problems: Vec::new(),
        });
    }
    let mut left = report.problems.clone();
    for r in &report.regions {
        let (mine, rest): (Vec<Problem>, Vec<Problem>) =
            left.into_iter().partition(|p| p.node == r.node);
        left = rest;
        let range = match (r.base, r.size) {
            (Some(b), Some(s)) if s != 0 => Some(Range::new(b, s)),
            _ => None,
        };
        let where_ = match (&range, r.size) {
            (Some(g), _) => range_line(g),
            (None, Some(s)) => format!("placed at boot  {}", format_size(s)),
            (None, None) => "no size".to_string(),
        };
        out.push(Item {
            lane: Lane::Reserved,
            kind: region_kind(r),
            span: range.as_ref().map(span),
            lines: vec![r.name.clone(), where_, region_description(r)],
            problems: mine,
        });
    }
    (out, left)
}

/// The name line of every item the picture of `input` has: each DRAM bank, `dma-ranges`
/// window (its bus node's path), keep-out range, `/memreserve/` entry and `/reserved-memory`
/// region (its node name).
/// Each is one `<text>` element of the map; [`missing_labels`] looks for them.
pub fn labels(input: &MapInput<'_>) -> Vec<String> {
    items(input)
        .0
        .into_iter()
        .map(|i| i.lines[0].clone())
        .collect()
}

/// The labels of [`labels`] that no `<text>` element of `svg` holds, or why `svg` is no SVG
/// document at all.
pub fn missing_labels(svg: &str, input: &MapInput<'_>) -> Result<Vec<String>, picture::NotSvg> {
    let texts = picture::texts(svg)?;
    Ok(labels(input)
        .into_iter()
        .filter(|l| !texts.iter().any(|t| t == l))
        .collect())
}

/// The broken address axis: boundaries from high to low, with their y.
#[derive(Clone, Debug)]
pub struct Axis {
    /// `(address, y)`, addresses decreasing, y increasing.
    points: Vec<(u128, f64)>,
    /// For each span between two points (from the top): whether an item covers it.
    covered: Vec<bool>,
}

impl Axis {
    /// The axis through every start and end of `spans` and 4 GiB, from `top` down.
    pub fn new(spans: &[(u128, u128)], top: f64) -> Axis {
        let mut addrs: Vec<u128> = spans.iter().flat_map(|&(a, b)| [a, b]).collect();
        addrs.push(FOUR_GIB);
        addrs.sort_unstable();
        addrs.dedup();
        addrs.reverse();
        let mut points = Vec::with_capacity(addrs.len());
        let mut covered = Vec::new();
        let mut y = top;
        for (i, &a) in addrs.iter().enumerate() {
            if i > 0 {
                let hi = addrs[i - 1];
                let cov = spans.iter().any(|&(s, e)| s <= a && hi <= e);
                y += if cov { span_height(hi - a) } else { CUT_SPAN };
                covered.push(cov);
            }
            points.push((a, y));
        }
        Axis { points, covered }
    }

    /// The y of `addr`: exact at a boundary, linear within a span, clamped outside the axis.
    pub fn y(&self, addr: u128) -> f64 {
        let first = self.points[0];
        if addr >= first.0 {
            return first.1;
        }
        for w in self.points.windows(2) {
            let ((hi, y0), (lo, y1)) = (w[0], w[1]);
            if addr >= lo {
                let f = (hi - addr) as f64 / (hi - lo) as f64;
                return y0 + f * (y1 - y0);
            }
        }
        self.points[self.points.len() - 1].1
    }

    /// The lowest y of the axis.
    pub fn bottom(&self) -> f64 {
        self.points[self.points.len() - 1].1
    }
}

/// The height of a span of `len` bytes: [`MIN_SPAN`] for a page or less, [`PER_DOUBLING`]
/// more per doubling.
pub fn span_height(len: u128) -> f64 {
    let pages = (len as f64 / 4096.0).max(1.0);
    MIN_SPAN + PER_DOUBLING * pages.log2()
}

/// Columns within a lane: the first column where the item overlaps none already there.
fn columns(items: &[Item]) -> Vec<usize> {
    let mut taken: Vec<Vec<(u128, u128)>> = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let Some((s, e)) = it.span else {
            out.push(0);
            continue;
        };
        let col = taken
            .iter()
            .position(|c| c.iter().all(|&(a, b)| e <= a || b <= s))
            .unwrap_or(taken.len());
        if col == taken.len() {
            taken.push(Vec::new());
        }
        taken[col].push((s, e));
        out.push(col);
    }
    out
}

fn hex(a: u128) -> String {
    format!("{a:#x}")
}

struct Placed {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The picture.
pub fn render(input: &MapInput<'_>) -> String {
    let report = input.report;
    let (items, unplaced_problems) = items(input);
    let spans: Vec<(u128, u128)> = items.iter().filter_map(|i| i.span).collect();
    let axis = Axis::new(&spans, TOP);

    // Lanes and their columns.
    let mut cols = vec![0usize; items.len()];
    let mut lane_x = Vec::new();
    let mut x = AXIS_X + 12.0;
    for lane in Lane::ALL {
        let idx: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].lane == lane)
            .collect();
        let lane_items: Vec<Item> = idx.iter().map(|&i| items[i].clone()).collect();
        let c = columns(&lane_items);
        let n = c.iter().copied().max().map_or(1, |m| m + 1);
        for (k, &i) in idx.iter().enumerate() {
            cols[i] = c[k];
        }
        let width = if lane == Lane::Reserved {
            LANE_WIDTH
        } else {
            lane_items
                .iter()
                .flat_map(|it| it.lines.iter().take(INNER_LINES))
                .map(|l| text_width(l, FONT) + 14.0)
                .fold(LANE_WIDTH, f64::max)
                .min(MAX_LANE_WIDTH)
        };
        lane_x.push((lane, x, n, width));
        x += n as f64 * width + LANE_GAP;
    }
    let lanes_end = x;
    let label_x = lanes_end + 36.0;

    let title = format!("{}: physical address space", input.title);
    let mut svg = Svg::headed(
        &title,
        &format!(
            "dtregion check: {}. Axis broken and not to scale: each span between two boundaries is as high as the log of its size; spans nothing covers are cut (zigzag).",
            crate::output::counts(report)
        ),
    );
    // Legend.
    let mut lx = 12.0;
    for kind in [
        Kind::Dram,
        Kind::Dma,
        Kind::KeepOut,
        Kind::MemReserve,
        Kind::Heap,
        Kind::Cma,
        Kind::Reserved,
        Kind::Disabled,
    ] {
        let (fill, stroke) = kind.colours();
        svg.rect(lx, 52.0, 12.0, 12.0, &[("fill", fill), ("stroke", stroke)]);
        svg.text(lx + 16.0, 62.0, FONT, Anchor::Start, kind.legend(), &[]);
        lx += 16.0 + text_width(kind.legend(), FONT) + 14.0;
    }
    for s in [Severity::Error, Severity::Warning, Severity::Note] {
        svg.rect(
            lx,
            52.0,
            12.0,
            12.0,
            &[
                ("fill", "none"),
                ("stroke", severity_colour(s)),
                ("stroke-width", "3"),
            ],
        );
        let t = format!("{} (outline)", s.as_str());
        svg.text(lx + 16.0, 62.0, FONT, Anchor::Start, &t, &[]);
        lx += 16.0 + text_width(&t, FONT) + 14.0;
    }
    for &(lane, x, n, width) in &lane_x {
        svg.text(
            x + n as f64 * width / 2.0,
            TOP - 14.0,
            11.0,
            Anchor::Middle,
            lane.title(),
            &[("font-weight", "bold")],
        );
    }

    // The axis: boundaries, cut spans, 4 GiB.
    svg.line(AXIS_X, TOP, AXIS_X, axis.bottom(), &[("stroke", "#000000")]);
    for (i, w) in axis.points.windows(2).enumerate() {
        if !axis.covered[i] {
            let (y0, y1) = (w[0].1, w[1].1);
            svg.rect(
                AXIS_X,
                y0,
                lanes_end - AXIS_X,
                y1 - y0,
                &[("fill", "#f3f3f3")],
            );
            let mid = (y0 + y1) / 2.0;
            let mut zig = Vec::new();
            let mut zx = AXIS_X;
            let mut up = true;
            while zx < lanes_end {
                zig.push((zx, if up { mid - 3.0 } else { mid + 3.0 }));
                zx += 8.0;
                up = !up;
            }
            svg.polyline(&zig, &[("stroke", "#aaaaaa")]);
            let gap = w[0].0 - w[1].0;
            let text = match u64::try_from(gap) {
                Ok(g) => format!("cut: {}", format_size(g)),
                Err(_) => "cut".to_string(),
            };
            svg.text(
                AXIS_X + 6.0,
                mid - 4.0,
                9.0,
                Anchor::Start,
                &text,
                &[("fill", "#777777")],
            );
        }
    }
    for &(a, y) in &axis.points {
        svg.line(AXIS_X - 4.0, y, AXIS_X, y, &[("stroke", "#000000")]);
        svg.text(AXIS_X - 7.0, y + 3.5, FONT, Anchor::End, &hex(a), &[]);
    }

    // Items with an address.
    let mut placed: Vec<Option<Placed>> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Some((s, e)) = it.span else {
            placed.push(None);
            continue;
        };
        let &(_, lx, _, width) = lane_x.iter().find(|l| l.0 == it.lane).unwrap();
        let (y0, y1) = (axis.y(e), axis.y(s));
        placed.push(Some(Placed {
            x: lx + cols[i] as f64 * width + 2.0,
            y: y0,
            w: width - 4.0,
            h: y1 - y0,
        }));
    }
    // Regions placed at boot, below the axis.
    let mut y = axis.bottom() + 40.0;
    let unplaced: Vec<usize> = (0..items.len()).filter(|&i| placed[i].is_none()).collect();
    if !unplaced.is_empty() {
        let &(_, rx, _, _) = lane_x.iter().find(|l| l.0 == Lane::Reserved).unwrap();
        svg.text(
            rx,
            y - 8.0,
            FONT,
            Anchor::Start,
            "no fixed address:",
            &[("font-style", "italic")],
        );
        for &i in &unplaced {
            placed[i] = Some(Placed {
                x: rx + 2.0,
                y,
                w: LANE_WIDTH - 4.0,
                h: 20.0,
            });
            y += 26.0;
        }
    }
    // Big items first, so small ones are drawn on top of them.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let h = |i: usize| placed[i].as_ref().map_or(0.0, |p| p.h);
        h(b).total_cmp(&h(a))
    });
    let mut beside: Vec<usize> = Vec::new();
    for &i in &order {
        let it = &items[i];
        let p = placed[i].as_ref().unwrap();
        let (fill, stroke) = it.kind.colours();
        let mut style: Vec<(&str, &str)> = vec![("fill", fill), ("stroke", stroke)];
        if it.kind == Kind::Disabled || it.span.is_none() {
            style.push(("stroke-dasharray", "4 3"));
        }
        if it.lane != Lane::Reserved {
            style.push(("fill-opacity", "0.85"));
        }
        svg.group(Some(&it.lines.join("\n")));
        svg.rect(p.x, p.y, p.w, p.h, &style);
        if let Some(s) = it.worst() {
            svg.rect(
                p.x + 1.5,
                p.y + 1.5,
                p.w - 3.0,
                (p.h - 3.0).max(1.0),
                &[
                    ("fill", "none"),
                    ("stroke", severity_colour(s)),
                    ("stroke-width", "3"),
                ],
            );
        }
        let inner_chars = ((p.w - 10.0) / (FONT * 0.6)) as usize;
        let (head, rest) = it.lines.split_at(INNER_LINES.min(it.lines.len()));
        let fits = it.problems.is_empty()
            && it.lane != Lane::Reserved
            && p.h >= head.len() as f64 * LINE + 6.0
            && head.iter().all(|l| l.chars().count() <= inner_chars);
        if fits {
            // The lines after the first ones, wrapped, as many as there is room for.
            let room = ((p.h - 6.0) / LINE) as usize;
            let mut lines: Vec<String> = head.to_vec();
            for l in rest {
                lines.extend(wrap(l, inner_chars));
            }
            let keep = room.max(head.len());
            if lines.len() > keep {
                // Cut: the whole label is the box's tooltip.
                lines.truncate(keep);
                if let Some(last) = lines.last_mut().filter(|_| keep > head.len()) {
                    let cut: String = last.chars().take(inner_chars.saturating_sub(1)).collect();
                    *last = format!("{cut}…");
                }
            }
            let mut ty = p.y + (p.h - lines.len() as f64 * LINE) / 2.0 + FONT;
            for (k, l) in lines.iter().enumerate() {
                let bold: &[(&str, &str)] = if k == 0 {
                    &[("font-weight", "bold")]
                } else {
                    &[]
                };
                svg.text(p.x + 6.0, ty, FONT, Anchor::Start, l, bold);
                ty += LINE;
            }
        } else {
            beside.push(i);
        }
        svg.end_group();
    }

    // Labels beside the lanes, in the order of their boxes, pushed down not to overlap.
    beside.sort_by(|&a, &b| {
        let c = |i: usize| placed[i].as_ref().map_or(0.0, |p| p.y + p.h / 2.0);
        c(a).total_cmp(&c(b)).then(a.cmp(&b))
    });
    let mut next = TOP - 4.0;
    for &i in &beside {
        let it = &items[i];
        let p = placed[i].as_ref().unwrap();
        let mut lines: Vec<(String, Option<Severity>)> = Vec::new();
        lines.push((it.lines[0].clone(), None));
        lines.push((it.lines[1..].join("; "), None));
        for pr in &it.problems {
            let text = format!(
                "{}[{}]: {}",
                pr.severity.as_str(),
                pr.class.as_str(),
                pr.message
            );
            for l in wrap(&text, LABEL_CHARS) {
                lines.push((l, Some(pr.severity)));
            }
        }
        // The lines after the name, wrapped too.
        let mut wrapped = vec![lines[0].clone()];
        for (l, s) in lines.into_iter().skip(1) {
            for w in wrap(&l, LABEL_CHARS) {
                wrapped.push((w, s));
            }
        }
        let h = wrapped.len() as f64 * LINE;
        let centre = p.y + p.h / 2.0;
        let top = (centre - LINE / 2.0).max(next);
        next = top + h + 6.0;
        let first = top + FONT;
        let anchor_y = (first - 3.5).clamp(p.y + 1.0, p.y + (p.h - 1.0).max(1.0));
        svg.polyline(
            &[
                (p.x + p.w, anchor_y),
                (lanes_end + 8.0, anchor_y),
                (label_x - 6.0, first - 3.5),
            ],
            &[("stroke", "#8c8c8c"), ("stroke-width", "0.8")],
        );
        let mut ty = first;
        for (k, (l, s)) in wrapped.iter().enumerate() {
            let style: Vec<(&str, &str)> = match (k, s) {
                (0, _) => vec![("font-weight", "bold")],
                (_, Some(s)) => vec![("fill", severity_colour(*s))],
                _ => vec![],
            };
            svg.text(label_x, ty, FONT, Anchor::Start, l, &style);
            ty += LINE;
        }
    }

    // The 4 GiB line, over everything.
    let y4 = axis.y(FOUR_GIB);
    svg.line(
        AXIS_X - 4.0,
        y4,
        lanes_end,
        y4,
        &[
            ("stroke", "#c62828"),
            ("stroke-width", "1.5"),
            ("stroke-dasharray", "8 4"),
        ],
    );
    svg.text(
        lanes_end - 4.0,
        y4 - 4.0,
        FONT,
        Anchor::End,
        "4 GiB: 32-bit DMA masters reach only below",
        &[("fill", "#c62828")],
    );

    // Problems of no drawn item.
    let (_, mut bottom) = svg.extent();
    bottom = bottom.max(y) + 24.0;
    if !unplaced_problems.is_empty() {
        svg.text(
            12.0,
            bottom,
            11.0,
            Anchor::Start,
            "Problems of no region drawn above:",
            &[("font-weight", "bold")],
        );
        bottom += LINE + 2.0;
        for pr in &unplaced_problems {
            let text = format!(
                "{}[{}]: {}: {}",
                pr.severity.as_str(),
                pr.class.as_str(),
                pr.node,
                pr.message
            );
            for l in wrap(&text, 150) {
                svg.text(
                    12.0,
                    bottom,
                    FONT,
                    Anchor::Start,
                    &l,
                    &[("fill", severity_colour(pr.severity))],
                );
                bottom += LINE;
            }
        }
    }
    svg.finish(24.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards::KeepOut;
    use crate::check::{Class, Memory, MemorySource, Origin};
    use heap_rules::size::{GIB, KIB, MIB};

    fn row(
        name: &str,
        base: Option<u64>,
        size: u64,
        decision: Decision,
        flags: &[&'static str],
    ) -> RegionRow {
        let exported = decision == Decision::Exported;
        RegionRow {
            node: format!("/reserved-memory/{name}"),
            name: name.into(),
            heap: exported.then(|| name.to_string()),
            decision,
            log: None,
            base,
            size: Some(size),
            flags: flags.to_vec(),
            opted_in: exported,
            origin: Origin::Overlay,
        }
    }

    fn report() -> Report {
        Report {
            board: Some("acme".into()),
            memory: Memory {
                source: MemorySource::Tree,
                banks: vec![Range::new(0x4000_0000, 8 * GIB)],
            },
            keep_out: vec![KeepOut {
                name: "boot".into(),
                base: 0x4000_0000,
                size: 128 * MIB,
                why: "kernel & <initrd>".into(),
            }],
            memreserve: vec![Range::new(0x4000_0000, 4 * KIB)],
            regions: vec![
                row(
                    "camera@50000000",
                    Some(0x5000_0000),
                    32 * MIB,
                    Decision::Exported,
                    &["no-map"],
                ),
                row(
                    "fw@48000000",
                    Some(0x4800_0000),
                    4 * KIB,
                    Decision::Skipped {
                        skip: heap_rules::Skip::NotOptedIn,
                    },
                    &["no-map"],
                ),
                row(
                    "scratch",
                    None,
                    16 * MIB,
                    Decision::Exported,
                    &["dynamic", "no-map"],
                ),
            ],
            problems: vec![
                Problem {
                    severity: Severity::Error,
                    class: Class::Overlap,
                    node: "/reserved-memory/fw@48000000".into(),
                    message: "overlaps something".into(),
                },
                Problem {
                    severity: Severity::Warning,
                    class: Class::NoMemory,
                    node: "/memory".into(),
                    message: "a problem of no region".into(),
                },
            ],
            errors: 1,
            warnings: 1,
            notes: 0,
        }
    }

    fn windows() -> Vec<DmaWindow> {
        vec![DmaWindow {
            node: "/soc".into(),
            bus: 0xc000_0000,
            range: Range::new(0, GIB),
        }]
    }

    #[test]
    fn the_map_is_well_formed_and_has_every_label() {
        let (report, windows) = (report(), windows());
        let input = MapInput {
            title: "ACME & co",
            report: &report,
            windows: &windows,
        };
        let svg = render(&input);
        let texts = picture::texts(&svg).expect("well-formed");
        assert_eq!(missing_labels(&svg, &input).unwrap(), Vec::<String>::new());
        assert_eq!(
            labels(&input),
            [
                "DRAM bank 0",
                "/soc",
                "keep-out boot",
                "/memreserve/ 0",
                "camera@50000000",
                "fw@48000000",
                "scratch",
            ]
        );
        for want in [
            "0x50000000-0x51ffffff  32 MiB",
            "error[overlap]: overlaps something",
            "placed at boot  16 MiB",
            "0x100000000",
        ] {
            assert!(
                texts.iter().any(|t| t.contains(want)),
                "no {want:?} in {texts:?}"
            );
        }
        // The problem of no region is listed below.
        assert!(texts
            .iter()
            .any(|t| t.contains("/memory: a problem of no region")));
        // The problem's region is outlined in the error colour.
        assert!(svg.contains("stroke=\"#d32f2f\" stroke-width=\"3\""));
        assert!(svg.contains("&amp; &lt;initrd&gt;"));
    }

    #[test]
    fn a_map_without_a_label_is_found_out() {
        let (report, windows) = (report(), windows());
        let input = MapInput {
            title: "acme",
            report: &report,
            windows: &windows,
        };
        let svg = render(&input);
        let cut = svg.replace(">camera@50000000</text>", ">camera</text>");
        assert_eq!(
            missing_labels(&cut, &input).unwrap(),
            vec!["camera@50000000"]
        );
        assert!(missing_labels(&svg.replace("</svg>", ""), &input).is_err());
    }

    #[test]
    fn the_axis_is_monotonic_and_small_spans_stay_visible() {
        let spans = [
            (0x4000_0000u128, 0x4000_0000u128 + 8 * u128::from(GIB)),
            (0x5000_0000, 0x5000_1000),
            (0x6000_0000, 0x6200_0000),
            (0x4_0000_0000_0000, 0x4_0000_0010_0000),
        ];
        let axis = Axis::new(&spans, 0.0);
        // Higher addresses are higher up (smaller y), strictly, from the lowest boundary to
        // the highest.
        let (lo, hi) = (0x4000_0000u128, 0x4_0000_0010_0000u128);
        let mut addrs: Vec<u128> = (0..=400).map(|i| lo + i * ((hi - lo) / 400)).collect();
        addrs.extend(spans.iter().flat_map(|&(a, b)| [a, b, a + 1, b - 1]));
        addrs.push(FOUR_GIB);
        addrs.sort_unstable();
        addrs.dedup();
        for w in addrs.windows(2) {
            assert!(axis.y(w[0]) > axis.y(w[1]), "{:#x} {:#x}", w[0], w[1]);
        }
        // Outside the axis, y is clamped.
        assert_eq!(axis.y(0), axis.bottom());
        assert_eq!(axis.y(u128::MAX), 0.0);
        // The 4 KiB region is at least MIN_SPAN high, the 32 MiB one more, 8 GiB more still
        // but not 256 times more.
        let h = |a: u128, b: u128| axis.y(a) - axis.y(b);
        assert!(h(0x5000_0000, 0x5000_1000) >= MIN_SPAN);
        assert!(h(0x6000_0000, 0x6200_0000) > MIN_SPAN + 40.0);
        let dram = h(0x4000_0000, 0x4000_0000 + 8 * u128::from(GIB));
        assert!(dram > h(0x6000_0000, 0x6200_0000) && dram < 40.0 * h(0x6000_0000, 0x6200_0000));
        // A span nothing covers is cut: the gap to the far region is thin.
        assert_eq!(
            h(0x4000_0000 + 8 * u128::from(GIB), 0x4_0000_0000_0000),
            CUT_SPAN
        );
        // 4 GiB is a boundary.
        assert!(axis.points.iter().any(|&(a, _)| a == FOUR_GIB));
    }

    #[test]
    fn span_heights_grow_with_the_log_of_the_size() {
        assert_eq!(span_height(1), MIN_SPAN);
        assert_eq!(span_height(4096), MIN_SPAN);
        assert_eq!(span_height(8192), MIN_SPAN + PER_DOUBLING);
        assert!(span_height(32 << 20) < span_height(8 << 30));
    }

    #[test]
    fn overlapping_items_get_columns() {
        let it = |s: u128, e: u128| Item {
            lane: Lane::Reserved,
            kind: Kind::Reserved,
            span: Some((s, e)),
            lines: vec!["x".into()],
            problems: vec![],
        };
        assert_eq!(
            columns(&[it(0, 10), it(5, 15), it(10, 20), it(0, 30)]),
            [0, 1, 0, 2]
        );
    }
}
