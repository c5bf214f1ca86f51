//! The in-image test suites run by `dma-heap test`.
//!
//! Adding a suite is one function returning its cases plus one entry in
//! [`SUITES`]. Case bodies run only when the suite runs; listing cases must
//! be cheap and must not allocate buffers. Listing happens when the suite
//! starts, right before its plan line, which `kselftest_dmabuf_heaps` uses:
//! its cases are the results of the mainline selftest, so listing them runs
//! it (see [`kselftest`]).

mod coherent_cases;
pub mod kmemleak;
pub mod kselftest;
pub mod stress;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use heap_rules::mainline::{DEFAULT_CMA_AREA, DEFAULT_CMA_REGION, SYSTEM};

use crate::cmdline::Cmdline;
use crate::dt::{self, ReservedMemory};
use crate::error::{errno_name, Error, Result};
use crate::heap::{
    first_nonzero, write_and_verify, Access, AllocationData, DmaBuf, Fill, Heap, Phase,
    DEFAULT_FD_FLAGS,
};
use crate::inventory::{HeapKind, Inventory};
use crate::ktap::{self, Case, Log, Outcome, Suite, Totals};
use crate::module::{self, LoadOutcome};
use crate::size::{format_size, size_tag};
use crate::sys;

/// `/sys/module/coherent_heap`: present when the coherent heap driver is
/// loaded as a module (built in, it only appears if the driver has
/// parameters visible in sysfs, which Rust module parameters are not).
pub const COHERENT_MODULE: &str = "/sys/module/coherent_heap";

/// Reason printed for every coherent heap case while the driver is absent.
pub const NO_COHERENT_DRIVER: &str = "coherent heap driver not present";

/// Every case skipped when the driver is absent.
fn gate(env: &Env, cases: Vec<Case<Env>>) -> Vec<Case<Env>> {
    if env.coherent_present() {
        cases
    } else {
        cases
            .into_iter()
            .map(|c| c.skipped(NO_COHERENT_DRIVER))
            .collect()
    }
}

/// The suites, in run order: `kselftest_dmabuf_heaps` after the suites of
/// our own, `coherent_log` after everything that allocates (it also
/// catches what they provoked), `kmemleak` last of all.
pub const SUITES: &[Suite<Env>] = &[
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

/// What the suites know about the system they run on, gathered once.
#[derive(Debug)]
pub struct Env {
    /// Names in `/dev/dma_heap`, or why they could not be read.
    pub heaps: std::result::Result<Vec<String>, String>,
    /// `/reserved-memory`, `None` if the device tree has none.
    pub reserved: std::result::Result<Option<ReservedMemory>, String>,
    /// Regions and the coherent heaps expected from them.
    pub inventory: Inventory,
    /// `dmaheap.regions=`: nodes the test overlay added.
    pub requested_nodes: Vec<String>,
    /// The coherent heap driver is there: `/sys/module/coherent_heap` (a
    /// loaded module) or its debugfs directory (built in or loaded) exists.
    pub coherent_module: bool,
    /// The driver as a loadable module.
    pub module: ModuleInfo,
    /// The driver's debugfs directory (`/sys/kernel/debug/coherent_heap`).
    pub coherent_debugfs: PathBuf,
    /// MMU page size.
    pub page_size: u64,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub mem_total: Option<u64>,
    /// `CmaTotal` from `/proc/meminfo`, in bytes.
    pub cma_total: Option<u64>,
    /// Directory of CMA debugfs entries (`/sys/kernel/debug/cma`).
    pub cma_debugfs: &'static str,
    /// The mainline dma-buf heap selftest ([`kselftest::DMABUF_HEAP_SELFTEST`]).
    pub kselftest: PathBuf,
    /// Its time limit.
    pub kselftest_timeout: Duration,
    /// kmemleak's debugfs file ([`kmemleak::KMEMLEAK`]).
    pub kmemleak: PathBuf,
    /// How long to wait before the kmemleak scans ([`kmemleak::MIN_AGE`]).
    pub kmemleak_wait: Duration,
    /// `kmemleak=` from the command line.
    pub kmemleak_param: Option<String>,
}

/// The coherent heap driver as a module.
#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    /// Its file for the running kernel, when the image has one.
    pub file: Option<PathBuf>,
    /// What init did to load it (`None`: not started as init).
    pub load: Option<LoadOutcome>,
}

