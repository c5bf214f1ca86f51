//! The coherent heap driver's own suites, beyond the per-heap allocation
//! cases of `coherent_heap`:
//!
//! - `coherent_module`: loading the module and its refusal to unload;
//! - `coherent_debugfs`: the statistics in `/sys/kernel/debug/coherent_heap`;
//! - `coherent_alloc`: filling each pool until `ENOMEM`, freed memory
//!   never leaking into new buffers, and the mmap rules;
//! - `coherent_stress`: `parallel_stress`, see [`super::stress`];
//! - `coherent_log`: the driver's kernel log lines (last, so that it also
//!   catches warnings the other suites provoked).
//!
//! The checks that only compare numbers and lines are plain functions
//! (`check_*`, `judge_*`), unit-tested on the host.

use std::ffi::CStr;
use std::path::Path;
use std::time::Instant;

use heap_rules::rules::LOG_PREFIX;
use heap_rules::{Classification, LogLine};

use super::stress::{self, StressConfig};
use super::{checked, declares_coherent, System};
use crate::debugfs::{HeapStats, LiveBuffer};
use crate::error::{errno_name, Error, Result};
use crate::heap::DEFAULT_FD_FLAGS;
use crate::heap::{first_nonzero, write_and_verify, Access, DmaBuf, Fill, Heap, Phase};
use crate::ktap::{Case, Log, Outcome};
use crate::module::{self, LoadOutcome, ProcModule};
use crate::size::{format_bytes, format_size, size_tag};
use crate::stats::percent;
use crate::sys;
use crate::system::Build;

/// An accepted coherent heap and what the device tree says about it.
#[derive(Debug, Clone)]
struct Target {
    heap: String,
    node: String,
    base: Option<u64>,
    size: Option<u64>,
}

/// The coherent heaps the device tree exports, with their regions (base
/// and size) where the tree or the running kernel tells them.
pub(super) fn exported_heaps(env: &System) -> Vec<(String, Option<(u64, u64)>)> {
    targets(env)
        .into_iter()
        .map(|t| (t.heap, t.base.zip(t.size)))
        .collect()
}

fn targets(env: &System) -> Vec<Target> {
    env.inventory
        .coherent
        .exported()
        .map(|a| {
            let region = env.inventory.region_at(&a.path);
            Target {
                heap: a.name.clone(),
                node: a.name.clone(),
                base: region.and_then(|r| r.base()),
                size: a.reservation.map(|r| r.size),
            }
        })
        .collect()
}

fn read_stats(env: &System, heap: &str) -> Result<HeapStats> {
    HeapStats::read_in(&env.coherent_debugfs, heap)
}

fn is_errno(e: &Error, errno: i32) -> bool {
    e.raw_os_error() == Some(errno)
}

fn outcome(errs: Vec<String>) -> Outcome {
    if errs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(errs.join("\n"))
    }
}

/// Checks that `buf` reads as all zero (under `DMA_BUF_IOCTL_SYNC`).
fn zero_check(buf: &DmaBuf, what: &str) -> Result<Option<String>> {
    let map = buf.mmap()?;
    buf.sync(Phase::Start, Access::Read)?;
    let nonzero = first_nonzero(map.as_slice());
    let value = nonzero.map(|o| map.as_slice()[o]);
    buf.sync(Phase::End, Access::Read)?;
    Ok(nonzero.map(|off| {
        format!(
            "{what}: byte {off} of {} is {:#04x}, expected 0 (stale data from a freed buffer)",
            map.len(),
            value.unwrap_or(0)
        )
    }))
}

// ------------------------------------------------------- pure checks

/// Stats `after` against `before` once buffers of lengths `lens` were
/// allocated (and are still live) and `failures` allocations failed.
pub(crate) fn check_after_alloc(
    before: &HeapStats,
    after: &HeapStats,
    lens: &[u64],
    failures: u64,
) -> Vec<String> {
    let mut errs = after.check_invariants();
    let n = lens.len() as u64;
    let sum: u64 = lens.iter().sum();
    let mut expect = |what: &str, got: u64, want: u64| {
        if got != want {
            errs.push(format!("{what} is {got}, expected {want}"));
        }
    };
    expect("in_use", after.in_use, before.in_use + sum);
    expect("buffers", after.buffers(), before.buffers() + n);
    expect("allocations", after.allocations, before.allocations + n);
    expect("failures", after.failures, before.failures + failures);
    if after.peak < before.peak {
        errs.push(format!(
            "peak went down from {} to {}",
            before.peak, after.peak
        ));
    }
    let mut new: Vec<u64> = after.new_since(before).iter().map(|b| b.len).collect();
    let mut want = lens.to_vec();
    new.sort_unstable();
    want.sort_unstable();
    if new != want {
        errs.push(format!(
            "debugfs lists new buffers of {new:?} bytes, allocated {want:?}"
        ));
    }
    if before.live.iter().any(|b| !after.live.contains(b)) {
        errs.push("a buffer live before is no longer listed".into());
    }
    if (&after.region, after.base, after.size) != (&before.region, before.base, before.size) {
        errs.push("region, base or size changed".into());
    }
    errs
}

