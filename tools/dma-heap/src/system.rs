//! What `dma-heap` knows about the system it works on, gathered once: the
//! heaps, the device tree's `/reserved-memory`, the kernel command line and
//! what the kernel was built with. `list`, `demo`, `test` and `bench` all
//! start from one [`System`].
//!
//! Two ways to get one:
//!
//! - [`System::probe`]: the running system (`/dev/dma_heap`,
//!   `/proc/device-tree`, `/proc/cmdline`, `/proc/meminfo`, the module
//!   files). What the test image's runner uses.
//! - [`System::describe`]: a boot described by its inputs, without running
//!   it: the DTB it boots with, its kernel command line and its kernel
//!   configuration ([`Kernel::from_config`]). The heaps are the ones those
//!   inputs make the kernel create. `dma-heap test --list --dtb` uses it on
//!   the build host to say which cases a boot must run and pass.
//!
//! The suites list their cases from a `System` alone and touch the system
//! only when a case runs, so both give the same case names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use heap_rules::mainline::{DEFAULT_CMA_AREA, DEFAULT_CMA_REGION, SYSTEM};

use crate::cmdline::Cmdline;
use crate::dt::{self, Region, ReservedMemory};
use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::inventory::Inventory;
use crate::module::{self, LoadOutcome};
use crate::suites::{kmemleak, kselftest};
use crate::sys;

/// `/sys/module/coherent_heap`: present when the coherent heap driver is
/// loaded as a module (built in, it only appears if the driver has
/// parameters visible in sysfs, which Rust module parameters are not).
pub const COHERENT_MODULE: &str = "/sys/module/coherent_heap";

/// CMA's debugfs directory, one subdirectory per area.
pub const CMA_DEBUGFS: &str = "/sys/kernel/debug/cma";

/// `modules.builtin` of a kernel release: the modules built into it, as
/// `modules_install` writes it (paths relative to `/lib/modules/RELEASE`).
pub const MODULES_BUILTIN: &str = "modules.builtin";

/// How the kernel has the coherent heap driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Built in (`=y`).
    BuiltIn,
    /// A loadable module (`=m`).
    Module,
    /// Not at all.
    Absent,
}

/// What the kernel was built with, as far as the suites care: from its
/// configuration ([`Kernel::from_config`]) or, when that is not at hand,
/// from what the running system shows ([`Kernel::probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// `CONFIG_DMABUF_HEAPS_COHERENT`.
    pub coherent: Build,
    /// `CONFIG_DEBUG_KMEMLEAK`.
    pub kmemleak: bool,
    /// `CONFIG_DRM_VGEM`: the dmabuf-heaps selftest imports into vgem.
    pub vgem: bool,
    /// `CONFIG_DMABUF_HEAPS_SYSTEM`.
    pub system_heap: bool,
    /// `CONFIG_DMABUF_HEAPS_CMA`.
    pub cma_heap: bool,
    /// `CONFIG_CMA_SIZE_MBYTES` in bytes: the default CMA area when the
    /// device tree has none (`cma=` on the command line overrides it).
    pub cma_default: u64,
    /// MMU page size (`CONFIG_ARM64_*K_PAGES`).
    pub page_size: u64,
}

