//! The children of `/reserved-memory`, decoded the way `drivers/of/of_reserved_mem.c` reads them.
//!
//! - `/reserved-memory` is ignored whole unless it has `#address-cells` and `#size-cells` equal
//!   to the root's and a `ranges` property (`__reserved_mem_check_root()`);
//! - a static region is the first `(address, size)` pair of `reg`, in the root's cells; the
//!   kernel records it only if its size is not 0 (`fdt_scan_reserved_mem_late()`);
//! - a dynamic region has no `reg` but `size` (exactly `#size-cells` cells), optionally
//!   `alignment` (exactly `#address-cells` cells) and `alloc-ranges` (pairs); the kernel places
//!   it at boot (`__reserved_mem_alloc_size()`). For a node with `reg` the kernel reads none
//!   of the three, and neither does [`Region::decode`];
//! - a node counts only if its `status` is absent, `okay` or `ok`.
//!
//! A property that cannot be decoded does not make the node unreadable: [`Region::defects`]
//! lists it, and the kernel does not reserve such a region ([`Region::reservation`]).

use std::fmt;

use serde::Serialize;

use crate::error::Error;
use crate::fdt::Tree;

/// A physical address range `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Range {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Range {
    /// A range of `size` bytes from `base`.
    pub const fn new(base: u64, size: u64) -> Range {
        Range { base, size }
    }

    /// One past the last byte (may be 2^64).
    pub fn end(&self) -> u128 {
        u128::from(self.base) + u128::from(self.size)
    }

    /// Whether the two ranges share a byte.
    pub fn overlaps(&self, other: &Range) -> bool {
        self.size != 0
            && other.size != 0
            && u128::from(self.base) < other.end()
            && u128::from(other.base) < self.end()
    }
}

/// `0x10000000-0x13ffffff`, inclusive like `/proc/iomem`.
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.size == 0 {
            write!(f, "{:#x} (empty)", self.base)
        } else {
            write!(f, "{:#x}-{:#x}", self.base, self.end() - 1)
        }
    }
}

/// Where a node's properties come from: a node of a [`Tree`], or the property files of a node
/// directory in `/proc/device-tree`.
pub trait Props {
    /// The raw value of property `name`.
    fn prop(&self, name: &str) -> Option<&[u8]>;

    /// Whether the node has property `name`.
    fn has(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }
}

impl Props for std::collections::BTreeMap<String, Vec<u8>> {
    fn prop(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(Vec::as_slice)
    }
}

/// `#address-cells` and `#size-cells` of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cells {
    /// `#address-cells`.
    pub address: u32,
    /// `#size-cells`.
    pub size: u32,
}

impl Cells {
    /// The kernel's cells when the root has none (`OF_ROOT_NODE_ADDR_CELLS_DEFAULT`,
    /// `OF_ROOT_NODE_SIZE_CELLS_DEFAULT`).
    pub const ROOT_DEFAULT: Cells = Cells {
        address: 1,
        size: 1,
    };

    /// The cells of `node`, each taken from `fallback` where the node has no valid one.
    pub fn of(node: &impl Props, fallback: Cells) -> Cells {
        let get = |name| node.prop(name).and_then(|v| decode_u32(v).ok());
        Cells {
            address: get("#address-cells").unwrap_or(fallback.address),
            size: get("#size-cells").unwrap_or(fallback.size),
        }
    }
}

/// A property of exactly one cell.
pub fn decode_u32(value: &[u8]) -> Result<u32, String> {
    <[u8; 4]>::try_from(value)
        .map(u32::from_be_bytes)
        .map_err(|_| format!("{} bytes, expected one 32-bit cell", value.len()))
}

/// A string-list property (NUL-separated, NUL-terminated); invalid UTF-8 is replaced.
pub fn decode_strings(value: &[u8]) -> Vec<String> {
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Whether a `status` value (absent: `None`) lets the kernel use the node.
pub fn status_is_okay(status: Option<&str>) -> bool {
    matches!(status, None | Some("okay") | Some("ok"))
}

fn check_cells(cells: Cells) -> Result<(), String> {
    if (1..=2).contains(&cells.address) && (1..=2).contains(&cells.size) {
        Ok(())
    } else {
        Err(format!(
            "#address-cells = <{}>, #size-cells = <{}>: only 1 or 2 are supported",
            cells.address, cells.size
        ))
    }
}

/// A big-endian number of one or two cells.
fn read_number(bytes: &[u8]) -> u64 {
    bytes.chunks(4).fold(0u64, |acc, c| {
        (acc << 32) | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    })
}

/// `(address, size)` pairs (`reg`, `alloc-ranges`, `/memory` banks); `Err` says what is wrong.
pub fn decode_pairs(value: &[u8], cells: Cells) -> Result<Vec<Range>, String> {
    check_cells(cells)?;
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
            Range::new(read_number(a), read_number(s))
        })
        .collect())
}