/// Stats `after` against `before` once everything allocated in between
/// (`allocs` successful allocations, `failures` failed ones) was freed.
pub(crate) fn check_released(
    before: &HeapStats,
    after: &HeapStats,
    allocs: u64,
    failures: u64,
) -> Vec<String> {
    let mut errs = after.check_invariants();
    if after.live != before.live || after.in_use != before.in_use {
        let leaked = after.new_since(before);
        errs.push(format!(
            "not everything was freed: in_use {} (was {}), {} buffer(s) (was {}){}",
            after.in_use,
            before.in_use,
            after.buffers(),
            before.buffers(),
            if leaked.is_empty() {
                String::new()
            } else {
                format!(
                    "; still listed: {}",
                    leaked
                        .iter()
                        .take(8)
                        .map(|b| format!("{:#x}+{}", b.addr, b.len))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        ));
    }
    if after.allocations != before.allocations + allocs {
        errs.push(format!(
            "allocations is {}, expected {} + {allocs}",
            after.allocations, before.allocations
        ));
    }
    if after.failures != before.failures + failures {
        errs.push(format!(
            "failures is {}, expected {} + {failures}",
            after.failures, before.failures
        ));
    }
    errs
}

/// The stats header against the device tree.
pub(crate) fn check_matches_dt(
    stats: &HeapStats,
    node: &str,
    base: Option<u64>,
    size: Option<u64>,
) -> Vec<String> {
    let mut errs = Vec::new();
    if stats.region != node {
        errs.push(format!("region is '{}', expected '{node}'", stats.region));
    }
    if let Some(base) = base {
        if stats.base != base {
            errs.push(format!(
                "base is {:#x}, the device tree says {base:#x}",
                stats.base
            ));
        }
    }
    if let Some(size) = size {
        if stats.size != size {
            errs.push(format!(
                "size is {}, the device tree says {size}",
                stats.size
            ));
        }
    }
    errs
}

/// How often `exp` occurs among the kernel log `lines`: it must be once.
pub(crate) fn check_expected_line(exp: &LogLine, lines: &[&str]) -> Outcome {
    let count = lines.iter().filter(|l| exp.matches(l)).count();
    match count {
        1 => Outcome::Pass,
        0 => {
            let others: Vec<&str> = lines.iter().filter(|l| exp.is_about(l)).copied().collect();
            let mut msg = format!("missing from the kernel log: {exp}");
            for o in others {
                msg.push_str(&format!("\nfound instead: {o}"));
            }
            Outcome::Fail(msg)
        }
        n => Outcome::Fail(format!("printed {n} times: {exp}")),
    }
}

/// Every driver line in `lines` is one `exp` accounts for.
pub(crate) fn check_no_unexpected(exp: &Classification, lines: &[&str]) -> Outcome {
    let extra: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with(LOG_PREFIX) && !exp.accounts_for(l))
        .copied()
        .collect();
    if extra.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(
            extra
                .iter()
                .map(|l| format!("unexpected: {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// The message `memremap()` prints before its WARNING when asked to map
/// System RAM write-combine: what a mapped pool attached to a device does.
const MEMREMAP_RAM: &str = "memremap attempted on ram";

/// Kernel problems: every splat of `heap-rules`' list (the one `bootlog`
/// checks consoles with), and the `memremap()` message a mapped pool would
/// print.
pub(crate) fn check_no_warnings(lines: &[&str]) -> Outcome {
    let bad: Vec<&str> = lines
        .iter()
        .filter(|l| heap_rules::splat::splat_kind(l).is_some() || l.contains(MEMREMAP_RAM))
        .copied()
        .collect();
    if bad.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(
            bad.iter()
                .take(10)
                .map(|l| format!("kernel: {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// Skip reason of the `coherent_module` cases when the driver is built in.
pub const BUILT_IN: &str = "coherent_heap is built in";

/// `module_load`: what init's loading of the module came to.
pub(crate) fn judge_module_load(
    load: Option<&LoadOutcome>,
    file: Option<&Path>,
    entry: Option<&ProcModule>,
    driver_present: bool,
    log: &mut Log,
) -> Outcome {
    let live = |log: &mut Log| match entry {
        Some(m) if m.state == "Live" => {
            log.note(format!(
                "/proc/modules: {} {} bytes, refcount {}",
                m.name,
                m.size,
                m.refcount.map_or("-".into(), |r| r.to_string())
            ));
            Outcome::Pass
        }
        Some(m) => Outcome::Fail(format!("module state is {}, expected Live", m.state)),
        None => Outcome::Fail(format!(
            "{} is not in {}",
            module::NAME,
            module::PROC_MODULES
        )),
    };
    let not_a_module = || {
        if driver_present {
            Outcome::Skip(BUILT_IN.into())
        } else {
            Outcome::Fail(format!(
                "no {} module for this kernel under {} and the driver is not built in",
                module::NAME,
                module::LIB_MODULES
            ))
        }
    };
    match load {
        Some(LoadOutcome::Loaded { path, params }) => {
            log.note(format!(
                "loaded {} with {}",
                path.display(),
                if params.is_empty() {
                    "no parameters".to_string()
                } else {
                    format!("parameters '{params}'")
                }
            ));
            live(log)
        }
        Some(LoadOutcome::AlreadyLoaded { path }) => {
            log.note(format!("{} was loaded already", path.display()));
            live(log)
        }
        Some(LoadOutcome::Failed {
            path,
            params,
            error,
        }) => Outcome::Fail(format!(
            "loading {} with parameters '{params}': {error}",
            path.display()
        )),
        Some(LoadOutcome::NoFile) => not_a_module(),
        Some(LoadOutcome::Deferred { path }) => Outcome::Fail(format!(
            "the boot left loading {} to a test (dmaheap.load=defer)",
            path.display()
        )),
        // Not started as init: nothing was loaded by this run.
        None => match (file, entry) {
            (_, Some(_)) => live(log),
            (Some(path), None) => Outcome::Fail(format!(
                "{} exists but the module is not loaded",
                path.display()
            )),
            (None, None) => not_a_module(),
        },
    }
}

/// `module_unload_refused`: `delete_module(O_NONBLOCK)` answered `result`
/// while `heaps` heaps were registered; `after` is the module's entry
/// after the attempt.
///
/// A registered heap holds a reference to the module (`__module_get()` in
/// `dma_heap::register`), so the kernel's `try_stop_module()` refuses with
/// `EWOULDBLOCK` (= `EAGAIN`). `EBUSY` is what `delete_module()` answers
/// for other reasons (module not live, or without an exit function), which
/// would not show that the heaps pin the module.
pub(crate) fn judge_unload(
    result: std::io::Result<()>,
    heaps: usize,
    before: &ProcModule,
    after: Option<&ProcModule>,
    log: &mut Log,
) -> Outcome {
    let mut errs = Vec::new();
    match before.refcount {
        Some(r) if r >= heaps as u64 => {}
        r => errs.push(format!(
            "refcount {} before unloading, but {heaps} heap(s) are registered (each holds a reference)",
            r.map_or("-".into(), |r| r.to_string())
        )),
    }
    match result {
        Ok(()) => errs.push(format!(
            "delete_module(\"{}\", O_NONBLOCK) succeeded although {heaps} heap(s) are registered",
            module::NAME
        )),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => log.note(format!(
            "delete_module refused: {} (module in use, refcount {})",
            crate::error::errno_text(&e),
            before.refcount.map_or("-".into(), |r| r.to_string())
        )),
        Err(e) => errs.push(format!(
            "delete_module: {}, expected EAGAIN/EWOULDBLOCK (refused because the heaps hold references)",
            crate::error::errno_text(&e)
        )),
    }
    match after {
        Some(m) if m.state == "Live" => {}
        Some(m) => errs.push(format!("module state is {} after the attempt", m.state)),
        None => errs.push("the module is gone after the attempt".into()),
    }
    outcome(errs)
}

// ---------------------------------------------------------- coherent_module

/// The module's own checks decide themselves whether the driver is a
/// module. Listed when the device tree gives the driver work, or the kernel
/// or the image has the driver; declared to skip when the kernel has it
/// built in.
pub(super) fn coherent_module(env: &System) -> Vec<Case<System>> {
    let has_driver = env.kernel.coherent != Build::Absent || env.module.file.is_some();
    if !declares_coherent(env) && !has_driver {
        return Vec::new();
    }
    let built_in = env.kernel.coherent == Build::BuiltIn;
    vec![
        Case::new("module_load", |env: &System, log: &mut Log| {
            let entry = module::proc_entry(module::NAME);
            judge_module_load(
                env.module.load.as_ref(),
                env.module.file.as_deref(),
                entry.as_ref(),
                env.coherent_present(),
                log,
            )
        })
        .may_skip_if(built_in, BUILT_IN),
        Case::new("module_unload_refused", |env: &System, log: &mut Log| {
            let Some(before) = module::proc_entry(module::NAME) else {
                return if env.module.file.is_some() {
                    Outcome::Skip("coherent_heap is not loaded".into())
                } else if env.coherent_present() {
                    Outcome::Skip(BUILT_IN.into())
                } else {
                    Outcome::Fail("the driver is neither loaded nor built in".into())
                };
            };
            let heaps = env
                .inventory
                .coherent
                .heap_names()
                .iter()
                .filter(|h| env.has_heap(h))
                .count();
            if heaps == 0 {
                return Outcome::Skip(
                    "no coherent heap is registered, so nothing pins the module".into(),
                );
            }
            let name: &CStr = c"coherent_heap";
            let result = sys::delete_module(name, libc::O_NONBLOCK);
            let after = module::proc_entry(module::NAME);
            judge_unload(result, heaps, &before, after.as_ref(), log)
        })
        .may_skip_if(built_in, BUILT_IN),
    ]
}

// ------------------------------------------------------------- coherent_log

pub(super) fn coherent_log(env: &System) -> Vec<Case<System>> {
    let expected = &env.inventory.coherent;
    let mut cases = Vec::new();
    for v in &expected.verdicts {
        let Some(line) = v.line.clone() else { continue };
        cases.push(Case::new(
            format!("line_{}", v.name),
            move |_: &System, log: &mut Log| {
                checked(|| {
                    let klog = crate::kmsg::read()?;
                    if klog.truncated {
                        log.note("the kernel log ring buffer wrapped: early lines are lost");
                    }
                    let lines: Vec<&str> = klog.lines().collect();
                    Ok(check_expected_line(&line, &lines))
                })
            },
        ));
    }
    let exp = expected.clone();
    cases.push(Case::new(
        "no_unexpected_lines",
        move |_: &System, log: &mut Log| {
            checked(|| {
                let klog = crate::kmsg::read()?;
                let lines: Vec<&str> = klog.lines().collect();
                let n = lines.iter().filter(|l| l.starts_with(LOG_PREFIX)).count();
                log.note(format!("{n} line(s) from the driver"));
                Ok(check_no_unexpected(&exp, &lines))
            })
        },
    ));
    cases.push(Case::new("no_warnings", |_: &System, _: &mut Log| {
        checked(|| {
            let klog = crate::kmsg::read()?;
            let lines: Vec<&str> = klog.lines().collect();
            Ok(check_no_warnings(&lines))
        })
    }));
    cases
}

// --------------------------------------------------------- coherent_debugfs

pub(super) fn coherent_debugfs(env: &System) -> Vec<Case<System>> {
    let mut cases = Vec::new();
    let expected: Vec<String> = {
        let mut v: Vec<String> = env
            .inventory
            .coherent
            .heap_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    cases.push(Case::new(
        "directory_lists_heaps",
        move |env: &System, _: &mut Log| {
            checked(|| {
                let found = crate::debugfs::list_in(&env.coherent_debugfs)?;
                Ok(if found == expected {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!(
                        "{} lists [{}], expected [{}]",
                        env.coherent_debugfs.display(),
                        found.join(" "),
                        expected.join(" ")
                    ))
                })
            })
        },
    ));
    for t in targets(env) {
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_stats_match_dt", t.heap),
            move |env: &System, log: &mut Log| {
                checked(|| {
                    let s = read_stats(env, &tt.heap)?;
                    log.note(format!(
                        "region {} base {:#x} size {} in_use {} peak {} allocations {} failures {} buffers {}",
                        s.region, s.base, s.size, s.in_use, s.peak, s.allocations, s.failures, s.buffers()
                    ));
                    let mut errs = check_matches_dt(&s, &tt.node, tt.base, tt.size);
                    errs.extend(s.check_invariants());
                    Ok(outcome(errs))
                })
            },
        ));
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_stats_track_buffers", t.heap),
            move |env: &System, _: &mut Log| checked(|| stats_track_buffers(env, &tt)),
        ));
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_stats_count_failures", t.heap),
            move |env: &System, _: &mut Log| {
                checked(|| {
                    let s0 = read_stats(env, &tt.heap)?;
                    let heap = Heap::open(&tt.heap)?;
                    let len = s0.size + env.page_size;
                    let res = heap.alloc(len, DEFAULT_FD_FLAGS, 0);
                    let mut errs = Vec::new();
                    match res {
                        Err(e) if is_errno(&e, libc::ENOMEM) => {}
                        Err(e) => errs.push(format!("{len} bytes: {e}, expected ENOMEM")),
                        Ok(_) => errs.push(format!(
                            "{len} bytes allocated from a {}-byte pool",
                            s0.size
                        )),
                    }
                    let s1 = read_stats(env, &tt.heap)?;
                    errs.extend(check_released(&s0, &s1, 0, 1));
                    Ok(outcome(errs))
                })
            },
        ));
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_mapping_keeps_buffer", t.heap),
            move |env: &System, _: &mut Log| checked(|| mapping_keeps_buffer(env, &tt)),
        ));
    }
    cases
}

/// Allocates a few buffers, checks debugfs lists them, frees them, checks
/// everything is back.
fn stats_track_buffers(env: &System, t: &Target) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let page = env.page_size;
    // Small and large, powers of two and not; as many as fit comfortably.
    let lens: Vec<u64> = [page, 3 * page, 16 * page, 256 * page]
        .into_iter()
        .filter(|&l| l * 8 <= s0.size)
        .collect();
    let heap = Heap::open(&t.heap)?;
    let mut bufs = Vec::new();
    for &l in &lens {
        bufs.push(heap.alloc(l, DEFAULT_FD_FLAGS, 0)?);
    }
    let s1 = read_stats(env, &t.heap)?;
    let mut errs = check_after_alloc(&s0, &s1, &lens, 0);
    if s1.peak < s1.in_use {
        errs.push(format!("peak {} below in_use {}", s1.peak, s1.in_use));
    }
    drop(bufs);
    let s2 = read_stats(env, &t.heap)?;
    errs.extend(check_released(&s0, &s2, lens.len() as u64, 0));
    if s2.peak < s1.in_use {
        errs.push(format!(
            "peak {} after freeing is below the {} bytes that were in use",
            s2.peak, s1.in_use
        ));
    }
    Ok(outcome(errs))
}

