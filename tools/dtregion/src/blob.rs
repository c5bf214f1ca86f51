//! Checking a flattened device tree (DTB) before the `fdt` crate reads it.
//!
//! Format: [Devicetree Specification v0.4, chapter 5](https://devicetree-specification.readthedocs.io/en/v0.4/flattened-format.html).
//!
//! `fdt` 0.1 trusts its input: on a malformed blob it slices out of bounds or unwraps (a
//! truncated structure block, a string offset past the strings block, a property after a
//! subnode, a name that is not UTF-8). So every blob is walked here first, in bounds, and handed
//! on as a *normalised copy* that `fdt` can read without panicking:
//!
//! - header, memory reservation block, structure block and strings block in the standard order;
//! - no `FDT_NOP` tokens (`fdt` stops listing properties at one, libfdt leaves them behind when it
//!   deletes a property in place);
//! - every name and string UTF-8 and NUL-terminated, every property before the node's subnodes,
//!   nesting at most [`MAX_DEPTH`] deep.
//!
//! Everything a file can get wrong is a [`BlobError`]; nothing here panics on any input (the
//! `fuzz/` target checks that).

use std::fmt;

/// First word of every DTB.
pub const MAGIC: u32 = 0xd00d_feed;
/// Size of a version 17 header.
const HEADER_LEN: usize = 40;
/// The version this reader writes and understands (the one dtc and libfdt write).
const VERSION: u32 = 17;
/// The oldest version whose header has `size_dt_struct`.
const LAST_COMP_VERSION: u32 = 16;
/// Deepest node nesting accepted; libfdt's `FDT_MAX_DEPTH` is 64, real trees stay under 10.
pub const MAX_DEPTH: usize = 32;

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

/// Why a blob is not a usable device tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobError {
    /// Shorter than a header.
    TooShort {
        /// Length of the file.
        len: usize,
    },
    /// The first word is not [`MAGIC`].
    BadMagic {
        /// The word found.
        found: u32,
    },
    /// The header's `totalsize` is larger than the file.
    Truncated {
        /// `totalsize` from the header.
        total: u32,
        /// Length of the file.
        len: usize,
    },
    /// A header version this reader does not understand.
    Version {
        /// `version` from the header.
        version: u32,
        /// `last_comp_version` from the header.
        last_comp: u32,
    },
    /// A block that does not fit inside `totalsize`.
    Block {
        /// `structure`, `strings` or `memory reservation`.
        block: &'static str,
        /// Its offset from the header.
        offset: u32,
        /// Its size (0 for the memory reservation block, which has none in the header).
        size: u32,
        /// `totalsize` from the header.
        total: u32,
    },
    /// The memory reservation block has no terminating entry.
    Memreserve,
    /// The structure block breaks a rule.
    Structure {
        /// Offset of the fault from the start of the blob.
        offset: usize,
        /// What is wrong there.
        what: String,
    },
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::TooShort { len } => write!(
                f,
                "not a device tree blob: {len} bytes, shorter than a DTB header ({HEADER_LEN})"
            ),
            BlobError::BadMagic { found } => write!(
                f,
                "not a device tree blob: bad magic {found:#010x} (a DTB starts with {MAGIC:#010x})"
            ),
            BlobError::Truncated { total, len } => write!(
                f,
                "truncated device tree blob: the header says {total} bytes, the file has {len}"
            ),
            BlobError::Version { version, last_comp } => write!(
                f,
                "unsupported DTB version {version} (compatible with {last_comp}); dtc writes {VERSION}"
            ),
            BlobError::Block {
                block,
                offset,
                size,
                total,
            } => write!(
                f,
                "malformed device tree blob: the {block} block (offset {offset}, size {size}) does not fit in its {total} bytes"
            ),
            BlobError::Memreserve => write!(
                f,
                "malformed device tree blob: the memory reservation block has no terminating entry"
            ),
            BlobError::Structure { offset, what } => write!(
                f,
                "malformed device tree blob: structure block at offset {offset}: {what}"
            ),
        }
    }
}

impl std::error::Error for BlobError {}

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

/// The parts of a checked blob, borrowed from the input.
struct Parts<'a> {
    boot_cpuid: u32,
    memreserve: &'a [u8],
    strings: &'a [u8],
    /// The structure block with the `FDT_NOP` tokens removed.
    structure: Vec<u8>,
}

/// A `BlobError::Structure` at `offset` into the blob.
fn structure(offset: usize, what: impl Into<String>) -> BlobError {
    BlobError::Structure {
        offset,
        what: what.into(),
    }
}