/// A number of exactly `n` cells (`size` in `#size-cells`, `alignment` in `#address-cells`).
pub fn decode_number(value: &[u8], n: u32) -> Result<u64, String> {
    if !(1..=2).contains(&n) {
        return Err(format!("{n} cells: only 1 or 2 are supported"));
    }
    if value.len() != 4 * n as usize {
        return Err(format!(
            "{} bytes, expected {n} cell{} ({} bytes)",
            value.len(),
            if n == 1 { "" } else { "s" },
            4 * n
        ));
    }
    Ok(read_number(value))
}

/// What the kernel recorded for a region at boot (its `struct reserved_mem`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reservation {
    /// Base address; `None` for a dynamic region, which the kernel places at boot.
    pub base: Option<u64>,
    /// Size in bytes.
    pub size: u64,
}

/// The boolean property a `/reserved-memory` node opts in to the coherent heap driver with,
/// and the only way to: the driver reads it (the `driver_patch` test holds it to this name),
/// and the images' udev rule grants the heaps' group access by it (the `udev_rule` test).
pub const OPT_IN_PROPERTY: &str = "linux,dma-heap";

/// A child of `/reserved-memory`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Full path, `/reserved-memory/camera@70000000`.
    pub path: String,
    /// Node name with its unit address, `camera@70000000`: what the kernel records as
    /// `rmem->name`, and the name of the heap made of it.
    pub name: String,
    /// `compatible` strings, in order.
    pub compatible: Vec<String>,
    /// `status`, if present.
    pub status: Option<String>,
    /// The `reg` entries (the kernel reserves the first only); empty for a dynamic region.
    pub reg: Vec<Range>,
    /// `size` of a dynamic region (not read for a node with `reg`).
    pub size: Option<u64>,
    /// `alignment` of a dynamic region (not read for a node with `reg`).
    pub alignment: Option<u64>,
    /// `alloc-ranges` of a dynamic region (not read for a node with `reg`).
    pub alloc_ranges: Vec<Range>,
    /// `no-map`.
    pub no_map: bool,
    /// `reusable`.
    pub reusable: bool,
    /// [`OPT_IN_PROPERTY`]: the opt-in of the coherent heap driver.
    pub dma_heap: bool,
    /// `linux,cma-default`.
    pub cma_default: bool,
    /// `linux,dma-default`: the default pool of the consistent DMA allocator
    /// (`kernel/dma/coherent.c`), not a per-device pool.
    pub dma_default: bool,
    /// What could not be decoded ([`Error::Property`], [`Error::NoRegNorSize`]).
    pub defects: Vec<Error>,
}

