//! The crate's one error type.
//!
//! Three kinds of input can be wrong, and every variant says which and where: a device tree blob
//! ([`crate::fdt`]: header, blocks, structure, with the offset at fault), a property of a
//! reserved-memory node ([`crate::region`]: the property named), and a size or address written by
//! a person ([`crate::size`]). The caller adds the file, node or argument the input came from.

use std::fmt;

use serde::{Serialize, Serializer};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Size of a version 17 DTB header, for messages.
pub(crate) const HEADER_LEN: usize = 40;

/// Why an input is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A blob shorter than a DTB header.
    TooShort {
        /// Its length.
        len: usize,
    },
    /// A blob whose first word is not the DTB magic.
    BadMagic {
        /// The word found.
        found: u32,
    },
    /// A DTB whose header's `totalsize` is larger than the blob.
    Truncated {
        /// `totalsize` from the header.
        total: u32,
        /// Length of the blob.
        len: usize,
    },
    /// A DTB header version this reader does not understand.
    Version {
        /// `version` from the header.
        version: u32,
        /// `last_comp_version` from the header.
        last_comp: u32,
    },
    /// A DTB block that does not fit inside `totalsize`.
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
    /// The DTB's memory reservation block has no terminating entry.
    Memreserve,
    /// The DTB's structure block breaks a rule.
    Structure {
        /// Offset of the fault from the start of the blob.
        offset: usize,
        /// What is wrong there.
        what: String,
    },
    /// A property of a node cannot be decoded the way the kernel reads it.
    Property {
        /// The property.
        property: &'static str,
        /// What is wrong with its value.
        what: String,
    },
    /// A `/reserved-memory` child with neither `reg` nor `size`: the kernel ignores it.
    NoRegNorSize,
    /// A size or address that does not follow the grammar of [`crate::size`].
    Size {
        /// The text as given.
        value: String,
        /// What is wrong with it.
        what: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAGIC: u32 = crate::fdt::MAGIC;
        match self {
            Error::TooShort { len } => write!(
                f,
                "not a device tree blob: {len} bytes, shorter than a DTB header ({HEADER_LEN})"
            ),
            Error::BadMagic { found } => write!(
                f,
                "not a device tree blob: bad magic {found:#010x} (a DTB starts with {MAGIC:#010x})"
            ),
            Error::Truncated { total, len } => write!(
                f,
                "truncated device tree blob: the header says {total} bytes, the file has {len}"
            ),
            Error::Version { version, last_comp } => write!(
                f,
                "unsupported DTB version {version} (compatible with {last_comp}); dtc writes 17"
            ),
            Error::Block {
                block,
                offset,
                size,
                total,
            } => write!(
                f,
                "malformed device tree blob: the {block} block (offset {offset}, size {size}) does not fit in its {total} bytes"
            ),
            Error::Memreserve => write!(
                f,
                "malformed device tree blob: the memory reservation block has no terminating entry"
            ),
            Error::Structure { offset, what } => write!(
                f,
                "malformed device tree blob: structure block at offset {offset}: {what}"
            ),
            Error::Property { property, what } => write!(f, "{property}: {what}"),
            Error::NoRegNorSize => f.write_str("neither reg nor size: the kernel ignores the node"),
            // The caller names the argument; clap, for one, already quotes the value.
            Error::Size { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}

/// As its message: the JSON reports of the tools show what is wrong, not the Rust variant.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
