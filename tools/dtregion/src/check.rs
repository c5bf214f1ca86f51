//! The checks of `dtregion check`: what the kernel and the coherent heap driver will make of the
//! reserved-memory regions of a tree.
//!
//! The rules follow the pinned kernel:
//! - `drivers/of/of_reserved_mem.c`: `/reserved-memory` is ignored whole unless its cells equal
//!   the root's and it has `ranges`; disabled children are skipped; a static region is its first
//!   `reg` entry; a `no-map` region overlapping reserved memory is refused (`-EBUSY`).
//! - `kernel/dma/contiguous.c`, `drivers/dma-buf/heaps/`: the heap names mainline heaps take
//!   ([`crate::mainline`]).
//! - `coherent_heap.rs`: a heap for each enabled, opted-in (`linux,dma-heap`), non-reusable
//!   `shared-dma-pool`, named after the node without its unit address; refused when the name is
//!   empty or taken, the region empty, or the region System RAM (no `no-map` on arm64).
//!
//! Problems of regions the overlays add or change are errors and warnings; the same problems of
//! the vendor's base tree are notes, which do not change the exit status.

use serde::Serialize;

use crate::boards::{Board, KeepOut};
use crate::mainline;
use crate::place;
use crate::regions::{Layout, Region};
use crate::size::{format_size, MIB};
use crate::tree::{Range, Tree};

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The region will not work as meant; exit status 1.
    Error,
    /// It works, with a limit worth knowing.
    Warning,
    /// A problem already in the vendor's base tree.
    Note,
}

impl Severity {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// What kind of problem; the `class` of `--format json` ([`Class::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// No usable `/memory` and no DRAM in the board table: placement checks did not run.
    NoMemory,
    /// `/reserved-memory` has other cells than the root, or no `ranges`: all of it is ignored.
    ReservedMemoryFormat,
    /// A region property cannot be decoded.
    BadProperty,
    /// A node name the tools or the driver reject.
    NodeName,
    /// A region of zero bytes.
    ZeroSize,
    /// Base or size not a multiple of the page size.
    Unaligned,
    /// A region not inside the DRAM banks.
    OutsideMemory,
    /// Two reserved ranges overlap (regions, `/memreserve/`, the board's keep-out ranges).
    Overlap,
    /// A dynamic region no longer fits in its allocation window.
    DynamicNoRoom,
    /// Opted in and `reusable`.
    ReusableHeap,
    /// Opted in without `no-map`.
    MissingNoMap,
    /// The heap name is taken.
    HeapNameCollision,
    /// A `memory-region` phandle that is not a region of the tree.
    MissingPhandle,
    /// Part of the region is above 4 GiB.
    Above4g,
    /// Base or size aligned to less than 2 MiB.
    SmallAlignment,
    /// A `shared-dma-pool` without `no-map` that is not opted in.
    PoolWithoutNoMap,
    /// `linux,dma-heap` on a node that is not a `shared-dma-pool`.
    IgnoredOptIn,
    /// More than one `reg` entry: only the first is reserved.
    ExtraReg,
}

impl Class {
    /// The severity of the class for a region of the overlays.
    pub fn severity(self) -> Severity {
        match self {
            Class::Above4g
            | Class::SmallAlignment
            | Class::PoolWithoutNoMap
            | Class::IgnoredOptIn
            | Class::ExtraReg => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The kebab-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::NoMemory => "no-memory",
            Class::ReservedMemoryFormat => "reserved-memory-format",
            Class::BadProperty => "bad-property",
            Class::NodeName => "node-name",
            Class::ZeroSize => "zero-size",
            Class::Unaligned => "unaligned",
            Class::OutsideMemory => "outside-memory",
            Class::Overlap => "overlap",
            Class::DynamicNoRoom => "dynamic-no-room",
            Class::ReusableHeap => "reusable-heap",
            Class::MissingNoMap => "missing-no-map",
            Class::HeapNameCollision => "heap-name-collision",
            Class::MissingPhandle => "missing-phandle",
            Class::Above4g => "above-4g",
            Class::SmallAlignment => "small-alignment",
            Class::PoolWithoutNoMap => "pool-without-no-map",
            Class::IgnoredOptIn => "ignored-opt-in",
            Class::ExtraReg => "extra-reg",
        }
    }
}

