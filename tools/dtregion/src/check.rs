//! The checks of `dtregion check`: what the kernel and the coherent heap driver will make of the
//! reserved-memory regions of a tree.
//!
//! The rules follow the pinned kernel:
//! - `drivers/of/of_reserved_mem.c`: `/reserved-memory` is ignored whole unless its cells equal
//!   the root's and it has `ranges`; disabled children are skipped; a static region is its first
//!   `reg` entry; a `no-map` region overlapping reserved memory is refused (`-EBUSY`).
//! - `kernel/dma/contiguous.c`, `drivers/dma-buf/heaps/`: the heap names mainline heaps take
//!   ([`heap_rules::mainline`]).
//! - `coherent_heap.rs`: [`heap_rules::classify`] says what the driver does with each region,
//!   under which name (its full node name) and with which kernel line; every refusal of a
//!   region the kernel reserves is an error here.
//!
//! Problems of regions the overlays add or change are errors and warnings; the same problems of
//! the vendor's base tree are notes, which do not change the exit status.

use serde::Serialize;

use heap_rules::size::{format_size, MIB};
use heap_rules::{
    classify, Classification, Decision, LogLine, Owner, Range, Refusal, Region, Tree,
};

use crate::boards::{Board, KeepOut};
use crate::place;
use crate::regions::{self, Layout};

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
    /// `linux,dma-heap` on a node that is not a `shared-dma-pool`, or on the default DMA pool
    /// (`linux,dma-default`).
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
    /// The heap the coherent heap driver makes of it: `/dev/dma_heap/<heap>`.
    pub heap: Option<String>,
    /// What the driver does with it.
    #[serde(flatten)]
    pub decision: Decision,
    /// The line the driver prints for it (`...` for a base placed at boot).
    pub log: Option<LogLine>,
    /// Base address (none for a dynamic region).
    pub base: Option<u64>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// `dynamic`, `no-map`, `reusable`, `cma-default`, `dma-default`, `disabled`.
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

