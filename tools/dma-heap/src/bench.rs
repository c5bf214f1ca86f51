//! `dma-heap bench`: figures, no verdicts.
//!
//! For every system, CMA and coherent heap in `/dev/dma_heap`:
//!
//! - **latency**: allocate and free (close) one buffer, [`BenchConfig::iterations`]
//!   times per size in [`LATENCY_SIZES`] (sizes larger than the heap are
//!   skipped), timed with the monotonic clock; median and 99th percentile.
//!   The heaps take turns, one alloc+free each per round, after
//!   [`LATENCY_WARMUP`] untimed ones each: a burst of load on the host (or
//!   the first run of a code path through QEMU's translator) then falls on
//!   every heap alike rather than on whichever heap was being measured, so
//!   the heaps' figures can be compared with each other;
//! - **frames**: for heaps of known size (coherent: debugfs or the device
//!   tree; CMA: the device tree or CMA debugfs), how many 1080p and 4K NV12
//!   frames fit, allocating one after the other until `ENOMEM`, and which
//!   share of the heap they use;
//! - **churn**: for the same heaps, [`BenchConfig::churn_steps`] steps of a
//!   deterministic random workload that keeps about half of the heap live
//!   (sizes log-uniform between 4 KiB and 8 MiB, at most a quarter of the
//!   heap), then, with that half still live, the largest single buffer that
//!   can still be allocated (binary search over sizes, page granular).
//!   With half of the heap free, a perfect allocator would give all of it.
//!
//! The churn and search logic is written against [`Allocator`] so it can
//! be tested on the host with a model pool.
//!
//! After the three tables, which are for people, every figure is printed
//! again exactly, one line each, in the format of [`heap_rules::bench`],
//! from which `bootlog bench-svg` draws the picture on the build host.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use heap_rules::bench::Figure;

use crate::error::{Error, Result};
use crate::heap::{Heap, DEFAULT_FD_FLAGS};
use crate::inventory::HeapKind;
use crate::prng::XorShift64;
use crate::size::{format_bytes, format_size};
use crate::stats::{format_duration, percent, table, Latency};
use crate::suites::System;

/// A 1920x1080 NV12 frame: a full-size luma plane and a half-size
/// interleaved chroma plane, 1.5 bytes per pixel.
pub const FRAME_1080P_NV12: u64 = 1920 * 1080 * 3 / 2;
/// A 3840x2160 NV12 frame.
pub const FRAME_4K_NV12: u64 = 3840 * 2160 * 3 / 2;
/// Sizes whose alloc+free latency is measured.
pub const LATENCY_SIZES: [u64; 4] = [4 << 10, 64 << 10, 1 << 20, 8 << 20];

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Timed alloc+free pairs per heap and size.
    pub iterations: usize,
    /// Steps of the churn workload.
    pub churn_steps: usize,
    /// Smallest churn buffer.
    pub churn_min: u64,
    /// Largest churn buffer (further capped at a quarter of the heap).
    pub churn_max: u64,
    /// Seed of the churn workload.
    pub seed: u64,
    /// Only these heaps (all system, CMA and coherent heaps if empty).
    pub heaps: Vec<String>,
}

impl Default for BenchConfig {
    fn default() -> BenchConfig {
        BenchConfig {
            iterations: 200,
            churn_steps: 500,
            churn_min: 4 << 10,
            churn_max: 8 << 20,
            seed: 0xbe9c_4ea9,
            heaps: Vec::new(),
        }
    }
}

/// Something buffers can be allocated from; `Ok(None)` means `ENOMEM`.
/// Buffers are freed by dropping them.
pub trait Allocator {
    /// A live buffer.
    type Buf;
    /// Allocates `len` bytes.
    fn alloc(&mut self, len: u64) -> Result<Option<Self::Buf>>;
}

/// A dma-buf heap as an [`Allocator`].
pub struct HeapAllocator<'a>(pub &'a Heap);