/// A mapping keeps the buffer (and its pool memory) alive after its fd is
/// closed; unmapping frees it.
fn mapping_keeps_buffer(env: &System, t: &Target) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let len = (16 * env.page_size).min(s0.size);
    let buf = Heap::open(&t.heap)?.alloc(len, DEFAULT_FD_FLAGS, 0)?;
    let mut map = buf.mmap()?;
    let fill = Fill::Pattern(0xc0ff_ee00_0000_0000);
    write_and_verify(&buf, &mut map, &fill)?;
    drop(buf);
    let s1 = read_stats(env, &t.heap)?;
    let mut errs = Vec::new();
    if s1.new_since(&s0).iter().map(|b| b.len).collect::<Vec<_>>() != [len] {
        errs.push(format!(
            "with its fd closed but still mapped, the {len}-byte buffer is not listed as live"
        ));
    }
    // No sync possible without the fd: the mapping is write-combine, so
    // reads see memory.
    if let Some((off, want, got)) = fill.check(map.as_slice()) {
        errs.push(format!(
            "after closing the fd, byte {off} of the mapping reads {got:#04x}, wrote {want:#04x}"
        ));
    }
    drop(map);
    let s2 = read_stats(env, &t.heap)?;
    errs.extend(check_released(&s0, &s2, 1, 0));
    Ok(outcome(errs))
}

