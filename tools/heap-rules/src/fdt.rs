//! Reading a flattened device tree (DTB or DTBO) into memory, in bounds.
//!
//! Format: [Devicetree Specification v0.4, chapter 5](https://devicetree-specification.readthedocs.io/en/v0.4/flattened-format.html).
//!
//! [`Tree::from_bytes`] walks the blob once and checks everything a file can get wrong, so that
//! no input makes it panic or allocate more than a small multiple of the blob (the `fuzz/`
//! target of `dtregion` checks both):
//!
//! - the header: magic, `totalsize` within the blob, version 17 (compatible with 16 or 17), the
//!   structure and strings blocks inside `totalsize`;
//! - the memory reservation block: `(address, size)` pairs up to a `(0, 0)` entry, in bounds;
//! - the structure block: tokens in bounds, one root node named `""`, every other node named,
//!   every name and property name NUL-terminated UTF-8 of at most [`MAX_NAME_LEN`] bytes (node
//!   names without `/`, which separates the components of a path), every
//!   property name offset inside the strings block, properties before a node's subnodes, nesting
//!   at most [`MAX_DEPTH`] deep, `FDT_END` right after the root node ends. `FDT_NOP` tokens
//!   (libfdt leaves them where it deleted something in place) are skipped.
//!
//! Paths are not stored but made on demand ([`Tree::path`]): a deep chain of long names under
//! many siblings would otherwise cost far more memory than the blob.

use crate::error::{Error, Result, HEADER_LEN};
use crate::region::Range;

/// First word of every DTB.
pub const MAGIC: u32 = 0xd00d_feed;
/// The version this reader understands (the one dtc and libfdt write).
const VERSION: u32 = 17;
/// The oldest version whose header has `size_dt_struct`.
const LAST_COMP_VERSION: u32 = 16;
/// Deepest node nesting accepted below the root; libfdt's `FDT_MAX_DEPTH` is 64, real trees
/// stay under 10.
pub const MAX_DEPTH: usize = 32;
/// Longest node or property name accepted, in bytes. The specification allows 31 characters
/// plus a unit address; dtc and libfdt set no limit, real trees stay far below this.
pub const MAX_NAME_LEN: usize = 255;

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

/// One node of a [`Tree`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its index in [`Tree::nodes`].
    pub index: usize,
    /// Name with unit address (`camera@70000000`); empty for the root.
    pub name: String,
    /// Index of the parent in [`Tree::nodes`]; `None` for the root.
    pub parent: Option<usize>,
    /// Indices of the subnodes in [`Tree::nodes`], in blob order.
    pub children: Vec<usize>,
    props: Vec<(String, Vec<u8>)>,
}

impl Node {
    /// The raw value of property `name` (the first, should the blob repeat it).
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

    /// Property `name` as one cell; `None` if absent or not exactly one cell.
    pub fn u32(&self, name: &str) -> Option<u32> {
        crate::region::decode_u32(self.prop(name)?).ok()
    }

    /// Property `name` as a string list (`compatible`, `status`); invalid UTF-8 is replaced.
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.prop(name)
            .map(crate::region::decode_strings)
            .unwrap_or_default()
    }

    /// Whether the kernel considers the node: no `status`, or `okay`/`ok`
    /// (`of_fdt_device_is_available()`).
    pub fn is_enabled(&self) -> bool {
        crate::region::status_is_okay(self.strings("status").first().map(String::as_str))
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

impl crate::region::Props for Node {
    fn prop(&self, name: &str) -> Option<&[u8]> {
        Node::prop(self, name)
    }
}

/// A whole device tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    /// Every node, depth first in blob order; index 0 is the root.
    pub nodes: Vec<Node>,
    /// The `/memreserve/` entries.
    pub memreserve: Vec<Range>,
    /// `boot_cpuid_phys` from the header.
    pub boot_cpuid: u32,
}

