//! Which `/reserved-memory` region the coherent heap driver (`coherent_heap.rs`) exports, under
//! which name, and what it prints for each: [`classify`].
//!
//! The driver looks at each child of `/reserved-memory` in flattened-tree order:
//!
//! 1. It skips, silently, a node that is not `compatible = "shared-dma-pool"`, is disabled
//!    (`status` other than `okay`/`ok`), is `reusable` (a CMA area, the CMA heap's), has
//!    `linux,dma-default` (the default pool of the consistent DMA allocator, which
//!    `dma_coherent_rmem_is_device_pool()` does not count as a per-device pool), or has no
//!    `linux,dma-heap` (the only way to opt in).
//! 2. It refuses, with one warning naming the node, a region
//!    - the kernel did not reserve ([`NOT_RESERVED`]);
//!    - whose name is empty or starts with `@` ([`NO_NAME`]);
//!    - named like a mainline heap ([`crate::mainline::MAINLINE_HEAPS`], [`NAME_TAKEN`]);
//!    - of size 0 ([`EMPTY`]);
//!    - that is System RAM, i.e. has no `no-map` ([`SYSTEM_RAM`]);
//!    - whose name another registered heap already has: `dma_heap_add()` returns `-EEXIST`
//!      ([`NAME_TAKEN`] again). In a device tree that is the CMA heap of a reusable region,
//!      which the CMA heap registers first (it comes first in `drivers/dma-buf/heaps/Makefile`
//!      and is built in), under the region's full node name.
//! 3. It exports the others, with one info line ([`EXPORTED`]).
//!
//! The heap name is the region's full node name as the kernel records it (`rmem->name`), unit
//! address included: `camera@70000000` gives `/dev/dma_heap/camera@70000000`, a dynamic region
//! `camera` (size only) gives `camera`.
//!
//! Every line starts with [`LOG_PREFIX`] (the driver's `pr_fmt`). The message templates are
//! the driver's format strings as they must appear in it; the `driver_patch` test of this crate
//! checks the kernel patch against [`CHECK_ORDER`].

use std::fmt;

use serde::{Serialize, Serializer};

use crate::mainline::{mainline_heap, MainlineHeap};
use crate::region::{Region, Reservation, OPT_IN_PROPERTY};

/// The prefix of every kernel log line of the driver (`pr_fmt`: the module name).
pub const LOG_PREFIX: &str = "coherent_heap: ";

/// The printk level of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `pr_warn!`.
    Warning,
    /// `pr_info!`.
    Info,
}

impl Level {
    /// The kernel macro that prints at this level.
    pub fn macro_name(self) -> &'static str {
        match self {
            Level::Warning => "pr_warn!",
            Level::Info => "pr_info!",
        }
    }
}

/// One message of the driver: its level and its format string, with the placeholders
/// `{path}` (the node's full path), `{name}` (the heap name), `{base:#x}` and `{size}` (the
/// region's base address and size in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its level.
    pub level: Level,
    /// Its text, without [`LOG_PREFIX`] and the final newline.
    pub template: &'static str,
}

/// The kernel did not reserve the region (no `struct reserved_mem` for it).
pub const NOT_RESERVED: Message = Message {
    level: Level::Warning,
    template: "{path}: not exported: the kernel did not reserve this region",
};
/// The region's name is empty or starts with `@`.
pub const NO_NAME: Message = Message {
    level: Level::Warning,
    template: "{path}: not exported: the node has no name to give the heap",
};
/// A mainline heap, or another registered heap, has the name.
pub const NAME_TAKEN: Message = Message {
    level: Level::Warning,
    template: "{path}: not exported: the heap name \"{name}\" is already taken",
};
/// The region has size 0.
pub const EMPTY: Message = Message {
    level: Level::Warning,
    template: "{path}: not exported: the region is empty",
};
/// The region is System RAM (no `no-map`): `memremap()` cannot map it write-combine.
pub const SYSTEM_RAM: Message = Message {
    level: Level::Warning,
    template: "{path}: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to {path}",
};
/// The heap is registered.
pub const EXPORTED: Message = Message {
    level: Level::Info,
    template: "{path}: heap \"{name}\" at {base:#x}, {size} bytes",
};

