//! What a tree says about memory: the `/memory` banks, the `/memreserve/` entries,
//! `/reserved-memory`, whose children are [`heap_rules::Region`]s decoded the way
//! `drivers/of/of_reserved_mem.c` reads them, and the `dma-ranges` windows through which the
//! devices of a bus see memory ([`dma_windows`]).

use heap_rules::region::decode_pairs;
use heap_rules::{Cells, Node, Range, Region, ReservedMemory, Tree};

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

/// One entry of a bus node's `dma-ranges`: what its devices reach, in CPU physical addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaWindow {
    /// The bus node (full path).
    pub node: String,
    /// The address the bus's devices use for the window's first byte.
    pub bus: u64,
    /// The window in CPU physical addresses.
    pub range: Range,
}

/// The cells of `node` the way the kernel finds them (`of_n_addr_cells()`,
/// `of_n_size_cells()`): its own, else its parent's, up to the root's default.
fn cells_of(tree: &Tree, node: &Node) -> Cells {
    match tree.parent(node) {
        None => Cells::of(node, Cells::ROOT_DEFAULT),
        Some(parent) => Cells::of(node, cells_of(tree, parent)),
    }
}

/// An address of `n` cells (1 to 3; PCI's 3-cell addresses keep their lower 64 bits).
fn address(cells: &[u8]) -> u64 {
    let tail = &cells[cells.len().saturating_sub(8)..];
    tail.chunks(4).fold(0u64, |acc, c| {
        (acc << 32) | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    })
}

/// The `(child, parent, size)` triplets of `node`'s `dma-ranges`; `None` when it has none,
/// is empty (an identity mapping) or cannot be decoded.
fn dma_triplets(tree: &Tree, node: &Node) -> Option<Vec<(u64, u64, u64)>> {
    let value = node.prop("dma-ranges").filter(|v| !v.is_empty())?;
    let parent = tree.parent(node)?;
    let child = Cells::of(node, Cells::ROOT_DEFAULT);
    let parent_address = cells_of(tree, parent).address;
    let (ca, pa, sz) = (
        child.address as usize,
        parent_address as usize,
        child.size as usize,
    );
    if !(1..=3).contains(&ca) || !(1..=3).contains(&pa) || !(1..=2).contains(&sz) {
        return None;
    }
    let entry = 4 * (ca + pa + sz);
    if value.len() % entry != 0 {
        return None;
    }
    Some(
        value
            .chunks(entry)
            .map(|e| {
                let (c, rest) = e.split_at(4 * ca);
                let (p, s) = rest.split_at(4 * pa);
                (address(c), address(p), address(s))
            })
            .collect(),
    )
}

/// `addr`, an address on the bus below `node`, as the CPU sees it: translated through the
/// `dma-ranges` of `node` and its ancestors (a bus without them, or with an empty one, passes
/// addresses through unchanged, as the kernel does for the buses it treats as 1:1).
fn to_cpu(tree: &Tree, node: &Node, addr: u64) -> u64 {
    let Some(parent) = tree.parent(node) else {
        return addr;
    };
    let up = dma_triplets(tree, node)
        .and_then(|t| {
            t.into_iter()
                .find(|&(c, _, s)| addr >= c && u128::from(addr) < u128::from(c) + u128::from(s))
                .map(|(c, p, _)| p + (addr - c))
        })
        .unwrap_or(addr);
    to_cpu(tree, parent, up)
}

/// Every window of every enabled bus with a non-empty `dma-ranges`, in tree order: the memory
/// its DMA masters can reach, in CPU physical addresses. Entries that cannot be decoded are
/// left out.
pub fn dma_windows(tree: &Tree) -> Vec<DmaWindow> {
    let mut out = Vec::new();
    for node in &tree.nodes {
        if !node.is_enabled() {
            continue;
        }
        let Some(triplets) = dma_triplets(tree, node) else {
            continue;
        };
        let parent = tree.parent(node).expect("dma_triplets needs a parent");
        for (child, parent_addr, size) in triplets {
            if size == 0 {
                continue;
            }
            out.push(DmaWindow {
                node: tree.path(node),
                bus: child,
                range: Range::new(to_cpu(tree, parent, parent_addr), size),
            });
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with `dma-ranges` on two nested buses, as the Raspberry Pi 4 has them.
    fn tree() -> Tree {
        let dtb = std::process::Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(
                    br#"/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <1>;
    soc {
        #address-cells = <1>;
        #size-cells = <1>;
        dma-ranges = <0xc0000000 0x0 0x0 0x40000000>;
        inner {
            #address-cells = <1>;
            #size-cells = <1>;
            dma-ranges = <0x10000000 0xc0000000 0x1000000>;
        };
        identity {
            #address-cells = <1>;
            #size-cells = <1>;
            dma-ranges;
        };
    };
    off {
        #address-cells = <1>;
        #size-cells = <1>;
        status = "disabled";
        dma-ranges = <0x0 0x0 0x0 0x1000>;
    };
};
"#,
                )?;
                c.wait_with_output()
            })
            .expect("dtc");
        Tree::from_bytes(&dtb.stdout).unwrap()
    }

    #[test]
    fn windows_are_translated_to_cpu_addresses() {
        let w = dma_windows(&tree());
        assert_eq!(
            w,
            vec![
                DmaWindow {
                    node: "/soc".into(),
                    bus: 0xc000_0000,
                    range: Range::new(0, 0x4000_0000),
                },
                // 0xc0000000 on /soc's bus is CPU 0x0.
                DmaWindow {
                    node: "/soc/inner".into(),
                    bus: 0x1000_0000,
                    range: Range::new(0, 0x100_0000),
                },
            ]
        );
    }
}
