//! What a tree says about memory: the `/memory` banks, the `/memreserve/` entries and
//! `/reserved-memory`, whose children are [`heap_rules::Region`]s decoded the way
//! `drivers/of/of_reserved_mem.c` reads them.

use heap_rules::region::decode_pairs;
use heap_rules::{Cells, Range, Region, ReservedMemory, Tree};

/// One `device_type = "memory"` node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryNode {
    /// Full path.
    pub path: String,
    /// Its banks, empty ones included.
    pub banks: Vec<Range>,
    /// Why `reg` could not be read.
    pub defect: Option<String>,
}

/// Everything about memory in one tree.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The root's cells.
    pub root_cells: Cells,
    /// `/reserved-memory` and its children, if present.
    pub reserved_memory: Option<ReservedMemory>,
    /// The `/memory` nodes.
    pub memory: Vec<MemoryNode>,
    /// `/memreserve/` entries.
    pub memreserve: Vec<Range>,
}

impl Layout {
    /// Reads the layout of `tree`.
    pub fn read(tree: &Tree) -> Layout {
        let root = tree.root();
        let root_cells = Cells::of(root, Cells::ROOT_DEFAULT);
        let memory = tree
            .children(root)
            .filter(|n| {
                n.strings("device_type").first().map(String::as_str) == Some("memory")
                    && n.is_enabled()
            })
            .map(|n| {
                let (banks, defect) = match n.prop("reg").map(|v| decode_pairs(v, root_cells)) {
                    None => (Vec::new(), Some("no reg".to_string())),
                    Some(Ok(b)) => (b, None),
                    Some(Err(e)) => (Vec::new(), Some(e)),
                };
                MemoryNode {
                    path: tree.path(n),
                    banks,
                    defect,
                }
            })
            .collect();
        Layout {
            root_cells,
            reserved_memory: ReservedMemory::from_tree(tree),
            memory,
            memreserve: tree.memreserve.clone(),
        }
    }

    /// The children of `/reserved-memory`, in tree order.
    pub fn regions(&self) -> &[Region] {
        self.reserved_memory
            .as_ref()
            .map_or(&[], |rm| rm.regions.as_slice())
    }

    /// The non-empty banks of the `/memory` nodes.
    pub fn memory_banks(&self) -> Vec<Range> {
        self.memory
            .iter()
            .flat_map(|m| m.banks.iter().copied())
            .filter(|b| b.size != 0)
            .collect()
    }
}

/// The short flags shown in reports.
pub fn flags(r: &Region) -> Vec<&'static str> {
    let mut f = Vec::new();
    if r.is_dynamic() {
        f.push("dynamic");
    }
    if r.no_map {
        f.push("no-map");
    }
    if r.reusable {
        f.push("reusable");
    }
    if r.cma_default {
        f.push("cma-default");
    }
    if r.dma_default {
        f.push("dma-default");
    }
    if !r.is_enabled() {
        f.push("disabled");
    }
    f
}