// ----------------------------------------------------------- coherent_alloc

/// The most buffers the small-buffer fill allocates: kernel/dma/coherent.c
/// searches the pool's bitmap from the start for every allocation, so
/// filling a 64 MiB pool page by page (16384 buffers) takes about 6 s on
/// QEMU TCG, against 0.15 s for 2048 buffers.
pub(crate) const MAX_FILL_BUFFERS: u64 = 4096;

/// The buffer sizes a pool of `size` bytes is filled with: 1 MiB, and the
/// smallest power-of-two number of pages that fills it in at most
/// [`MAX_FILL_BUFFERS`] buffers (one page for pools up to 16 MiB).
pub(crate) fn fill_sizes(size: Option<u64>, page: u64) -> Vec<u64> {
    let small = size.map_or(page, |s| {
        (s.div_ceil(MAX_FILL_BUFFERS).div_ceil(page))
            .next_power_of_two()
            .max(1)
            * page
    });
    let mut v = vec![1 << 20, small];
    v.dedup();
    v
}

pub(super) fn coherent_alloc(env: &System) -> Vec<Case<System>> {
    let mut cases = Vec::new();
    for t in targets(env) {
        // A buffer size beyond the pool is not a case: it could only skip.
        for len in fill_sizes(t.size, env.page_size)
            .into_iter()
            .filter(|&l| t.size.is_none_or(|s| l <= s))
        {
            let tt = t.clone();
            cases.push(Case::new(
                format!("{}_fill_{}_enomem", t.heap, size_tag(len)),
                move |env: &System, log: &mut Log| {
                    checked(|| fill_until_enomem(env, &tt, len, log))
                },
            ));
        }
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_freed_memory_zeroed", t.heap),
            move |env: &System, log: &mut Log| checked(|| freed_memory_zeroed(env, &tt, log)),
        ));
        let tt = t.clone();
        cases.push(Case::new(
            format!("{}_refill_zeroed", t.heap),
            move |env: &System, log: &mut Log| checked(|| refill_zeroed(env, &tt, log)),
        ));
        let h = t.heap.clone();
        cases.push(Case::new(
            format!("{}_mmap_private_einval", t.heap),
            move |env: &System, _: &mut Log| {
                checked(|| {
                    let buf = Heap::open(&h)?.alloc(2 * env.page_size, DEFAULT_FD_FLAGS, 0)?;
                    let len = 2 * env.page_size as usize;
                    Ok(
                        match buf.mmap_raw(
                            len,
                            0,
                            libc::PROT_READ | libc::PROT_WRITE,
                            libc::MAP_PRIVATE,
                        ) {
                            Ok(_) => Outcome::Fail("a MAP_PRIVATE mapping was accepted".into()),
                            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Outcome::Pass,
                            Err(e) => Outcome::Fail(format!(
                                "MAP_PRIVATE: {}, expected EINVAL",
                                crate::error::errno_text(&e)
                            )),
                        },
                    )
                })
            },
        ));
        let h = t.heap.clone();
        cases.push(Case::new(
            format!("{}_mmap_beyond_size_fails", t.heap),
            move |env: &System, log: &mut Log| checked(|| mmap_beyond_size(env, &h, log)),
        ));
        let h = t.heap.clone();
        cases.push(Case::new(
            format!("{}_mmap_at_offset", t.heap),
            move |env: &System, _: &mut Log| checked(|| mmap_at_offset(env, &h)),
        ));
    }
    cases
}