impl Allocator for HeapAllocator<'_> {
    type Buf = crate::heap::DmaBuf;
    fn alloc(&mut self, len: u64) -> Result<Option<Self::Buf>> {
        match self.0.alloc(len, DEFAULT_FD_FLAGS, 0) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How many `len`-byte buffers `a` gives before `ENOMEM`, at most `limit`
/// (a bound against runaway heaps). Everything is freed before returning.
pub fn count_fit<A: Allocator>(a: &mut A, len: u64, limit: u64) -> Result<u64> {
    let mut bufs = Vec::new();
    while (bufs.len() as u64) < limit {
        match a.alloc(len)? {
            Some(b) => bufs.push(b),
            None => break,
        }
    }
    Ok(bufs.len() as u64)
}

/// The largest multiple of `page`, up to `max` bytes, that `a` can
/// allocate now: binary search, assuming that if a size fits, smaller ones
/// do too. 0 if not even one page does.
pub fn largest_allocatable<A: Allocator>(a: &mut A, max: u64, page: u64) -> Result<u64> {
    let (mut lo, mut hi) = (0u64, max / page);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if a.alloc(mid * page)?.is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo * page)
}

/// What the churn workload left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Churn {
    /// Steps run.
    pub steps: usize,
    /// Successful allocations.
    pub allocs: u64,
    /// Allocations refused with ENOMEM.
    pub enomem: u64,
    /// Buffers live at the end.
    pub live_buffers: usize,
    /// Bytes live at the end.
    pub live_bytes: u64,
    /// The largest single allocation possible with those still live.
    pub largest: u64,
}

/// Runs the churn workload on `a`, a heap of `size` bytes: each step
/// allocates a random size while less than half of the heap is live, and
/// frees a random live buffer otherwise (or when an allocation fails). Then
/// measures the largest allocation possible with the live set held, and
/// frees everything.
pub fn churn<A: Allocator>(a: &mut A, size: u64, page: u64, cfg: &BenchConfig) -> Result<Churn> {
    let mut rng = XorShift64::new(cfg.seed);
    let max = cfg.churn_max.min(size / 4).max(page);
    let target = size / 2;
    let mut live: Vec<(A::Buf, u64)> = Vec::new();
    let mut live_bytes = 0u64;
    let mut out = Churn::default();
    let free_random =
        |live: &mut Vec<(A::Buf, u64)>, live_bytes: &mut u64, rng: &mut XorShift64| {
            if !live.is_empty() {
                let (_, len) = live.swap_remove(rng.below(live.len() as u64) as usize);
                *live_bytes -= len;
            }
        };
    for _ in 0..cfg.churn_steps {
        out.steps += 1;
        if live_bytes < target || live.is_empty() {
            let len = rng.log_uniform_size(cfg.churn_min, max, page);
            match a.alloc(len)? {
                Some(b) => {
                    out.allocs += 1;
                    live_bytes += len;
                    live.push((b, len));
                }
                None => {
                    out.enomem += 1;
                    free_random(&mut live, &mut live_bytes, &mut rng);
                }
            }
        } else {
            free_random(&mut live, &mut live_bytes, &mut rng);
        }
    }
    out.live_buffers = live.len();
    out.live_bytes = live_bytes;
    out.largest = largest_allocatable(a, size - live_bytes, page)?;
    Ok(out)
}

/// Untimed alloc+free pairs per heap and size before the timed rounds.
pub const LATENCY_WARMUP: usize = 20;

/// Times `op` on every item in turns: `warmup` untimed calls per item, then
/// `iterations` rounds of one timed call per item. An item whose call fails
/// is dropped from the rounds with its error; the others go on.
pub fn interleaved<T>(
    items: &[T],
    warmup: usize,
    iterations: usize,
    mut op: impl FnMut(&T) -> Result<()>,
) -> Vec<Result<Vec<Duration>>> {
    let mut out: Vec<Result<Vec<Duration>>> = items
        .iter()
        .map(|item| {
            (0..warmup).try_for_each(|_| op(item))?;
            Ok(Vec::with_capacity(iterations))
        })
        .collect();
    for _ in 0..iterations {
        for (item, result) in items.iter().zip(out.iter_mut()) {
            let Ok(samples) = result else { continue };
            let t = Instant::now();
            match op(item) {
                Ok(()) => samples.push(t.elapsed()),
                Err(e) => *result = Err(e),
            }
        }
    }
    out
}