/// The driver's checks of an opted-in region, in its order, each with the message it prints:
/// reserved, named, not a mainline name, not empty, `no-map`, registered without `-EEXIST`,
/// exported.
pub const CHECK_ORDER: [Message; 7] = [
    NOT_RESERVED,
    NO_NAME,
    NAME_TAKEN,
    EMPTY,
    SYSTEM_RAM,
    NAME_TAKEN,
    EXPORTED,
];

/// Where the base address goes in [`Message::template`].
const BASE: &str = "{base:#x}";

impl Message {
    /// The kernel log line for the region at `path` with heap name `name`, base `base`
    /// (`None`: placed at boot, not known from the tree) and `size` bytes.
    pub fn line(&self, path: &str, name: &str, base: Option<u64>, size: u64) -> LogLine {
        let text = format!("{LOG_PREFIX}{}", self.template)
            .replace("{path}", path)
            .replace("{name}", name)
            .replace("{size}", &size.to_string());
        let (text, hole) = match (text.find(BASE), base) {
            (None, _) => (text, None),
            (Some(_), Some(b)) => (text.replace(BASE, &format!("{b:#x}")), None),
            (Some(at), None) => (text.replacen(BASE, "0x", 1), Some(at + 2)),
        };
        LogLine {
            level: self.level,
            path: path.to_string(),
            text,
            hole,
        }
    }
}

/// A kernel log line the driver prints for one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The region's path.
    pub path: String,
    /// The line as the kernel log shows it, [`LOG_PREFIX`] included; where the base address of a
    /// region placed at boot goes, only `0x`.
    pub text: String,
    /// Where the hex digits of an unknown base address go in `text`.
    pub hole: Option<usize>,
}

impl LogLine {
    /// Whether kernel log text `line` is this line (any hex digits for an unknown base).
    pub fn matches(&self, line: &str) -> bool {
        match self.hole {
            None => line == self.text,
            Some(at) => {
                let (before, after) = self.text.split_at(at);
                line.len() > self.text.len()
                    && line.starts_with(before)
                    && line.ends_with(after)
                    && line[at..line.len() - after.len()]
                        .chars()
                        .all(|c| c.is_ascii_hexdigit())
            }
        }
    }

    /// Whether `line` is a line of the driver about this line's region.
    pub fn is_about(&self, line: &str) -> bool {
        line.strip_prefix(LOG_PREFIX)
            .and_then(|l| l.strip_prefix(self.path.as_str()))
            .is_some_and(|l| l.starts_with(": "))
    }
}

/// The line, `...` standing for an unknown base address.
impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hole {
            None => f.write_str(&self.text),
            Some(at) => write!(f, "{}...{}", &self.text[..at], &self.text[at..]),
        }
    }
}

impl Serialize for LogLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why the driver passes over a node without a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    /// `compatible` lacks `shared-dma-pool`.
    NotSharedDmaPool,
    /// `status` is neither `okay` nor `ok`.
    Disabled,
    /// `reusable`: a CMA area.
    Reusable,
    /// `linux,dma-default`: the default DMA pool, not a per-device pool.
    DmaDefault,
    /// No `linux,dma-heap`.
    NotOptedIn,
}

/// Who has a heap name already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Owner {
    /// A mainline heap.
    Mainline {
        /// The name.
        name: &'static str,
        /// Who takes it.
        owner: &'static str,
    },
    /// The CMA heap of a reusable region.
    CmaHeap {
        /// The region's path.
        path: String,
    },
    /// The coherent heap of a region exported earlier.
    CoherentHeap {
        /// The region's path.
        path: String,
    },
}

impl Owner {
    fn mainline(h: &MainlineHeap) -> Owner {
        Owner::Mainline {
            name: h.name,
            owner: h.owner,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Mainline { name, owner } => write!(f, "mainline heap '{name}' ({owner})"),
            Owner::CmaHeap { path } => write!(f, "the CMA heap of {path}"),
            Owner::CoherentHeap { path } => write!(f, "the coherent heap of {path}"),
        }
    }
}

/// Why the driver refuses an opted-in region, with a warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Refusal {
    /// The kernel did not reserve it.
    NotReserved,
    /// Its name is empty or starts with `@`.
    NoName,
    /// Its name is taken.
    NameTaken {
        /// By whom.
        by: Owner,
    },
    /// Size 0.
    Empty,
    /// System RAM: no `no-map`.
    SystemRam,
}

