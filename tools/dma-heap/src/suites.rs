//! The in-image test suites run by `dma-heap test`.
//!
//! Adding a suite is one function returning its cases plus one entry in
//! [`SUITES`]. Case bodies run only when the suite runs; listing cases
//! depends on the [`System`] alone (never on the files of the system the
//! listing runs on) and must not allocate buffers, so that `dma-heap test
//! --list --dtb` on the build host names exactly the cases the boot runs.
//!
//! No case is listed that a static fact already makes skip (a size beyond
//! a pool is not a case, nor the system heap's OOM). A case that may
//! skip at run time says so, with the one reason, when the boot's inputs
//! (kernel configuration, command line, device tree) predict it
//! ([`Case::may_skip_if`]): `module_load` with the driver built in,
//! `scan_clean` without kmemleak.

mod coherent_cases;
mod faults;
mod import;
pub mod kmemleak;
pub mod kselftest;
pub mod stress;

use std::io::Write;
use std::path::Path;

use heap_rules::mainline::SYSTEM;
use heap_rules::{Classification, Owner, Verdict};

use crate::debugfs::HeapStats;
use crate::dt;
use crate::error::{errno_name, Error, Result};
use crate::heap::{
    first_nonzero, write_and_verify, Access, AllocationData, DmaBuf, Fill, Heap, Phase,
    DEFAULT_FD_FLAGS,
};
use crate::inventory::HeapKind;
use crate::ktap::{self, Case, Listed, Log, Outcome, Suite, Totals};
use crate::size::{format_size, size_tag};
use crate::sys;
pub use crate::system::System;
use crate::system::COHERENT_MODULE;

/// Skip reason of `cma_heap_present` on a kernel without CMA.
pub const NO_CMA: &str = "no CMA area (CmaTotal is 0)";

/// Skip reason of `reserved_memory_parses` for a tree without the node.
pub const NO_RESERVED_MEMORY: &str = "the device tree has no /reserved-memory";

/// The suites, in run order: `kselftest_dmabuf_heaps` after the suites of
/// our own, `coherent_log` after everything that allocates (it also
/// catches what they provoked), `kmemleak` last of all.
pub const SUITES: &[Suite<System>] = &[
    Suite {
        name: "coherent_load_faults",
        cases: faults::coherent_load_faults,
    },
    Suite {
        name: "heap_list",
        cases: heap_list,
    },
    Suite {
        name: "system_heap",
        cases: system_heap,
    },
    Suite {
        name: "cma_heap",
        cases: cma_heap,
    },
    Suite {
        name: "reserved_memory_dt",
        cases: reserved_memory_dt,
    },
    Suite {
        name: "coherent_module",
        cases: coherent_cases::coherent_module,
    },
    Suite {
        name: "coherent_heap",
        cases: coherent_heap,
    },
    Suite {
        name: "coherent_debugfs",
        cases: coherent_cases::coherent_debugfs,
    },
    Suite {
        name: "coherent_alloc",
        cases: coherent_cases::coherent_alloc,
    },
    Suite {
        name: "coherent_stress",
        cases: coherent_cases::coherent_stress,
    },
    Suite {
        name: "coherent_import",
        cases: import::coherent_import,
    },
    Suite {
        name: "kselftest_dmabuf_heaps",
        cases: kselftest::kselftest_dmabuf_heaps,
    },
    Suite {
        name: "coherent_log",
        cases: coherent_cases::coherent_log,
    },
    Suite {
        name: "kmemleak",
        cases: kmemleak::kmemleak,
    },
];

/// Buffer sizes every heap is exercised with.
pub const SIZES: [u64; 3] = [4 << 10, 1 << 20, 8 << 20];

/// Suites that run only when `dmaheap.suites=` names them: their boots
/// are set up for them alone (`coherent_load_faults` loads the module).
pub const OPT_IN_SUITES: &[&str] = &["coherent_load_faults"];

/// The suites `dmaheap.suites=` chose ([`System::suites`]), in run order;
/// by default all of them but [`OPT_IN_SUITES`]. An unknown name is an
/// error.
pub fn selected(env: &System) -> Result<Vec<Suite<System>>> {
    if let Some(names) = &env.suites {
        if let Some(bad) = names.iter().find(|n| !SUITES.iter().any(|s| s.name == *n)) {
            let known: Vec<&str> = SUITES.iter().map(|s| s.name).collect();
            return Err(Error::InvalidArgument {
                arg: "dmaheap.suites",
                value: bad.clone(),
                msg: format!("no such suite; known: {}", known.join(", ")),
            });
        }
    }
    Ok(SUITES
        .iter()
        .filter(|s| match &env.suites {
            None => !OPT_IN_SUITES.contains(&s.name),
            Some(names) => names.iter().any(|n| n == s.name),
        })
        .map(|s| Suite {
            name: s.name,
            cases: s.cases,
        })
        .collect())
}

/// Prints the KTAP report of the selected suites to `out`.
pub fn run_all<W: Write>(out: &mut ktap::Writer<W>, env: &System) -> Result<Totals> {
    let suites = selected(env)?;
    ktap::run(out, &env.header(), &suites, env).map_err(|e| Error::io("write", "stdout", e))
}

/// Every case of the selected suites with its declaration (`dma-heap test
/// --list`), without running any.
pub fn list_all(env: &System) -> Result<Vec<Listed>> {
    Ok(ktap::list(&selected(env)?, env))
}

/// Whether the device tree gives the coherent heap driver anything to do:
/// a node it should export, or a `shared-dma-pool` it must refuse.
pub fn declares_coherent(env: &System) -> bool {
    env.inventory.coherent.exported().next().is_some() || !refused_candidates(env).is_empty()
}

/// The nodes a `refused_*` case checks: `shared-dma-pool` nodes the driver
/// does not export (refused with a warning, or passed over), except plain
/// CMA ones (the CMA heap's), in node order.
fn refused_candidates(env: &System) -> Vec<&Verdict> {
    env.inventory
        .coherent
        .verdicts
        .iter()
        .filter(|v| v.heap().is_none())
        .filter(|v| {
            env.inventory.region_at(&v.path).is_some_and(|region| {
                region.is_shared_dma_pool() && (!region.reusable || region.dma_heap)
            })
        })
        .collect()
}

