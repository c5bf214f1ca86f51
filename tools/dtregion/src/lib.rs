//! `dtregion`: check the reserved-memory regions of a board's device tree for the coherent
//! dma-buf heap, and write new ones.
//!
//! - [`check_files`] applies overlays to a base DTB (with `fdtoverlay`), reads the merged tree
//!   and reports every region and problem ([`check`]).
//! - [`map_files`] does the same and also reads the tree's `dma-ranges` windows, for
//!   [`map::render`], the picture of the board's address space.
//! - [`new_region`] picks a free aligned spot in a board's DRAM, writes the `.dtso` and checks
//!   it the same way.
//!
//! Trees are read, and the coherent heap driver's rules applied, by the `heap-rules` crate,
//! which `dma-heap` shares.

pub mod boards;
pub mod check;
pub mod dtso;
pub mod error;
pub mod map;
pub mod output;
pub mod place;
pub mod regions;
pub mod tools;

use std::path::{Path, PathBuf};

pub use crate::boards::{Board, Table};
pub use crate::check::{BoardFacts, Report};
pub use crate::error::{Error, Result};
pub use heap_rules::{Range, Tree};

use heap_rules::size::format_size;

use crate::check::Input;
use crate::regions::Layout;

/// Reads a DTB or DTBO file.
pub fn read_tree(path: &Path) -> Result<Tree> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Tree::from_bytes(&bytes).map_err(|source| Error::Blob {
        path: path.to_path_buf(),
        source,
    })
}

/// A base tree and overlays, read and checked for each other; `merged` has the overlays
/// applied.
struct Applied {
    base: Tree,
    merged: Tree,
}

/// Reads `base`, checks each overlay is one and is for this board, and applies them.
fn apply(base_path: &Path, overlays: &[PathBuf]) -> Result<Applied> {
    let base = read_tree(base_path)?;
    if base.is_overlay() {
        return Err(Error::IsAnOverlay {
            path: base_path.to_path_buf(),
        });
    }
    if overlays.is_empty() {
        return Ok(Applied {
            merged: base.clone(),
            base,
        });
    }
    let has = base.compatible();
    for path in overlays {
        let ov = read_tree(path)?;
        if !ov.is_overlay() {
            return Err(Error::NotAnOverlay { path: path.clone() });
        }
        let wants = ov.compatible();
        if !wants.is_empty() && !wants.iter().any(|w| has.contains(w)) {
            return Err(Error::WrongBoard {
                overlay: path.clone(),
                wants,
                has,
            });
        }
    }
    let tmp = tools::TempDir::new()?;
    let bytes = tools::apply_overlays(base_path, overlays, &tmp)?;
    let merged = Tree::from_bytes(&bytes).map_err(|source| Error::Blob {
        path: PathBuf::from(format!("{} with its overlays", base_path.display())),
        source,
    })?;
    Ok(Applied { base, merged })
}

fn facts<'a>(table: Option<&'a Table>, board: Option<&str>, tree: &Tree) -> Result<BoardFacts<'a>> {
    Ok(match (table, board) {
        (None, Some(_)) => {
            return Err(Error::Missing(
                "--board needs the board table: pass --boards dts/boards.toml".into(),
            ))
        }
        (None, None) => BoardFacts::NoTable,
        (Some(t), Some(key)) => {
            let (key, b) = t.get(key)?;
            BoardFacts::Board(key, b)
        }
        (Some(t), None) => match t.find(&tree.compatible()) {
            Some((key, b)) => BoardFacts::Board(key, b),
            None => BoardFacts::NotInTable(&t.path),
        },
    })
}

/// What `dtregion check` is asked.
#[derive(Clone, Debug)]
pub struct CheckRequest<'a> {
    /// The base DTB, or an already merged one.
    pub base: PathBuf,
    /// Overlays to apply to it, in order.
    pub overlays: Vec<PathBuf>,
    /// For a merged `base`: the board's tree without the overlays.
    pub baseline: Option<PathBuf>,
    /// The board table.
    pub table: Option<&'a Table>,
    /// The board's key, instead of matching the tree's compatible against the table.
    pub board: Option<String>,
    /// The page size regions must be aligned to.
    pub page_size: u64,
}

/// Runs `dtregion check`.
pub fn check_files(req: &CheckRequest<'_>) -> Result<Report> {
    check_applied(req).map(|(_, report)| report)
}

/// Runs `dtregion check`, and reads the `dma-ranges` windows of the merged tree: what
/// `dtregion map` draws.
pub fn map_files(req: &CheckRequest<'_>) -> Result<(Report, Vec<regions::DmaWindow>)> {
    let (merged, report) = check_applied(req)?;
    Ok((report, regions::dma_windows(&merged)))
}

