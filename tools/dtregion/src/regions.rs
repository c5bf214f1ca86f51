//! What a tree says about memory: the `/memory` banks, the `/memreserve/` entries and the
//! children of `/reserved-memory`, decoded the way `drivers/of/of_reserved_mem.c` reads them.

use crate::tree::{Node, Range, Tree};

/// The kernel's defaults when the root has no `#address-cells` / `#size-cells`
/// (`OF_ROOT_NODE_ADDR_CELLS_DEFAULT`, `OF_ROOT_NODE_SIZE_CELLS_DEFAULT`).
const ROOT_DEFAULT_CELLS: Cells = Cells {
    address: 1,
    size: 1,
};

/// `#address-cells` and `#size-cells` of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cells {
    /// `#address-cells`.
    pub address: u32,
    /// `#size-cells`.
    pub size: u32,
}

impl Cells {
    fn of(node: &Node, default: Cells) -> Cells {
        Cells {
            address: node.u32("#address-cells").unwrap_or(default.address),
            size: node.u32("#size-cells").unwrap_or(default.size),
        }
    }
}

/// Reads `(address, size)` pairs; `Err` says what is wrong with the value.
pub fn decode_pairs(value: &[u8], cells: Cells) -> Result<Vec<Range>, String> {
    if !(1..=2).contains(&cells.address) || !(1..=2).contains(&cells.size) {
        return Err(format!(
            "#address-cells = <{}>, #size-cells = <{}>: only 1 or 2 are supported",
            cells.address, cells.size
        ));
    }
    let entry = 4 * (cells.address + cells.size) as usize;
    if value.is_empty() || value.len() % entry != 0 {
        return Err(format!(
            "{} bytes is not a whole number of <address size> pairs of {} cells",
            value.len(),
            entry / 4
        ));
    }
    Ok(value
        .chunks(entry)
        .map(|pair| {
            let (a, s) = pair.split_at(4 * cells.address as usize);
            Range::new(read_cells(a), read_cells(s))
        })
        .collect())
}

/// A big-endian number of one or two cells.
fn read_cells(bytes: &[u8]) -> u64 {
    bytes.chunks(4).fold(0u64, |acc, c| {
        (acc << 32) | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    })
}

/// A child of `/reserved-memory`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Full path.
    pub path: String,
    /// Node name with unit address.
    pub name: String,
    /// The `reg` entries (the kernel reserves the first only); empty for a dynamic region.
    pub reg: Vec<Range>,
    /// `size` of a dynamic region.
    pub size: Option<u64>,
    /// `alloc-ranges` of a dynamic region.
    pub alloc_ranges: Vec<Range>,
    /// `alignment` of a dynamic region.
    pub alignment: Option<u64>,
    /// `compatible` strings.
    pub compatible: Vec<String>,
    /// `no-map`.
    pub no_map: bool,
    /// `reusable`.
    pub reusable: bool,
    /// `linux,dma-heap`: the opt-in marker of the coherent heap driver.
    pub opted_in: bool,
    /// `status` is okay (or absent).
    pub enabled: bool,
    /// `linux,cma-default`.
    pub cma_default: bool,
    /// A property that could not be decoded, with why.
    pub defect: Option<String>,
}