impl Kernel {
    /// From a kernel `.config` (`out/kernel.config`): `CONFIG_X=y`, `=m`,
    /// `=value`, and `# CONFIG_X is not set` (the same as absent).
    pub fn from_config(path: &Path, text: &str) -> Result<Kernel> {
        let mut values = BTreeMap::new();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.starts_with("CONFIG_") && !key.contains(char::is_whitespace) {
                values.insert(key, value.trim_matches('"'));
            }
        }
        if !values.contains_key("CONFIG_ARM64") && !values.contains_key("CONFIG_MMU") {
            return Err(Error::Format {
                path: path.to_owned(),
                msg: "not a kernel configuration: no CONFIG_ARM64 nor CONFIG_MMU".into(),
            });
        }
        let on = |k: &str| matches!(values.get(k), Some(&"y") | Some(&"m"));
        let cma_mbytes: u64 = match values.get("CONFIG_CMA_SIZE_MBYTES") {
            None => 0,
            Some(v) => v.parse().map_err(|_| Error::Format {
                path: path.to_owned(),
                msg: format!("CONFIG_CMA_SIZE_MBYTES={v}: not a number"),
            })?,
        };
        let page_size = if on("CONFIG_ARM64_64K_PAGES") {
            64 << 10
        } else if on("CONFIG_ARM64_16K_PAGES") {
            16 << 10
        } else {
            4 << 10
        };
        Ok(Kernel {
            coherent: match values.get("CONFIG_DMABUF_HEAPS_COHERENT") {
                Some(&"y") => Build::BuiltIn,
                Some(&"m") => Build::Module,
                _ => Build::Absent,
            },
            kmemleak: on("CONFIG_DEBUG_KMEMLEAK"),
            vgem: on("CONFIG_DRM_VGEM"),
            system_heap: on("CONFIG_DMABUF_HEAPS_SYSTEM"),
            cma_heap: on("CONFIG_DMABUF_HEAPS_CMA") && on("CONFIG_DMA_CMA"),
            cma_default: if on("CONFIG_DMA_CMA") {
                cma_mbytes << 20
            } else {
                0
            },
            page_size,
        })
    }

    /// Reads [`Kernel::from_config`]'s file.
    pub fn read_config(path: &Path) -> Result<Kernel> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        Kernel::from_config(path, &text)
    }

    /// From the running system, for a kernel whose configuration is not at
    /// hand: the driver is built in if `modules.builtin` lists it and a
    /// module if the image has its file; kmemleak if its debugfs file
    /// exists; vgem if its device exists; CMA from `CmaTotal`.
    pub fn probe(mem: &MemInfo) -> Kernel {
        let release = sys::kernel_release().unwrap_or_default();
        let modules = Path::new(module::LIB_MODULES).join(&release);
        let builtin = std::fs::read_to_string(modules.join(MODULES_BUILTIN))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == module::REL_PATH));
        let coherent = if builtin {
            Build::BuiltIn
        } else if module::find_file(Path::new(module::LIB_MODULES), &release).is_some() {
            Build::Module
        } else {
            Build::Absent
        };
        Kernel {
            coherent,
            kmemleak: Path::new(kmemleak::KMEMLEAK).exists(),
            vgem: ["/sys/devices/faux/vgem", "/sys/devices/platform/vgem"]
                .iter()
                .any(|p| Path::new(p).exists()),
            system_heap: true,
            cma_heap: mem.cma_total.is_some_and(|n| n > 0),
            cma_default: 0,
            page_size: sys::page_size(),
        }
    }
}

/// The `/proc/meminfo` fields the suites use, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemInfo {
    /// `MemTotal`.
    pub mem_total: Option<u64>,
    /// `CmaTotal`.
    pub cma_total: Option<u64>,
}

impl MemInfo {
    /// Parses `/proc/meminfo`.
    pub fn parse(text: &str) -> MemInfo {
        MemInfo {
            mem_total: meminfo_bytes(text, "MemTotal"),
            cma_total: meminfo_bytes(text, "CmaTotal"),
        }
    }