fn check_applied(req: &CheckRequest<'_>) -> Result<(Tree, Report)> {
    let applied = apply(&req.base, &req.overlays)?;
    let baseline = match (&req.baseline, req.overlays.is_empty()) {
        (_, false) => Some(applied.base.clone()),
        (Some(path), true) => Some(read_tree(path)?),
        (None, true) => None,
    };
    let board = facts(req.table, req.board.as_deref(), &applied.merged)?;
    let report = check::check(Input {
        tree: &applied.merged,
        baseline: baseline.as_ref(),
        board,
        page_size: req.page_size,
    });
    Ok((applied.merged, report))
}

/// What `dtregion new` is asked.
#[derive(Clone, Debug)]
pub struct NewRequest<'a> {
    /// The board table.
    pub table: &'a Table,
    /// The board's key.
    pub board: String,
    /// The board's compiled base tree.
    pub dtb: PathBuf,
    /// Overlays already in use on the board: the new region stays clear of theirs.
    pub overlays: Vec<PathBuf>,
    /// The region's name before its unit address: the node is NAME@BASE, and so is the heap.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Base address; `None` picks one.
    pub base: Option<u64>,
    /// Alignment of a picked base.
    pub align: u64,
}

/// What `dtregion new` made.
#[derive(Clone, Debug)]
pub struct NewRegion {
    /// The overlay source; its first comment line names the heap the region becomes.
    pub source: String,
    /// The check of the board's tree with it applied.
    pub report: Report,
}

/// Runs `dtregion new`: places the region, writes the overlay and checks it.
pub fn new_region(req: &NewRequest<'_>) -> Result<NewRegion> {
    let (key, board) = req.table.get(&req.board)?;
    let applied = apply(&req.dtb, &req.overlays)?;
    let has = applied.base.compatible();
    if !has.contains(&board.compatible) {
        return Err(Error::WrongBoard {
            overlay: req.dtb.clone(),
            wants: vec![board.compatible.clone()],
            has,
        });
    }
    let layout = Layout::read(&applied.merged);
    let (dram, dram_from) = if !board.dram.is_empty() {
        (board.dram_ranges(), "the board table".to_string())
    } else {
        (layout.memory_banks(), "/memory".to_string())
    };
    if dram.is_empty() {
        return Err(Error::Missing(format!(
            "{}: no DRAM banks in /memory and no dram for board {key} in {}",
            req.dtb.display(),
            req.table.path.display()
        )));
    }
    let dtb_name = board
        .dtb
        .clone()
        .unwrap_or_else(|| req.dtb.display().to_string());
    let (base, placement) = match req.base {
        Some(b) => (
            b,
            format!(
                "Base {b:#x} was given; dtregion check found it clear of the reserved regions of {dtb_name}, its /memreserve/ entries and the keep-out ranges of the board table."
            ),
        ),
        None => {
            let mut occupied: Vec<Range> = layout
                .regions()
                .iter()
                .filter(|r| r.is_enabled())
                .filter_map(|r| r.range())
                .collect();
            occupied.extend(layout.memreserve.iter().copied());
            occupied.extend(board.keep_out.iter().map(|k| k.range()));
            let base = place::lowest_free(&dram, &occupied, req.size, req.align).ok_or_else(|| {
                Error::NoRoom(format!(
                    "no free {}-aligned range of {} in the DRAM of {key} ({})",
                    format_size(req.align),
                    format_size(req.size),
                    dram.iter().map(Range::to_string).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let keep: Vec<&str> = board.keep_out.iter().map(|k| k.name.as_str()).collect();
            let keep = if keep.is_empty() {
                String::new()
            } else {
                format!(" and the board's keep-out ranges ({})", keep.join(", "))
            };
            (
                base,
                format!(
                    "Placed by --base auto: the lowest {}-aligned free range of the DRAM ({}, from {dram_from}), below 4 GiB when there is room, clear of every reserved region of {dtb_name}{}, its /memreserve/ entries{keep}.",
                    format_size(req.align),
                    dram.iter().map(Range::to_string).collect::<Vec<_>>().join(", "),
                    if req.overlays.is_empty() { "" } else { " with the given overlays" },
                ),
            )
        }
    };
    let (cells, has_rm) = match &layout.reserved_memory {
        Some(rm) => (rm.cells(), true),
        None => (layout.root_cells, false),
    };
    let source = dtso::render(&dtso::NewOverlay {
        key,
        board_name: &board.name,
        compatible: &board.compatible,
        name: &req.name,
        base,
        size: req.size,
        cells,
        has_reserved_memory: has_rm,
        placement,
    });

    // Round trip: dtc, fdtoverlay on the real tree, check against the tree without it.
    let tmp = tools::TempDir::new()?;
    let dtbo = tools::compile_overlay(&source, &tmp)?;
    let mut overlays = req.overlays.clone();
    overlays.push(dtbo);
    let with_new = apply(&req.dtb, &overlays)?;
    let report = check::check(Input {
        tree: &with_new.merged,
        baseline: Some(&applied.merged),
        board: BoardFacts::Board(key, board),
        page_size: 4096,
    });
    Ok(NewRegion { source, report })
}
