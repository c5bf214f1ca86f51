//! A device tree read into memory: every node with its full path and raw properties, and the
//! `/memreserve/` entries.
//!
//! The blob is checked and normalised by [`crate::blob`], then read with the `fdt` crate.

use std::fmt;

use serde::Serialize;

use crate::blob::{self, BlobError};

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

/// One node.
#[derive(Clone, Debug)]
pub struct Node {
    /// Full path, `/` for the root.
    pub path: String,
    /// Name with unit address, empty for the root.
    pub name: String,
    /// Index of the parent in [`Tree::nodes`].
    pub parent: Option<usize>,
    /// Indices of the subnodes in [`Tree::nodes`], in blob order.
    pub children: Vec<usize>,
    props: Vec<(String, Vec<u8>)>,
}

impl Node {
    /// The raw value of property `name`.
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Whether the node has property `name` (a boolean property is present or not).
    pub fn has(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }

    /// Property `name` as one cell.
    pub fn u32(&self, name: &str) -> Option<u32> {
        let v = self.prop(name)?;
        Some(u32::from_be_bytes(v.try_into().ok()?))
    }

    /// Property `name` as a string list (`compatible`, `status`); invalid UTF-8 is replaced.
    pub fn strings(&self, name: &str) -> Vec<String> {
        let Some(v) = self.prop(name) else {
            return Vec::new();
        };
        v.strip_suffix(&[0])
            .unwrap_or(v)
            .split(|&b| b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    /// The name without its unit address (`camera` for `camera@10000000`).
    pub fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or("")
    }

    /// The unit address, if the name has one.
    pub fn unit_address(&self) -> Option<&str> {
        self.name.split_once('@').map(|(_, a)| a)
    }

    /// Whether the kernel considers the node: no `status`, or `okay`/`ok`
    /// (`of_fdt_device_is_available()`).
    pub fn is_enabled(&self) -> bool {
        match self.strings("status").first().map(String::as_str) {
            None => true,
            Some(s) => s == "okay" || s == "ok",
        }
    }

    /// `phandle` (or the legacy `linux,phandle`).
    pub fn phandle(&self) -> Option<u32> {
        self.u32("phandle").or_else(|| self.u32("linux,phandle"))
    }

    /// All properties, in blob order.
    pub fn props(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.props.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// A whole tree.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Every node, depth first in blob order; index 0 is the root.
    pub nodes: Vec<Node>,
    /// The `/memreserve/` entries.
    pub memreserve: Vec<Range>,
}

impl Tree {
    /// Reads a DTB (or DTBO).
    pub fn from_bytes(bytes: &[u8]) -> Result<Tree, BlobError> {
        let blob = blob::normalize(bytes)?;
        // Cannot fail on a normalised blob: magic and size were checked.
        let fdt = fdt::Fdt::new(&blob).map_err(|e| BlobError::Structure {
            offset: 0,
            what: e.to_string(),
        })?;
        let root = fdt.find_node("/").ok_or_else(|| BlobError::Structure {
            offset: 0,
            what: "no root node".into(),
        })?;
        let mut tree = Tree {
            nodes: Vec::new(),
            memreserve: fdt
                .memory_reservations()
                .map(|r| Range::new(r.address() as usize as u64, r.size() as u64))
                .collect(),
        };
        tree.add(root, None);
        Ok(tree)
    }

    fn add(&mut self, node: fdt::node::FdtNode<'_, '_>, parent: Option<usize>) -> usize {
        let name = match parent {
            None => String::new(),
            Some(_) => node.name.to_string(),
        };
        let path = match parent.map(|p| self.nodes[p].path.as_str()) {
            None => "/".to_string(),
            Some("/") => format!("/{name}"),
            Some(p) => format!("{p}/{name}"),
        };
        let index = self.nodes.len();
        self.nodes.push(Node {
            path,
            name,
            parent,
            children: Vec::new(),
            props: node
                .properties()
                .map(|p| (p.name.to_string(), p.value.to_vec()))
                .collect(),
        });
        for child in node.children() {
            let c = self.add(child, Some(index));
            self.nodes[index].children.push(c);
        }
        index
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    /// The node at `path` (exact, unit addresses included).
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.path == path)
    }

    /// The subnodes of `node`.
    pub fn children<'a>(&'a self, node: &'a Node) -> impl Iterator<Item = &'a Node> + 'a {
        node.children.iter().map(|&i| &self.nodes[i])
    }

    /// The node with phandle `phandle`.
    pub fn by_phandle(&self, phandle: u32) -> Option<&Node> {
        self.nodes.iter().find(|n| n.phandle() == Some(phandle))
    }

    /// The root's `compatible` list.
    pub fn compatible(&self) -> Vec<String> {
        self.root().strings("compatible")
    }

    /// Whether this is an overlay (`dtc -@` of a `/plugin/` source): a fragment with an
    /// `__overlay__` node, or the `__fixups__` / `__local_fixups__` nodes.
    pub fn is_overlay(&self) -> bool {
        self.children(self.root()).any(|n| {
            n.name == "__fixups__"
                || n.name == "__local_fixups__"
                || self.children(n).any(|c| c.name == "__overlay__")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::tests::{begin, dtb, end, fin, nop, prop};

    #[test]
    fn paths_properties_and_memreserve() {
        // Strings: 0 "compatible", 11 "reg", 15 "status"
        let strings = b"compatible\0reg\0status\0";
        let mut st = Vec::new();
        begin(&mut st, "");
        prop(&mut st, 0, b"acme,board\0acme,soc\0");
        begin(&mut st, "reserved-memory");
        begin(&mut st, "camera@10000000");
        nop(&mut st);
        prop(
            &mut st,
            11,
            &[0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0],
        );
        prop(&mut st, 15, b"disabled\0");
        end(&mut st);
        end(&mut st);
        end(&mut st);
        fin(&mut st);
        let tree = Tree::from_bytes(&dtb(&[(0, 0x1000)], &st, strings)).unwrap();

        assert_eq!(tree.compatible(), ["acme,board", "acme,soc"]);
        assert_eq!(tree.memreserve, [Range::new(0, 0x1000)]);
        let cam = tree.node("/reserved-memory/camera@10000000").unwrap();
        assert_eq!(cam.base_name(), "camera");
        assert_eq!(cam.unit_address(), Some("10000000"));
        assert_eq!(cam.prop("reg").map(<[u8]>::len), Some(16));
        assert!(!cam.is_enabled());
        assert!(!tree.is_overlay());
        let parent = &tree.nodes[cam.parent.unwrap()];
        assert_eq!(parent.path, "/reserved-memory");
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
}