/// The alloc+free latency of every heap at every size of [`LATENCY_SIZES`],
/// the heaps taking turns ([`interleaved`]); `None` for a heap that could
/// not be opened.
fn measure_latencies(
    heaps: &[(&Target, Option<&Heap>)],
    iterations: usize,
) -> Vec<Vec<Cell<Latency>>> {
    let mut cells: Vec<Vec<Cell<Latency>>> = heaps.iter().map(|_| Vec::new()).collect();
    for &len in &LATENCY_SIZES {
        let mut measured = Vec::new();
        for (i, (t, heap)) in heaps.iter().enumerate() {
            match (heap, t.capacity) {
                (_, Some(cap)) if len > cap => cells[i].push(Cell::Skipped("larger than the heap")),
                (None, _) => cells[i].push(Cell::Skipped("not opened")),
                (Some(h), _) => measured.push((i, *h)),
            }
        }
        let results = interleaved(&measured, LATENCY_WARMUP, iterations, |(_, h)| {
            // Closing the last reference frees the buffer before close()
            // returns (the file's release runs as task work on the way back
            // to user space).
            drop(h.alloc(len, DEFAULT_FD_FLAGS, 0)?);
            Ok(())
        });
        for ((i, _), r) in measured.iter().zip(results) {
            let latency = r.and_then(|samples| {
                Latency::from_samples(samples).ok_or(Error::InvalidArgument {
                    arg: "--iterations",
                    value: "0".into(),
                    msg: "must be at least 1".into(),
                })
            });
            cells[*i].push(Cell::from_result(latency));
        }
    }
    cells
}

/// A heap to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Heap name.
    pub name: String,
    /// Which driver.
    pub kind: HeapKind,
    /// Size of the memory behind it, when known.
    pub capacity: Option<u64>,
}

/// The heaps to measure: system, CMA and coherent heaps of `env` (those in
/// `only` if it is not empty), with their sizes. Without `only`, a second
/// name of the default CMA area ([`System::cma_alias_of`]) is left out.
pub fn targets(env: &System, only: &[String]) -> Vec<Target> {
    env.heap_names()
        .iter()
        .filter(|h| {
            if only.is_empty() {
                env.cma_alias_of(h).is_none()
            } else {
                only.contains(h)
            }
        })
        .filter_map(|h| {
            let kind = env.inventory.kind(h);
            let capacity = match kind {
                HeapKind::System => None,
                HeapKind::Cma => env.cma_capacity(h),
                HeapKind::Coherent => crate::debugfs::HeapStats::read_in(&env.coherent_debugfs, h)
                    .map(|s| s.size)
                    .ok()
                    .or_else(|| {
                        let v = env.inventory.coherent.heap(h)?;
                        v.reservation.map(|r| r.size)
                    }),
                HeapKind::Other => return None,
            };
            Some(Target {
                name: h.clone(),
                kind,
                capacity,
            })
        })
        .collect()
}

/// One table cell's worth of result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<T> {
    /// Not measured, and why (`-` in the table).
    Skipped(&'static str),
    /// Measured.
    Done(T),
    /// The measurement failed.
    Failed(String),
}

impl<T> Cell<T> {
    fn from_result(r: Result<T>) -> Cell<T> {
        match r {
            Ok(v) => Cell::Done(v),
            Err(e) => Cell::Failed(e.to_string()),
        }
    }

    fn text(&self, f: impl Fn(&T) -> String) -> String {
        match self {
            Cell::Skipped(_) => "-".into(),
            Cell::Done(v) => f(v),
            Cell::Failed(_) => "error".into(),
        }
    }
}