/// Returns the `[offset, offset + size)` slice of the blob, or says which block does not fit.
fn block<'a>(
    blob: &'a [u8],
    name: &'static str,
    offset: u32,
    size: u32,
) -> Result<&'a [u8], BlobError> {
    let start = offset as usize;
    start
        .checked_add(size as usize)
        .and_then(|end| blob.get(start..end))
        .ok_or(BlobError::Block {
            block: name,
            offset,
            size,
            total: blob.len() as u32,
        })
}

/// The NUL-terminated UTF-8 string at the start of `bytes`, if it has one.
fn c_str(bytes: &[u8]) -> Option<&str> {
    let len = bytes.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&bytes[..len]).ok()
}

/// Walks the structure block; returns it without its `FDT_NOP` tokens.
fn walk_structure(st: &[u8], st_offset: usize, strings: &[u8]) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::with_capacity(st.len());
    // For each open node: whether a subnode has started (properties must come first).
    let mut open: Vec<bool> = Vec::new();
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
                let rest = st.get(pos + 4..).unwrap_or_default();
                let name = c_str(rest)
                    .ok_or_else(|| structure(at, "node name not NUL-terminated or not UTF-8"))?;
                if open.is_empty() && !name.is_empty() {
                    return Err(structure(at, format!("root node named {name:?}")));
                }
                if !open.is_empty() && name.is_empty() {
                    return Err(structure(at, "node without a name below the root"));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(structure(
                        at,
                        format!("nodes nested deeper than {MAX_DEPTH}"),
                    ));
                }
                if let Some(parent) = open.last_mut() {
                    *parent = true;
                }
                open.push(false);
                let next = pos + 4 + align4(name.len() + 1);
                if next > st.len() {
                    return Err(structure(at, "node name runs past the structure block"));
                }
                out.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
                out.extend_from_slice(name.as_bytes());
                out.resize(out.len() + align4(name.len() + 1) - name.len(), 0);
                pos = next;
            }
            FDT_PROP => {
                match open.last() {
                    None => return Err(structure(at, "property outside any node")),
                    Some(true) => return Err(structure(at, "property after a subnode")),
                    Some(false) => {}
                }
                let len = be32(st, pos + 4)
                    .ok_or_else(|| structure(at, "property header runs past the block"))?
                    as usize;
                let name_off = be32(st, pos + 8)
                    .ok_or_else(|| structure(at, "property header runs past the block"))?
                    as usize;
                let value = st
                    .get(pos + 12..)
                    .and_then(|rest| rest.get(..len))
                    .ok_or_else(|| {
                        structure(at, format!("{len}-byte property value runs past the block"))
                    })?;
                strings
                    .get(name_off..)
                    .and_then(c_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        structure(
                            at,
                            format!("property name offset {name_off} is not a string of the strings block"),
                        )
                    })?;
                let next = pos + 12 + align4(len);
                if next > st.len() {
                    return Err(structure(at, "property padding runs past the block"));
                }
                out.extend_from_slice(&st[pos..pos + 12]);
                out.extend_from_slice(value);
                out.resize(out.len() + align4(len) - len, 0);
                pos = next;
            }
            FDT_END_NODE => {
                if open.pop().is_none() {
                    return Err(structure(at, "FDT_END_NODE without a node"));
                }
                if open.is_empty() {
                    root_done = true;
                }
                out.extend_from_slice(&FDT_END_NODE.to_be_bytes());
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
                out.extend_from_slice(&FDT_END.to_be_bytes());
                return Ok(out);
            }
            other => return Err(structure(at, format!("unknown token {other:#x}"))),
        }
    }
}