/// What the driver does with a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// Passed over without a word.
    Skipped {
        /// Why.
        skip: Skip,
    },
    /// Refused, with a warning.
    Refused {
        /// Why.
        refusal: Refusal,
    },
    /// Exported as a heap.
    Exported,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Exported => "exported",
            Decision::Skipped { skip } => match skip {
                Skip::NotSharedDmaPool => "not compatible with \"shared-dma-pool\"",
                Skip::Disabled => "disabled (status)",
                Skip::Reusable => "reusable (a CMA area, for the CMA heap)",
                Skip::DmaDefault => "the default DMA pool (linux,dma-default)",
                Skip::NotOptedIn => return write!(f, "no {OPT_IN_PROPERTY} property"),
            },
            Decision::Refused { refusal } => match refusal {
                Refusal::NotReserved => "the kernel did not reserve it",
                Refusal::NoName => "no name to give the heap",
                Refusal::NameTaken { by } => return write!(f, "heap name taken by {by}"),
                Refusal::Empty => "the region is empty",
                Refusal::SystemRam => {
                    "System RAM: no no-map (mapped pools cannot be write-combined)"
                }
            },
        })
    }
}

/// What the driver does with one node, and what it prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The node's full path.
    pub path: String,
    /// Its full name: the name of the heap it becomes.
    pub name: String,
    /// The decision.
    pub decision: Decision,
    /// What the kernel recorded for it, if the driver looked.
    pub reservation: Option<Reservation>,
    /// The line the driver prints for it; `None` when it skips the node.
    pub line: Option<LogLine>,
}

impl Verdict {
    /// The heap's name, if the node is exported.
    pub fn heap(&self) -> Option<&str> {
        (self.decision == Decision::Exported).then_some(self.name.as_str())
    }

    /// The refusal, if the node is refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.decision {
            Decision::Refused { refusal } => Some(refusal),
            _ => None,
        }
    }
}

/// The verdicts for every child of `/reserved-memory`, in tree order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// One per region, in the order given.
    pub verdicts: Vec<Verdict>,
    /// The CMA heaps the regions make: `(heap name, region path)`.
    pub cma_heaps: Vec<(String, String)>,
}

impl Classification {
    /// The exported regions, in tree order.
    pub fn exported(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts
            .iter()
            .filter(|v| v.decision == Decision::Exported)
    }

    /// The names of the exported heaps, in tree order.
    pub fn heap_names(&self) -> Vec<&str> {
        self.exported().map(|v| v.name.as_str()).collect()
    }

    /// The exported region whose heap is `name`.
    pub fn heap(&self, name: &str) -> Option<&Verdict> {
        self.exported().find(|v| v.name == name)
    }

    /// The verdict for the region at `path`.
    pub fn verdict(&self, path: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.path == path)
    }

    /// Every line the driver prints, in order.
    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.verdicts.iter().filter_map(|v| v.line.as_ref())
    }

    /// Whether kernel log text `line` is one the driver prints for these regions.
    pub fn accounts_for(&self, line: &str) -> bool {
        self.lines().any(|l| l.matches(line))
    }

    /// Who other than the region at `except` has heap name `name`: a mainline heap, the CMA
    /// heap of a reusable region, or an exported region.
    pub fn owner_of(&self, name: &str, except: &str) -> Option<Owner> {
        if let Some(h) = mainline_heap(name) {
            return Some(Owner::mainline(h));
        }
        if let Some((_, path)) = self
            .cma_heaps
            .iter()
            .find(|(n, p)| n == name && p != except)
        {
            return Some(Owner::CmaHeap { path: path.clone() });
        }
        self.exported()
            .find(|v| v.name == name && v.path != except)
            .map(|v| Owner::CoherentHeap {
                path: v.path.clone(),
            })
    }
}

/// Why the driver passes over `r` silently, if it does.
fn skip(r: &Region) -> Option<Skip> {
    if !r.is_shared_dma_pool() {
        Some(Skip::NotSharedDmaPool)
    } else if !r.is_enabled() {
        Some(Skip::Disabled)
    } else if r.reusable {
        Some(Skip::Reusable)
    } else if r.dma_default {
        Some(Skip::DmaDefault)
    } else if !r.dma_heap {
        Some(Skip::NotOptedIn)
    } else {
        None
    }
}