impl Region {
    /// Reads the node at `path` from its properties; `cells` are those of `/reserved-memory`.
    pub fn decode(path: impl Into<String>, node: &impl Props, cells: Cells) -> Region {
        let path = path.into();
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let mut defects = Vec::new();
        let mut defect = |property: &'static str, what: String| {
            defects.push(Error::Property { property, what });
        };
        let mut pairs = |property: &'static str| match node.prop(property) {
            None => Vec::new(),
            Some(v) => decode_pairs(v, cells).unwrap_or_else(|what| {
                defect(property, what);
                Vec::new()
            }),
        };
        let reg = pairs("reg");
        let is_static = node.has("reg");
        let alloc_ranges = if is_static {
            Vec::new()
        } else {
            pairs("alloc-ranges")
        };
        let mut number = |property: &'static str, n: u32| {
            let v = node.prop(property).filter(|_| !is_static)?;
            decode_number(v, n)
                .map_err(|what| defect(property, what))
                .ok()
        };
        let size = number("size", cells.size);
        let alignment = number("alignment", cells.address);
        if defects.is_empty() && reg.is_empty() && size.is_none() {
            defects.push(Error::NoRegNorSize);
        }
        let strings = |p| node.prop(p).map(decode_strings).unwrap_or_default();
        Region {
            path,
            name,
            compatible: strings("compatible"),
            status: strings("status").into_iter().next(),
            reg,
            size,
            alignment,
            alloc_ranges,
            no_map: node.has("no-map"),
            reusable: node.has("reusable"),
            dma_heap: node.has(OPT_IN_PROPERTY),
            cma_default: node.has("linux,cma-default"),
            dma_default: node.has("linux,dma-default"),
            defects,
        }
    }

    /// `status` absent, `okay` or `ok`.
    pub fn is_enabled(&self) -> bool {
        status_is_okay(self.status.as_deref())
    }

    /// `compatible` lists `shared-dma-pool`.
    pub fn is_shared_dma_pool(&self) -> bool {
        self.compatible.iter().any(|c| c == "shared-dma-pool")
    }

    /// Dynamic: a `size` and no `reg`; the kernel places it at boot.
    pub fn is_dynamic(&self) -> bool {
        self.reg.is_empty() && self.size.is_some()
    }

    /// The range the kernel reserves for a static region (the first `reg` entry).
    pub fn range(&self) -> Option<Range> {
        self.reg.first().copied()
    }

    /// Base address of a static region.
    pub fn base(&self) -> Option<u64> {
        self.range().map(|r| r.base)
    }

    /// Size in bytes, static or dynamic.
    pub fn bytes(&self) -> Option<u64> {
        self.range().map(|r| r.size).or(self.size)
    }

    /// The first thing that could not be decoded.
    pub fn defect(&self) -> Option<&Error> {
        self.defects.first()
    }

    /// The kernel makes a CMA area of it (`rmem_cma_setup()`: `reusable` and no `no-map`), which
    /// the mainline CMA heap exports under the region's full name.
    pub fn is_cma_area(&self) -> bool {
        self.is_enabled() && self.is_shared_dma_pool() && self.reusable && !self.no_map
    }

    /// What the kernel records for this region judged from its node alone: nothing for a
    /// disabled node, a property it cannot read or a size of 0; else the static range, or the
    /// size of a dynamic region (placed at boot). Whether a dynamic region finds room, and
    /// whether `/reserved-memory` itself is usable, the node cannot say.
    pub fn reservation(&self) -> Option<Reservation> {
        if !self.is_enabled() || !self.defects.is_empty() {
            return None;
        }
        let (base, size) = match self.range() {
            Some(r) => (Some(r.base), r.size),
            None => (None, self.size?),
        };
        (size != 0).then_some(Reservation { base, size })
    }
}

/// The `/reserved-memory` node of a tree and its children.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReservedMemory {
    /// Its path, `/reserved-memory`.
    pub path: String,
    /// The root's cells, which the kernel uses for every region.
    pub root_cells: Cells,
    /// Its own `#address-cells`, if valid.
    pub address_cells: Option<u32>,
    /// Its own `#size-cells`, if valid.
    pub size_cells: Option<u32>,
    /// Whether it has `ranges`.
    pub ranges: bool,
    /// The children, in flattened-tree order.
    pub regions: Vec<Region>,
}

impl ReservedMemory {
    /// The `/reserved-memory` of `tree`, if it has one.
    pub fn from_tree(tree: &Tree) -> Option<ReservedMemory> {
        let rm = tree.node("/reserved-memory")?;
        let root_cells = Cells::of(tree.root(), Cells::ROOT_DEFAULT);
        let own = Cells::of(rm, root_cells);
        Some(ReservedMemory {
            path: tree.path(rm),
            root_cells,
            address_cells: rm.u32("#address-cells"),
            size_cells: rm.u32("#size-cells"),
            ranges: rm.has("ranges"),
            regions: tree
                .children(rm)
                .map(|c| Region::decode(tree.path(c), c, own))
                .collect(),
        })
    }

    /// The cells its children are read with: its own, else the root's.
    pub fn cells(&self) -> Cells {
        Cells {
            address: self.address_cells.unwrap_or(self.root_cells.address),
            size: self.size_cells.unwrap_or(self.root_cells.size),
        }
    }

