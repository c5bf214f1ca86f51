//! The `bootcfg` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use bootcfg::rpi::Model;
use bootcfg::{mbr, BootPlan, Loader};

const EXIT_STATUS: &str = "\
Exit status:
  0  the plan (or partition) was printed, every requirement met
  1  the configuration is refused, names a missing file, or lacks a
     required parameter; the image has no usable boot partition
  2  bad arguments, or a file cannot be read";

/// Read a boot partition as U-Boot's extlinux, the Raspberry Pi firmware or
/// GRUB would.
#[derive(Debug, Parser)]
#[command(name = "bootcfg", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print what the boot loader boots from the partition's files in DIR.
    ///
    /// Text output, one item a line: `kernel FILE`, `initrd FILE`, `fdt FILE`,
    /// `overlay FILE` (each in order), `cmdline TEXT`; FILEs are relative to
    /// DIR. Every file named is checked to be there.
    #[command(after_help = EXIT_STATUS)]
    Plan {
        /// The partition's files (e.g. extracted with mcopy).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The boot loader.
        #[arg(long, value_enum)]
        loader: LoaderArg,
        /// The configuration file, relative to DIR (default:
        /// extlinux/extlinux.conf, config.txt for the Pi, EFI/BOOT/grub.cfg
        /// for GRUB).
        #[arg(long, value_name = "FILE")]
        config: Option<String>,
        /// Fail unless the command line has KEY=VALUE (the last KEY wins).
        /// Repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        require_param: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the byte offset and size of an image's boot partition.
    ///
    /// The MBR's first partition with the bootable flag, else its first FAT
    /// partition: `OFFSET SIZE`, as mtools' `-i IMAGE@@OFFSET` wants it.
    #[command(after_help = EXIT_STATUS)]
    BootPartition {
        /// The disk image.
        #[arg(value_name = "IMAGE")]
        image: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LoaderArg {
    /// U-Boot's extlinux.conf (sysboot, standard boot)
    Extlinux,
    /// Raspberry Pi 4 firmware (config.txt)
    Rpi4,
    /// Raspberry Pi 5 firmware (config.txt)
    Rpi5,
    /// GRUB (EFI/BOOT/grub.cfg, as wic's bootimg-efi writes it)
    Grub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Plan {
            dir,
            loader,
            config,
            require_param,
            format,
        } => plan(&dir, loader, config.as_deref(), &require_param, format),
        Command::BootPartition { image } => {
            mbr::read_boot_partition(&image).map(|p| format!("{} {}\n", p.offset, p.size))
        }
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bootcfg: {e}");
            match e {
                bootcfg::Error::Io { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}

fn plan(
    dir: &std::path::Path,
    loader: LoaderArg,
    config: Option<&str>,
    require: &[String],
    format: Format,
) -> bootcfg::Result<String> {
    let loader = match loader {
        LoaderArg::Extlinux => Loader::Extlinux,
        LoaderArg::Rpi4 => Loader::Rpi(Model::Pi4),
        LoaderArg::Rpi5 => Loader::Rpi(Model::Pi5),
        LoaderArg::Grub => Loader::Grub,
    };
    let plan = BootPlan::read(dir, loader, config)?;
    for want in require {
        plan.require(want)?;
    }
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(&plan).expect("a plan serialises") + "\n",
        Format::Text => text(&plan),
    })
}

fn text(plan: &BootPlan) -> String {
    let mut out = format!("kernel {}\n", plan.kernel);
    if let Some(initrd) = &plan.initrd {
        out += &format!("initrd {initrd}\n");
    }
    out += &format!("fdt {}\n", plan.fdt);
    for o in &plan.overlays {
        out += &format!("overlay {o}\n");
    }
    out + &format!("cmdline {}\n", plan.cmdline)
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