/// The driver's checks of an opted-in region `r` that the kernel recorded as `res`; an
/// exported region's name joins `registered`.
fn decide(
    r: &Region,
    res: Option<Reservation>,
    registered: &mut Vec<(String, Owner)>,
) -> (Decision, Option<LogLine>) {
    let refused = |refusal, message: Message| {
        let size = res.map_or(0, |res| res.size);
        let line = message.line(&r.path, &r.name, None, size);
        (Decision::Refused { refusal }, Some(line))
    };
    let Some(res) = res else {
        return refused(Refusal::NotReserved, NOT_RESERVED);
    };
    if r.name.is_empty() || r.name.starts_with('@') {
        return refused(Refusal::NoName, NO_NAME);
    }
    if let Some(h) = mainline_heap(&r.name) {
        let by = Owner::mainline(h);
        return refused(Refusal::NameTaken { by }, NAME_TAKEN);
    }
    if res.size == 0 {
        return refused(Refusal::Empty, EMPTY);
    }
    if !r.no_map {
        return refused(Refusal::SystemRam, SYSTEM_RAM);
    }
    if let Some((_, by)) = registered.iter().find(|(n, _)| *n == r.name) {
        let by = by.clone();
        return refused(Refusal::NameTaken { by }, NAME_TAKEN);
    }
    registered.push((
        r.name.clone(),
        Owner::CoherentHeap {
            path: r.path.clone(),
        },
    ));
    let line = EXPORTED.line(&r.path, &r.name, res.base, res.size);
    (Decision::Exported, Some(line))
}

