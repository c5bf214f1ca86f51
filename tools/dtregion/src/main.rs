//! The `dtregion` command line.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use dtregion::check::base_name_problem;
use dtregion::{map, output, CheckRequest, Error, NewRequest, Report, Result, Table};
use heap_rules::size::{parse_address, parse_size, KIB};

const EXIT_STATUS: &str = "\
Exit status:
  0  no error (warnings and notes do not count, unless --deny-warnings)
  1  problems: at least one error in the regions the overlays add or change;
     for `new`: the new region fails the check, or there is no room for it;
     for `map --verify`: the map is not an SVG document or lacks a label;
     also when standard output is closed early (`dtregion check ... | head`)
  2  unusable input: a file that cannot be read or is not a DTB (bad magic,
     truncated, malformed), an overlay that is not one, does not apply or is
     for another board, a bad board table, bad arguments, dtc or fdtoverlay
     missing";

/// Check the reserved-memory regions of a board's device tree for the coherent dma-buf heap,
/// and write new ones.
#[derive(Debug, Parser)]
#[command(name = "dtregion", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the reserved-memory regions of a tree with its overlays applied.
    ///
    /// Applies the overlays to BASE.dtb by running the external `fdtoverlay` (libfdt's
    /// fdt_overlay_apply(), the code U-Boot uses) into a temporary file, or, without overlays,
    /// reads BASE.dtb as an already merged tree. Prints the /reserved-memory regions (node,
    /// heap, base, size, flags, opted in, where from), then one line per problem,
    /// `SEVERITY[CLASS]: NODE: message`, and a last line `dtregion: E errors, W warnings, N
    /// notes`. HEAP is the /dev/dma_heap name the coherent heap driver gives the region: its
    /// full node name, unit address included (camera@70000000; a dynamic region: camera); `-`
    /// for a region it does not export. With --format json each region also has the driver's
    /// decision and the exact kernel line it prints for it.
    ///
    /// Errors: a region outside all DRAM banks; overlapping another region, a /memreserve/
    /// entry or a keep-out range of the board table; base, size or a dynamic region's
    /// alignment not page aligned (a reusable CMA pool: not 4 MiB aligned); zero size;
    /// opted in (linux,dma-heap) and reusable; and every refusal of an opted-in region by the
    /// driver, checked in its order: no name, a heap name already taken (a mainline heap:
    /// system, system_cc_shared, default_cma_region, reserved; or the CMA heap of a reusable
    /// region, which has the full node name too), no no-map. Also: an invalid node name; a
    /// memory-region phandle that is not a region of the tree; a dynamic region left without
    /// room; /reserved-memory cells unlike the root's; no usable /memory and no board facts
    /// (the DRAM checks cannot run).
    ///
    /// Warnings: a region above 4 GiB (32-bit DMA masters cannot reach it); a no-map region whose
    /// base (a dynamic one: its alignment, 64 bytes without one) or size is aligned under
    /// 2 MiB; a shared-dma-pool without no-map that is not opted in (what happens if a driver
    /// attaches it is in the message); linux,dma-heap on a node that is not a
    /// shared-dma-pool; more than one reg entry.
    ///
    /// Notes: the same problems in the vendor's base tree (regions the overlays neither add nor
    /// change); they do not change the exit status.
    ///
    /// The DRAM banks come from the board table's `dram` when the board has one (firmware that
    /// writes /memory at boot), else from /memory. The board is the table's entry whose
    /// compatible is in the tree's root compatible, or the one named with --board.
    #[command(after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Draw the board's physical address space as an SVG picture.
    ///
    /// Reads the tree as `check` does (the same arguments) and draws, high addresses at the
    /// top: the DRAM banks, the dma-ranges windows of the tree's buses in CPU addresses (what
    /// their DMA masters reach), the board table's keep-out ranges, the /memreserve/ entries,
    /// every /reserved-memory region (heaps, CMA pools, firmware) and the 4 GiB line. Each is
    /// labelled with its name, range and size; every problem `check` reports is drawn on the
    /// region it concerns (outlined red for an error, orange for a warning, grey for a note,
    /// the message under its label). The axis is broken and not to scale: each span between
    /// two boundaries is as high as the log of its size, so a 4 KiB region stays visible next
    /// to 8 GiB, and spans nothing covers are cut. A map is written whatever the check finds
    /// (exit status 0); `--verify FILE` checks a map written before instead (exit status 1 if
    /// it is not an SVG document or lacks the label of an item of the tree: each DRAM bank,
    /// window, keep-out range, /memreserve/ entry, and each region by its node name).
    #[command(after_help = EXIT_STATUS)]
    Map(MapArgs),
    /// Write a .dtso with one new heap region for a board, placed and checked.
    ///
    /// With --base auto (the default) the region goes to the lowest ALIGN-aligned free range
    /// of the board's DRAM, below 4 GiB when there is room, clear of every reserved region of
    /// the board's compiled base tree, its /memreserve/ entries, the keep-out ranges of the
    /// board table and the regions of --overlay. The region is always no-map (a heap region
    /// must be: the driver refuses System RAM), so there is no --no-map option. The overlay
    /// is compiled with `dtc -@`, applied to the base tree with `fdtoverlay` and checked like
    /// `dtregion check`; it is written only if that finds no error. Its first comment line
    /// names the heap the region becomes: /dev/dma_heap/NAME@BASE.
    #[command(after_help = EXIT_STATUS)]
    New(NewArgs),
    /// List the boards of the board table, one per line: key, base DTB ("-" for a generated
    /// tree), compatible and name, separated by tabs.
    #[command(after_help = EXIT_STATUS)]
    Boards(BoardsArgs),
}

