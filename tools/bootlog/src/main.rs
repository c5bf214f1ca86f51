//! The `bootlog` command line.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use bootlog::{output, Error, Options, Report, Result};

const EXIT_STATUS: &str = "\
Exit status:
  0  every check passed
  1  a check failed: a test failed or its result is missing, a kernel problem,
     a missing suite or expected case, an undeclared skip, no '# runner: done',
     a timeout, ...
  2  unusable input: the file or the case list cannot be read, or bad arguments;
     for bench-svg: a log without bench figures, or with a bad one";

/// Check the console log of a QEMU boot of the test kernel.
#[derive(Debug, Parser)]
#[command(name = "bootlog", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a serial console log: KTAP results and kernel problems.
    ///
    /// The log is split into kernel lines (with a printk timestamp) and the
    /// runner's lines (without one); the KTAP documents of both are checked
    /// (every result ok, none missing, none beyond the plan) and the kernel
    /// lines are scanned for oopses, panics, BUG:, WARNING:, kmemleak
    /// reports, hung tasks, RCU stalls and the like. Prints the boot time to
    /// /init, the heaps the runner found, one line per problem (FILE:LINE:
    /// message) and a last line `bootlog: P passed, F failed, S skipped`.
    #[command(after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Check a file holding only KTAP, without the kernel log scanner.
    ///
    /// For KTAP captured elsewhere (e.g. the runner's output): the same
    /// result checks as `check`, on the whole file as one stream.
    #[command(after_help = EXIT_STATUS)]
    Ktap(KtapArgs),
    /// Draw the picture of a bench boot (`scripts/boot --mode bench`) as SVG.
    ///
    /// Reads the runner's `# bench-figure:` lines from the log (the figures of
    /// `dma-heap bench`, exactly) and draws alloc+free latency per size for
    /// every heap (median and 99th percentile, logarithmic axis), the frames
    /// that fit in each heap as bars, and the fragmentation left by the churn
    /// workload; the machine and the commit go into the title. Writes the SVG
    /// to FILE or standard output; nothing else is printed.
    #[command(after_help = EXIT_STATUS)]
    BenchSvg(BenchSvgArgs),
}

#[derive(Debug, Args)]
struct BenchSvgArgs {
    /// The console log of the bench boot ('-' for standard input).
    #[arg(value_name = "LOG")]
    log: PathBuf,

    /// The machine the boot ran on, for the title (QEMU's machine: virt).
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    machine: String,

    /// The commit of the layer that was booted, for the title (`git describe`).
    #[arg(long, value_name = "REV", value_parser = non_empty)]
    commit: String,

    /// Write the SVG to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The console log ('-' for standard input).
    #[arg(value_name = "LOG")]
    log: PathBuf,

    #[command(flatten)]
    expect: Expectations,

    /// Do not report kernel lines that contain TEXT (a plain substring, not a
    /// regex); a splat's `Call trace:` follows its header. Repeatable.
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    allow: Vec<String>,

    /// Fail unless some kernel line contains TEXT (a plain substring).
    /// Repeatable. A required line that is also a kernel problem (a WARN
    /// splat) needs --allow as well.
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    require_line: Vec<String>,

    /// Fail if any kernel line contains TEXT (a plain substring). Repeatable.
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    forbid_line: Vec<String>,

    /// QEMU was killed by the time limit: report a timeout (the log is still
    /// checked).
    #[arg(long)]
    timed_out: bool,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct KtapArgs {
    /// The KTAP file ('-' for standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    #[command(flatten)]
    expect: Expectations,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct Expectations {
    /// Fail unless a suite (a test directly under a top-level KTAP document)
    /// named NAME is in the log. Repeatable.
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    expect_suite: Vec<String>,

    /// Fail unless the runner printed its `# runner: done` line.
    #[arg(long)]
    expect_done: bool,

    /// The runner's cases the boot must run, as `dma-heap test --list` prints
    /// them (`SUITE.CASE must-pass` or `SUITE.CASE may-skip REASON`, one a
    /// line): fail if one is missing, or skipped for another reason, or if
    /// a case not listed skips.
    #[arg(long, value_name = "FILE")]
    expect_cases: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format: a short summary, or one JSON object with the same
    /// information and the parsed test tree.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn non_empty(s: &str) -> std::result::Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(s.to_string())
    }
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    let read = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    read.map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn write_report(report: &Report, format: Format) -> Result<()> {
    let mut out = io::stdout().lock();
    match format {
        Format::Human => output::write_human(&mut out, report),
        Format::Json => output::write_json(&mut out, report),
    }
}

fn options(expect: Expectations) -> Result<Options> {
    let expect_cases = match &expect.expect_cases {
        None => None,
        Some(path) => {
            let bytes = read_input(path)?;
            let text = String::from_utf8_lossy(&bytes);
            Some(
                bootlog::expect::Expected::parse(&text).map_err(|(line, msg)| {
                    Error::ExpectCases {
                        path: path.clone(),
                        line,
                        msg,
                    }
                })?,
            )
        }
    };
    Ok(Options {
        expect_suites: expect.expect_suite,
        expect_done: expect.expect_done,
        expect_cases,
        ..Options::default()
    })
}

/// Runs `bench-svg`.
fn bench_svg(args: BenchSvgArgs) -> Result<bool> {
    let bytes = read_input(&args.log)?;
    let bench = bootlog::bench::Bench::read(&bytes).map_err(|(line, msg)| Error::Bench {
        path: args.log.clone(),
        line,
        msg,
    })?;
    let svg = bootlog::bench::render(&bench, &args.machine, &args.commit);
    match &args.output {
        Some(path) => std::fs::write(path, svg).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?,
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(svg.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.map_err(Error::Write)?,
            }
        }
    }
    Ok(true)
}

/// Runs the command; `Ok(true)` if every check passed.
fn run(cli: Cli) -> Result<bool> {
    let (report, format) = match cli.command {
        Command::BenchSvg(args) => return bench_svg(args),
        Command::Check(args) => {
            let bytes = read_input(&args.log)?;
            let options = Options {
                allow: args.allow,
                require_lines: args.require_line,
                forbid_lines: args.forbid_line,
                timed_out: args.timed_out,
                ..options(args.expect)?
            };
            let name = args.log.display().to_string();
            (
                bootlog::check_log(&name, &bytes, &options),
                args.output.format,
            )
        }
        Command::Ktap(args) => {
            let bytes = read_input(&args.file)?;
            let name = args.file.display().to_string();
            let options = options(args.expect)?;
            (
                bootlog::check_ktap(&name, &bytes, &options),
                args.output.format,
            )
        }
    };
    match write_report(&report, format) {
        // A closed pipe (`bootlog check log | head -1`) is not our failure.
        Err(Error::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(report.ok)
}

fn main() -> ExitCode {
    // Usage errors exit with 2, --help and --version with 0.
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let _ = io::stdout().flush();
            eprintln!("bootlog: error: {e}");
            ExitCode::from(2)
        }
    }
}