impl Env {
    /// Looks at the running system. `load` is what init did to load the
    /// coherent heap module, if it ran.
    pub fn from_system(cmdline: &Cmdline, load: Option<LoadOutcome>) -> Env {
        let heaps = Heap::list().map_err(|e| e.to_string());
        let reserved = dt::read_system().map_err(|e| e.to_string());
        let regions = match &reserved {
            Ok(Some(rm)) => rm.regions.clone(),
            _ => Vec::new(),
        };
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let coherent_debugfs = PathBuf::from(crate::debugfs::COHERENT_DEBUGFS);
        Env {
            heaps,
            reserved,
            inventory: Inventory::new(regions),
            requested_nodes: cmdline.regions(),
            coherent_module: Path::new(COHERENT_MODULE).exists() || coherent_debugfs.is_dir(),
            module: ModuleInfo {
                file: module::running_kernel_file(),
                load,
            },
            coherent_debugfs,
            page_size: sys::page_size(),
            mem_total: meminfo_bytes(&meminfo, "MemTotal"),
            cma_total: meminfo_bytes(&meminfo, "CmaTotal"),
            cma_debugfs: "/sys/kernel/debug/cma",
            kselftest: PathBuf::from(kselftest::DMABUF_HEAP_SELFTEST),
            kselftest_timeout: kselftest::TIMEOUT,
            kmemleak: PathBuf::from(kmemleak::KMEMLEAK),
            kmemleak_wait: kmemleak::MIN_AGE,
            kmemleak_param: cmdline.get("kmemleak").map(str::to_owned),
        }
    }

    /// Whether the coherent heap driver is there: its module or debugfs
    /// directory exists, or one of the heaps it should create does.
    pub fn coherent_present(&self) -> bool {
        self.coherent_module
            || self
                .inventory
                .coherent
                .heap_names()
                .iter()
                .any(|h| self.has_heap(h))
    }

    /// Heap names (empty if `/dev/dma_heap` could not be read).
    pub fn heap_names(&self) -> &[String] {
        self.heaps.as_deref().unwrap_or(&[])
    }

    /// Whether `/dev/dma_heap/NAME` exists.
    pub fn has_heap(&self, name: &str) -> bool {
        self.heap_names().iter().any(|h| h == name)
    }

    /// Diagnostic lines printed after the KTAP version line.
    pub fn header(&self) -> Vec<String> {
        match &self.heaps {
            Ok(h) => vec![format!("heaps: {}", h.join(" "))],
            Err(e) => vec![format!("heaps: none ({e})")],
        }
    }

    /// Capacity of the CMA area behind CMA heap `heap`: from its
    /// device-tree node, else CMA debugfs, else, for the default area set
    /// up by the command line or Kconfig (`reserved`), `CmaTotal` less the
    /// device-tree areas, else `CmaTotal` as a bound.
    pub fn cma_capacity(&self, heap: &str) -> Option<u64> {
        if let Some(size) = self.inventory.region(heap).and_then(|r| r.bytes()) {
            return Some(size);
        }
        let area = if heap == DEFAULT_CMA_REGION {
            DEFAULT_CMA_AREA
        } else {
            heap
        };
        let count = Path::new(self.cma_debugfs).join(area).join("count");
        if let Some(pages) = std::fs::read_to_string(count)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            return Some(pages * self.page_size);
        }
        if self.is_default_cma_area(heap) {
            let dt: u64 = self
                .inventory
                .regions
                .iter()
                .filter(|r| r.is_cma_area())
                .filter_map(|r| r.bytes())
                .sum();
            if let Some(rest) = self.cma_total.and_then(|t| t.checked_sub(dt)) {
                if rest > 0 {
                    return Some(rest);
                }
            }
        }
        self.cma_total
    }

    /// Whether CMA heap `heap` is the default CMA area set up from the
    /// command line or Kconfig (no `linux,cma-default` node): the CMA heap
    /// exports it as `default_cma_region` and again under its area name
    /// `reserved`.
    pub fn is_default_cma_area(&self, heap: &str) -> bool {
        (heap == DEFAULT_CMA_REGION || heap == DEFAULT_CMA_AREA)
            && !self
                .inventory
                .regions
                .iter()
                .any(|r| r.is_cma_area() && r.cma_default)
    }

    /// If heap `heap` is the default CMA area again under another name
    /// (`reserved`, or the `linux,cma-default` node's name) while
    /// `default_cma_region` exists: `Some("default_cma_region")`.
    pub fn cma_alias_of(&self, heap: &str) -> Option<&'static str> {
        const DEFAULT: &str = DEFAULT_CMA_REGION;
        if heap == DEFAULT || !self.has_heap(DEFAULT) {
            return None;
        }
        let dt_default = self
            .inventory
            .regions
            .iter()
            .any(|r| r.is_cma_area() && r.cma_default && r.name == heap);
        (dt_default || self.is_default_cma_area(heap)).then_some(DEFAULT)
    }
}