/// The alignment of a dynamic region without `alignment`: `SMP_CACHE_BYTES` on arm64
/// (`early_init_dt_alloc_reserved_memory_arch()`).
const DEFAULT_DYNAMIC_ALIGN: u64 = 64;

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
    for r in c.layout.regions().to_vec() {
        c.region(&r);
    }
    let memory = c.memory();
    let mut no_room = Vec::new();
    if !memory.banks.is_empty() {
        c.outside_memory(&memory.banks);
        no_room = c.dynamic_room(&memory.banks);
    }
    c.overlaps();
    let heaps = c.heap_decisions(&no_room);
    c.phandles();

    let mut problems = std::mem::take(&mut c.problems);
    problems.sort_by_key(|p| p.severity);
    let count = |s| problems.iter().filter(|p| p.severity == s).count();
    let regions = c
        .layout
        .regions()
        .iter()
        .zip(heaps.verdicts)
        .map(|(r, v)| RegionRow {
            node: r.path.clone(),
            name: r.name.clone(),
            heap: v.heap().map(str::to_string),
            decision: v.decision,
            log: v.line,
            base: r.range().map(|g| g.base),
            size: r.bytes(),
            flags: regions::flags(r),
            opted_in: r.dma_heap,
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
    let base = r.name.split('@').next().unwrap_or_default();
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

/// The alignment problem of an enabled region of `size` (not 0) bytes, if it has one: base or
/// size not a multiple of the page (an error); a CMA pool not pageblock aligned (an error); a
/// `no-map` region whose base or size is not a multiple of 2 MiB (a warning). The base of a
/// dynamic region is as aligned as its `alignment` says, 64 bytes without one.
fn alignment_problem(r: &Region, size: u64, page: u64) -> Option<(Class, String)> {
    let (base, align) = match (r.base(), r.alignment) {
        (Some(b), _) => (format!("base {b:#x}"), b),
        (None, Some(a)) if a != 0 => (format!("alignment {}", format_size(a)), a),
        (None, _) => (
            format!(
                "alignment {} (none given: the kernel's SMP_CACHE_BYTES)",
                format_size(DEFAULT_DYNAMIC_ALIGN)
            ),
            DEFAULT_DYNAMIC_ALIGN,
        ),
    };
    // `what(n, base_counts)`: the base (or alignment) if it counts and is off, else the size.
    let what = |n: u64, base_counts: bool| {
        if base_counts && align % n != 0 {
            Some(base.clone())
        } else if size % n != 0 {
            Some(format!("size {}", format_size(size)))
        } else {
            None
        }
    };
    // Pages: a static base, or an alignment the node gives (without one the kernel's default
    // applies, which only the 2 MiB rule below is about).
    if let Some(w) = what(page, r.base().is_some() || r.alignment.is_some()) {
        return Some((
            Class::Unaligned,
            format!(
                "{w} is not a multiple of the {} page: the kernel reserves and maps memory in whole pages, so the region does not end where the node says",
                format_size(page)
            ),
        ));
    }
    if r.is_shared_dma_pool() && r.reusable {
        // The kernel raises a dynamic CMA area's alignment itself (rmem_cma_validate()).
        return what(CMA_ALIGN, r.base().is_some()).map(|w| {
            (
                Class::Unaligned,
                format!(
                    "{w} is not a multiple of 4 MiB: a CMA area must be pageblock aligned (4 MiB on a kernel without huge pages), else the kernel refuses it (\"incorrect alignment of CMA region\")"
                ),
            )
        });
    }
    if !r.no_map {
        return None;
    }
    what(BLOCK_ALIGN, true).map(|w| {
        (
            Class::SmallAlignment,
            format!(
                "{w} is not a multiple of 2 MiB: the no-map hole splits the 2 MiB blocks of the kernel's linear map around it into pages"
            ),
        )
    })
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
            Some(base) => !base.regions().contains(r),
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
        let Some(rm) = &self.layout.reserved_memory else {
            return;
        };
        let Some(why) = rm.format_problem() else {
            return;
        };
        let path = rm.path.clone();
        let format = |rm: &heap_rules::ReservedMemory| {
            (rm.root_cells, rm.address_cells, rm.size_cells, rm.ranges)
        };
        let ours = match &self.base {
            None => true,
            Some(b) => b.reserved_memory.as_ref().map(format) != Some(format(rm)),
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
        if let Some(d) = r.defect() {
            self.push(Class::BadProperty, ours, &r.path, d.to_string());
            return;
        }
        if !r.is_enabled() {
            return;
        }
        if let Some(why) = node_name_problem(r) {
            self.push(Class::NodeName, ours, &r.path, why);
        }
        let size = r.bytes().unwrap_or(0);
        if size == 0 {
            self.push(
                Class::ZeroSize,
                ours,
                &r.path,
                "size 0: the kernel reserves nothing and no heap is made of it".into(),
            );
        } else if let Some((class, message)) = alignment_problem(r, size, page) {
            self.push(class, ours, &r.path, message);
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
        // What the driver decides for opted-in pools is heap_decisions(); here what it passes
        // over in silence although the node asks for something.
        if r.dma_heap && !r.is_shared_dma_pool() {
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
        } else if r.dma_heap && r.dma_default && !r.reusable {
            self.push(
                Class::IgnoredOptIn,
                ours,
                &r.path,
                "linux,dma-heap on the default DMA pool (linux,dma-default): the coherent heap driver skips it, the consistent DMA allocator's default pool is not a per-device pool; drop one of the two".into(),
            );
        } else if r.dma_heap && r.reusable {
            self.push(
                Class::ReusableHeap,
                ours,
                &r.path,
                format!(
                    "opted in with linux,dma-heap but reusable: the coherent heap skips reusable (CMA) pools, the mainline CMA heap exports it as \"{}\" instead; drop one of the two",
                    r.name
                ),
            );
        } else if !r.dma_heap && r.is_shared_dma_pool() && !r.reusable && !r.no_map {
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
            .regions()
            .iter()
            .filter(|r| r.is_enabled() && r.defects.is_empty())
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

    /// Reports the dynamic regions that find no room; returns their paths.
    fn dynamic_room(&mut self, banks: &[Range]) -> Vec<String> {
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
            .regions()
            .iter()
            .filter(|r| {
                r.is_enabled() && r.defects.is_empty() && r.is_dynamic() && r.size != Some(0)
            })
            .cloned()
            .collect();
        let mut no_room = Vec::new();
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
            no_room.push(r.path);
        }
        no_room
    }

    /// What the coherent heap driver does with each region ([`classify`]): a refusal of a
    /// region the kernel reserves is an error. The kernel reserves nothing under an unusable
    /// `/reserved-memory`, no region whose properties it cannot read, and no dynamic region
    /// that finds no room (`no_room`); those have their own problem already.
    fn heap_decisions(&mut self, no_room: &[String]) -> Classification {
        let ignored = self
            .layout
            .reserved_memory
            .as_ref()
            .is_some_and(|rm| rm.format_problem().is_some());
        let regions = self.layout.regions().to_vec();
        let heaps = classify(&regions, |r| {
            if ignored || no_room.contains(&r.path) {
                None
            } else {
                r.reservation()
            }
        });
        for (r, v) in regions.iter().zip(&heaps.verdicts) {
            let Some(refusal) = v.refusal() else { continue };
            let ours = self.ours(r);
            let line = v
                .line
                .as_ref()
                .map_or_else(String::new, |l| format!(" (\"{l}\")"));
            match refusal {
                // Reported by the check that found why.
                Refusal::NotReserved => {}
                Refusal::NoName | Refusal::Empty => {
                    let class = if *refusal == Refusal::NoName {
                        Class::NodeName
                    } else {
                        Class::ZeroSize
                    };
                    if !self.problems.iter().any(|p| p.class == class && p.node == r.path) {
                        self.push(
                            class,
                            ours,
                            &r.path,
                            format!("the driver refuses it{line}"),
                        );
                    }
                }
                Refusal::SystemRam => self.push(
                    Class::MissingNoMap,
                    ours,
                    &r.path,
                    format!(
                        "opted in without no-map: the region stays System RAM in the kernel's linear map, memremap() refuses to map it write-combined and the driver does not export it{line}; add no-map to {}",
                        r.path
                    ),
                ),
                Refusal::NameTaken { by } => {
                    let (who, theirs) = match by {
                        Owner::Mainline { owner, .. } => (owner.to_string(), None),
                        Owner::CmaHeap { path } => {
                            (format!("the CMA heap of {path}"), Some(path.as_str()))
                        }
                        Owner::CoherentHeap { path } => (
                            format!("the heap of {path}, which comes first"),
                            Some(path.as_str()),
                        ),
                    };
                    // A clash with a region of the overlays is the overlays' problem too.
                    let ours = ours
                        || theirs
                            .and_then(|p| regions.iter().find(|o| o.path == p))
                            .is_some_and(|o| self.ours(o));
                    self.push(
                        Class::HeapNameCollision,
                        ours,
                        &r.path,
                        format!(
                            "heap name \"{}\" is taken by {who}: the driver refuses it{line}; rename the node",
                            r.name
                        ),
                    );
                }
            }
        }
        heaps
    }

    fn phandles(&mut self) {
        let tree = self.input.tree;
        for n in &tree.nodes {
            let Some(value) = n.prop("memory-region") else {
                continue;
            };
            let path = tree.path(n);
            let ours = match self.input.baseline {
                None => true,
                Some(b) => b.node(&path).and_then(|o| o.prop("memory-region")) != Some(value),
            };
            if value.is_empty() || value.len() % 4 != 0 {
                self.push(
                    Class::BadProperty,
                    ours,
                    &path,
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
                    Some(t) if tree.parent(t).map(|p| tree.path(p)).as_deref() != Some("/reserved-memory") => {
                        format!(
                            "memory-region refers to {}, which is not a /reserved-memory region",
                            tree.path(t)
                        )
                    }
                    Some(_) => continue,
                };
                self.push(Class::MissingPhandle, ours, &path, message);
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
            compatible: vec!["shared-dma-pool".into()],
            status: None,
            reg: reg.into_iter().collect(),
            size: None,
            alignment: None,
            alloc_ranges: Vec::new(),
            no_map: true,
            reusable: false,
            dma_heap: true,
            cma_default: false,
            dma_default: false,
            defects: Vec::new(),
        }
    }

    fn dynamic(name: &str, size: u64, alignment: Option<u64>) -> Region {
        Region {
            size: Some(size),
            alignment,
            ..region(name, None)
        }
    }

    #[test]
    fn alignment_of_static_and_dynamic_regions() {
        let page = 4096;
        let class = |r: &Region| alignment_problem(r, r.bytes().unwrap(), page).map(|(c, _)| c);
        let at = |base| Some(Range::new(base, 4 * MIB));
        assert_eq!(class(&region("a@c0000000", at(0xc000_0000))), None);
        assert_eq!(
            class(&region("a@c0100000", at(0xc010_0000))),
            Some(Class::SmallAlignment)
        );
        assert_eq!(
            class(&region("a@c0000800", at(0xc000_0800))),
            Some(Class::Unaligned)
        );
        // Dynamic: the alignment property stands for the base.
        assert_eq!(class(&dynamic("scratch", 36 * MIB, Some(2 * MIB))), None);
        let (c, message) =
            alignment_problem(&dynamic("d", 4 * MIB, Some(MIB)), 4 * MIB, page).unwrap();
        assert_eq!(c, Class::SmallAlignment);
        assert!(
            message.starts_with("alignment 1 MiB is not a multiple of 2 MiB"),
            "{message}"
        );
        let (c, message) = alignment_problem(&dynamic("d", 4 * MIB, None), 4 * MIB, page).unwrap();
        assert_eq!(c, Class::SmallAlignment);
        assert!(
            message.starts_with("alignment 64 B (none given"),
            "{message}"
        );
        assert_eq!(
            class(&dynamic("d", 4 * MIB, Some(0x800))),
            Some(Class::Unaligned)
        );
        assert_eq!(
            class(&dynamic("d", 3 * MIB, Some(2 * MIB))),
            Some(Class::SmallAlignment)
        );
        // Mapped regions have no hole in the linear map; CMA areas are aligned by the kernel.
        let mapped = Region {
            no_map: false,
            ..dynamic("d", 4 * MIB, None)
        };
        assert_eq!(class(&mapped), None);
        let cma = Region {
            no_map: false,
            reusable: true,
            ..dynamic("linux,cma", 64 * MIB, None)
        };
        assert_eq!(class(&cma), None);
        let odd_cma = Region {
            size: Some(6 * MIB),
            ..cma
        };
        assert_eq!(class(&odd_cma), Some(Class::Unaligned));
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
