//! The `/reserved-memory` node of the live device tree, as exposed in
//! `/proc/device-tree` (or `/sys/firmware/devicetree/base`): one directory
//! per node, one file per property holding its raw big-endian value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fdt;

/// `/proc/device-tree/reserved-memory`.
pub const PROC_RESERVED_MEMORY: &str = "/proc/device-tree/reserved-memory";
/// `/sys/firmware/devicetree/base/reserved-memory` (what `/proc/device-tree` links to).
pub const SYSFS_RESERVED_MEMORY: &str = "/sys/firmware/devicetree/base/reserved-memory";
/// The flattened device tree the kernel booted with; used only for node order.
pub const SYSFS_FDT: &str = "/sys/firmware/fdt";

/// Property name -> raw value.
pub type Properties = BTreeMap<String, Vec<u8>>;

/// `#address-cells` / `#size-cells` that apply to the children of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cells {
    /// `#address-cells`.
    pub address: u32,
    /// `#size-cells`.
    pub size: u32,
}

impl Default for Cells {
    /// 2/2: what arm64 device trees use for `/reserved-memory`.
    fn default() -> Cells {
        Cells {
            address: 2,
            size: 2,
        }
    }
}

/// One `reg` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reg {
    /// Physical base address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// One child node of `/reserved-memory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Full node name, e.g. `camera@70000000`.
    pub node: String,
    /// Node name without the unit address, e.g. `camera`.
    pub name: String,
    /// `compatible` strings, in order.
    pub compatible: Vec<String>,
    /// `reg` entries (static regions). The kernel reserves the first one.
    pub reg: Vec<Reg>,
    /// `size` property (dynamically placed regions).
    pub dynamic_size: Option<u64>,
    /// `no-map` present.
    pub no_map: bool,
    /// `reusable` present.
    pub reusable: bool,
    /// `linux,cma-default` present.
    pub cma_default: bool,
    /// `linux,dma-heap` present: opt-in for the coherent heap driver.
    pub dma_heap: bool,
    /// `status`, if present.
    pub status: Option<String>,
}

impl Region {
    /// Base address of the (first) `reg` entry; `None` for dynamic regions.
    pub fn base(&self) -> Option<u64> {
        self.reg.first().map(|r| r.base)
    }

    /// Size: from `reg`, else from `size`.
    pub fn size(&self) -> Option<u64> {
        self.reg.first().map(|r| r.size).or(self.dynamic_size)
    }

    /// `status` absent, "okay" or "ok" (what `of_device_is_available` accepts).
    pub fn is_available(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("okay") | Some("ok"))
    }

    /// Has `compatible = "shared-dma-pool"`.
    pub fn is_shared_dma_pool(&self) -> bool {
        self.compatible.iter().any(|c| c == "shared-dma-pool")
    }

    /// A region the kernel turns into a CMA area (and the CMA heap into a
    /// heap named after the full node name): an available `shared-dma-pool`
    /// with `reusable` and without `no-map`.
    pub fn is_cma(&self) -> bool {
        self.is_shared_dma_pool() && self.reusable && !self.no_map && self.is_available()
    }

    /// The boolean properties that are set, in DT spelling.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.no_map {
            f.push("no-map");
        }
        if self.reusable {
            f.push("reusable");
        }
        if self.cma_default {
            f.push("linux,cma-default");
        }
        if self.dma_heap {
            f.push("linux,dma-heap");
        }
        f
    }
}

/// The parsed `/reserved-memory` node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservedMemory {
    /// Directory it was read from.
    pub path: PathBuf,
    /// Cells used to parse the children's `reg` and `size`.
    pub cells: Cells,
    /// Child nodes, in device-tree order when `/sys/firmware/fdt` was
    /// readable, else sorted by node name.
    pub regions: Vec<Region>,
    /// Whether `regions` is in device-tree order.
    pub dt_order: bool,
}

