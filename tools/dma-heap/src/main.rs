//! `dma-heap`: list dma-buf heaps, allocate from them, run the in-image
//! tests. Run as PID 1 it is the test image's init (see `init.rs`).
#![forbid(unsafe_code)]

mod init;

use std::io::{self, Write};
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use dma_heap::bench::BenchConfig;
use dma_heap::cmdline::{Cmdline, RunMode};
use dma_heap::heap::{write_and_verify, Fill, Heap, DEFAULT_FD_FLAGS};
use dma_heap::inventory::{dt_flags, HeapKind, Inventory};
use dma_heap::ktap;
use dma_heap::module::LoadOutcome;
use dma_heap::size::{format_size, parse_size};
use dma_heap::suites::{self, stress};
use dma_heap::system::{Kernel, System};
use dma_heap::{Error, Result};

const EXIT_CODES: &str = "\
Exit status:
  0  success (for `test`: no test case failed)
  1  failure: a test case failed, or the operation named in the error message failed
  2  usage error: invalid command line";

const INIT_HELP: &str = "\
Run as PID 1 (or under a name ending in `init`), dma-heap is the test image's init: it \
mounts devtmpfs, proc, sysfs and debugfs, reads /proc/cmdline, loads the coherent heap \
module if the image has one for the running kernel \
(/lib/modules/RELEASE/kernel/drivers/dma-buf/heaps/coherent_heap.ko, with finit_module() \
and the coherent_heap.* parameters of the command line, e.g. coherent_heap.dyndbg=+p), \
runs the mode chosen by dmaheap.run= (`test`, the default, `demo` or `bench`), prints \
`# runner: done` and powers off (dmaheap.end=poweroff, the default) or restarts \
(dmaheap.end=reboot). dmaheap.regions=NODE,... names the reserved-memory nodes the test \
overlay added.";

const TEST_HELP: &str = "\
Runs the test suites and prints KTAP version 1 in KUnit's shape.

With --list, runs nothing and prints every case the run consists of, one a line: \
`SUITE.CASE must-pass`, or `SUITE.CASE may-skip REASON` for a case that may skip with \
exactly that reason (`SUITE.CASE.* may-skip REASON`: the results nested under the case). \
No case is listed that a static fact already makes skip (a size beyond a pool), and a case \
may skip only where what the kernel was \
built with, its command line or the device tree says so: `module_load` with the driver \
built in, `scan_clean` without kmemleak, the selftest's import test without vgem. The \
running system is described unless --dtb FILE is given: then the boot of that flattened \
device tree, with the kernel of --kernel-config FILE and the command line of --cmdline, \
as the build host sees it (`scripts/boot` passes the list to `bootlog check --expect-cases`).

Suites:
  heap_list           /dev/dma_heap is there, every heap opens
  system_heap         allocations, zero-fill, mmap, sync and the ioctl's error cases
  cma_heap            the same for every CMA heap; every reusable node has its heap
  reserved_memory_dt  the nodes named by dmaheap.regions= parse
  coherent_module     module_load (SKIP when built in); module_unload_refused:
                      delete_module(O_NONBLOCK) fails while the heaps pin the module
  coherent_heap       the driver is there when the device tree gives it regions; exactly
                      the expected heaps exist (the regions that opt in with
                      linux,dma-heap, by the driver's rules, each named after its full
                      node name: camera@70000000), the per-heap cases, len > region ->
                      ENOMEM, and no heap (debugfs region) is backed by a node not exported
  coherent_debugfs    /sys/kernel/debug/coherent_heap: one file per heap, region/base/size
                      match the device tree, buffers, in_use, peak, allocations and
                      failures track allocations and frees, a mapping keeps its buffer
  coherent_alloc      fill each pool until ENOMEM with 1 MiB buffers, and with small ones
                      (one page, or more for pools over 16 MiB: at most 4096 buffers):
                      inside the region, counters right, then the whole region allocates
                      as one buffer; freed contents never reach a new buffer; mmap rules
                      (MAP_PRIVATE -> EINVAL, beyond the buffer fails, offsets work)
  coherent_stress     parallel_stress: 4 processes allocating, mapping, writing and
                      freeing random sizes (4 KiB-4 MiB) on the largest coherent heap;
                      ENOMEM is expected and handled, anything else fails
  kselftest_dmabuf_heaps
                      dmabuf_heap: the kernel's own selftest /usr/lib/kselftests/dmabuf-heap
                      on every heap, coherent ones included (each needs 33 MiB free: it
                      keeps its first 1 MiB buffer while it allocates 32 x 1 MiB), run as
                      kselftest/runner.sh runs a test: its TAP nested under one result
                      that its exit code decides (0 passes, 4 skips, anything else, a
                      signal or 120 s fails); the KTAP parser judges the nested results.
                      SKIP if not in the image
  coherent_log        the kernel log has exactly the driver's expected line for every
                      node it exports or refuses, no other driver line, no kernel splat
                      (the list bootlog checks consoles with: WARNING:, BUG:, Oops, ...)
                      and no 'memremap attempted on ram'
  kmemleak            scan_clean (debug kernels, CONFIG_DEBUG_KMEMLEAK): after every other
                      suite, wait 5 s, write `scan` to /sys/kernel/debug/kmemleak twice,
                      read it: any 'unreferenced object' fails. SKIP without kmemleak";