#[derive(Debug, Args)]
struct TableArgs {
    /// The board table (dts/boards.toml in the layer).
    #[arg(long = "boards", value_name = "FILE", env = "DTREGION_BOARDS")]
    path: Option<PathBuf>,
}

impl TableArgs {
    fn load(&self) -> Result<Option<Table>> {
        self.path.as_deref().map(Table::load).transpose()
    }

    fn require(&self) -> Result<Table> {
        self.load()?.ok_or_else(|| {
            Error::Missing("the board table is needed: pass --boards dts/boards.toml".into())
        })
    }
}

/// The tree `check` and `map` read: a base DTB and its overlays, and the board's facts.
#[derive(Debug, Args)]
struct TreeArgs {
    /// The board's base DTB, or an already merged DTB.
    #[arg(value_name = "BASE.dtb")]
    base: PathBuf,

    /// Overlays to apply to it, in order (compiled with dtc -@).
    #[arg(value_name = "OVERLAY.dtbo")]
    overlays: Vec<PathBuf>,

    #[command(flatten)]
    table: TableArgs,

    /// The board's key in the table, instead of finding it by the tree's root compatible.
    #[arg(long, value_name = "NAME")]
    board: Option<String>,

    /// For an already merged BASE.dtb: the board's tree without the overlays; regions
    /// identical there are the vendor's, and their problems are notes. Without it, every region
    /// of a merged tree is checked as the vendor's own.
    #[arg(long, value_name = "FILE", conflicts_with = "overlays")]
    baseline: Option<PathBuf>,

    /// Page size regions must be aligned to.
    #[arg(long, value_name = "SIZE", default_value = "4K", value_parser = page_size)]
    page_size: u64,
}

impl TreeArgs {
    fn request<'a>(&self, table: Option<&'a Table>) -> CheckRequest<'a> {
        CheckRequest {
            base: self.base.clone(),
            overlays: self.overlays.clone(),
            baseline: self.baseline.clone(),
            table,
            board: self.board.clone(),
            page_size: self.page_size,
        }
    }
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    tree: TreeArgs,

    /// Exit with status 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,

    /// Output format: a table and one line per problem, or one JSON object with the regions and
    /// the problems (each with severity, class, node and message).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Args)]
struct MapArgs {
    #[command(flatten)]
    tree: TreeArgs,

    /// Write the SVG to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", conflicts_with = "verify")]
    output: Option<PathBuf>,

    /// Write nothing: check that the map in FILE is an SVG document with a text element for
    /// every label the map of this tree has (exit status 1 if not).
    #[arg(long, value_name = "FILE")]
    verify: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The board's key in the table (see `dtregion boards`).
    #[arg(long, value_name = "NAME")]
    board: String,

    /// Region name: the node is NAME@BASE, and so is the heap (/dev/dma_heap/NAME@BASE).
    #[arg(long, value_name = "NAME", value_parser = heap_name)]
    name: String,

    /// Size, a multiple of 4 KiB: 64M, 64MiB, 0x4000000, 1G (decimal or 0x hex, with an
    /// optional K, M, G or T, or KiB, MiB, GiB or TiB).
    #[arg(long, value_name = "SIZE", value_parser = region_size)]
    size: u64,

    /// Base address, or `auto` to pick one.
    #[arg(long, value_name = "ADDR|auto", default_value = "auto", value_parser = base_address)]
    base: Base,