/// Who other than the driver may have the heap name of `v`, a node it does
/// not export: a mainline heap, the CMA heap of a reusable region (this
/// node's own included), or another region's coherent heap.
fn name_owner(plan: &Classification, v: &Verdict) -> Option<Owner> {
    plan.owner_of(&v.name, &v.path).or_else(|| {
        plan.cma_heaps
            .iter()
            .any(|(n, p)| *n == v.name && *p == v.path)
            .then(|| Owner::CmaHeap {
                path: v.path.clone(),
            })
    })
}

/// Turns a fallible case body into an outcome: errors fail the case with
/// their message (which names heap and operation).
fn checked(f: impl FnOnce() -> Result<Outcome>) -> Outcome {
    f().unwrap_or_else(|e| Outcome::Fail(e.to_string()))
}

/// A buffer allocated with `fd_flags = O_RDONLY | O_CLOEXEC`, as viewers and
/// encoders take them: `mmap(PROT_READ, MAP_SHARED)` works and reads the
/// zeroed buffer, `PROT_WRITE` is refused with `EACCES`, as the mainline
/// system and CMA heaps do.
fn read_only_mapping(heap: &str, env: &System, log: &mut Log) -> Result<Outcome> {
    let len = env.page_size;
    let buf = Heap::open(heap)?.alloc(len, (libc::O_RDONLY | libc::O_CLOEXEC) as u32, 0)?;
    let size = len as usize;
    match buf.mmap_raw(size, 0, libc::PROT_READ, libc::MAP_SHARED) {
        Ok(map) => {
            if let Some(at) = first_nonzero(map.as_slice()) {
                return Ok(Outcome::Fail(format!(
                    "the read-only mapping of a new buffer has a non-zero byte at {at}"
                )));
            }
            log.note("mmap(PROT_READ, MAP_SHARED) of a read-only buffer: mapped, zeroed");
        }
        Err(e) => {
            return Ok(Outcome::Fail(format!(
                "mmap(PROT_READ, MAP_SHARED) of a read-only buffer: {}",
                errno_name(e.raw_os_error().unwrap_or(0))
            )))
        }
    }
    Ok(
        match buf.mmap_raw(size, 0, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED) {
            Ok(_) => Outcome::Fail(
                "mmap(PROT_READ | PROT_WRITE, MAP_SHARED) of a read-only buffer succeeded, \
                 expected EACCES"
                    .into(),
            ),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!(
                "mmap(PROT_READ | PROT_WRITE, MAP_SHARED) of a read-only buffer: {}, expected EACCES",
                errno_name(e.raw_os_error().unwrap_or(0))
            )),
        },
    )
}

fn align_up(n: u64, page: u64) -> u64 {
    n.div_ceil(page) * page
}

/// Expects an allocation to fail with exactly `want`.
fn expect_errno(res: Result<DmaBuf>, want: i32, what: &str) -> Outcome {
    match res {
        Ok(buf) => Outcome::Fail(format!(
            "{what}: succeeded ({} byte buffer), expected {}",
            buf.size()
                .map_or_else(|_| "?".to_string(), |s| s.to_string()),
            errno_name(want)
        )),
        Err(e) => match e.raw_os_error() {
            Some(got) if got == want => Outcome::Pass,
            Some(got) => Outcome::Fail(format!(
                "{what}: got {}, expected {}: {e}",
                errno_name(got),
                errno_name(want)
            )),
            None => Outcome::Fail(e.to_string()),
        },
    }
}

// ---------------------------------------------------------------- heap_list

fn heap_list(env: &System) -> Vec<Case<System>> {
    let mut cases = vec![
        Case::new(
            "dev_dma_heap_present",
            |env: &System, _: &mut Log| match &env.heaps {
                Ok(h) if h.is_empty() => {
                    Outcome::Fail(format!("{} is empty", crate::heap::DEV_DMA_HEAP))
                }
                Ok(_) => Outcome::Pass,
                Err(e) => Outcome::Fail(e.clone()),
            },
        ),
        Case::new("system_heap_present", |env: &System, _: &mut Log| {
            if env.has_heap(SYSTEM) {
                Outcome::Pass
            } else {
                let names = env.heap_names();
                Outcome::Fail(if names.is_empty() {
                    "no heaps at all".to_string()
                } else {
                    format!("no 'system' among: {}", names.join(" "))
                })
            }
        }),
    ];
    for h in env.heap_names() {
        let h = h.clone();
        cases.push(Case::new(
            format!("open_{h}"),
            move |_: &System, _: &mut Log| checked(|| Heap::open(&h).map(|_| Outcome::Pass)),
        ));
    }
    cases
}

// ------------------------------------------------ per-heap allocation cases