/// Everything measured on one heap.
#[derive(Debug, Clone)]
pub struct HeapBench {
    /// The heap.
    pub target: Target,
    /// Per size of [`LATENCY_SIZES`].
    pub latency: Vec<Cell<Latency>>,
    /// 1080p and 4K NV12 frames that fit.
    pub frames: [Cell<u64>; 2],
    /// The churn workload.
    pub churn: Cell<Churn>,
    /// Wall time spent on this heap's frames and churn.
    pub elapsed: Duration,
}

/// Measures one heap's frames and churn; `latency` is its part of
/// [`measure_latencies`].
pub fn bench_heap(
    t: &Target,
    heap: std::result::Result<&Heap, String>,
    latency: Vec<Cell<Latency>>,
    page: u64,
    cfg: &BenchConfig,
) -> HeapBench {
    let start = Instant::now();
    let heap = match heap {
        Ok(h) => h,
        Err(e) => {
            fn failed<T>(e: &str) -> Cell<T> {
                Cell::Failed(e.to_string())
            }
            return HeapBench {
                target: t.clone(),
                latency: LATENCY_SIZES.iter().map(|_| failed(&e)).collect(),
                frames: [failed(&e), failed(&e)],
                churn: failed(&e),
                elapsed: start.elapsed(),
            };
        }
    };
    let frames = [FRAME_1080P_NV12, FRAME_4K_NV12].map(|len| match t.capacity {
        None => Cell::Skipped("size unknown"),
        Some(cap) => {
            let len = len.div_ceil(page) * page;
            Cell::from_result(count_fit(&mut HeapAllocator(heap), len, cap / len + 1))
        }
    });
    let churn_cell = match t.capacity {
        None => Cell::Skipped("size unknown"),
        Some(cap) if cap < 4 * page => Cell::Skipped("too small"),
        Some(cap) => Cell::from_result(churn(&mut HeapAllocator(heap), cap, page, cfg)),
    };
    HeapBench {
        target: t.clone(),
        latency,
        frames,
        churn: churn_cell,
        elapsed: start.elapsed(),
    }
}

fn capacity_text(t: &Target) -> String {
    t.capacity.map_or_else(|| "-".into(), format_size)
}

/// Every measured figure, as [`heap_rules::bench`] lines describe them: the run, then per
/// heap the heap and its latencies, frames and churn. Skipped and failed cells have none.
pub fn figures(results: &[HeapBench], cfg: &BenchConfig, page: u64) -> Vec<Figure> {
    let mut out = vec![Figure::Run {
        iterations: cfg.iterations as u64,
        churn_steps: cfg.churn_steps as u64,
        churn_min: cfg.churn_min,
        churn_max: cfg.churn_max,
        page,
    }];
    let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    for r in results {
        let heap = r.target.name.clone();
        out.push(Figure::Heap {
            name: heap.clone(),
            kind: r.target.kind.as_str().into(),
            capacity: r.target.capacity,
        });
        for (c, &size) in r.latency.iter().zip(&LATENCY_SIZES) {
            if let Cell::Done(l) = c {
                out.push(Figure::Latency {
                    heap: heap.clone(),
                    size,
                    median_ns: ns(l.median),
                    p99_ns: ns(l.p99),
                });
            }
        }
        for (c, frame) in r.frames.iter().zip([FRAME_1080P_NV12, FRAME_4K_NV12]) {
            if let Cell::Done(count) = c {
                out.push(Figure::Frames {
                    heap: heap.clone(),
                    frame,
                    count: *count,
                });
            }
        }
        if let Cell::Done(c) = &r.churn {
            out.push(Figure::Churn {
                heap,
                live_bytes: c.live_bytes,
                live_buffers: c.live_buffers as u64,
                largest: c.largest,
            });
        }
    }
    out
}