impl Serialize for Class {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem, at one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error, warning or note.
    pub severity: Severity,
    /// What kind.
    pub class: Class,
    /// The node at fault (full path).
    pub node: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Where a region comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The vendor's base tree, unchanged.
    Base,
    /// Added or changed by the overlays.
    Overlay,
    /// A tree checked alone: every region is checked as the vendor's own.
    Tree,
}

/// A row of the region table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionRow {
    /// Full path.
    pub node: String,
    /// Node name.
    pub name: String,
    /// The heap name, for a region the coherent heap driver picks up.
    pub heap: Option<String>,
    /// Base address (none for a dynamic region).
    pub base: Option<u64>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// `dynamic`, `no-map`, `reusable`, `cma-default`, `disabled`.
    pub flags: Vec<&'static str>,
    /// Has `linux,dma-heap`.
    pub opted_in: bool,
    /// Where it comes from.
    pub origin: Origin,
}

/// Where the DRAM banks came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemorySource {
    /// The tree's `/memory` nodes.
    Tree,
    /// The board table's `dram`.
    BoardTable,
    /// Nowhere: the placement checks did not run.
    None,
}

/// The DRAM the placement checks used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// Where the banks came from.
    pub source: MemorySource,
    /// The banks.
    pub banks: Vec<Range>,
}

/// The result of a check.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The board table's key for the tree, if one matched.
    pub board: Option<String>,
    /// The DRAM.
    pub memory: Memory,
    /// The board's keep-out ranges.
    pub keep_out: Vec<KeepOut>,
    /// `/memreserve/` entries.
    pub memreserve: Vec<Range>,
    /// The children of `/reserved-memory`.
    pub regions: Vec<RegionRow>,
    /// Every problem, errors first.
    pub problems: Vec<Problem>,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Number of notes.
    pub notes: usize,
}

impl Report {
    /// No errors (and, with `deny_warnings`, no warnings).
    pub fn passed(&self, deny_warnings: bool) -> bool {
        self.errors == 0 && (!deny_warnings || self.warnings == 0)
    }
}

/// What the board table says about the tree.
#[derive(Clone, Copy, Debug)]
pub enum BoardFacts<'a> {
    /// No table was given.
    NoTable,
    /// The table (at this path) has no board with the tree's compatible.
    NotInTable(&'a std::path::Path),
    /// The board.
    Board(&'a str, &'a Board),
}

/// What to check.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The tree, overlays applied.
    pub tree: &'a Tree,
    /// The vendor's tree without the overlays: regions identical there are the vendor's, and
    /// their problems are notes. `None` checks every region as the vendor's own.
    pub baseline: Option<&'a Tree>,
    /// The board table's facts.
    pub board: BoardFacts<'a>,
    /// The page size the regions must be aligned to.
    pub page_size: u64,
}

/// The alignment below which a region gets a warning: the arm64 linear map uses 2 MiB blocks
/// with 4 KiB pages, and a `no-map` hole that is not block aligned splits them into pages.
pub const BLOCK_ALIGN: u64 = 2 * MIB;

/// CMA areas are aligned to a pageblock (`CMA_MIN_ALIGNMENT_BYTES`): 2 MiB with 4 KiB pages and
/// huge pages, 4 MiB without; the larger holds for every configuration.
const CMA_ALIGN: u64 = 4 * MIB;

struct Checker<'a> {
    input: Input<'a>,
    layout: Layout,
    base: Option<Layout>,
    problems: Vec<Problem>,
}