/// What the driver does with each of `regions` (the children of `/reserved-memory`, in
/// flattened-tree order) and the line it prints for each, in the driver's order of checks
/// (see the module documentation).
///
/// `reserved` says what the kernel recorded for a region at boot; [`Region::reservation`]
/// judges from the node alone, a caller that knows more (`dtregion`: the DRAM, room for
/// dynamic regions, whether `/reserved-memory` is usable) passes its own.
pub fn classify(
    regions: &[Region],
    mut reserved: impl FnMut(&Region) -> Option<Reservation>,
) -> Classification {
    let cma_heaps: Vec<(String, String)> = regions
        .iter()
        .filter(|r| r.is_cma_area() && reserved(r).is_some())
        .map(|r| (r.name.clone(), r.path.clone()))
        .collect();
    // Heap names registered when the driver gets to a region, beyond the mainline ones.
    let mut registered: Vec<(String, Owner)> = cma_heaps
        .iter()
        .map(|(n, p)| (n.clone(), Owner::CmaHeap { path: p.clone() }))
        .collect();
    let mut verdicts = Vec::with_capacity(regions.len());
    for r in regions {
        let verdict = |decision, reservation, line| Verdict {
            path: r.path.clone(),
            name: r.name.clone(),
            decision,
            reservation,
            line,
        };
        if let Some(skip) = skip(r) {
            verdicts.push(verdict(Decision::Skipped { skip }, None, None));
            continue;
        }
        let res = reserved(r);
        let (decision, line) = decide(r, res, &mut registered);
        verdicts.push(verdict(decision, res, line));
    }
    Classification {
        verdicts,
        cma_heaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::build::{cells, reserved_memory, Props};
    use crate::fdt::Tree;
    use crate::region::ReservedMemory;

    /// The regions of a tree with one `/reserved-memory` child per entry.
    fn regions(children: &[(&str, Props<'_>)]) -> Vec<Region> {
        let tree = Tree::from_bytes(&reserved_memory(children)).unwrap();
        ReservedMemory::from_tree(&tree).unwrap().regions
    }

    const POOL: &[u8] = b"shared-dma-pool\0";

    fn by_path(c: &Classification) -> Vec<(String, String)> {
        c.verdicts
            .iter()
            .map(|v| (v.name.clone(), v.decision.to_string()))
            .collect()
    }

    fn line(c: &Classification, name: &str) -> String {
        c.verdicts
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.line.as_ref())
            .map(LogLine::to_string)
            .unwrap_or_else(|| panic!("no line for {name}"))
    }

    #[test]
    fn every_rule_has_its_line() {
        let reg = |base: u32, size: u32| cells(&[0, base, 0, size]);
        let (r60, r61, r62, r63, r64) = (
            reg(0x6000_0000, 0x10_0000),
            reg(0x6100_0000, 0x10_0000),
            reg(0x6200_0000, 0x10_0000),
            reg(0x6300_0000, 0x10_0000),
            reg(0x6400_0000, 0),
        );
        let size = cells(&[0, 0x40_0000]);
        let heap: Props<'_> = &[
            ("compatible", POOL),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let camera = [heap, &[("reg", &r60[..])]].concat();
        let unnamed = [heap, &[("reg", &r61[..])]].concat();
        let system = [heap, &[("size", &size[..])]].concat();
        let mapped: Vec<(&str, &[u8])> =
            vec![("compatible", POOL), ("reg", &r62), ("linux,dma-heap", b"")];
        let zero = [heap, &[("reg", &r64[..])]].concat();
        let scratch = [heap, &[("size", &size[..])]].concat();
        let private: Vec<(&str, &[u8])> =
            vec![("compatible", POOL), ("reg", &r63), ("no-map", b"")];
        let off = [heap, &[("reg", &r63[..]), ("status", b"disabled\0")]].concat();
        let cma: Vec<(&str, &[u8])> = vec![
            ("compatible", POOL),
            ("size", &size),
            ("reusable", b""),
            ("linux,dma-heap", b""),
        ];
        let ramoops: Vec<(&str, &[u8])> = vec![
            ("compatible", b"ramoops\0"),
            ("reg", &r63),
            ("linux,dma-heap", b""),
        ];
        let rs = regions(&[
            ("camera@60000000", &camera),
            ("@61000000", &unnamed),
            ("system", &system),
            ("mapped@62000000", &mapped),
            ("zero@64000000", &zero),
            ("scratch", &scratch),
            ("private@63000000", &private),
            ("off@63000000", &off),
            ("gpu", &cma),
            ("ramoops@63000000", &ramoops),
        ]);
        let c = classify(&rs, Region::reservation);
        assert_eq!(
            by_path(&c),
            [
                ("camera@60000000", "exported"),
                ("@61000000", "no name to give the heap"),
                (
                    "system",
                    "heap name taken by mainline heap 'system' (the system heap)"
                ),
                (
                    "mapped@62000000",
                    "System RAM: no no-map (mapped pools cannot be write-combined)"
                ),
                ("zero@64000000", "the kernel did not reserve it"),
                ("scratch", "exported"),
                ("private@63000000", "no linux,dma-heap property"),
                ("off@63000000", "disabled (status)"),
                ("gpu", "reusable (a CMA area, for the CMA heap)"),
                (
                    "ramoops@63000000",
                    "not compatible with \"shared-dma-pool\""
                ),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(c.heap_names(), ["camera@60000000", "scratch"]);
        assert_eq!(
            c.lines().map(LogLine::to_string).collect::<Vec<_>>(),
            [
                "coherent_heap: /reserved-memory/camera@60000000: heap \"camera@60000000\" at 0x60000000, 1048576 bytes",
                "coherent_heap: /reserved-memory/@61000000: not exported: the node has no name to give the heap",
                "coherent_heap: /reserved-memory/system: not exported: the heap name \"system\" is already taken",
                "coherent_heap: /reserved-memory/mapped@62000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@62000000",
                "coherent_heap: /reserved-memory/zero@64000000: not exported: the kernel did not reserve this region",
                "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x..., 4194304 bytes",
            ]
        );
        let scratch = c.heap("scratch").unwrap().line.as_ref().unwrap();
        assert!(scratch.matches(
            "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x7f000000, 4194304 bytes"
        ));
        for wrong in [
            "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x, 4194304 bytes",
            "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0xzz, 4194304 bytes",
            "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x7f000000, 4194305 bytes",
        ] {
            assert!(!scratch.matches(wrong), "{wrong}");
        }
        assert!(c.accounts_for(&line(&c, "camera@60000000")));
        assert!(!c.accounts_for(
            "coherent_heap: /reserved-memory/private@63000000: heap \"private@63000000\" at 0x63000000, 1048576 bytes"
        ));
        assert_eq!(
            c.cma_heaps,
            [("gpu".to_string(), "/reserved-memory/gpu".to_string())]
        );
    }

    #[test]
    fn the_default_dma_pool_is_skipped_silently() {
        // Opted in, no-map, named, reserved: everything the driver wants, but linux,dma-default
        // makes it the consistent DMA allocator's default pool, not a per-device one. Without
        // linux,dma-heap it is skipped for that too (opting in would not help).
        let reg = cells(&[0, 0x6000_0000, 0, 0x10_0000]);
        let pool: Props<'_> = &[
            ("compatible", POOL),
            ("reg", &reg),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let default = [pool, &[("linux,dma-default", b"")]].concat();
        let not_opted_in: Vec<(&str, &[u8])> = default
            .iter()
            .copied()
            .filter(|(p, _)| *p != "linux,dma-heap")
            .collect();
        let rs = regions(&[
            ("dma@60000000", &default),
            ("plain@60000000", not_opted_in.as_slice()),
            ("camera@60000000", pool),
        ]);
        assert!(rs[0].dma_default && !rs[2].dma_default);
        let c = classify(&rs, Region::reservation);
        let skip = Decision::Skipped {
            skip: Skip::DmaDefault,
        };
        assert_eq!(c.verdicts[0].decision, skip);
        assert_eq!(c.verdicts[1].decision, skip);
        assert_eq!(
            c.verdicts[0].decision.to_string(),
            "the default DMA pool (linux,dma-default)"
        );
        // Silently: no line, no reservation looked at, and its name is nobody's heap.
        assert!(c.verdicts[..2]
            .iter()
            .all(|v| v.line.is_none() && v.reservation.is_none()));
        assert_eq!(c.heap_names(), ["camera@60000000"]);
        assert!(!c.accounts_for(
            "coherent_heap: /reserved-memory/dma@60000000: heap \"dma@60000000\" at 0x60000000, 1048576 bytes"
        ));
        // After the checks that come first: disabled and reusable still say so.
        let off = [default.as_slice(), &[("status", b"disabled\0")]].concat();
        let c = classify(&regions(&[("off@60000000", &off)]), Region::reservation);
        assert_eq!(
            c.verdicts[0].decision,
            Decision::Skipped {
                skip: Skip::Disabled
            }
        );
    }

    #[test]
    fn the_first_failing_check_decides() {
        // Named like the system heap, mapped and not page-sized: the name is reported, as the
        // driver checks it before no-map.
        let size = cells(&[0, 0x40_0000]);
        let both: Props<'_> = &[
            ("compatible", POOL),
            ("size", &size),
            ("linux,dma-heap", b""),
        ];
        let c = classify(&regions(&[("system", both)]), Region::reservation);
        assert_eq!(
            c.verdicts[0].refusal(),
            Some(&Refusal::NameTaken {
                by: Owner::Mainline {
                    name: "system",
                    owner: "the system heap"
                }
            })
        );
        // Not reserved beats everything after it: an unnamed region the kernel did not reserve.
        let c = classify(&regions(&[("@0", both)]), |_| None);
        assert_eq!(c.verdicts[0].refusal(), Some(&Refusal::NotReserved));
        // Empty only when the kernel recorded a size of 0 (it never does for a tree: a zero
        // size is not reserved at all).
        let named: Props<'_> = &[
            ("compatible", POOL),
            ("size", &size),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let c = classify(&regions(&[("x", named)]), |_| {
            Some(Reservation {
                base: Some(0x1000),
                size: 0,
            })
        });
        assert_eq!(c.verdicts[0].refusal(), Some(&Refusal::Empty));
        assert_eq!(
            c.verdicts[0].line.as_ref().unwrap().to_string(),
            "coherent_heap: /reserved-memory/x: not exported: the region is empty"
        );
        // The kernel's base and size, not the tree's, are in the line.
        let c = classify(&regions(&[("x", named)]), |_| {
            Some(Reservation {
                base: Some(0x7f00_0000),
                size: 0x2000,
            })
        });
        assert_eq!(
            c.verdicts[0].line.as_ref().unwrap().to_string(),
            "coherent_heap: /reserved-memory/x: heap \"x\" at 0x7f000000, 8192 bytes"
        );
    }

    #[test]
    fn every_mainline_name_is_refused_and_only_the_full_name_counts() {
        let size = cells(&[0, 0x40_0000]);
        let heap: Props<'_> = &[
            ("compatible", POOL),
            ("size", &size),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let names = [
            "system",
            "system_cc_shared",
            "default_cma_region",
            "reserved",
            "system@76000000",
            "reserved@1",
        ];
        let children: Vec<(&str, Props<'_>)> = names.iter().map(|n| (*n, heap)).collect();
        let c = classify(&regions(&children), Region::reservation);
        assert_eq!(c.heap_names(), ["system@76000000", "reserved@1"]);
        for v in &c.verdicts[..4] {
            assert!(matches!(
                v.refusal(),
                Some(Refusal::NameTaken {
                    by: Owner::Mainline { .. }
                })
            ));
        }
    }

    #[test]
    fn names_registered_before_are_taken() {
        // A blob may repeat a node name (dtc refuses, libfdt does not): the CMA heap of the
        // reusable "gpu" registers first, the second coherent "cam" finds its name taken.
        let size = cells(&[0, 0x40_0000]);
        let heap: Props<'_> = &[
            ("compatible", POOL),
            ("size", &size),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let cma: Props<'_> = &[("compatible", POOL), ("size", &size), ("reusable", b"")];
        let rs = regions(&[("gpu", heap), ("cam", heap), ("gpu", cma), ("cam", heap)]);
        let c = classify(&rs, Region::reservation);
        let refusals: Vec<Option<&Refusal>> = c.verdicts.iter().map(Verdict::refusal).collect();
        assert_eq!(
            refusals,
            [
                Some(&Refusal::NameTaken {
                    by: Owner::CmaHeap {
                        path: "/reserved-memory/gpu".into()
                    }
                }),
                None,
                None,
                Some(&Refusal::NameTaken {
                    by: Owner::CoherentHeap {
                        path: "/reserved-memory/cam".into()
                    }
                }),
            ]
        );
        assert_eq!(c.heap_names(), ["cam"]);
        assert_eq!(
            line(&c, "gpu"),
            "coherent_heap: /reserved-memory/gpu: not exported: the heap name \"gpu\" is already taken"
        );
        // A CMA area the kernel did not reserve makes no heap and takes no name.
        let c = classify(&rs, |r| if r.reusable { None } else { r.reservation() });
        assert_eq!(c.heap_names(), ["gpu", "cam"]);
        assert!(c.cma_heaps.is_empty());
    }

    #[test]
    fn owners_of_names() {
        let size = cells(&[0, 0x40_0000]);
        let heap: Props<'_> = &[
            ("compatible", POOL),
            ("size", &size),
            ("no-map", b""),
            ("linux,dma-heap", b""),
        ];
        let cma: Props<'_> = &[("compatible", POOL), ("size", &size), ("reusable", b"")];
        let c = classify(
            &regions(&[("cam", heap), ("video", cma)]),
            Region::reservation,
        );
        assert_eq!(
            c.owner_of("cam", "/reserved-memory/other"),
            Some(Owner::CoherentHeap {
                path: "/reserved-memory/cam".into()
            })
        );
        assert_eq!(c.owner_of("cam", "/reserved-memory/cam"), None);
        assert_eq!(
            c.owner_of("video", "").unwrap().to_string(),
            "the CMA heap of /reserved-memory/video"
        );
        assert_eq!(
            c.owner_of("system", "").unwrap().to_string(),
            "mainline heap 'system' (the system heap)"
        );
        assert_eq!(c.owner_of("nobody", ""), None);
    }

    #[test]
    fn check_order_lists_every_message() {
        let mut all = vec![
            NOT_RESERVED,
            NO_NAME,
            NAME_TAKEN,
            EMPTY,
            SYSTEM_RAM,
            EXPORTED,
        ];
        for m in CHECK_ORDER {
            all.retain(|x| *x != m);
        }
        assert!(all.is_empty());
        assert_eq!(CHECK_ORDER[6].level, Level::Info);
        assert!(CHECK_ORDER[..6].iter().all(|m| m.level == Level::Warning));
        for m in CHECK_ORDER {
            assert!(m.template.starts_with("{path}: "), "{}", m.template);
        }
    }

    #[test]
    fn is_about_needs_the_whole_path() {
        let l = NO_NAME.line("/reserved-memory/a@1", "a@1", None, 0);
        assert!(l.is_about("coherent_heap: /reserved-memory/a@1: not exported: x"));
        assert!(!l.is_about("coherent_heap: /reserved-memory/a@10: not exported: x"));
        assert!(!l.is_about("/reserved-memory/a@1: not exported: x"));
    }
}