/// Allocates `len`-byte buffers until `ENOMEM`, checks them in debugfs,
/// frees them, then allocates the whole region as one buffer.
fn fill_until_enomem(env: &System, t: &Target, len: u64, log: &mut Log) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let size = s0.size;
    if len > size {
        return Ok(Outcome::Skip(format!(
            "heap '{}' holds only {}",
            t.heap,
            format_size(size)
        )));
    }
    let mut errs = Vec::new();
    if !s0.live.is_empty() {
        errs.push(format!(
            "{} buffer(s) ({} bytes) live before the test: leaked by an earlier case?",
            s0.buffers(),
            s0.in_use
        ));
    }
    let max = size / len;
    let limit =
        sys::raise_nofile(max + 256).map_err(|e| Error::io("setrlimit", "RLIMIT_NOFILE", e))?;
    if limit < max + 64 {
        return Ok(Outcome::Fail(format!(
            "RLIMIT_NOFILE is {limit}: too few descriptors for {max} buffers"
        )));
    }
    let heap = Heap::open(&t.heap)?;
    let start = Instant::now();
    let mut bufs = Vec::new();
    let mut enomem = false;
    // One more than fits must fail.
    while bufs.len() as u64 <= max {
        match heap.alloc(len, DEFAULT_FD_FLAGS, 0) {
            Ok(b) => bufs.push(b),
            Err(e) if is_errno(&e, libc::ENOMEM) => {
                enomem = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let n = bufs.len() as u64;
    log.note(format!(
        "{n} x {} = {} of {} ({}) until ENOMEM, {:.2} s",
        format_size(len),
        format_size(n * len),
        format_size(size),
        percent(n * len, size),
        start.elapsed().as_secs_f64()
    ));
    if !enomem {
        errs.push(format!(
            "{n} buffers of {len} bytes allocated from a {size}-byte pool: more than it holds"
        ));
    }
    if n == 0 {
        errs.push(format!(
            "not even one {len}-byte buffer allocated from a {size}-byte pool"
        ));
    }
    let s1 = read_stats(env, &t.heap)?;
    errs.extend(check_after_alloc(
        &s0,
        &s1,
        &vec![len; n as usize],
        u64::from(enomem),
    ));
    drop(bufs);
    let s2 = read_stats(env, &t.heap)?;
    errs.extend(check_released(&s0, &s2, n, u64::from(enomem)));

    // Nothing left behind: the whole region is one free block again.
    match heap.alloc(size, DEFAULT_FD_FLAGS, 0) {
        Ok(whole) => {
            let s3 = read_stats(env, &t.heap)?;
            let new = s3.new_since(&s2);
            let want = [LiveBuffer {
                addr: s3.base,
                len: size,
            }];
            if new != want {
                errs.push(format!(
                    "the whole-region buffer is listed as {new:?}, expected {want:?}"
                ));
            }
            drop(whole);
            let s4 = read_stats(env, &t.heap)?;
            errs.extend(check_released(&s0, &s4, n + 1, u64::from(enomem)));
        }
        Err(e) => errs.push(format!(
            "after freeing everything, the whole region does not allocate as one buffer: {e}"
        )),
    }
    Ok(outcome(errs))
}

/// Allocate, write non-zero, free, allocate the same size: all zero.
fn freed_memory_zeroed(env: &System, t: &Target, log: &mut Log) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let len = (1u64 << 20).min(s0.size);
    let heap = Heap::open(&t.heap)?;
    let mut errs = Vec::new();
    let mut addrs = Vec::new();
    for round in 0..2 {
        let buf = heap.alloc(len, DEFAULT_FD_FLAGS, 0)?;
        let s = read_stats(env, &t.heap)?;
        addrs.extend(s.new_since(&s0).iter().map(|b| b.addr));
        if let Some(e) = zero_check(&buf, &format!("allocation {}", round + 1))? {
            errs.push(e);
        }
        let mut map = buf.mmap()?;
        write_and_verify(&buf, &mut map, &Fill::Byte(0xa5))?;
    }
    if let [a, b] = addrs[..] {
        log.note(if a == b {
            format!("the second buffer reused address {a:#x}")
        } else {
            format!("the buffers were at {a:#x} and {b:#x}")
        });
    }
    let s1 = read_stats(env, &t.heap)?;
    errs.extend(check_released(&s0, &s1, 2, 0));
    Ok(outcome(errs))
}

/// Write the whole region non-zero through one buffer, free it, then fill
/// the region with 1 MiB buffers: every byte of every one must be zero.
fn refill_zeroed(env: &System, t: &Target, log: &mut Log) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let heap = Heap::open(&t.heap)?;
    let mut errs = Vec::new();
    {
        let whole = heap.alloc(s0.size, DEFAULT_FD_FLAGS, 0)?;
        let mut map = whole.mmap()?;
        write_and_verify(&whole, &mut map, &Fill::Byte(0x5a))?;
    }
    let len = (1u64 << 20).min(s0.size);
    let max = s0.size / len;
    let mut bufs = Vec::new();
    while bufs.len() as u64 <= max {
        match heap.alloc(len, DEFAULT_FD_FLAGS, 0) {
            Ok(b) => {
                if let Some(e) = zero_check(&b, &format!("buffer {}", bufs.len() + 1))? {
                    errs.push(e);
                }
                bufs.push(b);
            }
            Err(e) if is_errno(&e, libc::ENOMEM) => break,
            Err(e) => return Err(e),
        }
    }
    log.note(format!(
        "{} x {} checked after writing 0x5a over {}",
        bufs.len(),
        format_size(len),
        format_size(s0.size)
    ));
    let n = bufs.len() as u64;
    drop(bufs);
    let s1 = read_stats(env, &t.heap)?;
    let failed = u64::from(n <= max);
    errs.extend(check_released(&s0, &s1, n + 1, failed));
    Ok(outcome(errs))
}