/// The cases run against every heap: allocations of [`SIZES`] with
/// zero-fill, size, mmap and pattern checks, and the error cases of
/// `drivers/dma-buf/dma-heap.c`. Names are prefixed with `prefix`.
fn heap_cases(
    heap: &str,
    prefix: &str,
    capacity: Option<u64>,
    kind: HeapKind,
    env: &System,
) -> Vec<Case<System>> {
    let mut cases = Vec::new();
    // Sizes beyond the heap are not cases: they could only skip.
    for size in SIZES
        .into_iter()
        .filter(|&s| capacity.is_none_or(|c| s <= c))
    {
        let h = heap.to_owned();
        cases.push(Case::new(
            format!("{prefix}alloc_{}", size_tag(size)),
            move |env: &System, log: &mut Log| exercise(&h, size, env, log),
        ));
    }

    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_unaligned_rounds_up"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                let len = env.page_size + 1;
                let buf = Heap::open(&h)?.alloc(len, DEFAULT_FD_FLAGS, 0)?;
                let size = buf.size()?;
                Ok(if size == 2 * env.page_size {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!(
                        "asked for {len} bytes, got {size}, expected {}",
                        2 * env.page_size
                    ))
                })
            })
        },
    ));

    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}read_only_buffer_maps_read_only"),
        move |env: &System, log: &mut Log| checked(|| read_only_mapping(&h, env, log)),
    ));

    // dma_heap_ioctl_allocate(): PAGE_ALIGN(len) == 0 -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_len_zero_einval"),
        move |_: &System, _: &mut Log| {
            checked(|| {
                Ok(expect_errno(
                    Heap::open(&h)?.alloc(0, DEFAULT_FD_FLAGS, 0),
                    libc::EINVAL,
                    "len 0",
                ))
            })
        },
    ));
    // PAGE_ALIGN(U64_MAX) wraps to 0: EINVAL before the heap is asked.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_len_overflow_einval"),
        move |_: &System, _: &mut Log| {
            checked(|| {
                Ok(expect_errno(
                    Heap::open(&h)?.alloc(u64::MAX, DEFAULT_FD_FLAGS, 0),
                    libc::EINVAL,
                    "len U64_MAX",
                ))
            })
        },
    ));
    // More than RAM: the CMA heap's cma_alloc() fails at once -> ENOMEM.
    // The system heap has no size check: it takes pages until the OOM
    // killer runs, which panics the kernel when the only task is init, so
    // it has no such case.
    let name = format!("{prefix}alloc_larger_than_ram_enomem");
    if kind != HeapKind::System {
        let h = heap.to_owned();
        let len = align_up(
            env.mem_total
                .unwrap_or(1 << 40)
                .max(capacity.unwrap_or(0))
                .saturating_mul(2)
                .min(1 << 62),
            env.page_size,
        );
        cases.push(Case::new(name, move |_: &System, _: &mut Log| {
            checked(|| {
                Ok(expect_errno(
                    Heap::open(&h)?.alloc(len, DEFAULT_FD_FLAGS, 0),
                    libc::ENOMEM,
                    &format!("len {len}"),
                ))
            })
        }));
    }
    // The coherent heap refuses more than its region holds up front -> ENOMEM.
    if let (HeapKind::Coherent, Some(cap)) = (kind, capacity) {
        let h = heap.to_owned();
        let len = align_up(cap, env.page_size) + env.page_size;
        cases.push(Case::new(
            format!("{prefix}alloc_region_plus_page_enomem"),
            move |_: &System, _: &mut Log| {
                checked(|| {
                    Ok(expect_errno(
                        Heap::open(&h)?.alloc(len, DEFAULT_FD_FLAGS, 0),
                        libc::ENOMEM,
                        &format!("len {len} (region + 1 page)"),
                    ))
                })
            },
        ));
    }
    // fd_flags outside O_CLOEXEC | O_ACCMODE -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_bad_fd_flags_einval"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                let flags = !DEFAULT_FD_FLAGS;
                Ok(expect_errno(
                    Heap::open(&h)?.alloc(env.page_size, flags, 0),
                    libc::EINVAL,
                    &format!("fd_flags {flags:#x}"),
                ))
            })
        },
    ));
    // No heap flags are defined -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_bad_heap_flags_einval"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                Ok(expect_errno(
                    Heap::open(&h)?.alloc(env.page_size, DEFAULT_FD_FLAGS, 0x111111),
                    libc::EINVAL,
                    "heap_flags 0x111111",
                ))
            })
        },
    ));
    // The fd field is output only: non-zero on input -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_nonzero_fd_field_einval"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                let heap = Heap::open(&h)?;
                let mut data = AllocationData {
                    len: env.page_size,
                    fd: 1,
                    fd_flags: DEFAULT_FD_FLAGS,
                    heap_flags: 0,
                };
                let res = heap
                    .alloc_raw(&mut data)
                    .map(|fd| DmaBuf::from_fd(fd, &h))
                    .map_err(|source| Error::Alloc {
                        heap: h.clone(),
                        len: data.len,
                        source,
                    });
                Ok(expect_errno(res, libc::EINVAL, "fd field 1"))
            })
        },
    ));
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}set_name"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                let buf = Heap::open(&h)?.alloc(env.page_size, DEFAULT_FD_FLAGS, 0)?;
                let name = "dma_heap_test";
                buf.set_name(name)?;
                Ok(match buf.name()? {
                    Some(n) if n == name => Outcome::Pass,
                    other => Outcome::Fail(format!(
                        "{} shows name {other:?}, expected {name:?}",
                        buf.fdinfo_path().display()
                    )),
                })
            })
        },
    ));
    // strndup_user(name, DMA_BUF_NAME_LEN): 32 characters plus NUL -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}set_name_too_long_einval"),
        move |env: &System, _: &mut Log| {
            checked(|| {
                let buf = Heap::open(&h)?.alloc(env.page_size, DEFAULT_FD_FLAGS, 0)?;
                let name = "n".repeat(sys::DMA_BUF_NAME_LEN);
                Ok(match buf.set_name(&name) {
                    Ok(()) => {
                        Outcome::Fail(format!("a {}-character name was accepted", name.len()))
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Outcome::Pass,
                    Err(e) => Outcome::Fail(format!("expected EINVAL: {e}")),
                })
            })
        },
    ));
    cases
}

/// Allocates `size` bytes from heap `h`, checks the size lseek reports,
/// maps the buffer, checks it arrives zero-filled, writes a pattern and
/// reads it back, all under `DMA_BUF_IOCTL_SYNC`.
fn exercise(h: &str, size: u64, env: &System, _log: &mut Log) -> Outcome {
    checked(|| {
        let heap = Heap::open(h)?;
        let buf = heap.alloc(size, DEFAULT_FD_FLAGS, 0)?;
        let want = align_up(size, env.page_size);
        let got = buf.size()?;
        if got != want {
            return Ok(Outcome::Fail(format!(
                "lseek(SEEK_END) says {got} bytes for a {size}-byte allocation, expected {want}"
            )));
        }
        let mut map = buf.mmap()?;
        buf.sync(Phase::Start, Access::Read)?;
        let nonzero = first_nonzero(map.as_slice());
        buf.sync(Phase::End, Access::Read)?;
        if let Some(off) = nonzero {
            return Ok(Outcome::Fail(format!(
                "new buffer not zero-filled: byte {off} is {:#04x}",
                map.as_slice()[off]
            )));
        }
        write_and_verify(&buf, &mut map, &Fill::Pattern(0x5a5a_0000_0000_0000 ^ size))?;
        Ok(Outcome::Pass)
    })
}