const BENCH_HELP: &str = "\
Measures the system, CMA and coherent heaps in /dev/dma_heap and prints plain-text \
tables, one heap per row, then `# bench: done`. Asserts nothing (exit status 0 unless \
it cannot run at all).

- alloc+free latency of 4 KiB, 64 KiB, 1 MiB and 8 MiB buffers: median and 99th \
percentile (CLOCK_MONOTONIC); sizes larger than the heap are skipped;
- for heaps of known size (coherent: debugfs or device tree; CMA: device tree or CMA \
debugfs): how many 1080p NV12 (3110400 bytes) and 4K NV12 (12441600 bytes) frames fit, \
allocated until ENOMEM, and the share of the heap they use;
- churn: a deterministic random workload (xorshift64*, sizes log-uniform from 4 KiB to \
8 MiB, at most a quarter of the heap) keeping about half of the heap live, then the \
largest single allocation still possible (binary search over sizes).";

/// Exit status for a failed test run or operation.
const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "dma-heap",
    version,
    about = "List dma-buf heaps, allocate from them, and run the dma-buf heap tests",
    long_about = None,
    after_help = EXIT_CODES,
    after_long_help = format!("{INIT_HELP}\n\n{EXIT_CODES}"),
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the heaps in /dev/dma_heap with their reserved-memory regions
    #[command(after_help = EXIT_CODES)]
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Allocate a buffer, map it, write a pattern and read it back
    #[command(after_help = EXIT_CODES)]
    Alloc {
        /// Heap name (a file in /dev/dma_heap)
        heap: String,
        /// Bytes to allocate: 4096, 4K, 64M, 1G (K/M/G/T are powers of 1024)
        #[arg(value_parser = parse_alloc_size)]
        size: u64,
        /// Fill with this byte (0-255, decimal or 0x hex) instead of a pattern
        #[arg(long, value_name = "BYTE", value_parser = parse_byte)]
        fill: Option<u8>,
    },
    /// Run the dma-buf heap test suites and print KTAP
    #[command(after_help = EXIT_CODES, long_about = TEST_HELP)]
    Test {
        /// Print the cases and what a boot may see of each instead of running them
        #[arg(long)]
        list: bool,
        /// Output format: `ktap` for a run; `text` (one case a line) or `json` for --list
        #[arg(long, value_enum)]
        format: Option<TestFormat>,
        /// With --list: the boot of this flattened device tree, not the running system
        #[arg(long, value_name = "FILE", requires_all = ["list", "kernel_config"])]
        dtb: Option<PathBuf>,
        /// With --list: the kernel configuration (.config) of the kernel that boots
        /// (default: what the running system shows)
        #[arg(long, value_name = "FILE", requires = "list")]
        kernel_config: Option<PathBuf>,
        /// With --dtb: the kernel command line of the boot (dmaheap.regions=, kmemleak=, cma=)
        #[arg(long, value_name = "TEXT", requires = "dtb")]
        cmdline: Option<String>,
    },
    /// Benchmark the heaps: latency, frames that fit, fragmentation
    #[command(after_help = EXIT_CODES, long_about = BENCH_HELP)]
    Bench {
        /// Timed alloc+free pairs per heap and size
        #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
        iterations: u32,
        /// Steps of the churn workload
        #[arg(long, value_name = "N", default_value_t = 500)]
        churn_steps: u32,
        /// Seed of the churn workload
        #[arg(long, value_name = "N", default_value_t = BenchConfig::default().seed)]
        seed: u64,
        /// Only this heap (repeatable; default: every system, CMA and coherent heap)
        #[arg(long = "heap", value_name = "NAME")]
        heaps: Vec<String>,
    },
    /// One child of the parallel_stress case (started by the runner itself)
    #[command(name = stress::CHILD_COMMAND, hide = true)]
    StressChild {
        heap: String,
        index: usize,
        page: u64,
        /// The child's configuration, as the runner encodes it
        config: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// A table
    Human,
    /// A JSON array, one object per heap
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    /// KTAP version 1, as KUnit prints it (a run)
    Ktap,
    /// One case a line: `SUITE.CASE must-pass` or `SUITE.CASE may-skip REASON` (--list)
    Text,
    /// A JSON array, one object per case (--list)
    Json,
}

