//! The `flashcheck` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use flashcheck::{DeviceNode, Refusal, Request, SystemRoots};

const EXIT_STATUS: &str = "\
Exit status:
  0  yes: the image may be written (check) or was written (verify)
  1  refused because of the device: not a whole block device, holds the
     running system's root, /boot or swap, mounted or in use, not removable
     (without --force-fixed), read-only, too small; or (verify) the device
     does not hold the image
  2  bad arguments
  3  refused because of the image: no .bmap, a .bmap that is not bmap 2.x
     with sha256 or fails its own checksum, an image whose size or blocks
     do not match it
  4  the system's files (or the image) could not be read";

/// Decide whether a disk image may be written to a block device, and check
/// that it was. Prints nothing when the answer is yes (text format), one line
/// saying why when it is no.
#[derive(Debug, Parser)]
#[command(name = "flashcheck", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Before writing: may IMAGE be written to DEVICE?
    #[command(after_help = EXIT_STATUS)]
    Check {
        #[command(flatten)]
        target: Target,
        /// Accept a device that does not say it is removable (a loop device,
        /// a fixed disk, some USB card readers).
        #[arg(long)]
        force_fixed: bool,
        #[command(flatten)]
        roots: Roots,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// After writing: does DEVICE hold every mapped block of IMAGE's bmap?
    #[command(after_help = EXIT_STATUS)]
    Verify {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Args)]
struct Target {
    /// The disk image; its block map is IMAGE.bmap unless --bmap names one.
    #[arg(value_name = "IMAGE")]
    image: PathBuf,
    /// The whole block device (e.g. /dev/sdb, /dev/mmcblk0).
    #[arg(value_name = "DEVICE")]
    device: PathBuf,
    /// The block map (default: IMAGE.bmap).
    #[arg(long, value_name = "FILE")]
    bmap: Option<PathBuf>,
}

impl Target {
    fn bmap(&self) -> PathBuf {
        self.bmap.clone().unwrap_or_else(|| {
            let mut p = self.image.clone().into_os_string();
            p.push(".bmap");
            p.into()
        })
    }
}

/// Where the system is read from (for tests on fixture trees).
#[derive(Debug, Args)]
struct Roots {
    /// sysfs.
    #[arg(
        long,
        value_name = "DIR",
        env = "FLASHCHECK_SYSFS",
        default_value = "/sys"
    )]
    sysfs: PathBuf,
    /// The mount table.
    #[arg(
        long,
        value_name = "FILE",
        env = "FLASHCHECK_MOUNTINFO",
        default_value = "/proc/self/mountinfo"
    )]
    mountinfo: PathBuf,
    /// The active swap areas.
    #[arg(
        long,
        value_name = "FILE",
        env = "FLASHCHECK_SWAPS",
        default_value = "/proc/swaps"
    )]
    swaps: PathBuf,
    /// The device nodes, to resolve mount and swap sources.
    #[arg(
        long,
        value_name = "DIR",
        env = "FLASHCHECK_DEV",
        default_value = "/dev"
    )]
    dev: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct Verdict<'a> {
    ok: bool,
    image: &'a Path,
    device: &'a Path,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<&'a Refusal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<DiskFacts>,
}

#[derive(Serialize)]
struct DiskFacts {
    name: String,
    size: u64,
    removable: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (target, format, outcome) = match &cli.command {
        Command::Check {
            target,
            force_fixed,
            roots,
            format,
        } => {
            let roots = SystemRoots {
                sys: roots.sysfs.clone(),
                mountinfo: roots.mountinfo.clone(),
                swaps: roots.swaps.clone(),
                dev: roots.dev.clone(),
            };
            let outcome = DeviceNode::stat(&target.device).and_then(|device| {
                let req = Request {
                    image: target.image.clone(),
                    bmap: target.bmap(),
                    device,
                    force_fixed: *force_fixed,
                };
                flashcheck::check(&roots, &req).map(|r| {
                    r.map(|d| {
                        Some(DiskFacts {
                            name: d.dev.name,
                            size: d.size,
                            removable: d.removable,
                        })
                    })
                })
            });
            (target, *format, outcome)
        }
        Command::Verify { target, format } => {
            let outcome =
                flashcheck::verify(&target.bmap(), &target.device).map(|r| r.map(|()| None));
            (target, *format, outcome)
        }
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("flashcheck: {e}");
            return ExitCode::from(4);
        }
    };
    let (refusal, disk) = match outcome {
        Ok(disk) => (None, disk),
        Err(r) => (Some(r), None),
    };
    if format == Format::Json {
        let v = Verdict {
            ok: refusal.is_none(),
            image: &target.image,
            device: &target.device,
            refusal: refusal.as_ref(),
            disk,
        };
        let mut out = std::io::stdout().lock();
        let json = serde_json::to_string_pretty(&v).expect("a verdict serialises");
        if writeln!(out, "{json}").and_then(|()| out.flush()).is_err() {
            return ExitCode::from(4);
        }
    } else if let Some(r) = &refusal {
        eprintln!("flashcheck: refusing to write: {}", r.reason);
    }
    match refusal {
        None => ExitCode::SUCCESS,
        Some(r) if r.kind.is_image() => ExitCode::from(3),
        Some(_) => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