// ------------------------------------------------------------- system_heap

fn system_heap(env: &System) -> Vec<Case<System>> {
    heap_cases(SYSTEM, "", env.mem_total, HeapKind::System, env)
}

// ---------------------------------------------------------------- cma_heap

fn cma_heap(env: &System) -> Vec<Case<System>> {
    let heaps: Vec<String> = env
        .heap_names()
        .iter()
        .filter(|h| env.inventory.kind(h) == HeapKind::Cma)
        .cloned()
        .collect();
    let mut cases = Vec::new();
    let found = heaps.clone();
    cases.push(
        Case::new("cma_heap_present", move |env: &System, log: &mut Log| {
            if !found.is_empty() {
                log.note(format!("CMA heaps: {}", found.join(" ")));
                Outcome::Pass
            } else {
                match env.cma_total {
                    Some(n) if n > 0 => Outcome::Fail(format!(
                        "CmaTotal is {} but {} has no CMA heap (CONFIG_DMABUF_HEAPS_CMA?)",
                        format_size(n),
                        crate::heap::DEV_DMA_HEAP
                    )),
                    _ => Outcome::Skip(NO_CMA.into()),
                }
            }
        })
        .may_skip_if(!env.kernel.cma_heap || env.cma_total == Some(0), NO_CMA),
    );
    // Every reusable device-tree node must have become a heap.
    for r in env.inventory.regions.iter().filter(|r| r.is_cma_area()) {
        let node = r.name.clone();
        cases.push(Case::new(
            format!("{node}_present"),
            move |env: &System, _: &mut Log| {
                if env.has_heap(&node) {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!(
                        "reusable node '{node}' has no heap in {}",
                        crate::heap::DEV_DMA_HEAP
                    ))
                }
            },
        ));
    }
    for h in &heaps {
        cases.extend(heap_cases(
            h,
            &format!("{h}_"),
            env.cma_capacity(h),
            HeapKind::Cma,
            env,
        ));
    }
    cases
}

// ------------------------------------------------------ reserved_memory_dt

fn reserved_memory_dt(env: &System) -> Vec<Case<System>> {
    let mut cases =
        vec![Case::new(
            "reserved_memory_parses",
            |env: &System, log: &mut Log| match &env.reserved {
                Err(e) => Outcome::Fail(e.clone()),
                Ok(None) if env.requested_nodes.is_empty() => {
                    Outcome::Skip(NO_RESERVED_MEMORY.into())
                }
                Ok(None) => Outcome::Fail(format!(
                    "dmaheap.regions= names {} node(s) but the device tree has no /reserved-memory",
                    env.requested_nodes.len()
                )),
                Ok(Some(rm)) => {
                    log.note(format!(
                        "{} node(s) in {}, {}",
                        rm.regions.len(),
                        rm.path.display(),
                        if rm.dt_order {
                            "in device-tree order"
                        } else {
                            "order unknown (no /sys/firmware/fdt): sorted by name"
                        }
                    ));
                    Outcome::Pass
                }
            },
        )
        .may_skip_if(
            matches!(env.reserved, Ok(None)) && env.requested_nodes.is_empty(),
            NO_RESERVED_MEMORY,
        )];
    for node in &env.requested_nodes {
        let node = node.clone();
        cases.push(Case::new(node.clone(), move |env: &System, _: &mut Log| {
            check_node(env, &node)
        }));
    }
    cases
}

fn check_node(env: &System, node: &str) -> Outcome {
    let rm = match &env.reserved {
        Ok(Some(rm)) => rm,
        Ok(None) => return Outcome::Fail("the device tree has no /reserved-memory".into()),
        Err(_) => {
            // The whole node could not be read; parse just this child so its
            // own error is reported.
            let dir = Path::new(dt::PROC_RESERVED_MEMORY);
            let path = dir.join(node);
            return checked(|| {
                let props = dt::read_properties(&path)?;
                let cells = dt::read_cells(dir)?;
                dt::parse_region(&path, node, &props, cells)?;
                Ok(Outcome::Fail("another node failed to parse".into()))
            });
        }
    };
    let Some(r) = rm.region(node) else {
        return Outcome::Fail(format!("no node '{node}' under {}", rm.path.display()));
    };
    match r.bytes() {
        None => Outcome::Fail(format!("'{node}' has neither reg nor size")),
        Some(0) => Outcome::Fail(format!("'{node}' has size 0")),
        Some(_) => Outcome::Pass,
    }
}

// ----------------------------------------------------------- coherent_heap