impl ReservedMemory {
    /// The region with full node name `node`.
    pub fn region(&self, node: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.node == node)
    }
}

/// Node name without its unit address: `camera@70000000` -> `camera`.
pub fn strip_unit_address(node: &str) -> &str {
    node.split_once('@').map_or(node, |(name, _)| name)
}

fn dt_err(path: impl Into<PathBuf>, msg: impl Into<String>) -> Error {
    Error::DeviceTree {
        path: path.into(),
        msg: msg.into(),
    }
}

/// Big-endian number made of `cells` 32-bit cells.
fn be_number(bytes: &[u8]) -> Option<u64> {
    let mut v: u128 = 0;
    for cell in bytes.chunks_exact(4) {
        v = (v << 32) | u128::from(u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]));
    }
    u64::try_from(v).ok()
}

/// A property holding exactly one cell.
pub fn parse_u32(path: &Path, value: &[u8]) -> Result<u32> {
    match <[u8; 4]>::try_from(value) {
        Ok(b) => Ok(u32::from_be_bytes(b)),
        Err(_) => Err(dt_err(
            path,
            format!("expected one 32-bit cell, found {} bytes", value.len()),
        )),
    }
}

/// A string-list property (NUL-separated, NUL-terminated).
pub fn parse_strings(value: &[u8]) -> Vec<String> {
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `reg`: (address, size) pairs of `cells.address` + `cells.size` cells.
pub fn parse_reg(path: &Path, value: &[u8], cells: Cells) -> Result<Vec<Reg>> {
    let entry = 4 * (cells.address as usize + cells.size as usize);
    if cells.size == 0 || entry == 0 {
        return Err(dt_err(
            path,
            format!(
                "cannot parse with #address-cells={} #size-cells={}",
                cells.address, cells.size
            ),
        ));
    }
    if value.is_empty() || value.len() % entry != 0 {
        return Err(dt_err(
            path,
            format!(
                "length {} is not a non-zero multiple of {entry} bytes (#address-cells={}, #size-cells={})",
                value.len(),
                cells.address,
                cells.size
            ),
        ));
    }
    let split = 4 * cells.address as usize;
    value
        .chunks_exact(entry)
        .map(|e| {
            let base = be_number(&e[..split]);
            let size = be_number(&e[split..]);
            match (base, size) {
                (Some(base), Some(size)) => Ok(Reg { base, size }),
                _ => Err(dt_err(path, "value does not fit in 64 bits")),
            }
        })
        .collect()
}

/// `size` (dynamic regions): exactly `cells.size` cells.
pub fn parse_size_prop(path: &Path, value: &[u8], cells: Cells) -> Result<u64> {
    if cells.size == 0 || value.len() != 4 * cells.size as usize {
        return Err(dt_err(
            path,
            format!(
                "length {} does not match #size-cells={} ({} bytes)",
                value.len(),
                cells.size,
                4 * cells.size
            ),
        ));
    }
    be_number(value).ok_or_else(|| dt_err(path, "value does not fit in 64 bits"))
}

/// Builds a [`Region`] from node `node`'s properties. `dir` is the node's
/// directory, used in error messages.
pub fn parse_region(dir: &Path, node: &str, props: &Properties, cells: Cells) -> Result<Region> {
    let get = |name: &str| props.get(name).map(Vec::as_slice);
    let reg = match get("reg") {
        Some(v) => parse_reg(&dir.join("reg"), v, cells)?,
        None => Vec::new(),
    };
    let dynamic_size = match get("size") {
        Some(v) => Some(parse_size_prop(&dir.join("size"), v, cells)?),
        None => None,
    };
    Ok(Region {
        node: node.to_owned(),
        name: strip_unit_address(node).to_owned(),
        compatible: get("compatible").map(parse_strings).unwrap_or_default(),
        reg,
        dynamic_size,
        no_map: props.contains_key("no-map"),
        reusable: props.contains_key("reusable"),
        cma_default: props.contains_key("linux,cma-default"),
        dma_heap: props.contains_key("linux,dma-heap"),
        status: get("status").and_then(|v| parse_strings(v).into_iter().next()),
    })
}

/// Reads every property file of the node directory `dir`.
pub fn read_properties(dir: &Path) -> Result<Properties> {
    let mut props = Properties::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io("stat", &path, e))?;
        if !ft.is_file() {
            continue;
        }
        let value = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        props.insert(entry.file_name().to_string_lossy().into_owned(), value);
    }
    Ok(props)
}