    /// Alignment of an `auto` base: 2 MiB keeps the kernel's linear map in 2 MiB blocks
    /// around the no-map hole.
    #[arg(long, value_name = "SIZE", default_value = "2M", value_parser = alignment)]
    align: u64,

    #[command(flatten)]
    table: TableArgs,

    /// The board's compiled base tree.
    #[arg(long, value_name = "FILE")]
    dtb: Option<PathBuf>,

    /// A directory of compiled DTBs laid out like the kernel's arch/arm64/boot/dts: the board's
    /// tree is DIR/ followed by its `dtb` in the table.
    #[arg(
        long,
        value_name = "DIR",
        env = "DTREGION_DTBS",
        conflicts_with = "dtb"
    )]
    dtbs: Option<PathBuf>,

    /// An overlay already used on the board (.dtbo): the new region stays clear of its
    /// regions. Repeatable.
    #[arg(long = "overlay", value_name = "FILE")]
    overlays: Vec<PathBuf>,

    /// Write the .dtso to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug)]
enum Base {
    Auto,
    At(u64),
}

#[derive(Debug, Args)]
struct BoardsArgs {
    #[command(flatten)]
    table: TableArgs,

    /// Output format: tab-separated lines, or one JSON object of the table.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    format: Format,
}

fn heap_name(s: &str) -> std::result::Result<String, String> {
    match base_name_problem(s) {
        Some(why) => Err(why),
        None => Ok(s.to_string()),
    }
}

fn region_size(s: &str) -> std::result::Result<u64, String> {
    let n = parse_size(s).map_err(|e| e.to_string())?;
    if n == 0 || n % (4 * KIB) != 0 {
        return Err("must be a non-zero multiple of 4 KiB".into());
    }
    Ok(n)
}

fn alignment(s: &str) -> std::result::Result<u64, String> {
    let n = parse_size(s).map_err(|e| e.to_string())?;
    if n < 4 * KIB || !n.is_power_of_two() {
        return Err("must be a power of two of at least 4 KiB".into());
    }
    Ok(n)
}

fn page_size(s: &str) -> std::result::Result<u64, String> {
    let n = alignment(s)?;
    if n > 64 * KIB {
        return Err("pages are 4K, 16K or 64K".into());
    }
    Ok(n)
}

fn base_address(s: &str) -> std::result::Result<Base, String> {
    if s == "auto" {
        return Ok(Base::Auto);
    }
    parse_address(s).map(Base::At).map_err(|e| e.to_string())
}

fn stdout_error(source: io::Error) -> Error {
    Error::Write { path: None, source }
}

/// A write to standard output that failed because its reader went away (`| head`): the
/// verdict stands, nothing more needs saying. Any other result is kept.
fn unless_closed(written: Result<()>) -> Result<()> {
    match written {
        Err(Error::Write { path: None, source }) if source.kind() == io::ErrorKind::BrokenPipe => {
            Ok(())
        }
        other => other,
    }
}

fn print_report(report: &Report, format: Format) -> Result<()> {
    let mut out = io::stdout().lock();
    let written = match format {
        Format::Human => output::write_human(&mut out, report),
        Format::Json => output::write_json(&mut out, report),
    };
    written.map_err(stdout_error)
}

/// Runs `check`; `Ok(true)` if it passed.
fn check(args: CheckArgs) -> Result<bool> {
    let table = args.tree.table.load()?;
    let report = dtregion::check_files(&args.tree.request(table.as_ref()))?;
    // The report is the verdict: printed in full or not, a failed check is exit status 1.
    unless_closed(print_report(&report, args.format))?;
    Ok(report.passed(args.deny_warnings))
}

/// Runs `map`: writes the picture, or with `--verify` checks one; `Ok(false)` if that fails.
fn map(args: MapArgs) -> Result<bool> {
    let table = args.tree.table.load()?;
    let (report, windows) = dtregion::map_files(&args.tree.request(table.as_ref()))?;
    let title = match (&table, &report.board) {
        (Some(t), Some(key)) => match t.boards.get(key) {
            Some(b) => format!("{} ({key})", b.name),
            None => key.clone(),
        },
        _ => args.tree.base.display().to_string(),
    };
    let input = map::MapInput {
        title: &title,
        report: &report,
        windows: &windows,
    };
    if let Some(path) = &args.verify {
        let svg = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let missing = match map::missing_labels(&svg, &input) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("dtregion: {}: not an SVG document: {e}", path.display());
                return Ok(false);
            }
        };
        for label in &missing {
            eprintln!("dtregion: {}: no label {label:?}", path.display());
        }
        return Ok(missing.is_empty());
    }
    let svg = map::render(&input);
    match &args.output {
        Some(path) => write_file(path, &svg)?,
        None => {
            let mut out = io::stdout().lock();
            unless_closed(
                out.write_all(svg.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(stdout_error),
            )?;
        }
    }
    Ok(true)
}