fn coherent_heap(env: &System) -> Vec<Case<System>> {
    let plan = &env.inventory.coherent;
    let expected: Vec<String> = plan.heap_names().into_iter().map(str::to_owned).collect();

    let mut cases = Vec::new();
    if declares_coherent(env) {
        let exp = expected.clone();
        cases.push(Case::new(
            "driver_present",
            move |env: &System, log: &mut Log| {
                log.note(format!(
                    "expected heaps: {}",
                    if exp.is_empty() {
                        "none".to_string()
                    } else {
                        exp.join(" ")
                    }
                ));
                let module = Path::new(COHERENT_MODULE);
                match (module.exists(), env.coherent_debugfs.is_dir()) {
                    (false, false) => Outcome::Fail(format!(
                        "the device tree declares coherent heap regions but the driver is not \
                         there: neither {} nor {} exists",
                        module.display(),
                        env.coherent_debugfs.display()
                    )),
                    (m, d) => {
                        for (there, path) in [(m, module), (d, env.coherent_debugfs.as_path())] {
                            if there {
                                log.note(format!("{} exists", path.display()));
                            }
                        }
                        Outcome::Pass
                    }
                }
            },
        ));
    }
    if let Err(e) = &env.reserved {
        let e = e.clone();
        cases.push(Case::new(
            "reserved_memory_readable",
            move |_: &System, _: &mut Log| Outcome::Fail(e.clone()),
        ));
    }

    for a in plan.exported() {
        let heap = a.name.clone();
        let node = a.name.clone();
        cases.push(Case::new(
            format!("{heap}_present"),
            move |env: &System, _: &mut Log| {
                if env.has_heap(&heap) {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!("node '{node}' should have made heap '{heap}'"))
                }
            },
        ));
        cases.extend(heap_cases(
            &a.name,
            &format!("{}_", a.name),
            a.reservation.map(|r| r.size),
            HeapKind::Coherent,
            env,
        ));
    }

    // Candidates not exported (refused or passed over): shared-dma-pool
    // nodes except plain CMA ones. A node's heap would have its full name.
    for r in refused_candidates(env) {
        let refused = r.clone();
        let owner = name_owner(plan, r);
        cases.push(Case::new(
            format!("refused_{}", r.name),
            move |env: &System, log: &mut Log| {
                log.note(format!("node '{}': {}", refused.name, refused.decision));
                checked(|| check_refused(env, &refused, owner.as_ref()))
            },
        ));
    }
    cases
}