/// Checks the tree.
pub fn check(input: Input<'_>) -> Report {
    let mut c = Checker {
        input,
        layout: Layout::read(input.tree),
        base: input.baseline.map(Layout::read),
        problems: Vec::new(),
    };
    c.reserved_memory_format();
    for r in c.layout.regions.clone() {
        c.region(&r);
    }
    let memory = c.memory();
    if !memory.banks.is_empty() {
        c.outside_memory(&memory.banks);
        c.dynamic_room(&memory.banks);
    }
    c.overlaps();
    c.heap_names();
    c.phandles();

    let mut problems = std::mem::take(&mut c.problems);
    problems.sort_by_key(|p| p.severity);
    let count = |s| problems.iter().filter(|p| p.severity == s).count();
    let regions = c
        .layout
        .regions
        .iter()
        .map(|r| RegionRow {
            node: r.path.clone(),
            name: r.name.clone(),
            heap: r.heap_name().filter(|n| !n.is_empty()).map(str::to_string),
            base: r.range().map(|g| g.base),
            size: r.bytes(),
            flags: r.flags(),
            opted_in: r.opted_in,
            origin: match &c.base {
                None => Origin::Tree,
                Some(_) if c.ours(r) => Origin::Overlay,
                Some(_) => Origin::Base,
            },
        })
        .collect();
    Report {
        board: match input.board {
            BoardFacts::Board(key, _) => Some(key.to_string()),
            _ => None,
        },
        keep_out: c.keep_outs().to_vec(),
        memreserve: c.layout.memreserve.clone(),
        regions,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        notes: count(Severity::Note),
        problems,
        memory,
    }
}

/// Why the node name of a region is one the tools or the driver reject, if it is.
pub fn node_name_problem(r: &Region) -> Option<String> {
    let base = r.base_name();
    if let Some(why) = base_name_problem(base) {
        return Some(why);
    }
    match (r.name.split_once('@'), r.range()) {
        (None, Some(g)) => Some(format!(
            "has reg but no unit address: name it {base}@{:x}",
            g.base
        )),
        (Some((_, unit)), Some(g)) if unit != format!("{:x}", g.base) => Some(format!(
            "unit address {unit} does not match reg ({:#x}): name it {base}@{:x}",
            g.base, g.base
        )),
        (Some((_, unit)), None) => Some(format!(
            "unit address {unit} without reg: a dynamic region is named without one ({base})"
        )),
        _ => None,
    }
}