/// Value parser for SIZE. Returns just the reason: clap already says
/// "invalid value 'X' for '<SIZE>'".
fn parse_alloc_size(s: &str) -> std::result::Result<u64, String> {
    match parse_size("SIZE", s) {
        Ok(0) => Err("must be at least 1 byte".into()),
        Ok(n) => Ok(n),
        Err(Error::InvalidArgument { msg, .. }) => Err(msg),
        Err(e) => Err(e.to_string()),
    }
}

/// Value parser for `--fill BYTE`.
fn parse_byte(s: &str) -> std::result::Result<u8, String> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => t.parse::<u8>(),
    };
    parsed.map_err(|_| "expected 0-255, decimal or 0x hex".into())
}

fn main() -> ExitCode {
    if init::should_run_as_init() {
        let result = init::start().map_err(|e| e.to_string()).and_then(|boot| {
            // A panic that escapes the run must still end the boot (PID 1
            // must not exit); panics in a case are caught by the runner.
            std::panic::catch_unwind(|| run_mode(boot.mode, &boot.cmdline, boot.load))
                .unwrap_or_else(|_| Err("the runner panicked".into()))
        });
        init::end(result);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { format } => cmd_list(format),
        Command::Alloc { heap, size, fill } => cmd_alloc(&heap, size, fill).map(|()| true),
        Command::Test {
            list,
            format,
            dtb,
            kernel_config,
            cmdline,
        } => match (list, format) {
            (false, None | Some(TestFormat::Ktap)) => run_tests(&probe(None)),
            (false, Some(f)) => usage(&format!(
                "--format {f:?} lists the cases: it needs --list",
                f = f
                    .to_possible_value()
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default()
            )),
            (true, Some(TestFormat::Ktap)) => {
                usage("--list prints the cases as text or json, not ktap")
            }
            (true, f) => cmd_list_cases(
                f.unwrap_or(TestFormat::Text),
                dtb.as_deref(),
                kernel_config.as_deref(),
                cmdline.as_deref(),
            ),
        },
        Command::Bench {
            iterations,
            churn_steps,
            seed,
            heaps,
        } => bench(
            &probe(None),
            &BenchConfig {
                iterations: iterations as usize,
                churn_steps: churn_steps as usize,
                seed,
                heaps,
                ..BenchConfig::default()
            },
        ),
        Command::StressChild {
            heap,
            index,
            page,
            config,
        } => return stress_child(&heap, index, page, &config),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILURE),
        Err(e) => {
            // A closed pipe (`dma-heap list | head`) is not worth a message.
            if let Error::Io { source, .. } = &e {
                if source.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::from(EXIT_FAILURE);
                }
            }
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// A usage error clap cannot see: the message, exit status 2.
fn usage(msg: &str) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, msg)
        .exit()
}