/// A `/proc/meminfo` field (`Key:   1234 kB`) in bytes.
pub fn meminfo_bytes(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let mut parts = v.split_whitespace();
        let n: u64 = parts.next()?.parse().ok()?;
        match parts.next() {
            Some("kB") => n.checked_mul(1024),
            None => Some(n),
            Some(_) => None,
        }
    })
}

/// Prints the KTAP report of all suites to `out`.
pub fn run_all<W: Write>(out: &mut ktap::Writer<W>, env: &Env) -> io::Result<Totals> {
    ktap::run(out, &env.header(), SUITES, env)
}

/// Turns a fallible case body into an outcome: errors fail the case with
/// their message (which names heap and operation).
fn checked(f: impl FnOnce() -> Result<Outcome>) -> Outcome {
    f().unwrap_or_else(|e| Outcome::Fail(e.to_string()))
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

fn heap_list(env: &Env) -> Vec<Case<Env>> {
    let mut cases = vec![
        Case::new(
            "dev_dma_heap_present",
            |env: &Env, _: &mut Log| match &env.heaps {
                Ok(h) if h.is_empty() => {
                    Outcome::Fail(format!("{} is empty", crate::heap::DEV_DMA_HEAP))
                }
                Ok(_) => Outcome::Pass,
                Err(e) => Outcome::Fail(e.clone()),
            },
        ),
        Case::new("system_heap_present", |env: &Env, _: &mut Log| {
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
            move |_: &Env, _: &mut Log| checked(|| Heap::open(&h).map(|_| Outcome::Pass)),
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
    env: &Env,
) -> Vec<Case<Env>> {
    let mut cases = Vec::new();
    for size in SIZES {
        let name = format!("{prefix}alloc_{}", size_tag(size));
        match capacity {
            Some(cap) if size > cap => cases.push(Case::skip(
                name,
                format!("heap '{heap}' holds only {}", format_size(cap)),
            )),
            _ => {
                let h = heap.to_owned();
                cases.push(Case::new(name, move |env: &Env, log: &mut Log| {
                    exercise(&h, size, env, log)
                }));
            }
        }
    }

    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_unaligned_rounds_up"),
        move |env: &Env, _: &mut Log| {
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

    // dma_heap_ioctl_allocate(): PAGE_ALIGN(len) == 0 -> EINVAL.
    let h = heap.to_owned();
    cases.push(Case::new(
        format!("{prefix}alloc_len_zero_einval"),
        move |_: &Env, _: &mut Log| {
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
        move |_: &Env, _: &mut Log| {
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
    // killer runs, which panics the kernel when the only task is init.
    let name = format!("{prefix}alloc_larger_than_ram_enomem");
    if kind == HeapKind::System {
        cases.push(Case::skip(
            name,
            "the system heap allocates page by page until the OOM killer runs (a kernel panic under PID 1)",
        ));
    } else {
        let h = heap.to_owned();
        let len = align_up(
            env.mem_total
                .unwrap_or(1 << 40)
                .max(capacity.unwrap_or(0))
                .saturating_mul(2)
                .min(1 << 62),
            env.page_size,
        );
        cases.push(Case::new(name, move |_: &Env, _: &mut Log| {
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
            move |_: &Env, _: &mut Log| {
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
        move |env: &Env, _: &mut Log| {
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
        move |env: &Env, _: &mut Log| {
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
        move |env: &Env, _: &mut Log| {
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
        move |env: &Env, _: &mut Log| {
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
        move |env: &Env, _: &mut Log| {
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
fn exercise(h: &str, size: u64, env: &Env, _log: &mut Log) -> Outcome {
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

fn system_heap(env: &Env) -> Vec<Case<Env>> {
    heap_cases(SYSTEM, "", env.mem_total, HeapKind::System, env)
}

// ---------------------------------------------------------------- cma_heap

fn cma_heap(env: &Env) -> Vec<Case<Env>> {
    let heaps: Vec<String> = env
        .heap_names()
        .iter()
        .filter(|h| env.inventory.kind(h) == HeapKind::Cma)
        .cloned()
        .collect();
    let mut cases = Vec::new();
    let found = heaps.clone();
    cases.push(Case::new(
        "cma_heap_present",
        move |env: &Env, log: &mut Log| {
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
                    _ => Outcome::Skip("no CMA area (CmaTotal is 0)".into()),
                }
            }
        },
    ));
    // Every reusable device-tree node must have become a heap.
    for r in env.inventory.regions.iter().filter(|r| r.is_cma_area()) {
        let node = r.name.clone();
        cases.push(Case::new(
            format!("{node}_present"),
            move |env: &Env, _: &mut Log| {
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

fn reserved_memory_dt(env: &Env) -> Vec<Case<Env>> {
    let mut cases = vec![Case::new(
        "reserved_memory_parses",
        |env: &Env, log: &mut Log| match &env.reserved {
            Err(e) => Outcome::Fail(e.clone()),
            Ok(None) if env.requested_nodes.is_empty() => {
                Outcome::Skip("the device tree has no /reserved-memory".into())
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
    )];
    for node in &env.requested_nodes {
        let node = node.clone();
        cases.push(Case::new(node.clone(), move |env: &Env, _: &mut Log| {
            check_node(env, &node)
        }));
    }
    cases
}

fn check_node(env: &Env, node: &str) -> Outcome {
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

fn coherent_heap(env: &Env) -> Vec<Case<Env>> {
    let plan = &env.inventory.coherent;
    let expected: Vec<String> = plan.heap_names().into_iter().map(str::to_owned).collect();

    let mut cases = Vec::new();
    let exp = expected.clone();
    cases.push(Case::new(
        "driver_present",
        move |env: &Env, log: &mut Log| {
            log.note(format!(
                "expected heaps: {}",
                if exp.is_empty() {
                    "none".to_string()
                } else {
                    exp.join(" ")
                }
            ));
            if Path::new(COHERENT_MODULE).exists() {
                log.note(format!("{COHERENT_MODULE} exists"));
            }
            if env.coherent_debugfs.is_dir() {
                log.note(format!("{} exists", env.coherent_debugfs.display()));
            }
            Outcome::Pass
        },
    ));
    if let Err(e) = &env.reserved {
        let e = e.clone();
        cases.push(Case::new(
            "reserved_memory_readable",
            move |_: &Env, _: &mut Log| Outcome::Fail(e.clone()),
        ));
    }

    for a in plan.exported() {
        let heap = a.name.clone();
        let node = a.name.clone();
        cases.push(Case::new(
            format!("{heap}_present"),
            move |env: &Env, _: &mut Log| {
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
    for r in plan.verdicts.iter().filter(|v| v.heap().is_none()) {
        let Some(region) = env.inventory.region_at(&r.path) else {
            continue;
        };
        if !region.is_shared_dma_pool() || (region.reusable && !region.dma_heap) {
            continue;
        }
        let refused = r.clone();
        let owner = plan.owner_of(&r.name, &r.path);
        cases.push(Case::new(format!("refused_{}", r.name), move |env: &Env, log: &mut Log| {
            log.note(format!("node '{}': {}", refused.name, refused.decision));
            if refused.name.is_empty() || !env.has_heap(&refused.name) {
                return Outcome::Pass;
            }
            match &owner {
                None => Outcome::Fail(format!(
                    "heap '{}' exists but node '{}' must not be exported ({})",
                    refused.name, refused.name, refused.decision
                )),
                Some(owner) => Outcome::Skip(format!(
                    "heap name '{}' belongs to {owner}; a duplicate cannot be told apart from user space",
                    refused.name
                )),
            }
        }));
    }

    gate(env, cases)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, tests::CELLS};

    pub(crate) fn env(heaps: &[&str], regions: Vec<crate::dt::Region>, requested: &[&str]) -> Env {
        Env {
            heaps: Ok(heaps.iter().map(|s| s.to_string()).collect()),
            reserved: Ok(Some(ReservedMemory {
                path: "/proc/device-tree/reserved-memory".into(),
                cells: CELLS,
                regions: regions.clone(),
                dt_order: true,
            })),
            inventory: Inventory::new(regions),
            requested_nodes: requested.iter().map(|s| s.to_string()).collect(),
            coherent_module: false,
            module: ModuleInfo::default(),
            coherent_debugfs: "/nonexistent/coherent_heap".into(),
            page_size: 4096,
            mem_total: Some(1 << 30),
            cma_total: Some(16 << 20),
            cma_debugfs: "/nonexistent",
            kselftest: "/nonexistent/dmabuf-heap".into(),
            kselftest_timeout: Duration::from_secs(5),
            kmemleak: "/nonexistent/kmemleak".into(),
            kmemleak_wait: Duration::ZERO,
            kmemleak_param: None,
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

    fn names(cases: &[Case<Env>]) -> Vec<&str> {
        cases.iter().map(|c| c.name.as_str()).collect()
    }

    pub(crate) fn run_suite(suite: &str, env: &Env) -> String {
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
        assert_eq!(names[0], "heap_list");
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
                "alloc_len_zero_einval",
                "alloc_len_overflow_einval",
                "alloc_larger_than_ram_enomem",
                "alloc_bad_fd_flags_einval",
                "alloc_bad_heap_flags_einval",
                "alloc_nonzero_fd_field_einval",
                "set_name",
                "set_name_too_long_einval"
            ]
        );
    }

    #[test]
    fn cma_cases_skip_sizes_beyond_capacity() {
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
        assert!(n.contains(&"linux_cma_alloc_8m"));
        assert_eq!(e.cma_capacity("linux,cma"), Some(2 << 20));
        assert_eq!(e.cma_capacity("default_cma_region"), Some(2 << 20));
        assert_eq!(e.cma_capacity("reserved"), Some(16 << 20));
    }

    #[test]
    fn coherent_suite_skips_everything_without_driver() {
        let e = env(&["system"], vec![coherent_region("camera@70000000")], &[]);
        let out = run_suite("coherent_heap", &e);
        assert!(
            out.contains("    ok 1 driver_present # SKIP coherent heap driver not present\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "    ok 2 camera_70000000_present # SKIP coherent heap driver not present\n"
            ),
            "{out}"
        );
        assert!(!out.contains("not ok"), "{out}");
        assert!(
            out.ends_with("ok 1 coherent_heap # SKIP coherent heap driver not present\n"),
            "{out}"
        );
    }

    #[test]
    fn coherent_suite_checks_refusals_when_driver_present() {
        let mut mapped = coherent_region("mapped@71000000");
        mapped.no_map = false;
        let size = be32(&[0, 0x40_0000]);
        let system = parse_region(
            Path::new("/t"),
            "system",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &size),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ]),
            CELLS,
        )
        .unwrap();
        let regions = vec![
            coherent_region("camera@70000000"),
            // Its own heap: names differ by their unit address.
            coherent_region("camera@78000000"),
            system,
            mapped,
        ];
        let mut e = env(
            &["camera@70000000", "mapped@71000000", "system"],
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
        // 2 MiB pool: the 8 MiB case is skipped without running.
        assert!(n.contains(&"camera_70000000_alloc_8m"));
        assert_eq!(
            &n[n.len() - 2..],
            ["refused_system", "refused_mapped_71000000"]
        );
        // Run only the presence and refusal cases (the others would open /dev/dma_heap).
        let mut w = ktap::Writer::new(Vec::new());
        fn refusals(env: &Env) -> Vec<Case<Env>> {
            coherent_heap(env)
                .into_iter()
                .filter(|c| {
                    c.name.starts_with("refused_")
                        || c.name.ends_with("_present")
                        || c.name == "camera_70000000_alloc_8m"
                })
                .collect()
        }
        let suites = [Suite {
            name: "coherent_heap",
            cases: refusals,
        }];
        ktap::run(&mut w, &[], &suites, &e).unwrap();
        let out = String::from_utf8(w.into_inner()).unwrap();
        assert!(out.contains("    ok 1 driver_present\n"), "{out}");
        assert!(out.contains("    ok 2 camera_70000000_present\n"), "{out}");
        assert!(
            out.contains("    ok 3 camera_70000000_alloc_8m # SKIP heap 'camera@70000000' holds only 2 MiB\n"),
            "{out}"
        );
        assert!(
            out.contains("    # camera_78000000_present: node 'camera@78000000' should have made heap 'camera@78000000'\n    not ok 4 camera_78000000_present\n"),
            "{out}"
        );
        assert!(out.contains("ok 5 refused_system # SKIP heap name 'system' belongs to mainline heap 'system' (the system heap)"), "{out}");
        assert!(out.contains("    # refused_mapped_71000000: heap 'mapped@71000000' exists but node 'mapped@71000000' must not be exported (System RAM: no no-map (mapped pools cannot be write-combined))\n    not ok 6 refused_mapped_71000000\n"), "{out}");
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
    fn qemu_like() -> Env {
        let node = |name: &str, base: u32, size: u32, extra: &[(&str, &[u8])]| {
            let reg = be32(&[0, base, 0, size]);
            let mut list: Vec<(&str, &[u8])> =
                vec![("compatible", b"shared-dma-pool\0"), ("reg", &reg)];
            list.extend_from_slice(extra);
            parse_region(Path::new("/t"), name, &props(&list), CELLS).unwrap()
        };
        let heap: &[(&str, &[u8])] = &[("no-map", b""), ("linux,dma-heap", b"")];
        let size = be32(&[0, 0x40_0000]);
        let scratch = parse_region(
            Path::new("/t"),
            "scratch",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &size),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ]),
            CELLS,
        )
        .unwrap();
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
            scratch,
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
    fn coherent_suites_skip_without_driver() {
        let mut e = qemu_like();
        e.coherent_module = false;
        e.heaps = Ok(vec!["system".into()]);
        for suite in [
            "coherent_debugfs",
            "coherent_alloc",
            "coherent_stress",
            "coherent_log",
        ] {
            let out = run_suite(suite, &e);
            assert!(!out.contains("not ok"), "{out}");
            assert!(
                out.ends_with(&format!(
                    "ok 1 {suite} # SKIP coherent heap driver not present\n"
                )),
                "{out}"
            );
        }
        // Not started as init, no module file: the driver counts as absent.
        let out = run_suite("coherent_module", &e);
        assert!(
            out.contains("ok 1 module_load # SKIP coherent heap driver not present"),
            "{out}"
        );
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

    #[test]
    fn meminfo_parsing() {
        let text = "MemTotal:        2014512 kB\nMemFree:         1900000 kB\nCmaTotal:          16384 kB\nHugePages_Total:       0\n";
        assert_eq!(meminfo_bytes(text, "MemTotal"), Some(2014512 * 1024));
        assert_eq!(meminfo_bytes(text, "CmaTotal"), Some(16 << 20));
        assert_eq!(meminfo_bytes(text, "HugePages_Total"), Some(0));
        assert_eq!(meminfo_bytes(text, "Nope"), None);
    }
}
