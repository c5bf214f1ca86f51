//! The board table (`dts/boards.toml`): for each board, its base DTB in the kernel tree and the
//! facts the device tree does not say (DRAM the firmware fills in at boot, ranges the boot
//! chain uses).
//!
//! ```toml
//! [board.bcm2711-rpi-4-b]
//! name = "Raspberry Pi 4 Model B"
//! compatible = "raspberrypi,4-model-b"
//! dtb = "broadcom/bcm2711-rpi-4-b.dtb"
//! dram = [{ base = 0x0, size = 0x3b400000 }]
//! keep-out = [{ name = "boot", base = 0x0, size = 0xa000000, why = "..." }]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use heap_rules::Range;

use crate::error::{Error, Result};

/// One board.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Board {
    /// What the board is called.
    pub name: String,
    /// The board's own root `compatible` string (its first one); matched against a tree's root
    /// `compatible` list, and written into the overlays of the board so they cannot be applied
    /// to another one.
    pub compatible: String,
    /// The base DTB, relative to the kernel's `arch/arm64/boot/dts/`; none for a board whose
    /// tree is generated (QEMU).
    #[serde(default)]
    pub dtb: Option<String>,
    /// DRAM banks, when the base tree does not have them (the firmware writes `/memory` at
    /// boot). Replaces the tree's `/memory` banks.
    #[serde(default)]
    pub dram: Vec<Bank>,
    /// Ranges the boot chain uses that the tree does not reserve: where the boot loader loads
    /// the kernel, initrd and DTB, firmware the boot loader adds to the tree at boot. Regions of
    /// an overlay must stay clear of them.
    #[serde(default)]
    pub keep_out: Vec<KeepOut>,
}

/// A DRAM bank.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bank {
    /// First byte.
    pub base: u64,
    /// Length.
    pub size: u64,
}

/// A range to keep regions out of.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeepOut {
    /// Short name used in messages.
    pub name: String,
    /// First byte.
    pub base: u64,
    /// Length.
    pub size: u64,
    /// Why.
    pub why: String,
}

impl KeepOut {
    /// As a range.
    pub fn range(&self) -> Range {
        Range::new(self.base, self.size)
    }
}

impl Board {
    /// The DRAM banks as ranges.
    pub fn dram_ranges(&self) -> Vec<Range> {
        self.dram
            .iter()
            .map(|b| Range::new(b.base, b.size))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    board: BTreeMap<String, Board>,
}

/// The whole table, with where it came from.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it was read from.
    pub path: PathBuf,
    /// Boards by key (the board's folder name under `dts/`).
    pub boards: BTreeMap<String, Board>,
}

impl Table {
    /// Reads a table.
    pub fn load(path: &Path) -> Result<Table> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Table::parse(path, &text)
    }

    /// Parses a table read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Table> {
        let bad = |message: String| Error::Table {
            path: path.to_path_buf(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for (key, board) in &file.board {
            for bank in &board.dram {
                if bank.size == 0 || bank.base.checked_add(bank.size).is_none() {
                    return Err(bad(format!(
                        "board {key}: dram bank at {:#x} has a bad size {:#x}",
                        bank.base, bank.size
                    )));
                }
            }
            for k in &board.keep_out {
                if k.size == 0 || k.base.checked_add(k.size).is_none() {
                    return Err(bad(format!(
                        "board {key}: keep-out {} has a bad size {:#x}",
                        k.name, k.size
                    )));
                }
            }
        }
        Ok(Table {
            path: path.to_path_buf(),
            boards: file.board,
        })
    }

    /// The board called `key`.
    pub fn get(&self, key: &str) -> Result<(&str, &Board)> {
        self.boards
            .get_key_value(key)
            .map(|(k, b)| (k.as_str(), b))
            .ok_or_else(|| Error::UnknownBoard {
                name: key.to_string(),
                table: self.path.clone(),
                known: self.boards.keys().cloned().collect(),
            })
    }

    /// The board whose compatible is in `compatible` (a tree's root list), first match first.
    pub fn find(&self, compatible: &[String]) -> Option<(&str, &Board)> {
        compatible.iter().find_map(|c| {
            self.boards
                .iter()
                .find(|(_, b)| &b.compatible == c)
                .map(|(k, b)| (k.as_str(), b))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r#"
[board.acme]
name = "ACME board"
compatible = "acme,board"
dtb = "acme/acme-board.dtb"
dram = [{ base = 0x40000000, size = 0x40000000 }]
keep-out = [{ name = "boot", base = 0x40000000, size = 0x8000000, why = "kernel and initrd" }]

[board.qemu]
name = "QEMU"
compatible = "linux,dummy-virt"
"#;

    #[test]
    fn boards_by_key_and_by_compatible() {
        let t = Table::parse(Path::new("boards.toml"), TABLE).unwrap();
        let (key, acme) = t.get("acme").unwrap();
        assert_eq!(key, "acme");
        assert_eq!(acme.dram_ranges(), [Range::new(0x4000_0000, 0x4000_0000)]);
        assert_eq!(
            acme.keep_out[0].range(),
            Range::new(0x4000_0000, 0x800_0000)
        );
        let compat = ["linux,dummy-virt".to_string()];
        assert_eq!(t.find(&compat).map(|(k, _)| k), Some("qemu"));
        assert!(t.get("qemu").unwrap().1.dtb.is_none());
        let e = t.get("nope").unwrap_err().to_string();
        assert!(
            e.contains("no board nope in boards.toml (boards: acme, qemu)"),
            "{e}"
        );
    }

    #[test]
    fn mistakes_are_reported_with_the_file() {
        let e = Table::parse(Path::new("b.toml"), "[board.x]\nname = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.toml: "), "{e}");
        let e = Table::parse(
            Path::new("b.toml"),
            "[board.x]\nname = \"x\"\ncompatible = \"x\"\ndram = [{ base = 0, size = 0 }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad size"), "{e}");
        let e = Table::parse(
            Path::new("b.toml"),
            "[board.x]\nname = \"x\"\ncompatible = \"x\"\nflavour = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("flavour"), "{e}");
    }
}