/// `refused_NODE`: no heap of the driver is backed by the node it does not
/// export (its debugfs file names the region each heap has), and a heap of
/// the node's name exists only if someone else owns the name.
fn check_refused(env: &System, refused: &Verdict, owner: Option<&Owner>) -> Result<Outcome> {
    let mut errs = Vec::new();
    for heap in crate::debugfs::list_in(&env.coherent_debugfs)? {
        let stats = HeapStats::read_in(&env.coherent_debugfs, &heap)?;
        if stats.region == refused.name {
            errs.push(format!(
                "heap '{heap}' is backed by node '{}', which must not be exported ({})",
                refused.name, refused.decision
            ));
        }
    }
    if !refused.name.is_empty() && env.has_heap(&refused.name) && owner.is_none() {
        errs.push(format!(
            "heap '{}' exists but node '{}' must not be exported ({}) and nothing else owns the name",
            refused.name, refused.name, refused.decision
        ));
    }
    Ok(if errs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(errs.join("\n"))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, tests::CELLS, ReservedMemory};
    use crate::inventory::Inventory;
    use crate::system::{Build, Kernel, ModuleInfo};
    use std::time::Duration;

    /// The standalone build's kernel: the driver as a module, vgem, CMA,
    /// no kmemleak.
    pub(crate) fn kernel() -> Kernel {
        Kernel {
            coherent: Build::Module,
            kmemleak: false,
            vgem: true,
            system_heap: true,
            cma_heap: true,
            cma_default: 16 << 20,
            page_size: 4096,
        }
    }

    pub(crate) fn env(
        heaps: &[&str],
        regions: Vec<crate::dt::Region>,
        requested: &[&str],
    ) -> System {
        System {
            heaps: Ok(heaps.iter().map(|s| s.to_string()).collect()),
            reserved: Ok(Some(ReservedMemory {
                path: "/proc/device-tree/reserved-memory".into(),
                cells: CELLS,
                regions: regions.clone(),
                dt_order: true,
            })),
            inventory: Inventory::new(regions),
            requested_nodes: requested.iter().map(|s| s.to_string()).collect(),
            suites: None,
            load_deferred: false,
            coherent_module: false,
            module: ModuleInfo::default(),
            coherent_debugfs: "/nonexistent/coherent_heap".into(),
            page_size: 4096,
            mem_total: Some(1 << 30),
            cma_total: Some(16 << 20),
            cma_debugfs: None,
            kselftest: "/nonexistent/dmabuf-heap".into(),
            kselftest_timeout: Duration::from_secs(5),
            kmemleak: "/nonexistent/kmemleak".into(),
            kmemleak_wait: Duration::ZERO,
            kmemleak_param: None,
            kernel: kernel(),
            exe: "/nonexistent/dma-heap".into(),
        }
    }

    /// A directory standing in for the driver's debugfs directory: one
    /// stats file per `(heap, node)`.
    struct Debugfs(std::path::PathBuf);

    impl Debugfs {
        fn new(tag: &str, heaps: &[(&str, &str)]) -> Debugfs {
            let dir =
                std::env::temp_dir().join(format!("dma-heap-debugfs-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (heap, node) in heaps {
                std::fs::write(
                    dir.join(heap),
                    format!("region: {node}\nbase: 0x70000000\nsize: 2097152\nin_use: 0\npeak: 0\nallocations: 0\nfailures: 0\nbuffers: 0\n"),
                )
                .unwrap();
            }
            Debugfs(dir)
        }
    }

    impl Drop for Debugfs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn coherent_region(node: &str) -> crate::dt::Region {
        let reg = be32(&[0, 0x7000_0000, 0, 0x20_0000]);
        parse_region(
            Path::new("/t"),
            node,
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &reg),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ]),
            CELLS,
        )
        .unwrap()
    }

    /// A dynamic pool of 4 MiB that opted in: the heap takes the node name alone.
    fn dynamic_region(node: &str) -> crate::dt::Region {
        let size = be32(&[0, 0x40_0000]);
        parse_region(
            Path::new("/t"),
            node,
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &size),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ]),
            CELLS,
        )
        .unwrap()
    }

    fn names(cases: &[Case<System>]) -> Vec<&str> {
        cases.iter().map(|c| c.name.as_str()).collect()
    }

    pub(crate) fn run_suite(suite: &str, env: &System) -> String {
        let s = SUITES.iter().find(|s| s.name == suite).unwrap();
        let mut w = ktap::Writer::new(Vec::new());
        ktap::run(&mut w, &[], std::slice::from_ref(s), env).unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    #[test]
    fn suite_order() {
        let names: Vec<&str> = SUITES.iter().map(|s| s.name).collect();
        let pos = |n: &str| names.iter().position(|&x| x == n).unwrap();
        assert_eq!(
            &names[names.len() - 3..],
            ["kselftest_dmabuf_heaps", "coherent_log", "kmemleak"]
        );
        assert!(pos("coherent_stress") < pos("kselftest_dmabuf_heaps"));
        // The module is loaded by the first suite of a fault-injection boot.
        assert_eq!(names[0], "coherent_load_faults");
        let e = env(&["system"], Vec::new(), &[]);
        let default: Vec<&str> = selected(&e).unwrap().iter().map(|s| s.name).collect();
        assert_eq!(default[0], "heap_list");
        assert!(!default.contains(&"coherent_load_faults"));
    }

    #[test]
    fn dmaheap_suites_selects_and_refuses_unknown_names() {
        let mut e = env(&["system"], Vec::new(), &[]);
        e.suites = Some(vec!["coherent_import".into(), "heap_list".into()]);
        let chosen: Vec<&str> = selected(&e).unwrap().iter().map(|s| s.name).collect();
        assert_eq!(chosen, ["heap_list", "coherent_import"]);
        e.suites = Some(vec!["heap_lists".into()]);
        let Err(err) = selected(&e) else {
            panic!("an unknown suite name was accepted");
        };
        let err = err.to_string();
        assert!(
            err.contains("heap_lists") && err.contains("no such suite"),
            "{err}"
        );
    }

    #[test]
    fn suite_names_are_unique_and_valid() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SUITES {
            assert_eq!(ktap::test_name(s.name), s.name);
            assert!(seen.insert(s.name));
        }
    }

    #[test]
    fn system_heap_case_names() {
        let e = env(&["system"], Vec::new(), &[]);
        assert_eq!(
            names(&system_heap(&e)),
            [
                "alloc_4k",
                "alloc_1m",
                "alloc_8m",
                "alloc_unaligned_rounds_up",
                "read_only_buffer_maps_read_only",
                "alloc_len_zero_einval",
                "alloc_len_overflow_einval",
                // No alloc_larger_than_ram_enomem: see heap_cases().
                "alloc_bad_fd_flags_einval",
                "alloc_bad_heap_flags_einval",
                "alloc_nonzero_fd_field_einval",
                "set_name",
                "set_name_too_long_einval"
            ]
        );
    }

    #[test]
    fn cma_sizes_beyond_capacity_are_not_cases() {
        let size = be32(&[0, 0x20_0000]);
        let cma = parse_region(
            Path::new("/t"),
            "linux,cma",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &size),
                ("reusable", b""),
                ("linux,cma-default", b""),
            ]),
            CELLS,
        )
        .unwrap();
        let e = env(
            &["default_cma_region", "linux,cma", "system"],
            vec![cma],
            &[],
        );
        let cases = cma_heap(&e);
        let n = names(&cases);
        assert_eq!(&n[..2], ["cma_heap_present", "linux_cma_present"]);
        assert!(n.contains(&"default_cma_region_alloc_1m"));
        assert!(n.contains(&"linux_cma_alloc_1m"));
        // A 2 MiB area: 8 MiB could only skip.
        assert!(!n.contains(&"linux_cma_alloc_8m"), "{n:?}");
        assert!(cases.iter().all(|c| c.expect == ktap::Expect::MustPass));
        assert_eq!(e.cma_capacity("linux,cma"), Some(2 << 20));
        assert_eq!(e.cma_capacity("default_cma_region"), Some(2 << 20));
        assert_eq!(e.cma_capacity("reserved"), Some(16 << 20));
    }

    #[test]
    fn coherent_suite_fails_without_driver() {
        let e = env(&["system"], vec![coherent_region("camera@70000000")], &[]);
        let out = run_suite("coherent_heap", &e);
        assert!(
            out.contains("    # driver_present: the device tree declares coherent heap regions but the driver is not there: neither /sys/module/coherent_heap nor /nonexistent/coherent_heap exists\n    not ok 1 driver_present\n"),
            "{out}"
        );
        assert!(
            out.contains("    # camera_70000000_present: node 'camera@70000000' should have made heap 'camera@70000000'\n    not ok 2 camera_70000000_present\n"),
            "{out}"
        );
        assert!(!out.contains("# SKIP"), "{out}");
        // No region for the driver: no driver_present either.
        let e = env(&["system"], Vec::new(), &[]);
        assert!(coherent_heap(&e).is_empty());
    }

    #[test]
    fn refused_nodes_are_checked_in_debugfs() {
        let mut mapped = coherent_region("mapped@71000000");
        mapped.no_map = false;
        let mut private = coherent_region("private@72000000");
        private.dma_heap = false;
        let regions = vec![
            coherent_region("camera@70000000"),
            // Its own heap: names differ by their unit address.
            coherent_region("camera@78000000"),
            dynamic_region("system"),
            mapped,
            private,
        ];
        let mut e = env(
            &[
                "camera@70000000",
                "camera@78000000",
                "mapped@71000000",
                "system",
            ],
            regions,
            &[],
        );
        e.coherent_module = true;
        let cases = coherent_heap(&e);
        let n = names(&cases);
        assert_eq!(n[0], "driver_present");
        assert_eq!(n[1], "camera_70000000_present");
        assert!(n.contains(&"camera_70000000_alloc_1m"));
        assert!(n.contains(&"camera_78000000_present"));
        // 2 MiB pool: no 8 MiB case.
        assert!(!n.contains(&"camera_70000000_alloc_8m"));
        assert_eq!(
            &n[n.len() - 3..],
            [
                "refused_system",
                "refused_mapped_71000000",
                "refused_private_72000000"
            ]
        );
        // Run only the refusal cases (the others would open /dev/dma_heap),
        // against a debugfs where 'mapped@71000000' was exported after all
        // and 'camera@70000000' is backed by the pool that did not opt in.
        fn refusals(env: &System) -> Vec<Case<System>> {
            coherent_heap(env)
                .into_iter()
                .filter(|c| c.name.starts_with("refused_"))
                .collect()
        }
        let suites = [Suite {
            name: "coherent_heap",
            cases: refusals,
        }];
        let run = |e: &System| {
            let mut w = ktap::Writer::new(Vec::new());
            ktap::run(&mut w, &[], &suites, e).unwrap();
            String::from_utf8(w.into_inner()).unwrap()
        };
        let wrong = Debugfs::new(
            "wrong",
            &[
                ("camera@70000000", "private@72000000"),
                ("mapped@71000000", "mapped@71000000"),
            ],
        );
        e.coherent_debugfs = wrong.0.clone();
        let out = run(&e);
        assert!(out.contains("    # refused_system: node 'system': heap name taken by mainline heap 'system' (the system heap)\n    ok 1 refused_system\n"), "{out}");
        assert!(out.contains("    # refused_mapped_71000000: heap 'mapped@71000000' is backed by node 'mapped@71000000', which must not be exported (System RAM: no no-map (mapped pools cannot be write-combined))\n    # refused_mapped_71000000: heap 'mapped@71000000' exists but node 'mapped@71000000' must not be exported (System RAM: no no-map (mapped pools cannot be write-combined)) and nothing else owns the name\n    not ok 2 refused_mapped_71000000\n"), "{out}");
        assert!(out.contains("    # refused_private_72000000: node 'private@72000000': no linux,dma-heap property\n    # refused_private_72000000: heap 'camera@70000000' is backed by node 'private@72000000', which must not be exported (no linux,dma-heap property)\n    not ok 3 refused_private_72000000\n"), "{out}");
        let right = Debugfs::new(
            "right",
            &[
                ("camera@70000000", "camera@70000000"),
                ("camera@78000000", "camera@78000000"),
            ],
        );
        e.coherent_debugfs = right.0.clone();
        e.heaps = Ok(vec![
            "camera@70000000".into(),
            "camera@78000000".into(),
            "system".into(),
        ]);
        let out = run(&e);
        assert!(!out.contains("not ok"), "{out}");
        assert!(!out.contains("SKIP"), "{out}");
        // No debugfs directory: the driver is not there, which fails too.
        e.coherent_debugfs = "/nonexistent/coherent_heap".into();
        assert!(run(&e).contains("not ok 1 refused_system"));
    }

    #[test]
    fn a_reusable_pool_that_opted_in_is_the_cma_heap_s() {
        let mut video = dynamic_region("video");
        video.no_map = false;
        video.reusable = true;
        let mut e = env(&["system", "video"], vec![video], &[]);
        e.coherent_module = true;
        let cases = coherent_heap(&e);
        assert_eq!(names(&cases), ["driver_present", "refused_video"]);
        let v = e
            .inventory
            .coherent
            .verdict("/reserved-memory/video")
            .unwrap();
        assert_eq!(
            name_owner(&e.inventory.coherent, v),
            Some(Owner::CmaHeap {
                path: "/reserved-memory/video".into()
            })
        );
    }

    #[test]
    fn reserved_memory_cases_per_requested_node() {
        let size = be32(&[0, 0x10_0000]);
        let dynamic = parse_region(
            Path::new("/t"),
            "dyn",
            &props(&[("compatible", b"shared-dma-pool\0"), ("size", &size)]),
            CELLS,
        )
        .unwrap();
        let bare = parse_region(Path::new("/t"), "bare@1", &props(&[]), CELLS).unwrap();
        let e = env(
            &[],
            vec![coherent_region("camera@70000000"), dynamic, bare],
            &["camera@70000000", "dyn", "bare@1", "gone@2"],
        );
        let out = run_suite("reserved_memory_dt", &e);
        let expected = "\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: reserved_memory_dt
    1..5
    # reserved_memory_parses: 3 node(s) in /proc/device-tree/reserved-memory, in device-tree order
    ok 1 reserved_memory_parses
    ok 2 camera_70000000
    ok 3 dyn
    # bare_1: 'bare@1' has neither reg nor size
    not ok 4 bare_1
    # gone_2: no node 'gone@2' under /proc/device-tree/reserved-memory
    not ok 5 gone_2
# reserved_memory_dt: pass:3 fail:2 skip:0 total:5
not ok 1 reserved_memory_dt
";
        assert_eq!(out, expected);
    }

    /// camera (64 MiB), display (8 MiB) and the dynamic scratch (4 MiB)
    /// exported; a pool that did not opt in; a mapped one.
    fn qemu_like() -> System {
        let node = |name: &str, base: u32, size: u32, extra: &[(&str, &[u8])]| {
            let reg = be32(&[0, base, 0, size]);
            let mut list: Vec<(&str, &[u8])> =
                vec![("compatible", b"shared-dma-pool\0"), ("reg", &reg)];
            list.extend_from_slice(extra);
            parse_region(Path::new("/t"), name, &props(&list), CELLS).unwrap()
        };
        let heap: &[(&str, &[u8])] = &[("no-map", b""), ("linux,dma-heap", b"")];
        let regions = vec![
            node("camera@70000000", 0x7000_0000, 0x400_0000, heap),
            node("display@74000000", 0x7400_0000, 0x80_0000, heap),
            node(
                "mapped@75000000",
                0x7500_0000,
                0x80_0000,
                &[("linux,dma-heap", b"")],
            ),
            node(
                "private@75800000",
                0x7580_0000,
                0x80_0000,
                &[("no-map", b"")],
            ),
            dynamic_region("scratch"),
        ];
        let mut e = env(
            &["camera@70000000", "display@74000000", "scratch", "system"],
            regions,
            &[],
        );
        e.coherent_module = true;
        e
    }

    #[test]
    fn coherent_suites_case_names() {
        let e = qemu_like();
        assert_eq!(
            names(&coherent_cases::coherent_module(&e)),
            ["module_load", "module_unload_refused"]
        );
        assert_eq!(
            names(&coherent_cases::coherent_debugfs(&e)),
            [
                "directory_lists_heaps",
                "camera_70000000_stats_match_dt",
                "camera_70000000_stats_track_buffers",
                "camera_70000000_stats_count_failures",
                "camera_70000000_mapping_keeps_buffer",
                "display_74000000_stats_match_dt",
                "display_74000000_stats_track_buffers",
                "display_74000000_stats_count_failures",
                "display_74000000_mapping_keeps_buffer",
                "scratch_stats_match_dt",
                "scratch_stats_track_buffers",
                "scratch_stats_count_failures",
                "scratch_mapping_keeps_buffer"
            ]
        );
        let alloc = coherent_cases::coherent_alloc(&e);
        assert_eq!(
            &names(&alloc)[..7],
            [
                "camera_70000000_fill_1m_enomem",
                "camera_70000000_fill_16k_enomem",
                "camera_70000000_freed_memory_zeroed",
                "camera_70000000_refill_zeroed",
                "camera_70000000_mmap_private_einval",
                "camera_70000000_mmap_beyond_size_fails",
                "camera_70000000_mmap_at_offset"
            ]
        );
        assert_eq!(names(&alloc)[8], "display_74000000_fill_4k_enomem");
        assert_eq!(
            names(&coherent_cases::coherent_stress(&e)),
            ["parallel_stress"]
        );
        assert_eq!(
            names(&coherent_cases::coherent_log(&e)),
            [
                "line_camera_70000000",
                "line_display_74000000",
                "line_mapped_75000000",
                "line_scratch",
                "no_unexpected_lines",
                "no_warnings"
            ]
        );
        let n = names(&coherent_heap(&e)).join(" ");
        assert!(
            n.contains("camera_70000000_alloc_region_plus_page_enomem"),
            "{n}"
        );
        assert!(n.contains("scratch_alloc_region_plus_page_enomem"), "{n}");
        assert!(n.contains("refused_private_75800000"), "{n}");
        assert!(!n.contains("private_75800000_present"), "{n}");
        assert!(!names(&system_heap(&e)).contains(&"alloc_region_plus_page_enomem"));
        assert_eq!(
            e.header(),
            ["heaps: camera@70000000 display@74000000 scratch system"]
        );
    }

    #[test]
    fn coherent_suites_fail_without_driver() {
        let mut e = qemu_like();
        e.coherent_module = false;
        e.heaps = Ok(vec!["system".into()]);
        for suite in ["coherent_debugfs", "coherent_alloc", "coherent_stress"] {
            let out = run_suite(suite, &e);
            assert!(out.ends_with(&format!("not ok 1 {suite}\n")), "{out}");
            assert!(!out.contains("# SKIP"), "{out}");
        }
        // Not started as init, no module file, not built in: a failure,
        // since the device tree gives the driver regions.
        let out = run_suite("coherent_module", &e);
        assert!(
            out.contains("    # module_load: no coherent_heap module for this kernel under /lib/modules and the driver is not built in\n    not ok 1 module_load\n"),
            "{out}"
        );
        // No regions and no driver anywhere: nothing to test.
        let mut bare = env(&["system"], Vec::new(), &[]);
        bare.kernel.coherent = Build::Absent;
        assert!(coherent_cases::coherent_module(&bare).is_empty());
        assert!(coherent_cases::coherent_stress(&bare).is_empty());
    }

    #[test]
    fn declarations_follow_the_kernel_and_the_command_line() {
        let lines = |e: &System| -> Vec<String> {
            list_all(e)
                .unwrap()
                .iter()
                .filter(|l| l.expect != ktap::Expect::MustPass)
                .map(Listed::line)
                .collect()
        };
        let mut e = qemu_like();
        assert_eq!(
            lines(&e),
            ["kmemleak.scan_clean may-skip kernel built without CONFIG_DEBUG_KMEMLEAK"]
        );
        e.kernel.kmemleak = true;
        e.kernel.coherent = Build::BuiltIn;
        e.kernel.vgem = false;
        assert_eq!(
            lines(&e),
            [
                "coherent_module.module_load may-skip coherent_heap is built in",
                "coherent_module.module_unload_refused may-skip coherent_heap is built in",
                "kselftest_dmabuf_heaps.dmabuf_heap.* may-skip Could not open vgem -1",
            ]
        );
        e.kmemleak_param = Some("off".into());
        e.kernel.cma_heap = false;
        assert_eq!(
            lines(&e)[..2],
            [
                "cma_heap.cma_heap_present may-skip no CMA area (CmaTotal is 0)",
                "coherent_module.module_load may-skip coherent_heap is built in",
            ]
        );
        assert_eq!(
            lines(&e).last().unwrap(),
            "kmemleak.scan_clean may-skip kmemleak=off on the kernel command line"
        );
        // Every listed name is SUITE.CASE of a suite that exists, once.
        let all = list_all(&e).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for l in &all {
            let suite = l.name.split('.').next().unwrap();
            assert!(SUITES.iter().any(|s| s.name == suite), "{}", l.name);
            assert!(seen.insert(l.name.clone()), "{}", l.name);
        }
    }

    #[test]
    fn default_cma_area_without_node_or_debugfs() {
        let reg = be32(&[0, 0x7800_0000, 0, 0x200_0000]);
        let video = parse_region(
            Path::new("/t"),
            "video@78000000",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &reg),
                ("reusable", b""),
            ]),
            CELLS,
        )
        .unwrap();
        let mut e = env(
            &["default_cma_region", "reserved", "system", "video@78000000"],
            vec![video],
            &[],
        );
        e.cma_total = Some(48 << 20);
        assert_eq!(e.cma_capacity("video@78000000"), Some(32 << 20));
        assert_eq!(e.cma_capacity("default_cma_region"), Some(16 << 20));
        assert_eq!(e.cma_capacity("reserved"), Some(16 << 20));
        assert_eq!(e.cma_alias_of("reserved"), Some("default_cma_region"));
        assert_eq!(e.cma_alias_of("default_cma_region"), None);
        assert_eq!(e.cma_alias_of("video@78000000"), None);
        // Inconsistent totals fall back to CmaTotal.
        e.cma_total = Some(32 << 20);
        assert_eq!(e.cma_capacity("default_cma_region"), Some(32 << 20));
    }
}