/// Whether `name` is a valid node name without unit address (Devicetree Specification 2.2.1:
/// 1 to 31 characters of `[0-9a-zA-Z,._+-]`, starting with a letter); also the heap's name.
pub fn base_name_problem(name: &str) -> Option<String> {
    let Some(first) = name.chars().next() else {
        return Some("no name before the unit address: the heap would have no name".into());
    };
    if name.len() > 31 {
        return Some(format!("{name:?} is longer than 31 characters"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ",._+-".contains(*c)))
    {
        return Some(format!("character {bad:?} is not allowed in a node name"));
    }
    if !first.is_ascii_alphabetic() {
        return Some(format!(
            "{name:?} starts with {first:?}: node names start with a letter"
        ));
    }
    None
}

fn list(ranges: &[Range]) -> String {
    ranges
        .iter()
        .map(Range::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker<'_> {
    /// Whether a region is added or changed by the overlays.
    fn ours(&self, r: &Region) -> bool {
        match &self.base {
            None => true,
            Some(base) => !base.regions.contains(r),
        }
    }

    fn push(&mut self, class: Class, ours: bool, node: &str, message: String) {
        self.problems.push(Problem {
            severity: if ours {
                class.severity()
            } else {
                Severity::Note
            },
            class,
            node: node.to_string(),
            message,
        });
    }

    fn keep_outs(&self) -> &[KeepOut] {
        match self.input.board {
            BoardFacts::Board(_, b) => &b.keep_out,
            _ => &[],
        }
    }

    fn reserved_memory_format(&mut self) {
        let Some((path, cells, ranges)) = self.layout.reserved_memory.clone() else {
            return;
        };
        let root = self.layout.root_cells;
        if cells == root && ranges {
            return;
        }
        let ours = match &self.base {
            None => true,
            Some(b) => b.reserved_memory != self.layout.reserved_memory,
        };
        let why = if cells != root {
            format!(
                "#address-cells = <{}>, #size-cells = <{}> differ from the root's <{}> <{}>",
                cells.address, cells.size, root.address, root.size
            )
        } else {
            "no ranges property".to_string()
        };
        self.push(
            Class::ReservedMemoryFormat,
            ours,
            &path,
            format!(
                "{why}: the kernel ignores every region under it (\"unsupported node format\")"
            ),
        );
    }

    fn region(&mut self, r: &Region) {
        let ours = self.ours(r);
        let page = self.input.page_size;
        if let Some(d) = &r.defect {
            self.push(Class::BadProperty, ours, &r.path, d.clone());
            return;
        }
        if !r.enabled {
            return;
        }
        if let Some(why) = node_name_problem(r) {
            self.push(Class::NodeName, ours, &r.path, why);
        }
        let (base, size) = match r.range() {
            Some(g) => (Some(g.base), g.size),
            None => (None, r.size.unwrap_or(0)),
        };
        if size == 0 {
            self.push(
                Class::ZeroSize,
                ours,
                &r.path,
                "size 0: the kernel reserves nothing and no heap is made of it".into(),
            );
        } else {
            let fault = |n: u64, a: u64| n % a != 0;
            let what = |n: u64| match base {
                Some(b) if fault(b, n) => Some(format!("base {b:#x}")),
                _ if fault(size, n) => Some(format!("size {}", format_size(size))),
                _ => None,
            };
            if let Some(w) = what(page) {
                self.push(
                    Class::Unaligned,
                    ours,
                    &r.path,
                    format!(
                        "{w} is not a multiple of the {} page: the kernel reserves and maps memory in whole pages, so the region does not end where the node says",
                        format_size(page)
                    ),
                );
            } else if let Some(w) = what(CMA_ALIGN).filter(|_| r.is_pool() && r.reusable) {
                self.push(
                    Class::Unaligned,
                    ours,
                    &r.path,
                    format!(
                        "{w} is not a multiple of 4 MiB: a CMA area must be pageblock aligned (4 MiB on a kernel without huge pages), else the kernel refuses it (\"incorrect alignment of CMA region\")"
                    ),
                );
            } else if let Some(w) = what(BLOCK_ALIGN).filter(|_| r.no_map) {
                self.push(
                    Class::SmallAlignment,
                    ours,
                    &r.path,
                    format!(
                        "{w} is not a multiple of 2 MiB: the no-map hole splits the 2 MiB blocks of the kernel's linear map around it into pages"
                    ),
                );
            }
        }
        if r.reg.len() > 1 {
            self.push(
                Class::ExtraReg,
                ours,
                &r.path,
                format!(
                    "{} reg entries: the kernel reserves the first ({}) only",
                    r.reg.len(),
                    r.reg[0]
                ),
            );
        }
        if let Some(g) = r.range() {
            if g.size != 0 && g.end() > u128::from(place::FOUR_GIB) {
                self.push(
                    Class::Above4g,
                    ours,
                    &r.path,
                    format!(
                        "{g} reaches above 4 GiB: DMA masters limited to 32 bits cannot use buffers from it"
                    ),
                );
            }
        }
        if r.opted_in {
            if !r.is_pool() {
                self.push(
                    Class::IgnoredOptIn,
                    ours,
                    &r.path,
                    format!(
                        "linux,dma-heap on a node that is not a shared-dma-pool ({}): the coherent heap driver ignores it",
                        if r.compatible.is_empty() {
                            "no compatible".to_string()
                        } else {
                            r.compatible.join(", ")
                        }
                    ),
                );
            } else if r.reusable {
                self.push(
                    Class::ReusableHeap,
                    ours,
                    &r.path,
                    format!(
                        "opted in with linux,dma-heap but reusable: the coherent heap skips reusable (CMA) pools, the mainline CMA heap exports it as \"{}\" instead; drop one of the two",
                        r.name
                    ),
                );
            } else if !r.no_map {
                self.push(
                    Class::MissingNoMap,
                    ours,
                    &r.path,
                    format!(
                        "opted in without no-map: the region stays System RAM in the kernel's linear map, memremap() refuses to map it write-combined and the driver does not export it; add no-map to {}",
                        r.path
                    ),
                );
            }
        } else if r.is_pool() && !r.reusable && !r.no_map {
            self.push(
                Class::PoolWithoutNoMap,
                ours,
                &r.path,
                "shared-dma-pool without no-map: no heap is made of it (not opted in), but a kernel driver that attaches it (memory-region) gets a WARNING from memremap(), which refuses System RAM, the attach fails and dma_alloc_coherent() silently allocates outside the region; add no-map".into(),
            );
        }
    }

    /// The DRAM banks: the board table's `dram`, else the tree's `/memory`; reports when there
    /// are none.
    fn memory(&mut self) -> Memory {
        if let BoardFacts::Board(_, b) = self.input.board {
            if !b.dram.is_empty() {
                return Memory {
                    source: MemorySource::BoardTable,
                    banks: b.dram_ranges(),
                };
            }
        }
        let banks = self.layout.memory_banks();
        if !banks.is_empty() {
            return Memory {
                source: MemorySource::Tree,
                banks,
            };
        }
        let (node, tree_says) = match self.layout.memory.first() {
            Some(m) => (
                m.path.clone(),
                match &m.defect {
                    Some(d) => format!("{} cannot be read ({d})", m.path),
                    None => format!(
                        "{} has no bank of non-zero size (the firmware writes it at boot)",
                        m.path
                    ),
                },
            ),
            None => (
                "/".to_string(),
                "the tree has no /memory node (the boot loader adds it at boot)".to_string(),
            ),
        };
        let compatible = self.input.tree.compatible();
        let compatible = compatible.first().map_or("", String::as_str);
        let missing = match self.input.board {
            BoardFacts::NoTable => {
                "no board table was given: pass --boards dts/boards.toml".to_string()
            }
            BoardFacts::NotInTable(t) => format!(
                "{} has no board with compatible \"{compatible}\": add one with its dram banks",
                t.display()
            ),
            BoardFacts::Board(key, _) => format!(
                "board {key} of the board table has no dram: add the banks the firmware reports"
            ),
        };
        self.push(
            Class::NoMemory,
            true,
            &node,
            format!(
                "{tree_says} and {missing}; the DRAM checks (outside memory, room for dynamic regions) did not run"
            ),
        );
        Memory {
            source: MemorySource::None,
            banks: Vec::new(),
        }
    }

    /// Enabled static regions with a usable range, in tree order.
    fn static_regions(&self) -> Vec<(Region, Range)> {
        self.layout
            .regions
            .iter()
            .filter(|r| r.enabled && r.defect.is_none())
            .filter_map(|r| r.range().filter(|g| g.size != 0).map(|g| (r.clone(), g)))
            .collect()
    }

    fn outside_memory(&mut self, banks: &[Range]) {
        for (r, g) in self.static_regions() {
            if !place::contains(banks, &g) {
                let ours = self.ours(&r);
                self.push(
                    Class::OutsideMemory,
                    ours,
                    &r.path,
                    format!(
                        "{g} is not inside the DRAM ({}): the kernel cannot reserve it",
                        list(&place::merge(banks))
                    ),
                );
            }
        }
    }

    fn overlaps(&mut self) {
        let regions = self.static_regions();
        for (i, (a, ga)) in regions.iter().enumerate() {
            // Regions among themselves: reported at the overlays' region; between two of
            // theirs or two of ours, at the later one in tree order, which the kernel refuses.
            for (b, gb) in &regions[..i] {
                if ga.overlaps(gb) {
                    let (at, ga, other, gb) = if self.ours(b) && !self.ours(a) {
                        (b, gb, a, ga)
                    } else {
                        (a, ga, b, gb)
                    };
                    let ours = self.ours(at);
                    self.push(
                        Class::Overlap,
                        ours,
                        &at.path,
                        format!(
                            "{ga} overlaps {} ({gb}): the kernel cannot reserve both",
                            other.path
                        ),
                    );
                }
            }
            let ours = self.ours(a);
            for m in self.layout.memreserve.clone() {
                if ga.overlaps(&m) {
                    self.push(
                        Class::Overlap,
                        ours,
                        &a.path,
                        format!("{ga} overlaps the /memreserve/ entry {m}"),
                    );
                }
            }
            if !ours {
                continue;
            }
            for k in self.keep_outs().to_vec() {
                if ga.overlaps(&k.range()) {
                    self.push(
                        Class::Overlap,
                        true,
                        &a.path,
                        format!(
                            "{ga} overlaps the board's {} range {} ({}; board table)",
                            k.name,
                            k.range(),
                            k.why
                        ),
                    );
                }
            }
        }
    }

    /// Whether `r`, a dynamic region, fits in its window once `occupied` is taken.
    fn fits(r: &Region, banks: &[Range], occupied: &[Range]) -> bool {
        let window = if r.alloc_ranges.is_empty() {
            banks.to_vec()
        } else {
            place::intersect(&r.alloc_ranges, banks)
        };
        let mut align = r.alignment.unwrap_or(0).max(4096);
        if r.reusable {
            align = align.max(CMA_ALIGN);
        }
        let free = place::subtract(&window, occupied);
        place::first_fit(&free, r.size.unwrap_or(0), align).is_some()
    }

    fn dynamic_room(&mut self, banks: &[Range]) {
        let statics = self.static_regions();
        // What the kernel has reserved when it allocates dynamic regions: the static regions,
        // /memreserve/, and what the boot chain holds (the board's keep-out ranges).
        let mut boot: Vec<Range> = self.layout.memreserve.clone();
        boot.extend(self.keep_outs().iter().map(KeepOut::range));
        let mut all: Vec<Range> = statics.iter().map(|(_, g)| *g).collect();
        all.extend(boot.iter().copied());
        let mut vendor: Vec<Range> = statics
            .iter()
            .filter(|(r, _)| !self.ours(r))
            .map(|(_, g)| *g)
            .collect();
        vendor.extend(boot);
        let dynamic: Vec<Region> = self
            .layout
            .regions
            .iter()
            .filter(|r| r.enabled && r.defect.is_none() && r.is_dynamic() && r.size != Some(0))
            .cloned()
            .collect();
        for r in dynamic {
            if Self::fits(&r, banks, &all) {
                continue;
            }
            // The vendor's problem if it did not fit without the overlays' regions either.
            let ours = self.ours(&r) || Self::fits(&r, banks, &vendor);
            let window = if r.alloc_ranges.is_empty() {
                "the DRAM".to_string()
            } else {
                format!("alloc-ranges {}", list(&r.alloc_ranges))
            };
            self.push(
                Class::DynamicNoRoom,
                ours,
                &r.path,
                format!(
                    "{} no longer fits in {window} beside the static regions: the kernel fails to allocate it at boot",
                    format_size(r.size.unwrap_or(0))
                ),
            );
        }
    }

    fn heap_names(&mut self) {
        let regions = self.layout.regions.clone();
        let cma: Vec<&Region> = regions
            .iter()
            .filter(|r| mainline::cma_heap_name(r).is_some())
            .collect();
        let mut taken: Vec<&Region> = Vec::new();
        for r in &regions {
            let Some(name) = r.heap_name() else { continue };
            if name.is_empty() || r.defect.is_some() {
                continue;
            }
            let ours = self.ours(r);
            if let Some(who) = mainline::fixed_owner(name) {
                self.push(
                    Class::HeapNameCollision,
                    ours,
                    &r.path,
                    format!("heap name \"{name}\" is taken by {who}: the driver refuses it; rename the node"),
                );
            } else if let Some(c) = cma.iter().find(|c| c.name == name) {
                let ours = ours || self.ours(c);
                self.push(
                    Class::HeapNameCollision,
                    ours,
                    &r.path,
                    format!(
                        "heap name \"{name}\" is taken by the CMA heap of {}: the driver refuses it; rename the node",
                        c.path
                    ),
                );
            } else if let Some(t) = taken.iter().find(|t| t.base_name() == name) {
                let ours = ours || self.ours(t);
                self.push(
                    Class::HeapNameCollision,
                    ours,
                    &r.path,
                    format!(
                        "heap name \"{name}\" is already taken by {}, which comes first: the driver refuses this one; rename the node",
                        t.path
                    ),
                );
            } else if r.no_map && r.bytes().unwrap_or(0) != 0 {
                // Only an exported heap takes its name (the driver records it after export).
                taken.push(r);
            }
        }
    }

    fn phandles(&mut self) {
        let tree = self.input.tree;
        for n in &tree.nodes {
            let Some(value) = n.prop("memory-region") else {
                continue;
            };
            let ours = match self.input.baseline {
                None => true,
                Some(b) => b.node(&n.path).and_then(|o| o.prop("memory-region")) != Some(value),
            };
            if value.is_empty() || value.len() % 4 != 0 {
                self.push(
                    Class::BadProperty,
                    ours,
                    &n.path,
                    format!(
                        "memory-region: {} bytes is not a list of phandles",
                        value.len()
                    ),
                );
                continue;
            }
            for cell in value.chunks(4) {
                let ph = u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]);
                let message = match tree.by_phandle(ph) {
                    None => format!(
                        "memory-region refers to phandle {ph:#x}, which no node of the tree has: the region is missing"
                    ),
                    Some(t) if t.parent.map(|p| tree.nodes[p].path.as_str()) != Some("/reserved-memory") => {
                        format!(
                            "memory-region refers to {}, which is not a /reserved-memory region",
                            t.path
                        )
                    }
                    Some(_) => continue,
                };
                self.push(Class::MissingPhandle, ours, &n.path, message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, reg: Option<Range>) -> Region {
        Region {
            path: format!("/reserved-memory/{name}"),
            name: name.into(),
            reg: reg.into_iter().collect(),
            size: None,
            alloc_ranges: Vec::new(),
            alignment: None,
            compatible: vec!["shared-dma-pool".into()],
            no_map: true,
            reusable: false,
            opted_in: true,
            enabled: true,
            cma_default: false,
            defect: None,
        }
    }

    #[test]
    fn node_names() {
        let at = Some(Range::new(0x1000_0000, 0x400_0000));
        assert_eq!(node_name_problem(&region("camera@10000000", at)), None);
        assert_eq!(
            node_name_problem(&region("camera@20000000", at)).unwrap(),
            "unit address 20000000 does not match reg (0x10000000): name it camera@10000000"
        );
        assert_eq!(
            node_name_problem(&region("camera@0x10000000", at)).unwrap(),
            "unit address 0x10000000 does not match reg (0x10000000): name it camera@10000000"
        );
        assert_eq!(
            node_name_problem(&region("camera", at)).unwrap(),
            "has reg but no unit address: name it camera@10000000"
        );
        assert!(node_name_problem(&region("@10000000", at))
            .unwrap()
            .contains("no name"));
        assert!(node_name_problem(&region("4k-frames@10000000", at))
            .unwrap()
            .contains("start with a letter"));
        assert!(node_name_problem(&region("cam era@10000000", at))
            .unwrap()
            .contains("' '"));
        assert!(
            node_name_problem(&region(&format!("{}@10000000", "a".repeat(32)), at))
                .unwrap()
                .contains("longer than 31")
        );
        assert!(node_name_problem(&region("pool@10000000", None))
            .unwrap()
            .contains("without reg"));
        let high = Some(Range::new(0x1_0000_0000, 0x1000));
        assert_eq!(node_name_problem(&region("hi@100000000", high)), None);
    }

    #[test]
    fn json_uses_the_class_names() {
        for class in [Class::NoMemory, Class::Above4g, Class::MissingNoMap] {
            assert_eq!(
                serde_json::to_value(class).unwrap(),
                serde_json::Value::String(class.as_str().into())
            );
        }
    }
}