impl Region {
    fn read(node: &Node, cells: Cells) -> Region {
        let mut defect = None;
        let mut pairs = |prop: &str| -> Vec<Range> {
            match node.prop(prop).map(|v| decode_pairs(v, cells)) {
                None => Vec::new(),
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    defect.get_or_insert(format!("{prop}: {e}"));
                    Vec::new()
                }
            }
        };
        let reg = pairs("reg");
        let alloc_ranges = pairs("alloc-ranges");
        let mut number = |prop: &str| -> Option<u64> {
            let v = node.prop(prop)?;
            if v.len() == 4 || v.len() == 8 {
                Some(read_cells(v))
            } else {
                defect.get_or_insert(format!("{prop}: {} bytes, expected 4 or 8", v.len()));
                None
            }
        };
        let size = number("size");
        let alignment = number("alignment");
        if reg.is_empty() && size.is_none() && defect.is_none() {
            defect = Some("neither reg nor size: the kernel ignores the node".into());
        }
        Region {
            path: node.path.clone(),
            name: node.name.clone(),
            reg,
            size,
            alloc_ranges,
            alignment,
            compatible: node.strings("compatible"),
            no_map: node.has("no-map"),
            reusable: node.has("reusable"),
            opted_in: node.has("linux,dma-heap"),
            enabled: node.is_enabled(),
            cma_default: node.has("linux,cma-default"),
            defect,
        }
    }

    /// The range the kernel reserves for a static region (the first `reg` entry).
    pub fn range(&self) -> Option<Range> {
        self.reg.first().copied()
    }

    /// Dynamic: a `size` and no `reg`; the kernel allocates it at boot.
    pub fn is_dynamic(&self) -> bool {
        self.reg.is_empty() && self.size.is_some()
    }

    /// Size in bytes, static or dynamic.
    pub fn bytes(&self) -> Option<u64> {
        self.range().map(|r| r.size).or(self.size)
    }

    /// `compatible = "shared-dma-pool"`.
    pub fn is_pool(&self) -> bool {
        self.compatible.iter().any(|c| c == "shared-dma-pool")
    }

    /// The name without its unit address.
    pub fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or("")
    }

    /// The heap the coherent heap driver would make of it, by its rules (`wanted()` in
    /// `coherent_heap.rs`): an enabled, opted-in, non-reusable `shared-dma-pool`. Whether the
    /// name is free and the region usable is for [`crate::check`] to say.
    pub fn heap_name(&self) -> Option<&str> {
        (self.enabled && self.is_pool() && self.opted_in && !self.reusable)
            .then(|| self.base_name())
    }

    /// The short flags shown in reports.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.is_dynamic() {
            f.push("dynamic");
        }
        if self.no_map {
            f.push("no-map");
        }
        if self.reusable {
            f.push("reusable");
        }
        if self.cma_default {
            f.push("cma-default");
        }
        if !self.enabled {
            f.push("disabled");
        }
        f
    }
}

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
    /// `/reserved-memory`, if present: path, cells, whether it has `ranges`.
    pub reserved_memory: Option<(String, Cells, bool)>,
    /// The children of `/reserved-memory`, in tree order.
    pub regions: Vec<Region>,
    /// The `/memory` nodes.
    pub memory: Vec<MemoryNode>,
    /// `/memreserve/` entries.
    pub memreserve: Vec<Range>,
}

impl Layout {
    /// Reads the layout of `tree`.
    pub fn read(tree: &Tree) -> Layout {
        let root = tree.root();
        let root_cells = Cells::of(root, ROOT_DEFAULT_CELLS);
        let rm = tree.node("/reserved-memory");
        let reserved_memory = rm.map(|n| {
            (
                n.path.clone(),
                Cells::of(n, ROOT_DEFAULT_CELLS),
                n.has("ranges"),
            )
        });
        let regions = match (rm, &reserved_memory) {
            (Some(n), Some((_, cells, _))) => {
                tree.children(n).map(|c| Region::read(c, *cells)).collect()
            }
            _ => Vec::new(),
        };
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
                    path: n.path.clone(),
                    banks,
                    defect,
                }
            })
            .collect();
        Layout {
            root_cells,
            reserved_memory,
            regions,
            memory,
            memreserve: tree.memreserve.clone(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_cells() {
        let v = [0, 0, 0, 0, 0x10, 0, 0, 0, 0x04, 0, 0, 0];
        assert_eq!(
            decode_pairs(
                &v,
                Cells {
                    address: 2,
                    size: 1
                }
            ),
            Ok(vec![Range::new(0x1000_0000, 0x0400_0000)])
        );
        assert_eq!(
            decode_pairs(
                &v,
                Cells {
                    address: 1,
                    size: 1
                }
            )
            .unwrap_err(),
            "12 bytes is not a whole number of <address size> pairs of 2 cells"
        );
        assert!(decode_pairs(
            &v,
            Cells {
                address: 3,
                size: 1
            }
        )
        .is_err());
    }
}