fn new(args: NewArgs) -> Result<bool> {
    let table = args.table.require()?;
    let (_, board) = table.get(&args.board)?;
    let dtb = match (&args.dtb, &args.dtbs, &board.dtb) {
        (Some(f), _, _) => f.clone(),
        (None, Some(dir), Some(rel)) => dir.join(rel),
        (None, _, None) => {
            return Err(Error::Missing(format!(
                "board {} has no dtb in the table (its tree is generated): pass --dtb",
                args.board
            )))
        }
        (None, None, Some(rel)) => {
            return Err(Error::Missing(format!(
                "the board's compiled tree is needed: pass --dtb FILE or --dtbs DIR (a directory holding {rel})"
            )))
        }
    };
    let made = dtregion::new_region(&NewRequest {
        table: &table,
        board: args.board,
        dtb,
        overlays: args.overlays,
        name: args.name,
        size: args.size,
        base: match args.base {
            Base::Auto => None,
            Base::At(b) => Some(b),
        },
        align: args.align,
    })?;
    if made.report.errors != 0 {
        let mut err = io::stderr().lock();
        let _ = output::write_human(&mut err, &made.report);
        let _ = writeln!(
            err,
            "dtregion: the new region fails the check; nothing written"
        );
        return Ok(false);
    }
    match &args.output {
        Some(path) => write_file(path, &made.source)?,
        None => {
            let mut out = io::stdout().lock();
            unless_closed(
                out.write_all(made.source.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(stdout_error),
            )?;
        }
    }
    if made.report.warnings != 0 {
        let mut err = io::stderr().lock();
        for p in made
            .report
            .problems
            .iter()
            .filter(|p| p.severity == dtregion::check::Severity::Warning)
        {
            let _ = writeln!(
                err,
                "warning[{}]: {}: {}",
                p.class.as_str(),
                p.node,
                p.message
            );
        }
    }
    Ok(true)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: Some(path.to_path_buf()),
        source,
    })
}

fn boards(args: BoardsArgs) -> Result<bool> {
    let table = args.table.require()?;
    let mut out = io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer(&mut out, &table.boards)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Human => table.boards.iter().try_for_each(|(key, b)| {
            writeln!(
                out,
                "{key}\t{}\t{}\t{}",
                b.dtb.as_deref().unwrap_or("-"),
                b.compatible,
                b.name
            )
        }),
    };
    unless_closed(written.and_then(|()| out.flush()).map_err(stdout_error))?;
    Ok(true)
}

fn main() -> ExitCode {
    // Usage errors exit with 2, --help and --version with 0.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check(args),
        Command::Map(args) => map(args),
        Command::New(args) => new(args),
        Command::Boards(args) => boards(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let _ = io::stdout().flush();
            eprintln!("dtregion: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use heap_rules::size::MIB;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn arguments() {
        assert_eq!(region_size("64M"), Ok(64 * MIB));
        assert!(region_size("1000").is_err());
        assert!(alignment("3M").is_err());
        assert!(page_size("2M").is_err());
        assert!(matches!(base_address("auto"), Ok(Base::Auto)));
        assert!(matches!(
            base_address("0x10000000"),
            Ok(Base::At(0x1000_0000))
        ));
        assert!(heap_name("camera").is_ok());
        assert!(heap_name("cam/era").is_err());
        // The same grammar as dma-heap's.
        assert_eq!(region_size("0x1000"), Ok(4096));
        assert_eq!(region_size("64MiB"), Ok(64 * MIB));
        assert!(region_size("64MB").unwrap_err().starts_with("unknown unit"));
    }

    #[test]
    fn a_closed_pipe_keeps_the_verdict() {
        let closed = || {
            Err(Error::Write {
                path: None,
                source: io::Error::from(io::ErrorKind::BrokenPipe),
            })
        };
        assert!(unless_closed(closed()).is_ok());
        let full = Err(Error::Write {
            path: None,
            source: io::Error::from(io::ErrorKind::StorageFull),
        });
        assert!(unless_closed(full).is_err());
        let file = Err(Error::Write {
            path: Some("x.dtso".into()),
            source: io::Error::from(io::ErrorKind::BrokenPipe),
        });
        assert!(unless_closed(file).is_err());
    }
}