/// The report: three tables, one heap per row, the [`figures`] one a line, then
/// `# bench: done`.
pub fn report(results: &[HeapBench], cfg: &BenchConfig, page: u64) -> String {
    let mut out = String::new();
    let head = |t: &Target| vec![t.name.clone(), t.kind.as_str().into(), capacity_text(t)];

    out.push_str(&format!(
        "# alloc+free latency: median / p99 of {} iterations (CLOCK_MONOTONIC)\n",
        cfg.iterations
    ));
    let mut rows = vec![["HEAP", "KIND", "SIZE"]
        .iter()
        .map(|s| s.to_string())
        .chain(LATENCY_SIZES.iter().map(|&s| format_size(s)))
        .collect::<Vec<_>>()];
    for r in results {
        let mut row = head(&r.target);
        row.extend(r.latency.iter().map(|c| {
            c.text(|l| format!("{} / {}", format_duration(l.median), format_duration(l.p99)))
        }));
        rows.push(row);
    }
    out.push_str(&table(&rows));

    out.push_str(&format!(
        "\n# frames that fit, allocated one after the other until ENOMEM: 1080p NV12 = {FRAME_1080P_NV12} bytes, 4K NV12 = {FRAME_4K_NV12} bytes; USED = frames x frame size / heap size\n"
    ));
    let mut rows = vec![["HEAP", "KIND", "SIZE", "1080P", "USED", "4K", "USED"]
        .map(String::from)
        .to_vec()];
    for r in results {
        let mut row = head(&r.target);
        for (cell, len) in r.frames.iter().zip([FRAME_1080P_NV12, FRAME_4K_NV12]) {
            row.push(cell.text(u64::to_string));
            row.push(cell.text(|&n| {
                r.target
                    .capacity
                    .map_or_else(|| "-".into(), |cap| percent(n * len, cap))
            }));
        }
        rows.push(row);
    }
    out.push_str(&table(&rows));

    out.push_str(&format!(
        "\n# churn: {} steps, sizes {}-{} log-uniform (at most 1/4 of the heap), about half of the heap kept live; LARGEST = largest single allocation still possible then\n",
        cfg.churn_steps,
        format_size(cfg.churn_min),
        format_size(cfg.churn_max)
    ));
    let mut rows = vec![[
        "HEAP", "KIND", "SIZE", "ALLOCS", "ENOMEM", "LIVE", "FREE", "LARGEST", "OF FREE",
    ]
    .map(String::from)
    .to_vec()];
    for r in results {
        let mut row = head(&r.target);
        let cap = r.target.capacity.unwrap_or(0);
        let cells: [&dyn Fn(&Churn) -> String; 6] = [
            &|c| c.allocs.to_string(),
            &|c| c.enomem.to_string(),
            &|c| format!("{} in {}", format_bytes(c.live_bytes), c.live_buffers),
            &|c| format_bytes(cap - c.live_bytes),
            &|c| format_bytes(c.largest),
            &|c| percent(c.largest, cap - c.live_bytes),
        ];
        row.extend(cells.iter().map(|f| r.churn.text(f)));
        rows.push(row);
    }
    out.push_str(&table(&rows));

    let mut errors = Vec::new();
    for r in results {
        let named = |what: String, c: &dyn Fn() -> Option<String>| {
            c().map(|e| format!("{}: {what}: {e}", r.target.name))
        };
        for (c, &len) in r.latency.iter().zip(&LATENCY_SIZES) {
            errors.extend(named(
                format!("latency {}", format_size(len)),
                &|| match c {
                    Cell::Failed(e) => Some(e.clone()),
                    _ => None,
                },
            ));
        }
        for (c, what) in r.frames.iter().zip(["1080p frames", "4K frames"]) {
            errors.extend(named(what.into(), &|| match c {
                Cell::Failed(e) => Some(e.clone()),
                _ => None,
            }));
        }
        if let Cell::Failed(e) = &r.churn {
            errors.push(format!("{}: churn: {e}", r.target.name));
        }
    }
    if !errors.is_empty() {
        out.push('\n');
        for e in errors {
            out.push_str(&format!("# error: {e}\n"));
        }
    }
    for f in figures(results, cfg, page) {
        out.push_str(&format!("{f}\n"));
    }
    out.push_str("# bench: done\n");
    out
}

