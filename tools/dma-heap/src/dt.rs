//! The `/reserved-memory` node of the live device tree, as exposed in
//! `/proc/device-tree` (or `/sys/firmware/devicetree/base`): one directory
//! per node, one file per property holding its raw big-endian value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use heap_rules::{Cells, Region};

use crate::error::{Error, Result};

/// `/proc/device-tree/reserved-memory`.
pub const PROC_RESERVED_MEMORY: &str = "/proc/device-tree/reserved-memory";
/// `/sys/firmware/devicetree/base/reserved-memory` (what `/proc/device-tree` links to).
pub const SYSFS_RESERVED_MEMORY: &str = "/sys/firmware/devicetree/base/reserved-memory";
/// The flattened device tree the kernel booted with; used only for node order.
pub const SYSFS_FDT: &str = "/sys/firmware/fdt";

/// Property name -> raw value.
pub type Properties = BTreeMap<String, Vec<u8>>;

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
        self.regions.iter().find(|r| r.name == node)
    }
}

fn dt_err(path: impl Into<PathBuf>, msg: impl Into<String>) -> Error {
    Error::DeviceTree {
        path: path.into(),
        msg: msg.into(),
    }
}

/// Builds the [`Region`] of node `node` (full name) from its properties, read from directory
/// `dir`; a property the kernel could not read either is an error naming its file.
pub fn parse_region(dir: &Path, node: &str, props: &Properties, cells: Cells) -> Result<Region> {
    check_region(
        dir,
        Region::decode(format!("/reserved-memory/{node}"), props, cells),
    )
}

/// `region`, read from node directory `dir` (or a DTB's node standing for it), unless a
/// property of it could not be decoded: then an error naming that property's file.
pub fn check_region(dir: &Path, region: Region) -> Result<Region> {
    match region.defects.iter().find_map(|d| match d {
        heap_rules::Error::Property { property, what } => Some((property, what)),
        _ => None,
    }) {
        Some((property, what)) => Err(dt_err(dir.join(property), what.clone())),
        None => Ok(region),
    }
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
        Ok(v) => heap_rules::region::decode_u32(&v)
            .map(Some)
            .map_err(|msg| dt_err(&path, msg)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// The cells for `dir`'s children: its own `#address-cells`/`#size-cells`,
/// else its parent's (the kernel insists they match the root's), else the
/// kernel's root default (1/1).
pub fn read_cells(dir: &Path) -> Result<Cells> {
    let default = Cells::ROOT_DEFAULT;
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
    regions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(ReservedMemory {
        path: dir.to_owned(),
        cells,
        regions,
        dt_order: false,
    }))
}

/// Puts `rm.regions` in the order of the `/reserved-memory` children in the
/// flattened tree `blob` (sysfs lists nodes in hash order, but the driver
/// goes through them in tree order). Nodes missing from the blob (added at
/// run time) go last, by name.
pub fn order_regions(rm: &mut ReservedMemory, blob: &[u8]) -> std::result::Result<(), String> {
    let tree = heap_rules::Tree::from_bytes(blob).map_err(|e| e.to_string())?;
    let order: Vec<&str> = tree
        .node("/reserved-memory")
        .map(|n| tree.children(n).map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let pos = |node: &str| order.iter().position(|n| *n == node).unwrap_or(usize::MAX);
    rm.regions.sort_by(|a, b| {
        pos(&a.name)
            .cmp(&pos(&b.name))
            .then_with(|| a.name.cmp(&b.name))
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

    /// `/reserved-memory` of arm64 trees.
    pub(crate) const CELLS: Cells = Cells {
        address: 2,
        size: 2,
    };

    fn p() -> &'static Path {
        Path::new("/proc/device-tree/reserved-memory/x")
    }

    #[test]
    fn a_region_from_its_property_files() {
        let reg = be32(&[0, 0x7000_0000, 0, 0x0100_0000]);
        let pr = props(&[
            ("compatible", b"shared-dma-pool\0"),
            ("reg", &reg),
            ("no-map", b""),
            ("linux,dma-heap", b""),
            ("name", b"camera\0"),
        ]);
        let r = parse_region(p(), "camera@70000000", &pr, CELLS).unwrap();
        assert_eq!(r.name, "camera@70000000");
        assert_eq!(r.path, "/reserved-memory/camera@70000000");
        assert_eq!(r.base(), Some(0x7000_0000));
        assert_eq!(r.bytes(), Some(16 << 20));
        assert!(r.no_map && r.dma_heap && !r.reusable);
    }

    #[test]
    fn malformed_properties_name_the_file() {
        let err = parse_region(p(), "x", &props(&[("reg", &[0u8; 12])]), CELLS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/device-tree/reserved-memory/x/reg: 12 bytes is not a whole number of <address size> pairs of 4 cells"
        );
        let err = parse_region(p(), "x", &props(&[("size", &[0u8; 4])]), CELLS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/device-tree/reserved-memory/x/size: 4 bytes, expected 2 cells (8 bytes)"
        );
        // Neither reg nor size is no error here: the node's own case says so.
        let bare = parse_region(p(), "bare@1", &props(&[]), CELLS).unwrap();
        assert_eq!(bare.bytes(), None);
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
        assert_eq!(rm.cells, Cells::ROOT_DEFAULT);
        let nodes: Vec<_> = rm.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(nodes, ["a@1000", "b@2000"]);
        assert!(rm.region("b@2000").unwrap().no_map);
        assert!(read_reserved_memory(&t.0.join("nope")).unwrap().is_none());
        t.file("reserved-memory/#size-cells", &be32(&[0, 1]));
        let err = read_reserved_memory(&t.0.join("reserved-memory")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("#size-cells: 8 bytes, expected one 32-bit cell"),
            "{err}"
        );
    }

    #[test]
    fn cells_fall_back_to_parent_then_default() {
        let t = TempTree::new("cells");
        t.file("#address-cells", &be32(&[2]));
        t.file("reserved-memory/x/reg", &be32(&[0, 0, 0]));
        let cells = read_cells(&t.0.join("reserved-memory")).unwrap();
        assert_eq!(
            cells,
            Cells {
                address: 2,
                size: 1
            }
        );
    }

    /// Compiles DTS source with dtc (scripts/setup-host installs it).
    fn dtc(source: &str) -> Vec<u8> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("dtc not found: run scripts/setup-host (device-tree-compiler)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(source.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "dtc failed");
        out.stdout
    }

    #[test]
    fn fdt_order_decides_region_order() {
        let mut rm = ReservedMemory {
            path: PathBuf::from("/x"),
            cells: CELLS,
            regions: ["a@1", "b@2", "z@0"]
                .iter()
                .map(|n| parse_region(p(), n, &Properties::new(), CELLS).unwrap())
                .collect(),
            dt_order: false,
        };
        let blob = dtc(
            "/dts-v1/;\n/ { cpus { cpu@0 { }; }; reserved-memory { b@2 { x = <1>; inner { }; }; a@1 { }; }; };\n",
        );
        order_regions(&mut rm, &blob).unwrap();
        let nodes: Vec<_> = rm.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(nodes, ["b@2", "a@1", "z@0"]);
        assert!(rm.dt_order);
        let mut garbage = rm.clone();
        garbage.dt_order = false;
        assert!(order_regions(&mut garbage, &blob[..blob.len() / 2]).is_err());
        assert!(order_regions(&mut garbage, b"\0\0\0\0").is_err());
        assert!(!garbage.dt_order);
    }
}