fn read_cells_prop(dir: &Path, name: &str) -> Result<Option<u32>> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(v) => parse_u32(&path, &v).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// The cells for `dir`'s children: its own `#address-cells`/`#size-cells`,
/// else its parent's (the kernel insists they match the root's), else 2/2.
pub fn read_cells(dir: &Path) -> Result<Cells> {
    let default = Cells::default();
    let parent = dir.parent();
    let address = match read_cells_prop(dir, "#address-cells")? {
        Some(v) => v,
        None => match parent {
            Some(p) => read_cells_prop(p, "#address-cells")?.unwrap_or(default.address),
            None => default.address,
        },
    };
    let size = match read_cells_prop(dir, "#size-cells")? {
        Some(v) => v,
        None => match parent {
            Some(p) => read_cells_prop(p, "#size-cells")?.unwrap_or(default.size),
            None => default.size,
        },
    };
    Ok(Cells { address, size })
}

/// Reads a `/reserved-memory` directory. `Ok(None)` if it does not exist.
/// Regions come sorted by node name; see [`order_regions`].
pub fn read_reserved_memory(dir: &Path) -> Result<Option<ReservedMemory>> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(dt_err(dir, "not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("stat", dir, e)),
    }
    let cells = read_cells(dir)?;
    let mut regions = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io("stat", &path, e))?;
        if !ft.is_dir() {
            continue;
        }
        let node = entry.file_name().to_string_lossy().into_owned();
        let props = read_properties(&path)?;
        regions.push(parse_region(&path, &node, &props, cells)?);
    }
    regions.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(Some(ReservedMemory {
        path: dir.to_owned(),
        cells,
        regions,
        dt_order: false,
    }))
}

/// Puts `rm.regions` in the order of the `/reserved-memory` children in the
/// flattened tree `blob` (sysfs lists nodes in hash order, but "which node
/// came first" decides name collisions). Nodes missing from the blob (added
/// at run time) go last, by name.
pub fn order_regions(rm: &mut ReservedMemory, blob: &[u8]) -> std::result::Result<(), String> {
    let order = fdt::child_names(blob, "/reserved-memory")?;
    let pos = |node: &str| order.iter().position(|n| n == node).unwrap_or(usize::MAX);
    rm.regions.sort_by(|a, b| {
        pos(&a.node)
            .cmp(&pos(&b.node))
            .then_with(|| a.node.cmp(&b.node))
    });
    rm.dt_order = true;
    Ok(())
}