/// Runs the benchmark on `env`'s heaps and writes the report to `out`,
/// with one progress line per heap as it goes.
pub fn run<W: Write>(out: &mut W, env: &System, cfg: &BenchConfig) -> io::Result<()> {
    // Frames and churn hold many buffers at once on small page sizes.
    let _ = crate::sys::raise_nofile(8192);
    let targets = targets(env, &cfg.heaps);
    if cfg.heaps.is_empty() {
        for h in env.heap_names() {
            if let Some(of) = env.cma_alias_of(h) {
                writeln!(
                    out,
                    "# bench: {h}: the same CMA area as {of}, not measured twice"
                )?;
            }
        }
    }
    if targets.is_empty() {
        writeln!(out, "# bench: no system, CMA or coherent heap to measure")?;
    }
    let opened: Vec<(Target, Result<Heap>)> = targets
        .iter()
        .map(|t| (t.clone(), Heap::open(&t.name)))
        .collect();
    let latency = {
        let heaps: Vec<(&Target, Option<&Heap>)> =
            opened.iter().map(|(t, h)| (t, h.as_ref().ok())).collect();
        writeln!(
            out,
            "# bench: alloc+free latency, the {} heaps taking turns",
            heaps.len()
        )?;
        out.flush()?;
        measure_latencies(&heaps, cfg.iterations)
    };
    let mut results = Vec::new();
    for ((t, heap), latency) in opened.iter().zip(latency) {
        let heap = heap.as_ref().map_err(|e| e.to_string());
        let r = bench_heap(t, heap, latency, env.page_size, cfg);
        writeln!(
            out,
            "# bench: {} ({}, {}): {:.1} s",
            t.name,
            t.kind.as_str(),
            capacity_text(t),
            r.elapsed.as_secs_f64()
        )?;
        out.flush()?;
        results.push(r);
    }
    out.write_all(report(&results, cfg, env.page_size).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A model pool: `pages` pages, first fit, exact page counts, no
    /// alignment.
    #[derive(Clone)]
    struct Pool {
        used: Rc<RefCell<Vec<bool>>>,
        page: u64,
    }

    struct PoolBuf {
        used: Rc<RefCell<Vec<bool>>>,
        start: usize,
        n: usize,
    }

    impl Drop for PoolBuf {
        fn drop(&mut self) {
            let mut u = self.used.borrow_mut();
            for p in &mut u[self.start..self.start + self.n] {
                assert!(*p, "double free");
                *p = false;
            }
        }
    }

    impl Pool {
        fn new(pages: usize) -> Pool {
            Pool {
                used: Rc::new(RefCell::new(vec![false; pages])),
                page: 4096,
            }
        }
        fn used_pages(&self) -> usize {
            self.used.borrow().iter().filter(|&&u| u).count()
        }
    }

    impl Allocator for Pool {
        type Buf = PoolBuf;
        fn alloc(&mut self, len: u64) -> Result<Option<PoolBuf>> {
            let n = len.div_ceil(self.page) as usize;
            let mut u = self.used.borrow_mut();
            let mut run = 0;
            for i in 0..u.len() {
                run = if u[i] { 0 } else { run + 1 };
                if run == n {
                    let start = i + 1 - n;
                    u[start..=i].iter_mut().for_each(|p| *p = true);
                    return Ok(Some(PoolBuf {
                        used: self.used.clone(),
                        start,
                        n,
                    }));
                }
            }
            Ok(None)
        }
    }

    #[test]
    fn interleaved_takes_turns_after_the_warmup() {
        let calls = RefCell::new(Vec::new());
        let out = interleaved(&['a', 'b'], 1, 2, |&c| {
            calls.borrow_mut().push(c);
            Ok(())
        });
        assert_eq!(calls.into_inner(), ['a', 'b', 'a', 'b', 'a', 'b']);
        assert!(out.iter().all(|r| r.as_ref().map(Vec::len).ok() == Some(2)));
    }

    #[test]
    fn interleaved_drops_a_failing_item_and_goes_on() {
        let calls = RefCell::new(Vec::new());
        let out = interleaved(&['a', 'b', 'c'], 1, 3, |&c| {
            calls.borrow_mut().push(c);
            // 'a' fails in its warm-up, 'b' in its second timed call.
            let nth = calls.borrow().iter().filter(|&&x| x == c).count();
            match (c, nth) {
                ('a', _) | ('b', 3) => Err(Error::InvalidArgument {
                    arg: "test",
                    value: c.to_string(),
                    msg: "fails".into(),
                }),
                _ => Ok(()),
            }
        });
        assert_eq!(calls.into_inner(), ['a', 'b', 'c', 'b', 'c', 'b', 'c', 'c']);
        assert!(out[0].is_err());
        assert!(out[1].is_err());
        assert_eq!(out[2].as_ref().map(Vec::len).ok(), Some(3));
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(FRAME_1080P_NV12, 3_110_400);
        assert_eq!(FRAME_4K_NV12, 12_441_600);
    }

    #[test]
    fn counting_frames_frees_everything() {
        let mut pool = Pool::new(16384); // 64 MiB
        let len = FRAME_1080P_NV12.div_ceil(4096) * 4096;
        assert_eq!(count_fit(&mut pool, len, 100).unwrap(), 21);
        assert_eq!(pool.used_pages(), 0);
        assert_eq!(count_fit(&mut pool, len, 5).unwrap(), 5);
        let len = FRAME_4K_NV12.div_ceil(4096) * 4096;
        assert_eq!(count_fit(&mut pool, len, 100).unwrap(), 5);
    }

    #[test]
    fn binary_search_finds_the_largest_hole() {
        let mut pool = Pool::new(100);
        assert_eq!(
            largest_allocatable(&mut pool, 100 * 4096, 4096).unwrap(),
            100 * 4096
        );
        // Hold pages 10..20 and 50..51: the largest hole is 51..100.
        let a = pool.alloc(10 * 4096).unwrap().unwrap();
        let b = pool.alloc(10 * 4096).unwrap().unwrap();
        let _c = pool.alloc(30 * 4096).unwrap().unwrap();
        let d = pool.alloc(4096).unwrap().unwrap();
        drop(a);
        drop(_c);
        assert_eq!(pool.used_pages(), 11);
        assert_eq!(
            largest_allocatable(&mut pool, 89 * 4096, 4096).unwrap(),
            49 * 4096
        );
        // Capped by max.
        assert_eq!(
            largest_allocatable(&mut pool, 7 * 4096, 4096).unwrap(),
            7 * 4096
        );
        drop((b, d));
        let mut full = Pool::new(4);
        let _all = full.alloc(4 * 4096).unwrap().unwrap();
        assert_eq!(largest_allocatable(&mut full, 4 * 4096, 4096).unwrap(), 0);
    }

    #[test]
    fn churn_keeps_about_half_live_and_is_deterministic() {
        let cfg = BenchConfig::default();
        let mut pool = Pool::new(16384);
        let a = churn(&mut pool, 64 << 20, 4096, &cfg).unwrap();
        assert_eq!(pool.used_pages(), 0, "everything freed");
        assert_eq!(a.steps, 500);
        assert!(a.live_bytes >= 32 << 20 || a.enomem > 0, "{a:?}");
        assert!(a.live_bytes <= (32 << 20) + (8 << 20), "{a:?}");
        assert!(a.largest <= (64 << 20) - a.live_bytes);
        assert!(a.largest >= 4096);
        let mut pool2 = Pool::new(16384);
        assert_eq!(churn(&mut pool2, 64 << 20, 4096, &cfg).unwrap(), a);
        let other = BenchConfig {
            seed: 1,
            ..cfg.clone()
        };
        let mut pool3 = Pool::new(16384);
        assert_ne!(churn(&mut pool3, 64 << 20, 4096, &other).unwrap(), a);
    }

    #[test]
    fn report_layout() {
        let cfg = BenchConfig::default();
        let lat = |us| {
            Cell::Done(Latency {
                median: Duration::from_micros(us),
                p99: Duration::from_micros(us * 3),
                samples: 200,
            })
        };
        let results = vec![
            HeapBench {
                target: Target {
                    name: "camera".into(),
                    kind: HeapKind::Coherent,
                    capacity: Some(64 << 20),
                },
                latency: vec![lat(50), lat(60), lat(400), lat(3000)],
                frames: [Cell::Done(16), Cell::Done(4)],
                churn: Cell::Done(Churn {
                    steps: 500,
                    allocs: 300,
                    enomem: 2,
                    live_buffers: 20,
                    live_bytes: 33 << 20,
                    largest: 8 << 20,
                }),
                elapsed: Duration::from_secs(2),
            },
            HeapBench {
                target: Target {
                    name: "system".into(),
                    kind: HeapKind::System,
                    capacity: None,
                },
                latency: vec![lat(20), lat(30), lat(300), Cell::Failed("boom".into())],
                frames: [Cell::Skipped("size unknown"), Cell::Skipped("size unknown")],
                churn: Cell::Skipped("size unknown"),
                elapsed: Duration::from_secs(1),
            },
        ];
        let text = report(&results, &cfg, 4096);
        let expected = "\
# alloc+free latency: median / p99 of 200 iterations (CLOCK_MONOTONIC)
HEAP    KIND      SIZE    4 KiB           64 KiB          1 MiB            8 MiB
camera  coherent  64 MiB  50 us / 150 us  60 us / 180 us  400 us / 1.2 ms  3.0 ms / 9.0 ms
system  system    -       20 us / 60 us   30 us / 90 us   300 us / 900 us  error

# frames that fit, allocated one after the other until ENOMEM: 1080p NV12 = 3110400 bytes, 4K NV12 = 12441600 bytes; USED = frames x frame size / heap size
HEAP    KIND      SIZE    1080P  USED   4K  USED
camera  coherent  64 MiB  16     74.2%  4   74.2%
system  system    -       -      -      -   -

# churn: 500 steps, sizes 4 KiB-8 MiB log-uniform (at most 1/4 of the heap), about half of the heap kept live; LARGEST = largest single allocation still possible then
HEAP    KIND      SIZE    ALLOCS  ENOMEM  LIVE          FREE    LARGEST  OF FREE
camera  coherent  64 MiB  300     2       33 MiB in 20  31 MiB  8 MiB    25.8%
system  system    -       -       -       -             -       -        -

# error: system: latency 8 MiB: boom
# bench-figure: run iterations=200 churn-steps=500 churn-min=4096 churn-max=8388608 page=4096
# bench-figure: heap name=camera kind=coherent capacity=67108864
# bench-figure: latency heap=camera size=4096 median-ns=50000 p99-ns=150000
# bench-figure: latency heap=camera size=65536 median-ns=60000 p99-ns=180000
# bench-figure: latency heap=camera size=1048576 median-ns=400000 p99-ns=1200000
# bench-figure: latency heap=camera size=8388608 median-ns=3000000 p99-ns=9000000
# bench-figure: frames heap=camera frame=3110400 count=16
# bench-figure: frames heap=camera frame=12441600 count=4
# bench-figure: churn heap=camera live-bytes=34603008 live-buffers=20 largest=8388608
# bench-figure: heap name=system kind=system capacity=-
# bench-figure: latency heap=system size=4096 median-ns=20000 p99-ns=60000
# bench-figure: latency heap=system size=65536 median-ns=30000 p99-ns=90000
# bench-figure: latency heap=system size=1048576 median-ns=300000 p99-ns=900000
# bench: done
";
        assert_eq!(text, expected, "\n{text}");
        // Every figure line reads back as the figure it was printed from.
        let read: Vec<Figure> = text
            .lines()
            .filter_map(|l| Figure::parse(l).map(Result::unwrap))
            .collect();
        assert_eq!(read, figures(&results, &cfg, 4096));
    }
}