    /// Why the kernel ignores every region under it ("unsupported node format, ignoring"), if
    /// it does.
    pub fn format_problem(&self) -> Option<String> {
        let root = self.root_cells;
        if self.address_cells.is_none() || self.size_cells.is_none() {
            return Some(format!(
                "no valid #address-cells and #size-cells (the kernel wants the root's <{}> <{}>)",
                root.address, root.size
            ));
        }
        let own = self.cells();
        if own != root {
            return Some(format!(
                "#address-cells = <{}>, #size-cells = <{}> differ from the root's <{}> <{}>",
                own.address, own.size, root.address, root.size
            ));
        }
        (!self.ranges).then(|| "no ranges property".to_string())
    }

    /// The region at `path`.
    pub fn region(&self, path: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::build::{cells, reserved_memory};
    use std::collections::BTreeMap;

    fn props(list: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect()
    }

    const C22: Cells = Cells {
        address: 2,
        size: 2,
    };

    #[test]
    fn pairs_follow_the_cells() {
        let v = cells(&[0, 0x1000_0000, 0x0400_0000]);
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
            decode_pairs(&v, Cells::ROOT_DEFAULT).unwrap_err(),
            "12 bytes is not a whole number of <address size> pairs of 2 cells"
        );
        assert!(decode_pairs(
            &v,
            Cells {
                address: 3,
                size: 1
            }
        )
        .unwrap_err()
        .contains("only 1 or 2"));
        assert!(decode_pairs(&[], C22).is_err());
        assert_eq!(decode_number(&cells(&[1, 0]), 2), Ok(1 << 32));
        assert_eq!(
            decode_number(&cells(&[1]), 2).unwrap_err(),
            "4 bytes, expected 2 cells (8 bytes)"
        );
        assert_eq!(decode_u32(&[0, 0, 0, 2]), Ok(2));
        assert!(decode_u32(&[0, 0, 2]).is_err());
    }