    /// Reads `/proc/meminfo` (empty if it cannot be read).
    pub fn read() -> MemInfo {
        MemInfo::parse(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default())
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

/// The coherent heap driver as a module.
#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    /// Its file for the running kernel, when the image has one.
    pub file: Option<PathBuf>,
    /// What init did to load it (`None`: not started as init).
    pub load: Option<LoadOutcome>,
}

/// What `dma-heap` knows about the system, gathered once.
#[derive(Debug)]
pub struct System {
    /// Names in `/dev/dma_heap`, or why they could not be read. For a
    /// described boot: the heaps its kernel and device tree create.
    pub heaps: std::result::Result<Vec<String>, String>,
    /// `/reserved-memory`, `None` if the device tree has none.
    pub reserved: std::result::Result<Option<ReservedMemory>, String>,
    /// Regions and the coherent heaps expected from them.
    pub inventory: Inventory,
    /// `dmaheap.regions=`: nodes the test overlay added.
    pub requested_nodes: Vec<String>,
    /// `dmaheap.suites=`: the suites to run, `None` for all.
    pub suites: Option<Vec<String>>,
    /// `dmaheap.load=defer`: the `coherent_load_faults` suite loads the
    /// module.
    pub load_deferred: bool,
    /// The coherent heap driver is there: `/sys/module/coherent_heap` (a
    /// loaded module) or its debugfs directory (built in or loaded) exists.
    pub coherent_module: bool,
    /// The driver as a loadable module.
    pub module: ModuleInfo,
    /// What the kernel was built with.
    pub kernel: Kernel,
    /// The driver's debugfs directory (`/sys/kernel/debug/coherent_heap`).
    pub coherent_debugfs: PathBuf,
    /// MMU page size.
    pub page_size: u64,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub mem_total: Option<u64>,
    /// `CmaTotal` from `/proc/meminfo`, in bytes.
    pub cma_total: Option<u64>,
    /// Directory of CMA debugfs entries ([`CMA_DEBUGFS`]); `None` for a
    /// described boot.
    pub cma_debugfs: Option<PathBuf>,
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
    /// This program, for the stress test's children (`/proc/self/exe`).
    pub exe: PathBuf,
}

impl System {
    /// Looks at the running system. `load` is what init did to load the
    /// coherent heap module, if it ran; `kernel` what the kernel was built
    /// with, if known (else [`Kernel::probe`]).
    pub fn probe(cmdline: &Cmdline, load: Option<LoadOutcome>, kernel: Option<Kernel>) -> System {
        let heaps = Heap::list().map_err(|e| e.to_string());
        let reserved = dt::read_system().map_err(|e| e.to_string());
        let regions = match &reserved {
            Ok(Some(rm)) => rm.regions.clone(),
            _ => Vec::new(),
        };
        let mem = MemInfo::read();
        let coherent_debugfs = PathBuf::from(crate::debugfs::COHERENT_DEBUGFS);
        System {
            heaps,
            reserved,
            inventory: Inventory::new(regions),
            requested_nodes: cmdline.regions(),
            suites: cmdline.suites(),
            load_deferred: cmdline.load_deferred().unwrap_or(false),
            coherent_module: Path::new(COHERENT_MODULE).exists() || coherent_debugfs.is_dir(),
            module: ModuleInfo {
                file: module::running_kernel_file(),
                load,
            },
            kernel: kernel.unwrap_or_else(|| Kernel::probe(&mem)),
            coherent_debugfs,
            page_size: sys::page_size(),
            mem_total: mem.mem_total,
            cma_total: mem.cma_total,
            cma_debugfs: Some(PathBuf::from(CMA_DEBUGFS)),
            kselftest: PathBuf::from(kselftest::DMABUF_HEAP_SELFTEST),
            kselftest_timeout: kselftest::TIMEOUT,
            kmemleak: PathBuf::from(kmemleak::KMEMLEAK),
            kmemleak_wait: kmemleak::MIN_AGE,
            kmemleak_param: cmdline.get("kmemleak").map(str::to_owned),
            exe: PathBuf::from("/proc/self/exe"),
        }
    }

