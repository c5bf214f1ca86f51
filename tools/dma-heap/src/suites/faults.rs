//! `coherent_load_faults`: the coherent heap module loads with the n-th
//! allocation of the loading task failing, for n = 1, 2, ... until a load
//! succeeds (`CONFIG_FAULT_INJECTION`: failslab and fail_page_alloc,
//! armed per task through `/proc/thread-self/fail-nth`).
//!
//! A failed load must leave no module and no heap behind: a heap whose
//! module was freed under it would run freed code at the next allocation.
//! The load that succeeds must give heaps that work, each one the device
//! tree declares (a region whose allocation failed is left out, with a
//! warning). The console must show no kernel report (bootlog checks).
//!
//! It runs in a boot that leaves the loading to it (`dmaheap.load=defer`,
//! `scripts/boot --load-faults`); any other boot declares it skipped.
//! The module is loaded with `init_module()` from a copy in memory, so
//! that no failure lands in the kernel's reading of the file, whose
//! `vmalloc()` would print an allocation-failure report.

use std::ffi::CString;
use std::fs;
use std::path::Path;

use super::{checked, System};
use crate::error::{Error, Result};
use crate::heap::{Heap, DEFAULT_FD_FLAGS, DEV_DMA_HEAP};
use crate::ktap::{Case, Log, Outcome};
use crate::module;
use crate::sys;

/// Skip reason of every boot that loads the module itself.
pub const NOT_DEFERRED: &str =
    "the boot loads the coherent heap module itself (no dmaheap.load=defer)";

/// The task's fault-injection counter.
const FAIL_NTH: &str = "/proc/thread-self/fail-nth";

/// The fault-injection attributes, in debugfs.
const FAULT_ATTRS: [&str; 2] = [
    "/sys/kernel/debug/failslab",
    "/sys/kernel/debug/fail_page_alloc",
];

/// Loads tried before giving up.
const MAX_LOADS: u32 = 50_000;

pub(super) fn coherent_load_faults(env: &System) -> Vec<Case<System>> {
    vec![Case::new(
        "load_with_nth_allocation_failing",
        |env: &System, log: &mut Log| checked(|| load_with_faults(env, log)),
    )
    .may_skip_if(!env.load_deferred, NOT_DEFERRED)]
}

fn write(path: &str, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|e| Error::io("write", path, e))
}

/// Makes every allocation of the task eligible (GFP_KERNEL ones and order
/// 0 pages included) and quiet (no stack dump per injected failure).
fn arm_fault_injection() -> Result<()> {
    for attr in FAULT_ATTRS {
        write(&format!("{attr}/ignore-gfp-wait"), "N")?;
        write(&format!("{attr}/verbose"), "0")?;
    }
    write("/sys/kernel/debug/fail_page_alloc/min-order", "0")
}

fn load_with_faults(env: &System, log: &mut Log) -> Result<Outcome> {
    if !env.load_deferred {
        return Ok(Outcome::Skip(NOT_DEFERRED.into()));
    }
    if module::proc_entry(module::NAME).is_some() {
        return Ok(Outcome::Fail(format!(
            "{} is loaded already: dmaheap.load=defer should have kept init from loading it",
            module::NAME
        )));
    }
    let Some(path) = module::running_kernel_file() else {
        return Ok(Outcome::Fail(
            "no coherent_heap module for the running kernel".into(),
        ));
    };
    if path.extension().is_none_or(|e| e != "ko") {
        return Ok(Outcome::Fail(format!(
            "{}: a compressed module; init_module() needs the plain .ko",
            path.display()
        )));
    }
    let image = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    if !Path::new(FAIL_NTH).exists() {
        return Ok(Outcome::Fail(format!(
            "{FAIL_NTH} is missing: the kernel has no CONFIG_FAULT_INJECTION"
        )));
    }
    arm_fault_injection()?;
    let expected = env.inventory.coherent.heap_names();
    let no_params = CString::default();
    let mut failed = 0u32;
    for n in 1..=MAX_LOADS {
        write(FAIL_NTH, &n.to_string())?;
        let loaded = sys::init_module(&image, &no_params);
        write(FAIL_NTH, "0")?;
        match loaded {
            Err(e) => {
                if module::proc_entry(module::NAME).is_some() {
                    return Ok(Outcome::Fail(format!(
                        "fail-nth {n}: init_module() failed ({e}) but the module is loaded"
                    )));
                }
                let left = present(&expected);
                if !left.is_empty() {
                    return Ok(Outcome::Fail(format!(
                        "fail-nth {n}: init_module() failed ({e}) and left heaps behind: {left:?}"
                    )));
                }
                failed += 1;
            }
            Ok(()) => return heaps_work(env, &expected, n, failed, log),
        }
    }
    Ok(Outcome::Fail(format!(
        "the module did not load in {MAX_LOADS} tries"
    )))
}

/// The heaps of `expected` that are in [`DEV_DMA_HEAP`] now.
fn present<'a>(expected: &[&'a str]) -> Vec<&'a str> {
    expected
        .iter()
        .copied()
        .filter(|h| Path::new(DEV_DMA_HEAP).join(h).exists())
        .collect()
}

/// After the load that succeeded (at fail-nth `n`): every heap there is
/// one the tree declares, and allocates, maps and keeps what is written.
fn heaps_work(
    env: &System,
    expected: &[&str],
    n: u32,
    failed: u32,
    log: &mut Log,
) -> Result<Outcome> {
    let present = present(expected);
    log.note(format!(
        "fail-nth 1..{}: {failed} loads failed and left nothing behind; fail-nth {n}: loaded, \
         with {} of the {} declared heaps",
        n - 1,
        present.len(),
        expected.len()
    ));
    for heap in &present {
        let buf = Heap::open(heap)?.alloc(env.page_size, DEFAULT_FD_FLAGS, 0)?;
        let mut map = buf.mmap()?;
        map.as_mut_slice().fill(0xa5);
        if let Some(at) = map.as_slice().iter().position(|&b| b != 0xa5) {
            return Ok(Outcome::Fail(format!(
                "heap '{heap}' after the load: byte {at} did not keep what was written"
            )));
        }
    }
    Ok(Outcome::Pass)
}