    #[test]
    fn a_static_region() {
        let reg = cells(&[0, 0x7000_0000, 0, 0x100_0000]);
        let r = Region::decode(
            "/reserved-memory/camera@70000000",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &reg),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ]),
            C22,
        );
        assert_eq!(r.name, "camera@70000000");
        assert_eq!(r.base(), Some(0x7000_0000));
        assert_eq!(r.bytes(), Some(16 << 20));
        assert!(r.no_map && r.dma_heap && !r.reusable && !r.is_dynamic());
        assert!(r.is_enabled() && r.is_shared_dma_pool() && !r.is_cma_area());
        assert_eq!(
            r.reservation(),
            Some(Reservation {
                base: Some(0x7000_0000),
                size: 16 << 20
            })
        );
    }

    #[test]
    fn a_dynamic_region_reads_size_and_alignment_in_their_own_cells() {
        let c21 = Cells {
            address: 2,
            size: 1,
        };
        let r = Region::decode(
            "/reserved-memory/linux,cma",
            &props(&[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &cells(&[0x400_0000])),
                ("alignment", &cells(&[0, 0x40_0000])),
                ("alloc-ranges", &cells(&[0, 0, 0x4000_0000])),
                ("reusable", b""),
                ("linux,cma-default", b""),
            ]),
            c21,
        );
        assert!(r.defects.is_empty(), "{:?}", r.defects);
        assert_eq!(r.name, "linux,cma");
        assert!(r.is_dynamic() && r.is_cma_area() && r.cma_default);
        assert_eq!(r.bytes(), Some(64 << 20));
        assert_eq!(r.alignment, Some(4 << 20));
        assert_eq!(r.alloc_ranges, [Range::new(0, 0x4000_0000)]);
        assert_eq!(
            r.reservation(),
            Some(Reservation {
                base: None,
                size: 64 << 20
            })
        );
        // alignment is in #address-cells, size in #size-cells: swapped, both are refused.
        let r = Region::decode(
            "/reserved-memory/x",
            &props(&[
                ("size", &cells(&[0, 0x400_0000])),
                ("alignment", &cells(&[0x40_0000])),
            ]),
            c21,
        );
        assert_eq!(
            r.defects,
            [
                Error::Property {
                    property: "size",
                    what: "8 bytes, expected 1 cell (4 bytes)".into()
                },
                Error::Property {
                    property: "alignment",
                    what: "4 bytes, expected 2 cells (8 bytes)".into()
                }
            ]
        );
        assert_eq!(r.reservation(), None);
    }

    #[test]
    fn a_static_region_ignores_the_dynamic_properties() {
        // ti/k3-am625-sk.dts: tfa@9e780000 has reg and a one-cell alignment under 2/2 cells.
        let r = Region::decode(
            "/reserved-memory/tfa@9e780000",
            &props(&[
                ("reg", &cells(&[0, 0x9e78_0000, 0, 0x8_0000])),
                ("alignment", &cells(&[0x1000])),
                ("size", b"junk"),
                ("no-map", b""),
            ]),
            C22,
        );
        assert!(r.defects.is_empty(), "{:?}", r.defects);
        assert_eq!((r.size, r.alignment), (None, None));
        assert_eq!(r.bytes(), Some(0x8_0000));
        assert!(!r.is_dynamic());
    }

    #[test]
    fn what_the_kernel_does_not_reserve() {
        let zero = Region::decode(
            "/reserved-memory/z@0",
            &props(&[("reg", &cells(&[0, 0, 0, 0]))]),
            C22,
        );
        assert!(zero.defects.is_empty());
        assert_eq!(zero.reservation(), None);
        let bare = Region::decode("/reserved-memory/bare", &props(&[]), C22);
        assert_eq!(bare.defects, [Error::NoRegNorSize]);
        assert_eq!(
            bare.defect().unwrap().to_string(),
            "neither reg nor size: the kernel ignores the node"
        );
        let bad = Region::decode("/reserved-memory/b@0", &props(&[("reg", &[0u8; 12])]), C22);
        assert_eq!(
            bad.defect().unwrap().to_string(),
            "reg: 12 bytes is not a whole number of <address size> pairs of 4 cells"
        );
        let mut off = Region::decode(
            "/reserved-memory/off@0",
            &props(&[
                ("reg", &cells(&[0, 0, 0, 0x1000])),
                ("status", b"disabled\0"),
            ]),
            C22,
        );
        assert_eq!(off.reservation(), None);
        off.status = Some("ok".into());
        assert!(off.reservation().is_some());
    }

    #[test]
    fn reserved_memory_of_a_tree() {
        let blob = reserved_memory(&[
            ("b@2000", &[("reg", &cells(&[0, 0x2000, 0, 0x1000]))]),
            ("a@1000", &[("reg", &cells(&[0, 0x1000, 0, 0x1000]))]),
        ]);
        let tree = Tree::from_bytes(&blob).unwrap();
        let rm = ReservedMemory::from_tree(&tree).unwrap();
        assert_eq!(rm.format_problem(), None);
        let names: Vec<&str> = rm.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b@2000", "a@1000"]);
        assert_eq!(
            rm.region("/reserved-memory/a@1000").unwrap().base(),
            Some(0x1000)
        );

        let mut bad = rm.clone();
        bad.ranges = false;
        assert_eq!(bad.format_problem().unwrap(), "no ranges property");
        bad.ranges = true;
        bad.size_cells = Some(1);
        assert!(bad
            .format_problem()
            .unwrap()
            .contains("differ from the root's <2> <2>"));
        bad.size_cells = None;
        assert!(bad.format_problem().unwrap().starts_with("no valid"));
    }

    #[test]
    fn ranges() {
        let a = Range::new(0x1000, 0x1000);
        assert!(a.overlaps(&Range::new(0x1fff, 1)));
        assert!(!a.overlaps(&Range::new(0x2000, 1)));
        assert!(!a.overlaps(&Range::new(0x1000, 0)));
        assert_eq!(a.to_string(), "0x1000-0x1fff");
        let top = Range::new(u64::MAX, 1);
        assert_eq!(top.end(), 1 << 64);
        assert_eq!(top.to_string(), "0xffffffffffffffff-0xffffffffffffffff");
    }

    #[test]
    fn strings_and_status() {
        assert_eq!(decode_strings(b""), Vec::<String>::new());
        assert_eq!(decode_strings(b"a"), ["a"]);
        assert_eq!(decode_strings(b"a\0b\0"), ["a", "b"]);
        assert!(status_is_okay(None) && status_is_okay(Some("ok")));
        assert!(!status_is_okay(Some("disabled")) && !status_is_okay(Some("fail")));
    }
}