    /// Describes the boot of `kernel` with the flattened device tree
    /// `dtb` (read from `path`) and command line `cmdline`, without
    /// touching the system this runs on: the heaps are the ones that
    /// kernel creates from that tree (system, CMA and coherent).
    pub fn describe(path: &Path, dtb: &[u8], cmdline: &Cmdline, kernel: Kernel) -> Result<System> {
        let reserved = reserved_memory_of_dtb(path, dtb)?;
        let regions = reserved
            .as_ref()
            .map(|rm| rm.regions.clone())
            .unwrap_or_default();
        let inventory = Inventory::new(regions);
        let cma = cma_areas(&inventory.regions, cmdline, &kernel);
        let mut heaps: Vec<String> = Vec::new();
        if kernel.system_heap {
            heaps.push(SYSTEM.into());
        }
        heaps.extend(cma.iter().map(|(h, _)| h.clone()));
        if kernel.coherent != Build::Absent {
            heaps.extend(
                inventory
                    .coherent
                    .heap_names()
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        heaps.sort();
        heaps.dedup();
        // CmaTotal counts each area once; the default area's heap
        // (default_cma_region) is a second name for one of them.
        let cma_total = cma
            .iter()
            .filter(|(h, _)| h != DEFAULT_CMA_REGION)
            .map(|(_, s)| s)
            .sum();
        Ok(System {
            heaps: Ok(heaps),
            reserved: Ok(reserved),
            inventory,
            requested_nodes: cmdline.regions(),
            suites: cmdline.suites(),
            load_deferred: cmdline.load_deferred().unwrap_or(false),
            coherent_module: kernel.coherent != Build::Absent,
            module: ModuleInfo::default(),
            coherent_debugfs: PathBuf::from(crate::debugfs::COHERENT_DEBUGFS),
            page_size: kernel.page_size,
            mem_total: None,
            cma_total: Some(cma_total),
            cma_debugfs: None,
            kselftest: PathBuf::from(kselftest::DMABUF_HEAP_SELFTEST),
            kselftest_timeout: kselftest::TIMEOUT,
            kmemleak: PathBuf::from(kmemleak::KMEMLEAK),
            kmemleak_wait: kmemleak::MIN_AGE,
            kmemleak_param: cmdline.get("kmemleak").map(str::to_owned),
            exe: PathBuf::from("/proc/self/exe"),
            kernel,
        })
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
        if let Some(dir) = &self.cma_debugfs {
            if let Some(pages) = std::fs::read_to_string(dir.join(area).join("count"))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
            {
                return Some(pages * self.page_size);
            }
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
        if heap == DEFAULT_CMA_REGION || !self.has_heap(DEFAULT_CMA_REGION) {
            return None;
        }
        let dt_default = self
            .inventory
            .regions
            .iter()
            .any(|r| r.is_cma_area() && r.cma_default && r.name == heap);
        (dt_default || self.is_default_cma_area(heap)).then_some(DEFAULT_CMA_REGION)
    }
}

/// The CMA heaps a kernel creates (name, area size): `default_cma_region`
/// for the default area (the `linux,cma-default` node, else `cma=` or
/// `CONFIG_CMA_SIZE_MBYTES` as the area `reserved`), then every area under
/// its own name (`add_cma_heaps()` of `drivers/dma-buf/heaps/cma_heap.c`).
fn cma_areas(regions: &[Region], cmdline: &Cmdline, kernel: &Kernel) -> Vec<(String, u64)> {
    if !kernel.cma_heap {
        return Vec::new();
    }
    let mut areas: Vec<(String, u64)> = Vec::new();
    let dt_default = regions.iter().find(|r| r.is_cma_area() && r.cma_default);
    let kconfig = match cmdline.get("cma") {
        Some(v) => {
            crate::size::parse_size("cma=", v.split(['@', '-']).next().unwrap_or("")).unwrap_or(0)
        }
        None => kernel.cma_default,
    };
    match dt_default {
        Some(r) => areas.push((DEFAULT_CMA_REGION.into(), r.bytes().unwrap_or(0))),
        None if kconfig > 0 => {
            areas.push((DEFAULT_CMA_REGION.into(), kconfig));
            areas.push((DEFAULT_CMA_AREA.into(), kconfig));
        }
        None => {}
    }
    for r in regions.iter().filter(|r| r.is_cma_area()) {
        areas.push((r.name.clone(), r.bytes().unwrap_or(0)));
    }
    areas
}

/// `/reserved-memory` of a flattened device tree, its children in blob
/// order, read with `heap-rules`' walker and checked as
/// [`dt::read_reserved_memory`] checks `/proc/device-tree`: a property the
/// kernel could not read either is an error naming it.
pub fn reserved_memory_of_dtb(path: &Path, dtb: &[u8]) -> Result<Option<ReservedMemory>> {
    let tree = heap_rules::Tree::from_bytes(dtb).map_err(|e| Error::Format {
        path: path.to_owned(),
        msg: format!("not a flattened device tree: {e}"),
    })?;
    let Some(rm) = heap_rules::ReservedMemory::from_tree(&tree) else {
        return Ok(None);
    };
    let dir = path.join("reserved-memory");
    let cells = rm.cells();
    let regions = rm
        .regions
        .into_iter()
        .map(|r| dt::check_region(&dir.join(&r.name), r))
        .collect::<Result<Vec<Region>>>()?;
    Ok(Some(ReservedMemory {
        path: dir,
        cells,
        regions,
        dt_order: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_parsing() {
        let text = "MemTotal:        2014512 kB\nMemFree:         1900000 kB\nCmaTotal:          16384 kB\nHugePages_Total:       0\n";
        assert_eq!(meminfo_bytes(text, "MemTotal"), Some(2014512 * 1024));
        assert_eq!(meminfo_bytes(text, "CmaTotal"), Some(16 << 20));
        assert_eq!(meminfo_bytes(text, "HugePages_Total"), Some(0));
        assert_eq!(meminfo_bytes(text, "Nope"), None);
        assert_eq!(
            MemInfo::parse(text),
            MemInfo {
                mem_total: Some(2014512 * 1024),
                cma_total: Some(16 << 20)
            }
        );
    }

    const CONFIG: &str = "\
CONFIG_ARM64=y
CONFIG_DMABUF_HEAPS=y
CONFIG_DMABUF_HEAPS_SYSTEM=y
CONFIG_DMA_CMA=y
CONFIG_DMABUF_HEAPS_CMA=y
CONFIG_CMA_SIZE_MBYTES=48
CONFIG_DMABUF_HEAPS_COHERENT=m
# CONFIG_DEBUG_KMEMLEAK is not set
CONFIG_DRM_VGEM=y
CONFIG_ARM64_4K_PAGES=y
";

    #[test]
    fn kernel_from_config() {
        let k = Kernel::from_config(Path::new("kernel.config"), CONFIG).unwrap();
        assert_eq!(
            k,
            Kernel {
                coherent: Build::Module,
                kmemleak: false,
                vgem: true,
                system_heap: true,
                cma_heap: true,
                cma_default: 48 << 20,
                page_size: 4096,
            }
        );
        let debug = CONFIG
            .replace(
                "CONFIG_DMABUF_HEAPS_COHERENT=m",
                "CONFIG_DMABUF_HEAPS_COHERENT=y",
            )
            .replace(
                "# CONFIG_DEBUG_KMEMLEAK is not set",
                "CONFIG_DEBUG_KMEMLEAK=y",
            )
            .replace("CONFIG_DRM_VGEM=y", "");
        let k = Kernel::from_config(Path::new("k"), &debug).unwrap();
        assert_eq!(
            (k.coherent, k.kmemleak, k.vgem),
            (Build::BuiltIn, true, false)
        );
        let none = CONFIG.replace("CONFIG_DMABUF_HEAPS_COHERENT=m", "");
        assert_eq!(
            Kernel::from_config(Path::new("k"), &none).unwrap().coherent,
            Build::Absent
        );
        let e = Kernel::from_config(Path::new("dtb/x.dtb"), "junk\n").unwrap_err();
        assert!(
            e.to_string().contains("dtb/x.dtb")
                && e.to_string().contains("not a kernel configuration"),
            "{e}"
        );
        let e = Kernel::from_config(
            Path::new("k"),
            "CONFIG_ARM64=y\nCONFIG_CMA_SIZE_MBYTES=lots\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("CONFIG_CMA_SIZE_MBYTES=lots"), "{e}");
    }
}