fn mmap_beyond_size(env: &System, heap: &str, log: &mut Log) -> Result<Outcome> {
    let page = env.page_size;
    let buf = Heap::open(heap)?.alloc(2 * page, DEFAULT_FD_FLAGS, 0)?;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let mut errs = Vec::new();
    let mut answers = Vec::new();
    for (len, offset, what) in [
        (3 * page, 0, "3 pages at offset 0"),
        (page, 2 * page, "1 page at offset 2 pages"),
        (2 * page, page, "2 pages at offset 1 page"),
    ] {
        match buf.mmap_raw(len as usize, offset, rw, libc::MAP_SHARED) {
            Ok(_) => errs.push(format!("mapping {what} of a 2-page buffer succeeded")),
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                // dma_buf_mmap_internal() refuses with EINVAL before the
                // exporter sees it; dma_mmap_attrs() would say ENXIO.
                if errno != libc::EINVAL && errno != libc::ENXIO {
                    errs.push(format!(
                        "mapping {what}: {}, expected EINVAL or ENXIO",
                        crate::error::errno_text(&e)
                    ));
                }
                answers.push(format!("{what}: {}", errno_name(errno)));
            }
        }
    }
    log.note(answers.join(", "));
    Ok(outcome(errs))
}

fn mmap_at_offset(env: &System, heap: &str) -> Result<Outcome> {
    let page = env.page_size;
    let buf = Heap::open(heap)?.alloc(4 * page, DEFAULT_FD_FLAGS, 0)?;
    let mut full = buf.mmap()?;
    let fill = Fill::Pattern(0x0ff5_e700_0000_0000);
    write_and_verify(&buf, &mut full, &fill)?;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let mut part = buf
        .mmap_raw(2 * page as usize, page, rw, libc::MAP_SHARED)
        .map_err(|e| Error::DmaBuf {
            op: "mmap of 2 pages at offset 1 page",
            heap: heap.to_owned(),
            source: e,
        })?;
    let mut errs = Vec::new();
    let p = page as usize;
    buf.sync(Phase::Start, Access::Read)?;
    if let Some(i) = (0..2 * p).find(|&i| part.as_slice()[i] != fill.byte_at(p + i)) {
        errs.push(format!(
            "the mapping at offset 1 page reads {:#04x} at byte {i}, the buffer has {:#04x} there",
            part.as_slice()[i],
            fill.byte_at(p + i)
        ));
    }
    buf.sync(Phase::End, Access::Read)?;
    buf.sync(Phase::Start, Access::Write)?;
    part.as_mut_slice().fill(0x3c);
    buf.sync(Phase::End, Access::Write)?;
    buf.sync(Phase::Start, Access::Read)?;
    let whole = full.as_slice();
    let bad = (0..4 * p).find(|&i| {
        let want = if (p..3 * p).contains(&i) {
            0x3c
        } else {
            fill.byte_at(i)
        };
        whole[i] != want
    });
    buf.sync(Phase::End, Access::Read)?;
    if let Some(i) = bad {
        errs.push(format!(
            "after writing 0x3c through the offset mapping, byte {i} of the full mapping is {:#04x}",
            whole[i]
        ));
    }
    Ok(outcome(errs))
}

// ---------------------------------------------------------- coherent_stress

pub(super) fn coherent_stress(env: &System) -> Vec<Case<System>> {
    // The largest pool: most room for 4 children's buffers.
    let target = targets(env).into_iter().max_by_key(|t| t.size.unwrap_or(0));
    target
        .map(|t| {
            Case::new("parallel_stress", move |env: &System, log: &mut Log| {
                checked(|| parallel_stress(env, &t, log))
            })
        })
        .into_iter()
        .collect()
}