fn parts(blob: &[u8]) -> Result<Parts<'_>, BlobError> {
    if blob.len() < HEADER_LEN {
        // Say "bad magic" when the magic is already wrong: a short text file is not a DTB.
        return match be32(blob, 0) {
            Some(found) if found != MAGIC => Err(BlobError::BadMagic { found }),
            _ => Err(BlobError::TooShort { len: blob.len() }),
        };
    }
    let word = |i: usize| be32(blob, i * 4).unwrap_or(0);
    let (magic, total) = (word(0), word(1));
    if magic != MAGIC {
        return Err(BlobError::BadMagic { found: magic });
    }
    if total as usize > blob.len() {
        return Err(BlobError::Truncated {
            total,
            len: blob.len(),
        });
    }
    if (total as usize) < HEADER_LEN {
        return Err(BlobError::TooShort {
            len: total as usize,
        });
    }
    let blob = &blob[..total as usize];
    let (off_struct, off_strings, off_rsvmap) = (word(2), word(3), word(4));
    let (version, last_comp, boot_cpuid) = (word(5), word(6), word(7));
    let (size_strings, size_struct) = (word(8), word(9));
    if version < VERSION || !(LAST_COMP_VERSION..=VERSION).contains(&last_comp) {
        return Err(BlobError::Version { version, last_comp });
    }
    let st = block(blob, "structure", off_struct, size_struct)?;
    let strings = block(blob, "strings", off_strings, size_strings)?;

    // The memory reservation block: (address, size) pairs up to a (0, 0) entry.
    let rsv = blob.get(off_rsvmap as usize..).ok_or(BlobError::Block {
        block: "memory reservation",
        offset: off_rsvmap,
        size: 0,
        total,
    })?;
    let mut len = 0usize;
    loop {
        let (Some(addr), Some(size)) = (be64(rsv, len), be64(rsv, len + 8)) else {
            return Err(BlobError::Memreserve);
        };
        len += 16;
        if addr == 0 && size == 0 {
            break;
        }
    }
    let structure = walk_structure(st, off_struct as usize, strings)?;
    Ok(Parts {
        boot_cpuid,
        memreserve: &rsv[..len],
        strings,
        structure,
    })
}

/// Checks `blob` and returns a normalised copy that `fdt` 0.1 reads without panicking.
pub fn normalize(blob: &[u8]) -> Result<Vec<u8>, BlobError> {
    let p = parts(blob)?;
    let off_rsvmap = HEADER_LEN;
    let off_struct = off_rsvmap + p.memreserve.len();
    let off_strings = off_struct + p.structure.len();
    let total = off_strings + p.strings.len();
    let header = [
        MAGIC,
        total as u32,
        off_struct as u32,
        off_strings as u32,
        off_rsvmap as u32,
        VERSION,
        LAST_COMP_VERSION,
        p.boot_cpuid,
        p.strings.len() as u32,
        p.structure.len() as u32,
    ];
    let mut out = Vec::with_capacity(total);
    for word in header {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(p.memreserve);
    out.extend_from_slice(&p.structure);
    out.extend_from_slice(p.strings);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a DTB the way dtc lays one out, from a structure block written with the helpers
    /// below and a strings block.
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
        match normalize(blob) {
            Err(BlobError::Structure { what, .. }) => what,
            other => panic!("expected a structure error, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_blob_is_kept_as_is() {
        let blob = minimal();
        assert_eq!(normalize(&blob).unwrap(), blob);
    }

    #[test]
    fn nops_are_removed() {
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
        let with_nops = dtb(&[(0x1000, 0x2000)], &st, b"model\0");
        assert_eq!(normalize(&with_nops).unwrap(), minimal());
    }

    #[test]
    fn header_faults_are_named() {
        assert_eq!(normalize(b""), Err(BlobError::TooShort { len: 0 }));
        assert_eq!(
            normalize(b"/dts-v1/;\n/ { };\n"),
            Err(BlobError::BadMagic { found: 0x2f647473 })
        );
        let blob = minimal();
        assert_eq!(
            normalize(&blob[..100]),
            Err(BlobError::Truncated {
                total: blob.len() as u32,
                len: 100
            })
        );
        let mut v16 = blob.clone();
        v16[20..24].copy_from_slice(&16u32.to_be_bytes());
        assert!(matches!(
            normalize(&v16),
            Err(BlobError::Version { version: 16, .. })
        ));
        let mut far = blob.clone();
        far[8..12].copy_from_slice(&10_000u32.to_be_bytes());
        assert!(matches!(
            normalize(&far),
            Err(BlobError::Block {
                block: "structure",
                ..
            })
        ));
        let mut rsv = blob;
        let near_end = rsv.len() as u32 - 8;
        rsv[16..20].copy_from_slice(&near_end.to_be_bytes());
        assert_eq!(normalize(&rsv), Err(BlobError::Memreserve));
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
        assert!(structure_error(&dtb(&[], &st, strings)).contains("name offset 99"));

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
        begin(&mut st, "");
        for _ in 0..MAX_DEPTH {
            begin(&mut st, "n");
        }
        assert!(structure_error(&dtb(&[], &st, strings)).contains("deeper"));

        let mut st = Vec::new();
        begin(&mut st, "");
        st.extend_from_slice(&[0, 0, 0, 3, 0, 0, 1, 0]);
        assert!(structure_error(&dtb(&[], &st, strings)).contains("runs past"));
    }

    #[test]
    fn every_truncation_of_a_real_blob_is_an_error() {
        let blob = minimal();
        for len in 0..blob.len() {
            assert!(normalize(&blob[..len]).is_err(), "length {len}");
        }
    }
}