/// The running system's `/reserved-memory`: `/proc/device-tree`, else
/// `/sys/firmware/devicetree/base`; in device-tree order when
/// `/sys/firmware/fdt` can be read. `Ok(None)` when there is no such node.
pub fn read_system() -> Result<Option<ReservedMemory>> {
    let proc_dir = Path::new(PROC_RESERVED_MEMORY);
    let dir = if proc_dir.exists() || !Path::new(SYSFS_RESERVED_MEMORY).exists() {
        proc_dir
    } else {
        Path::new(SYSFS_RESERVED_MEMORY)
    };
    let Some(mut rm) = read_reserved_memory(dir)? else {
        return Ok(None);
    };
    if let Ok(blob) = std::fs::read(SYSFS_FDT) {
        // A malformed blob only costs the ordering; the live tree is authoritative.
        let _ = order_regions(&mut rm, &blob);
    }
    Ok(Some(rm))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn be32(vals: &[u32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    pub(crate) fn props(list: &[(&str, &[u8])]) -> Properties {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect()
    }

    fn p() -> &'static Path {
        Path::new("/proc/device-tree/reserved-memory/x")
    }

    #[test]
    fn static_region_2_2() {
        let reg = be32(&[0, 0x7000_0000, 0, 0x0100_0000]);
        let pr = props(&[
            ("compatible", b"shared-dma-pool\0"),
            ("reg", &reg),
            ("no-map", b""),
            ("linux,dma-heap", b""),
            ("name", b"camera\0"),
        ]);
        let r = parse_region(p(), "camera@70000000", &pr, Cells::default()).unwrap();
        assert_eq!(r.node, "camera@70000000");
        assert_eq!(r.name, "camera");
        assert_eq!(r.compatible, vec!["shared-dma-pool"]);
        assert_eq!(r.base(), Some(0x7000_0000));
        assert_eq!(r.size(), Some(16 << 20));
        assert!(r.no_map && r.dma_heap && !r.reusable && !r.cma_default);
        assert!(r.is_available() && r.is_shared_dma_pool() && !r.is_cma());
        assert_eq!(r.flags(), vec!["no-map", "linux,dma-heap"]);
    }

    #[test]
    fn high_address_and_1_1_cells() {
        let reg = be32(&[0x1, 0x0000_0000, 0x0, 0x0020_0000]);
        let r = parse_region(
            p(),
            "hi@100000000",
            &props(&[("reg", &reg)]),
            Cells::default(),
        )
        .unwrap();
        assert_eq!(r.base(), Some(0x1_0000_0000));
        assert_eq!(r.size(), Some(0x20_0000));

        let cells = Cells {
            address: 1,
            size: 1,
        };
        let reg = be32(&[0x4800_0000, 0x10_0000, 0x4900_0000, 0x1000]);
        let r = parse_region(p(), "two@48000000", &props(&[("reg", &reg)]), cells).unwrap();
        assert_eq!(
            r.reg,
            vec![
                Reg {
                    base: 0x4800_0000,
                    size: 0x10_0000
                },
                Reg {
                    base: 0x4900_0000,
                    size: 0x1000
                }
            ]
        );
        assert_eq!(r.size(), Some(0x10_0000));
    }

    #[test]
    fn dynamic_region_has_only_size() {
        let size = be32(&[0, 0x0400_0000]);
        let align = be32(&[0, 0x0040_0000]);
        let pr = props(&[
            ("compatible", b"shared-dma-pool\0"),
            ("size", &size),
            ("alignment", &align),
            ("reusable", b""),
            ("linux,cma-default", b""),
        ]);
        let r = parse_region(p(), "linux,cma", &pr, Cells::default()).unwrap();
        assert_eq!(r.name, "linux,cma");
        assert_eq!(r.base(), None);
        assert_eq!(r.size(), Some(64 << 20));
        assert!(r.reusable && r.cma_default && r.is_cma());
    }

    #[test]
    fn status_and_compatible_lists() {
        let pr = props(&[
            ("compatible", b"vendor,carveout\0shared-dma-pool\0"),
            ("status", b"disabled\0"),
        ]);
        let r = parse_region(p(), "fw@1000", &pr, Cells::default()).unwrap();
        assert_eq!(r.compatible, vec!["vendor,carveout", "shared-dma-pool"]);
        assert_eq!(r.status.as_deref(), Some("disabled"));
        assert!(!r.is_available() && r.is_shared_dma_pool());
        for ok in [&b"okay\0"[..], b"ok\0"] {
            let r = parse_region(p(), "a@1", &props(&[("status", ok)]), Cells::default()).unwrap();
            assert!(r.is_available());
        }
        assert_eq!(parse_strings(b""), Vec::<String>::new());
        assert_eq!(parse_strings(b"a"), vec!["a"]);
    }

    #[test]
    fn malformed_properties_name_the_file() {
        let err =
            parse_region(p(), "x", &props(&[("reg", &[0u8; 12])]), Cells::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/device-tree/reserved-memory/x/reg: length 12 is not a non-zero multiple of 16 bytes (#address-cells=2, #size-cells=2)"
        );
        let err =
            parse_region(p(), "x", &props(&[("size", &[0u8; 4])]), Cells::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/device-tree/reserved-memory/x/size: length 4 does not match #size-cells=2 (8 bytes)"
        );
        let big = be32(&[1, 0, 0, 0, 0, 0]);
        let cells = Cells {
            address: 3,
            size: 3,
        };
        assert!(parse_reg(Path::new("r"), &[big.clone(), big].concat(), cells).is_err());
        assert!(parse_u32(Path::new("c"), &[0, 0, 2]).is_err());
        assert_eq!(parse_u32(Path::new("c"), &[0, 0, 0, 2]).unwrap(), 2);
        assert!(parse_reg(Path::new("r"), &[], Cells::default()).is_err());
    }

    /// A scratch directory laid out like /proc/device-tree.
    struct TempTree(PathBuf);

    impl TempTree {
        fn new(tag: &str) -> TempTree {
            let dir =
                std::env::temp_dir().join(format!("dma-heap-dt-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempTree(dir)
        }
        fn file(&self, rel: &str, value: &[u8]) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, value).unwrap();
        }
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reads_a_directory_tree() {
        let t = TempTree::new("read");
        t.file("#address-cells", &be32(&[1]));
        t.file("#size-cells", &be32(&[1]));
        t.file("reserved-memory/#address-cells", &be32(&[1]));
        t.file("reserved-memory/#size-cells", &be32(&[1]));
        t.file("reserved-memory/ranges", b"");
        t.file("reserved-memory/b@2000/reg", &be32(&[0x2000, 0x1000]));
        t.file("reserved-memory/b@2000/no-map", b"");
        t.file("reserved-memory/a@1000/reg", &be32(&[0x1000, 0x1000]));
        t.file("reserved-memory/a@1000/compatible", b"shared-dma-pool\0");
        let rm = read_reserved_memory(&t.0.join("reserved-memory"))
            .unwrap()
            .unwrap();
        assert_eq!(
            rm.cells,
            Cells {
                address: 1,
                size: 1
            }
        );
        let nodes: Vec<_> = rm.regions.iter().map(|r| r.node.as_str()).collect();
        assert_eq!(nodes, ["a@1000", "b@2000"]);
        assert!(rm.region("b@2000").unwrap().no_map);
        assert!(read_reserved_memory(&t.0.join("nope")).unwrap().is_none());
    }

    #[test]
    fn cells_fall_back_to_parent_then_default() {
        let t = TempTree::new("cells");
        t.file("#address-cells", &be32(&[1]));
        t.file("reserved-memory/x/reg", &be32(&[0, 0, 0]));
        let cells = read_cells(&t.0.join("reserved-memory")).unwrap();
        assert_eq!(
            cells,
            Cells {
                address: 1,
                size: 2
            }
        );
    }

    #[test]
    fn fdt_order_decides_region_order() {
        let mut rm = ReservedMemory {
            path: PathBuf::from("/x"),
            cells: Cells::default(),
            regions: ["a@1", "b@2", "z@0"]
                .iter()
                .map(|n| parse_region(p(), n, &Properties::new(), Cells::default()).unwrap())
                .collect(),
            dt_order: false,
        };
        let blob = fdt::tests::build(&[
            ("", true),
            ("reserved-memory", true),
            ("b@2", true),
            ("", false),
            ("a@1", true),
            ("", false),
            ("", false),
            ("", false),
        ]);
        order_regions(&mut rm, &blob).unwrap();
        let nodes: Vec<_> = rm.regions.iter().map(|r| r.node.as_str()).collect();
        assert_eq!(nodes, ["b@2", "a@1", "z@0"]);
        assert!(rm.dt_order);
    }
}