/// The running system, with its command line (none outside a Linux
/// system: no overlay nodes, no parameters).
fn probe(load: Option<LoadOutcome>) -> System {
    let cmdline = Cmdline::read().unwrap_or_default();
    System::probe(&cmdline, load, None)
}

/// What the test image's init runs (`dmaheap.run=`).
fn run_mode(
    mode: RunMode,
    cmdline: &Cmdline,
    load: LoadOutcome,
) -> std::result::Result<bool, String> {
    let system = System::probe(cmdline, Some(load), None);
    match mode {
        RunMode::Test => run_tests(&system),
        RunMode::Demo => demo(&system),
        RunMode::Bench => bench(&system, &BenchConfig::default()),
    }
    .map_err(|e| e.to_string())
}

/// `dma-heap stress-child`: one child of `parallel_stress`; prints its
/// report line; exit status 1 if it failed.
fn stress_child(heap: &str, index: usize, page: u64, config: &str) -> ExitCode {
    let cfg = match stress::StressConfig::decode(config) {
        Ok(c) => c,
        Err(e) => usage(&format!("{}: {e}", stress::CHILD_COMMAND)),
    };
    let report = stress::child_main(heap, &cfg, index, page);
    let mut out = io::stdout().lock();
    let written = out
        .write_all(report.encode().as_bytes())
        .and_then(|()| out.flush());
    if written.is_err() || report.error.is_some() {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

fn stdout_err(e: io::Error) -> Error {
    Error::io("write", "<stdout>", e)
}

/// The running system's heaps; says why not when `/dev/dma_heap` cannot be
/// read, and warns when the device tree cannot.
fn heaps_of(system: &System) -> Option<&[String]> {
    if let Err(e) = &system.reserved {
        eprintln!("warning: {e}");
    }
    match &system.heaps {
        Ok(h) => Some(h),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn cmd_list(format: ListFormat) -> Result<bool> {
    let system = probe(None);
    let Some(heaps) = heaps_of(&system) else {
        return Ok(false);
    };
    let text = match format {
        ListFormat::Human => list_table(heaps, &system.inventory),
        ListFormat::Json => {
            let mut s = serde_json::to_string_pretty(&list_json(heaps, &system.inventory))
                .expect("serialising plain data cannot fail");
            s.push('\n');
            s
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_err)?;
    Ok(true)
}

/// `dma-heap test --list`: the running system's cases, or with `dtb` the
/// cases of that boot (kernel configuration `config`, command line
/// `cmdline`).
fn cmd_list_cases(
    format: TestFormat,
    dtb: Option<&Path>,
    config: Option<&Path>,
    cmdline: Option<&str>,
) -> Result<bool> {
    let kernel = config.map(Kernel::read_config).transpose()?;
    let system = match (dtb, kernel) {
        (Some(path), Some(kernel)) => {
            let blob = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let cmdline = Cmdline::parse(cmdline.unwrap_or(""));
            System::describe(path, &blob, &cmdline, kernel)?
        }
        (_, kernel) => System::probe(&Cmdline::read().unwrap_or_default(), None, kernel),
    };
    let listed = suites::list_all(&system)?;
    let text = match format {
        TestFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&listed).expect("serialising plain data cannot fail");
            s.push('\n');
            s
        }
        _ => listed.iter().map(|c| c.line() + "\n").collect(),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_err)?;
    Ok(true)
}

#[derive(Debug, Serialize)]
struct ListEntry<'a> {
    heap: &'a str,
    kind: HeapKind,
    region: Option<RegionEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct RegionEntry<'a> {
    node: &'a str,
    base: Option<u64>,
    size: Option<u64>,
    compatible: &'a [String],
    no_map: bool,
    reusable: bool,
    cma_default: bool,
    dma_heap: bool,
    status: Option<&'a str>,
}

fn list_json<'a>(heaps: &'a [String], inv: &'a Inventory) -> Vec<ListEntry<'a>> {
    heaps
        .iter()
        .map(|h| ListEntry {
            heap: h,
            kind: inv.kind(h),
            region: inv.region(h).map(|r| RegionEntry {
                node: &r.name,
                base: r.base(),
                size: r.bytes(),
                compatible: &r.compatible,
                no_map: r.no_map,
                reusable: r.reusable,
                cma_default: r.cma_default,
                dma_heap: r.dma_heap,
                status: r.status.as_deref(),
            }),
        })
        .collect()
}

/// The human table: one row per heap, `-` where there is no region.
fn list_table(heaps: &[String], inv: &Inventory) -> String {
    let mut rows = vec![["HEAP", "KIND", "BASE", "SIZE", "NODE", "FLAGS"].map(String::from)];
    for h in heaps {
        let r = inv.region(h);
        let dash = || "-".to_string();
        rows.push([
            h.clone(),
            inv.kind(h).as_str().into(),
            r.and_then(|r| r.base())
                .map_or_else(dash, |b| format!("{b:#x}")),
            r.and_then(|r| r.bytes()).map_or_else(dash, format_size),
            r.map_or_else(dash, |r| r.name.clone()),
            r.map(|r| dt_flags(r).join(" "))
                .filter(|f| !f.is_empty())
                .unwrap_or_else(dash),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Allocates, maps, fills and verifies; returns the one-line report.
fn alloc_demo(heap: &str, size: u64, fill: Option<u8>) -> Result<String> {
    let h = Heap::open(heap)?;
    let buf = h.alloc(size, DEFAULT_FD_FLAGS, 0)?;
    let got = buf.size()?;
    let mut map = buf.mmap()?;
    let fill = match fill {
        Some(b) => Fill::Byte(b),
        None => Fill::Pattern(0xd3a0_be11_0000_0000),
    };
    write_and_verify(&buf, &mut map, &fill)?;
    let what = match fill {
        Fill::Byte(b) => format!("fill {b:#04x}"),
        Fill::Pattern(_) => "pattern".to_string(),
    };
    let asked = if got == size {
        String::new()
    } else {
        format!(", asked for {size}")
    };
    Ok(format!(
        "{heap}: {got} bytes ({}{asked}) allocated, {what} written and read back: ok",
        format_size(got)
    ))
}

fn cmd_alloc(heap: &str, size: u64, fill: Option<u8>) -> Result<()> {
    let line = alloc_demo(heap, size, fill)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(stdout_err)
}

/// Runs the suites; `Ok(false)` if a case failed.
fn run_tests(system: &System) -> Result<bool> {
    let mut w = ktap::Writer::new(io::stdout().lock());
    let totals = suites::run_all(&mut w, system)?;
    Ok(totals.fail == 0)
}

/// `dma-heap bench` and `dmaheap.run=bench`: figures only, so `Ok(true)`
/// unless the report cannot be written.
fn bench(system: &System, cfg: &BenchConfig) -> Result<bool> {
    let mut out = io::stdout().lock();
    dma_heap::bench::run(&mut out, system, cfg).map_err(stdout_err)?;
    Ok(true)
}

/// `dmaheap.run=demo`: the table, then 1 MiB from every heap.
fn demo(system: &System) -> Result<bool> {
    let Some(heaps) = heaps_of(system) else {
        return Ok(false);
    };
    let mut out = io::stdout().lock();
    out.write_all(list_table(heaps, &system.inventory).as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_err)?;
    let mut ok = true;
    for h in heaps {
        let line = alloc_demo(h, 1 << 20, None).unwrap_or_else(|e| {
            ok = false;
            format!("error: {e}")
        });
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(stdout_err)?;
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dma_heap::dt::{parse_region, Cells, Properties};

    const CELLS: Cells = Cells {
        address: 2,
        size: 2,
    };
    use std::path::Path;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn stress_child_takes_what_the_runner_passes() {
        let cfg = stress::StressConfig::default();
        let cli = Cli::try_parse_from([
            "dma-heap",
            stress::CHILD_COMMAND,
            "camera",
            "3",
            "4096",
            &cfg.encode(),
        ])
        .unwrap();
        match cli.command {
            Command::StressChild {
                heap,
                index,
                page,
                config,
            } => {
                assert_eq!((heap.as_str(), index, page), ("camera", 3, 4096));
                assert_eq!(config, cfg.encode());
            }
            c => panic!("{c:?}"),
        }
        // Hidden from the help.
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains(stress::CHILD_COMMAND), "{help}");
    }

    #[test]
    fn list_options_need_list() {
        for args in [
            &["dma-heap", "test", "--dtb", "x.dtb"][..],
            &["dma-heap", "test", "--list", "--dtb", "x.dtb"],
            &["dma-heap", "test", "--kernel-config", "k"],
            &["dma-heap", "test", "--list", "--cmdline", "quiet"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
        assert!(Cli::try_parse_from([
            "dma-heap",
            "test",
            "--list",
            "--dtb",
            "x.dtb",
            "--kernel-config",
            "k",
            "--cmdline",
            "dmaheap.regions=a@1",
            "--format",
            "json"
        ])
        .is_ok());
    }

    #[test]
    fn alloc_arguments() {
        let cli =
            Cli::try_parse_from(["dma-heap", "alloc", "system", "64M", "--fill", "0xa5"]).unwrap();
        match cli.command {
            Command::Alloc { heap, size, fill } => {
                assert_eq!(heap, "system");
                assert_eq!(size, 64 << 20);
                assert_eq!(fill, Some(0xa5));
            }
            c => panic!("{c:?}"),
        }
        let err = Cli::try_parse_from(["dma-heap", "alloc", "system", "12Q"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains(
                "invalid value '12Q' for '<SIZE>': unknown unit \"Q\" (use K, M, G or T, or KiB, MiB, GiB or TiB)"
            ),
            "{err}"
        );
        // The grammar dtregion accepts.
        for (text, n) in [("0x1000", 4096), ("4KiB", 4096), ("0x40M", 64 << 20)] {
            match Cli::try_parse_from(["dma-heap", "alloc", "system", text])
                .unwrap()
                .command
            {
                Command::Alloc { size, .. } => assert_eq!(size, n, "{text}"),
                c => panic!("{c:?}"),
            }
        }
        let err = Cli::try_parse_from(["dma-heap", "alloc", "system", "0"]).unwrap_err();
        assert!(err.to_string().contains("must be at least 1 byte"), "{err}");
        let err = Cli::try_parse_from(["dma-heap", "alloc", "system", "4K", "--fill", "256"])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid value '256' for '--fill <BYTE>': expected 0-255"),
            "{err}"
        );
        assert_eq!(parse_byte("165").unwrap(), 165);
        assert_eq!(parse_byte("0XFF").unwrap(), 255);
    }

    #[test]
    fn table_layout() {
        let mut props = Properties::new();
        props.insert("compatible".into(), b"shared-dma-pool\0".to_vec());
        props.insert(
            "reg".into(),
            [0u32, 0x7000_0000, 0, 0x100_0000]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
        );
        props.insert("no-map".into(), Vec::new());
        props.insert("linux,dma-heap".into(), Vec::new());
        let r = parse_region(Path::new("/t"), "camera@70000000", &props, CELLS).unwrap();
        let inv = Inventory::new(vec![r]);
        let heaps = ["camera@70000000", "default_cma_region", "system"].map(String::from);
        assert_eq!(
            list_table(&heaps, &inv),
            "\
HEAP                KIND      BASE        SIZE    NODE             FLAGS
camera@70000000     coherent  0x70000000  16 MiB  camera@70000000  no-map linux,dma-heap
default_cma_region  cma       -           -       -                -
system              system    -           -       -                -
"
        );
        let json = serde_json::to_value(list_json(&heaps, &inv)).unwrap();
        assert_eq!(json[0]["region"]["base"], 0x7000_0000u64);
        assert_eq!(json[0]["kind"], "coherent");
        assert!(json[2]["region"].is_null());
    }
}