fn parallel_stress(env: &System, t: &Target, log: &mut Log) -> Result<Outcome> {
    let s0 = read_stats(env, &t.heap)?;
    let mut cfg = StressConfig::default();
    cfg.max_size = cfg.max_size.min(s0.size / 4).max(env.page_size);
    let start = Instant::now();
    let results = stress::run_children(&env.exe, &t.heap, &cfg, env.page_size)?;
    let tot = stress::totals(&results);
    log.note(format!(
        "heap {}: {} processes x {} steps, sizes {}-{}: {} allocations ({}), {} x ENOMEM, {:.1} s{}",
        t.heap,
        cfg.children,
        cfg.steps,
        format_size(cfg.min_size),
        format_size(cfg.max_size),
        tot.allocs,
        format_bytes(tot.bytes),
        tot.enomem,
        start.elapsed().as_secs_f64(),
        if tot.out_of_time {
            " (time budget ran out)"
        } else {
            ""
        }
    ));
    let mut errs = stress::child_failures(&results);
    let s1 = read_stats(env, &t.heap)?;
    if errs.is_empty() {
        // Only the children allocated from this heap meanwhile: the counters
        // must have moved by exactly what they counted.
        errs.extend(check_released(&s0, &s1, tot.allocs, tot.enomem));
    } else {
        errs.extend(s1.check_invariants());
    }
    Ok(outcome(errs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, tests::CELLS};

    fn stats(text: &str) -> HeapStats {
        HeapStats::parse(text).unwrap()
    }

    const EMPTY: &str = "region: camera@70000000\nbase: 0x70000000\nsize: 67108864\nin_use: 0\npeak: 0\nallocations: 3\nfailures: 1\nbuffers: 0\n";

    #[test]
    fn alloc_and_release_accounting() {
        let before = stats(EMPTY);
        let after = stats("region: camera@70000000\nbase: 0x70000000\nsize: 67108864\nin_use: 16384\npeak: 16384\nallocations: 5\nfailures: 1\nbuffers: 2\n0x70000000 4096\n0x70004000 12288\n");
        assert!(check_after_alloc(&before, &after, &[12288, 4096], 0).is_empty());
        let errs = check_after_alloc(&before, &after, &[4096, 4096, 4096], 1);
        assert!(
            errs.contains(&"in_use is 16384, expected 12288".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"buffers is 2, expected 3".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"failures is 1, expected 2".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("debugfs lists new buffers of [4096, 12288] bytes")),
            "{errs:?}"
        );

        // Released: back to empty, 2 allocations more.
        let released = stats(
            &EMPTY
                .replace("allocations: 3", "allocations: 5")
                .replace("peak: 0", "peak: 16384"),
        );
        assert!(check_released(&before, &released, 2, 0).is_empty());
        let errs = check_released(&before, &after, 2, 0);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("not everything was freed: in_use 16384 (was 0), 2 buffer(s) (was 0); still listed: 0x70000000+4096 0x70004000+12288"), "{errs:?}");
        let errs = check_released(&before, &released, 1, 1);
        assert_eq!(
            errs,
            [
                "allocations is 5, expected 3 + 1",
                "failures is 1, expected 1 + 1"
            ]
        );
    }

    #[test]
    fn fill_sizes_bound_the_buffer_count() {
        assert_eq!(fill_sizes(Some(8 << 20), 4096), [1 << 20, 4096]);
        assert_eq!(fill_sizes(Some(16 << 20), 4096), [1 << 20, 4096]);
        assert_eq!(fill_sizes(Some(64 << 20), 4096), [1 << 20, 16 << 10]);
        assert_eq!(fill_sizes(Some(24 << 20), 4096), [1 << 20, 8 << 10]);
        assert_eq!(fill_sizes(Some(64 << 10), 4096), [1 << 20, 4096]);
        assert_eq!(fill_sizes(None, 16384), [1 << 20, 16384]);
        assert_eq!(fill_sizes(Some(4 << 30), 4096), [1 << 20]);
        for size in [8u64 << 20, 24 << 20, 64 << 20, 1 << 30] {
            let small = fill_sizes(Some(size), 4096)[1];
            assert!(size / small <= MAX_FILL_BUFFERS, "{size}");
        }
    }

    #[test]
    fn header_against_dt() {
        let s = stats(EMPTY);
        assert!(
            check_matches_dt(&s, "camera@70000000", Some(0x7000_0000), Some(64 << 20)).is_empty()
        );
        assert!(check_matches_dt(&s, "camera@70000000", None, None).is_empty());
        assert_eq!(
            check_matches_dt(&s, "camera@71000000", Some(0x7100_0000), Some(32 << 20)),
            [
                "region is 'camera@70000000', expected 'camera@71000000'",
                "base is 0x70000000, the device tree says 0x71000000",
                "size is 67108864, the device tree says 33554432"
            ]
        );
    }

    /// camera@70000000 exported, mapped@75000000 refused.
    fn expected() -> Classification {
        let heap = |name: &str, base: u32, no_map: bool| {
            let reg = be32(&[0, base, 0, 0x400_0000]);
            let mut list: Vec<(&str, &[u8])> = vec![
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &reg),
                ("linux,dma-heap", b""),
            ];
            if no_map {
                list.push(("no-map", b""));
            }
            parse_region(Path::new("/t"), name, &props(&list), CELLS).unwrap()
        };
        heap_rules::classify(
            &[
                heap("camera@70000000", 0x7000_0000, true),
                heap("mapped@75000000", 0x7500_0000, false),
            ],
            heap_rules::Region::reservation,
        )
    }

    #[test]
    fn kernel_log_lines() {
        let exp = expected();
        let lines: Vec<&LogLine> = exp.lines().collect();
        let good = [
            "Booting Linux",
            "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
            "faux_driver coherent-heap-camera@70000000: assigned reserved memory node camera@70000000",
            "coherent_heap: /reserved-memory/camera@70000000: heap \"camera@70000000\" at 0x70000000, 67108864 bytes",
        ];
        assert_eq!(check_expected_line(lines[0], &good), Outcome::Pass);
        assert_eq!(check_expected_line(lines[1], &good), Outcome::Pass);
        assert_eq!(check_no_unexpected(&exp, &good), Outcome::Pass);
        assert_eq!(check_no_warnings(&good), Outcome::Pass);

        let bad = [
            "coherent_heap: /reserved-memory/camera@70000000: not exported: the kernel did not reserve this region",
            "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
            "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
            // The old naming: the heap named without its unit address.
            "coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes",
            "WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: swapper/0/1",
            "memremap attempted on ram 0x0000000075000000 size: 0x800000",
            "CONFIG_DEBUG: not a warning; DEBUG: neither",
            "Unable to handle kernel paging request at virtual address dead000000000108",
        ];
        assert_eq!(
            check_expected_line(lines[0], &bad),
            Outcome::Fail("missing from the kernel log: coherent_heap: /reserved-memory/camera@70000000: heap \"camera@70000000\" at 0x70000000, 67108864 bytes\nfound instead: coherent_heap: /reserved-memory/camera@70000000: not exported: the kernel did not reserve this region\nfound instead: coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes".into())
        );
        assert!(
            matches!(check_expected_line(lines[1], &bad), Outcome::Fail(m) if m.starts_with("printed 2 times: "))
        );
        assert_eq!(
            check_no_unexpected(&exp, &bad),
            Outcome::Fail("unexpected: coherent_heap: /reserved-memory/camera@70000000: not exported: the kernel did not reserve this region\nunexpected: coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes".into())
        );
        match check_no_warnings(&bad) {
            Outcome::Fail(m) => {
                assert_eq!(m.lines().count(), 3, "{m}");
                assert!(m.contains("kernel: WARNING: kernel/iomem.c:105"));
                assert!(m.contains("kernel: memremap attempted on ram"));
                assert!(m.contains("kernel: Unable to handle kernel paging request"));
            }
            o => panic!("{o:?}"),
        }
    }

    fn entry(state: &str, refcount: Option<u64>) -> ProcModule {
        ProcModule {
            name: "coherent_heap".into(),
            size: 40960,
            refcount,
            users: Vec::new(),
            state: state.into(),
        }
    }

    #[test]
    fn module_load_judgement() {
        let path = Path::new("/lib/modules/7.2.13/kernel/drivers/dma-buf/heaps/coherent_heap.ko");
        let live = entry("Live", Some(2));
        let mut log = Log::default();
        let loaded = LoadOutcome::Loaded {
            path: path.into(),
            params: "dyndbg=+p".into(),
        };
        assert_eq!(
            judge_module_load(Some(&loaded), Some(path), Some(&live), true, &mut log),
            Outcome::Pass
        );
        assert!(matches!(
            judge_module_load(Some(&loaded), Some(path), None, true, &mut log),
            Outcome::Fail(m) if m == "coherent_heap is not in /proc/modules"
        ));
        let failed = LoadOutcome::Failed {
            path: path.into(),
            params: String::new(),
            error: "finit_module: Exec format error (ENOEXEC)".into(),
        };
        assert!(matches!(
            judge_module_load(Some(&failed), Some(path), None, false, &mut log),
            Outcome::Fail(m) if m.ends_with("with parameters '': finit_module: Exec format error (ENOEXEC)")
        ));
        assert_eq!(
            judge_module_load(Some(&LoadOutcome::NoFile), None, None, true, &mut log),
            Outcome::Skip("coherent_heap is built in".into())
        );
        // No module file and not built in: the image lacks the module.
        assert!(matches!(
            judge_module_load(Some(&LoadOutcome::NoFile), None, None, false, &mut log),
            Outcome::Fail(m) if m == "no coherent_heap module for this kernel under /lib/modules and the driver is not built in"
        ));
        // Not run as init.
        assert_eq!(
            judge_module_load(None, Some(path), Some(&live), true, &mut log),
            Outcome::Pass
        );
        assert!(matches!(
            judge_module_load(None, Some(path), None, false, &mut log),
            Outcome::Fail(m) if m.ends_with("coherent_heap.ko exists but the module is not loaded")
        ));
        assert_eq!(
            judge_module_load(None, None, None, true, &mut log),
            Outcome::Skip("coherent_heap is built in".into())
        );
        assert_eq!(
            judge_module_load(None, None, Some(&entry("Unloading", None)), true, &mut log),
            Outcome::Fail("module state is Unloading, expected Live".into())
        );
    }

    #[test]
    fn unload_judgement() {
        let mut log = Log::default();
        let live = entry("Live", Some(2));
        let eagain = || Err(std::io::Error::from_raw_os_error(libc::EAGAIN));
        assert_eq!(
            judge_unload(eagain(), 2, &live, Some(&live), &mut log),
            Outcome::Pass
        );
        let Outcome::Fail(m) = judge_unload(eagain(), 3, &live, Some(&live), &mut log) else {
            panic!()
        };
        assert!(
            m.starts_with("refcount 2 before unloading, but 3 heap(s)"),
            "{m}"
        );
        let Outcome::Fail(m) = judge_unload(Ok(()), 2, &live, None, &mut log) else {
            panic!()
        };
        assert_eq!(
            m,
            "delete_module(\"coherent_heap\", O_NONBLOCK) succeeded although 2 heap(s) are registered\nthe module is gone after the attempt"
        );
        let Outcome::Fail(m) = judge_unload(
            Err(std::io::Error::from_raw_os_error(libc::EBUSY)),
            2,
            &live,
            Some(&live),
            &mut log,
        ) else {
            panic!()
        };
        assert!(m.contains("(EBUSY), expected EAGAIN/EWOULDBLOCK"), "{m}");
    }
}