fn be32(bytes: &[u8], off: usize) -> Option<u32> {
    let b = bytes.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(bytes: &[u8], off: usize) -> Option<u64> {
    let hi = be32(bytes, off)?;
    let lo = be32(bytes, off.checked_add(4)?)?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// An [`Error::Structure`] at `offset` into the blob.
fn structure(offset: usize, what: impl Into<String>) -> Error {
    Error::Structure {
        offset,
        what: what.into(),
    }
}

/// The `[offset, offset + size)` slice of the blob, or which block does not fit.
fn block<'a>(blob: &'a [u8], name: &'static str, offset: u32, size: u32) -> Result<&'a [u8]> {
    let start = offset as usize;
    start
        .checked_add(size as usize)
        .and_then(|end| blob.get(start..end))
        .ok_or(Error::Block {
            block: name,
            offset,
            size,
            total: blob.len() as u32,
        })
}

/// The NUL-terminated UTF-8 string at the start of `bytes`, if it has one of at most
/// [`MAX_NAME_LEN`] bytes; `Err` says what is wrong.
fn name_at(bytes: &[u8]) -> std::result::Result<&str, &'static str> {
    let window = &bytes[..bytes.len().min(MAX_NAME_LEN + 1)];
    let len = window
        .iter()
        .position(|&b| b == 0)
        .ok_or(if window.len() > MAX_NAME_LEN {
            "name longer than 255 bytes"
        } else {
            "name not NUL-terminated"
        })?;
    std::str::from_utf8(&bytes[..len]).map_err(|_| "name not UTF-8")
}

/// The memory reservation block: `(address, size)` pairs up to a `(0, 0)` entry.
fn memreserve(blob: &[u8], offset: u32) -> Result<Vec<Range>> {
    let rsv = blob.get(offset as usize..).ok_or(Error::Block {
        block: "memory reservation",
        offset,
        size: 0,
        total: blob.len() as u32,
    })?;
    let mut out = Vec::new();
    let mut at = 0usize;
    loop {
        let (Some(base), Some(size)) = (be64(rsv, at), be64(rsv, at + 8)) else {
            return Err(Error::Memreserve);
        };
        at += 16;
        if base == 0 && size == 0 {
            return Ok(out);
        }
        out.push(Range::new(base, size));
    }
}

impl Tree {
    /// Reads a DTB (or DTBO); see the module documentation for what is checked.
    pub fn from_bytes(blob: &[u8]) -> Result<Tree> {
        if blob.len() < HEADER_LEN {
            // Say "bad magic" when the magic is already wrong: a short text file is not a DTB.
            return match be32(blob, 0) {
                Some(found) if found != MAGIC => Err(Error::BadMagic { found }),
                _ => Err(Error::TooShort { len: blob.len() }),
            };
        }
        let word = |i: usize| be32(blob, i * 4).unwrap_or(0);
        let (magic, total) = (word(0), word(1));
        if magic != MAGIC {
            return Err(Error::BadMagic { found: magic });
        }
        if total as usize > blob.len() {
            return Err(Error::Truncated {
                total,
                len: blob.len(),
            });
        }
        if (total as usize) < HEADER_LEN {
            return Err(Error::TooShort {
                len: total as usize,
            });
        }
        let blob = &blob[..total as usize];
        let (off_struct, off_strings, off_rsvmap) = (word(2), word(3), word(4));
        let (version, last_comp, boot_cpuid) = (word(5), word(6), word(7));
        let (size_strings, size_struct) = (word(8), word(9));
        if version < VERSION || !(LAST_COMP_VERSION..=VERSION).contains(&last_comp) {
            return Err(Error::Version { version, last_comp });
        }
        let st = block(blob, "structure", off_struct, size_struct)?;
        let strings = block(blob, "strings", off_strings, size_strings)?;
        let memreserve = memreserve(blob, off_rsvmap)?;
        let nodes = walk(st, off_struct as usize, strings)?;
        Ok(Tree {
            nodes,
            memreserve,
            boot_cpuid,
        })
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    /// The parent of `node`, `None` for the root.
    pub fn parent(&self, node: &Node) -> Option<&Node> {
        node.parent.map(|p| &self.nodes[p])
    }

    /// The subnodes of `node`, in blob order.
    pub fn children<'a>(&'a self, node: &'a Node) -> impl Iterator<Item = &'a Node> + 'a {
        node.children.iter().map(|&i| &self.nodes[i])
    }

    /// The full path of `node`: `/` for the root, `/reserved-memory/camera@70000000` below it.
    pub fn path(&self, node: &Node) -> String {
        let mut names = Vec::new();
        let mut at = node;
        while let Some(parent) = self.parent(at) {
            names.push(at.name.as_str());
            at = parent;
        }
        if names.is_empty() {
            return "/".into();
        }
        names.iter().rev().fold(String::new(), |mut path, name| {
            path.push('/');
            path.push_str(name);
            path
        })
    }

    /// The node at `path` (exact names, unit addresses included; the first of equal names).
    pub fn node(&self, path: &str) -> Option<&Node> {
        let rest = path.strip_prefix('/')?;
        let mut at = self.root();
        for name in rest.split('/').filter(|n| !n.is_empty()) {
            at = self.children(at).find(|c| c.name == name)?;
        }
        Some(at)
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

/// Walks the structure block `st` (at `st_offset` in the blob) into nodes.
fn walk(st: &[u8], st_offset: usize, strings: &[u8]) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    // For each open node: its index, and whether a subnode has started (properties come first).
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut root_done = false;
    let mut pos = 0usize;
    loop {
        let at = st_offset + pos;
        let token = be32(st, pos).ok_or_else(|| structure(at, "ends without FDT_END"))?;
        match token {
            FDT_NOP => pos += 4,
            FDT_BEGIN_NODE => {
                if root_done {
                    return Err(structure(at, "a node after the root node ended"));
                }
                let name = name_at(st.get(pos + 4..).unwrap_or_default())
                    .map_err(|e| structure(at, format!("node {e}")))?;
                if open.is_empty() && !name.is_empty() {
                    return Err(structure(at, format!("root node named {name:?}")));
                }
                if !open.is_empty() && name.is_empty() {
                    return Err(structure(at, "node without a name below the root"));
                }
                if name.contains('/') {
                    return Err(structure(at, format!("node name {name:?} contains '/'")));
                }
                if open.len() > MAX_DEPTH {
                    return Err(structure(
                        at,
                        format!("nodes nested deeper than {MAX_DEPTH}"),
                    ));
                }
                let next = pos + 4 + align4(name.len() + 1);
                if next > st.len() {
                    return Err(structure(at, "node name runs past the structure block"));
                }
                let index = nodes.len();
                let parent = open.last_mut().map(|(p, has_subnode)| {
                    *has_subnode = true;
                    *p
                });
                if let Some(p) = parent {
                    nodes[p].children.push(index);
                }
                nodes.push(Node {
                    index,
                    name: name.to_string(),
                    parent,
                    children: Vec::new(),
                    props: Vec::new(),
                });
                open.push((index, false));
                pos = next;
            }
            FDT_PROP => {
                let node = match open.last() {
                    None => return Err(structure(at, "property outside any node")),
                    Some((_, true)) => return Err(structure(at, "property after a subnode")),
                    Some((node, false)) => *node,
                };
                let header = |off| {
                    be32(st, pos + off)
                        .map(|v| v as usize)
                        .ok_or_else(|| structure(at, "property header runs past the block"))
                };
                let (len, name_off) = (header(4)?, header(8)?);
                let value = st
                    .get(pos + 12..)
                    .and_then(|rest| rest.get(..len))
                    .ok_or_else(|| {
                        structure(at, format!("{len}-byte property value runs past the block"))
                    })?;
                let name = strings
                    .get(name_off..)
                    .ok_or("name offset outside the strings block")
                    .and_then(name_at)
                    .and_then(|n| {
                        if n.is_empty() {
                            Err("empty name")
                        } else {
                            Ok(n)
                        }
                    })
                    .map_err(|e| {
                        structure(
                            at,
                            format!("property name at strings offset {name_off}: {e}"),
                        )
                    })?;
                let next = pos + 12 + align4(len);
                if next > st.len() {
                    return Err(structure(at, "property padding runs past the block"));
                }
                nodes[node].props.push((name.to_string(), value.to_vec()));
                pos = next;
            }
            FDT_END_NODE => {
                if open.pop().is_none() {
                    return Err(structure(at, "FDT_END_NODE without a node"));
                }
                if open.is_empty() {
                    root_done = true;
                }
                pos += 4;
            }
            FDT_END => {
                if !root_done {
                    return Err(structure(
                        at,
                        if open.is_empty() {
                            "no root node"
                        } else {
                            "FDT_END inside a node"
                        },
                    ));
                }
                return Ok(nodes);
            }
            other => return Err(structure(at, format!("unknown token {other:#x}"))),
        }
    }
}

/// Builders of DTBs for tests, laid out the way dtc writes them.
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    /// A DTB of the structure block `st` (written with the helpers below) and `strings`.
    pub(crate) fn dtb(memreserve: &[(u64, u64)], st: &[u8], strings: &[u8]) -> Vec<u8> {
        let mut rsv = Vec::new();
        for &(a, s) in memreserve.iter().chain([(0, 0)].iter()) {
            rsv.extend_from_slice(&a.to_be_bytes());
            rsv.extend_from_slice(&s.to_be_bytes());
        }
        let off_rsv = HEADER_LEN;
        let off_st = off_rsv + rsv.len();
        let off_str = off_st + st.len();
        let total = off_str + strings.len();
        let mut out = Vec::new();
        for w in [
            MAGIC,
            total as u32,
            off_st as u32,
            off_str as u32,
            off_rsv as u32,
            17,
            16,
            0,
            strings.len() as u32,
            st.len() as u32,
        ] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out.extend_from_slice(&rsv);
        out.extend_from_slice(st);
        out.extend_from_slice(strings);
        out
    }

    pub(crate) fn begin(st: &mut Vec<u8>, name: &str) {
        st.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
        st.extend_from_slice(name.as_bytes());
        st.resize(st.len() + align4(name.len() + 1) - name.len(), 0);
    }

    pub(crate) fn prop(st: &mut Vec<u8>, name_off: u32, value: &[u8]) {
        st.extend_from_slice(&FDT_PROP.to_be_bytes());
        st.extend_from_slice(&(value.len() as u32).to_be_bytes());
        st.extend_from_slice(&name_off.to_be_bytes());
        st.extend_from_slice(value);
        st.resize(st.len() + align4(value.len()) - value.len(), 0);
    }

    pub(crate) fn end(st: &mut Vec<u8>) {
        st.extend_from_slice(&FDT_END_NODE.to_be_bytes());
    }

    pub(crate) fn nop(st: &mut Vec<u8>) {
        st.extend_from_slice(&FDT_NOP.to_be_bytes());
    }

    pub(crate) fn fin(st: &mut Vec<u8>) {
        st.extend_from_slice(&FDT_END.to_be_bytes());
    }

    /// A node's properties: `(name, value)`.
    pub(crate) type Props<'a> = &'a [(&'a str, &'a [u8])];

    /// A tree of `/` and `/reserved-memory` with 2/2 cells, `ranges`, and one child per
    /// `(name, properties)`; property names must be in [`STRINGS`].
    pub(crate) fn reserved_memory(children: &[(&str, Props<'_>)]) -> Vec<u8> {
        let off = |name: &str| -> u32 {
            let mut at = 0;
            for s in STRINGS.split(|&b| b == 0) {
                if s == name.as_bytes() {
                    return at;
                }
                at += s.len() as u32 + 1;
            }
            panic!("{name} is not in STRINGS")
        };
        let cells = 2u32.to_be_bytes();
        let mut st = Vec::new();
        begin(&mut st, "");
        prop(&mut st, off("#address-cells"), &cells);
        prop(&mut st, off("#size-cells"), &cells);
        begin(&mut st, "reserved-memory");
        prop(&mut st, off("#address-cells"), &cells);
        prop(&mut st, off("#size-cells"), &cells);
        prop(&mut st, off("ranges"), b"");
        for (name, props) in children {
            begin(&mut st, name);
            for (p, v) in *props {
                prop(&mut st, off(p), v);
            }
            end(&mut st);
        }
        end(&mut st);
        end(&mut st);
        fin(&mut st);
        dtb(&[], &st, STRINGS)
    }

    /// The property names [`reserved_memory`] knows.
    pub(crate) const STRINGS: &[u8] = b"#address-cells\0#size-cells\0ranges\0compatible\0reg\0size\0alignment\0alloc-ranges\0no-map\0reusable\0linux,dma-heap\0linux,cma-default\0linux,dma-default\0status\0";

    /// Big-endian cells.
    pub(crate) fn cells(vals: &[u32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_be_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn minimal() -> Vec<u8> {
        let mut st = Vec::new();
        begin(&mut st, "");
        prop(&mut st, 0, b"x\0");
        begin(&mut st, "a@1");
        end(&mut st);
        end(&mut st);
        fin(&mut st);
        dtb(&[(0x1000, 0x2000)], &st, b"model\0")
    }

    fn structure_error(blob: &[u8]) -> String {
        match Tree::from_bytes(blob) {
            Err(Error::Structure { what, .. }) => what,
            other => panic!("expected a structure error, got {other:?}"),
        }
    }

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
        prop(&mut st, 11, &cells(&[0, 0x1000_0000, 0, 0x400_0000]));
        prop(&mut st, 15, b"disabled\0");
        end(&mut st);
        begin(&mut st, "alpha@2000");
        end(&mut st);
        end(&mut st);
        end(&mut st);
        fin(&mut st);
        let tree = Tree::from_bytes(&dtb(&[(0, 0x1000)], &st, strings)).unwrap();

        assert_eq!(tree.compatible(), ["acme,board", "acme,soc"]);
        assert_eq!(tree.memreserve, [Range::new(0, 0x1000)]);
        let cam = tree.node("/reserved-memory/camera@10000000").unwrap();
        assert_eq!(tree.path(cam), "/reserved-memory/camera@10000000");
        assert_eq!(cam.prop("reg").map(<[u8]>::len), Some(16));
        assert!(!cam.is_enabled());
        assert!(!tree.is_overlay());
        let parent = tree.parent(cam).unwrap();
        assert_eq!(tree.path(parent), "/reserved-memory");
        // Children in blob order, not sorted.
        let names: Vec<&str> = tree.children(parent).map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["camera@10000000", "alpha@2000"]);
        assert_eq!(tree.path(tree.root()), "/");
        assert!(tree.node("/").is_some());
        assert!(tree.node("/reserved-memory/camera").is_none());
        assert!(tree.node("reserved-memory").is_none());
    }

    #[test]
    fn nops_are_skipped() {
        let mut st = Vec::new();
        begin(&mut st, "");
        nop(&mut st);
        prop(&mut st, 0, b"x\0");
        nop(&mut st);
        begin(&mut st, "a@1");
        end(&mut st);
        end(&mut st);
        nop(&mut st);
        fin(&mut st);
        let with_nops = Tree::from_bytes(&dtb(&[(0x1000, 0x2000)], &st, b"model\0")).unwrap();
        assert_eq!(with_nops, Tree::from_bytes(&minimal()).unwrap());
        assert_eq!(with_nops.root().prop("model"), Some(&b"x\0"[..]));
    }

    #[test]
    fn header_faults_are_named() {
        assert_eq!(Tree::from_bytes(b""), Err(Error::TooShort { len: 0 }));
        assert_eq!(
            Tree::from_bytes(b"/dts-v1/;\n/ { };\n"),
            Err(Error::BadMagic { found: 0x2f647473 })
        );
        let blob = minimal();
        assert_eq!(
            Tree::from_bytes(&blob[..100]),
            Err(Error::Truncated {
                total: blob.len() as u32,
                len: 100
            })
        );
        let mut v16 = blob.clone();
        v16[20..24].copy_from_slice(&16u32.to_be_bytes());
        assert!(matches!(
            Tree::from_bytes(&v16),
            Err(Error::Version { version: 16, .. })
        ));
        let mut far = blob.clone();
        far[8..12].copy_from_slice(&10_000u32.to_be_bytes());
        assert!(matches!(
            Tree::from_bytes(&far),
            Err(Error::Block {
                block: "structure",
                ..
            })
        ));
        let mut strings = blob.clone();
        strings[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Tree::from_bytes(&strings),
            Err(Error::Block {
                block: "strings",
                ..
            })
        ));
        let mut rsv = blob;
        let near_end = rsv.len() as u32 - 8;
        rsv[16..20].copy_from_slice(&near_end.to_be_bytes());
        assert_eq!(Tree::from_bytes(&rsv), Err(Error::Memreserve));
    }

    #[test]
    fn structure_faults_are_named() {
        let strings = b"model\0";
        let mut st = Vec::new();
        begin(&mut st, "");
        begin(&mut st, "a");
        end(&mut st);
        prop(&mut st, 0, b"x\0");
        end(&mut st);
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "property after a subnode"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        prop(&mut st, 99, b"x\0");
        end(&mut st);
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "property name at strings offset 99: name offset outside the strings block"
        );

        // A name offset inside the block but at its unterminated tail.
        let mut st = Vec::new();
        begin(&mut st, "");
        prop(&mut st, 0, b"x\0");
        end(&mut st);
        fin(&mut st);
        assert!(structure_error(&dtb(&[], &st, b"model")).contains("not NUL-terminated"));

        let mut st = Vec::new();
        begin(&mut st, "");
        end(&mut st);
        end(&mut st);
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "FDT_END_NODE without a node"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "FDT_END inside a node"
        );

        let mut st = Vec::new();
        fin(&mut st);
        assert_eq!(structure_error(&dtb(&[], &st, strings)), "no root node");

        let mut st = Vec::new();
        begin(&mut st, "");
        end(&mut st);
        begin(&mut st, "");
        end(&mut st);
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "a node after the root node ended"
        );

        let mut st = Vec::new();
        begin(&mut st, "root");
        end(&mut st);
        fin(&mut st);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "root node named \"root\""
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        begin(&mut st, "");
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "node without a name below the root"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        begin(&mut st, "a/b");
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "node name \"a/b\" contains '/'"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        begin(&mut st, &"n".repeat(MAX_NAME_LEN + 1));
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "node name longer than 255 bytes"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        st.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
        st.extend_from_slice(&[0xff, 0xfe, 0, 0]);
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "node name not UTF-8"
        );

        let mut st = Vec::new();
        begin(&mut st, "");
        for _ in 0..=MAX_DEPTH {
            begin(&mut st, "n");
        }
        assert!(structure_error(&dtb(&[], &st, strings)).contains("deeper"));

        let mut st = Vec::new();
        begin(&mut st, "");
        st.extend_from_slice(&[0, 0, 0, 3, 0, 0, 1, 0]);
        assert!(structure_error(&dtb(&[], &st, strings)).contains("runs past"));

        let mut st = Vec::new();
        begin(&mut st, "");
        st.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(
            structure_error(&dtb(&[], &st, strings)),
            "unknown token 0x7"
        );
    }

    #[test]
    fn the_deepest_nesting_accepted() {
        let mut st = Vec::new();
        begin(&mut st, "");
        for _ in 0..MAX_DEPTH {
            begin(&mut st, "n");
        }
        for _ in 0..=MAX_DEPTH {
            end(&mut st);
        }
        fin(&mut st);
        let tree = Tree::from_bytes(&dtb(&[], &st, b"")).unwrap();
        assert_eq!(tree.nodes.len(), MAX_DEPTH + 1);
        let deepest = tree.nodes.last().unwrap();
        assert_eq!(tree.path(deepest), "/n".repeat(MAX_DEPTH));
    }

    #[test]
    fn every_truncation_and_every_byte_flip_of_a_real_blob_is_handled() {
        let blob = minimal();
        for len in 0..blob.len() {
            assert!(Tree::from_bytes(&blob[..len]).is_err(), "length {len}");
        }
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut b = blob.clone();
                b[i] ^= 1 << bit;
                // Must not panic; the header or structure usually breaks.
                let _ = Tree::from_bytes(&b);
            }
        }
    }

    #[test]
    fn a_reserved_memory_tree() {
        let tree = Tree::from_bytes(&reserved_memory(&[(
            "camera@70000000",
            &[("compatible", b"shared-dma-pool\0"), ("no-map", b"")],
        )]))
        .unwrap();
        let cam = tree.node("/reserved-memory/camera@70000000").unwrap();
        assert_eq!(cam.strings("compatible"), ["shared-dma-pool"]);
        assert!(cam.has("no-map"));
        assert_eq!(tree.root().u32("#size-cells"), Some(2));
    }
}
