//! The boot plan of a boot partition: the files a boot loader loads and the
//! command line it passes, each file checked to be on the partition.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::extlinux::{self, Config};
use crate::grub;
use crate::rpi::{self, Model};

/// The boot loader that reads the partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// U-Boot's extlinux (`sysboot`, standard boot's extlinux method).
    Extlinux,
    /// The Raspberry Pi firmware of a model.
    Rpi(Model),
    /// GRUB's `grub.cfg` as wic's `bootimg-efi` writes it.
    Grub,
}

impl Loader {
    /// The configuration file the loader reads when none is named.
    pub fn default_config(self) -> &'static str {
        match self {
            Loader::Extlinux => "extlinux/extlinux.conf",
            Loader::Rpi(_) => "config.txt",
            Loader::Grub => "EFI/BOOT/grub.cfg",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Loader::Extlinux => "extlinux",
            Loader::Rpi(Model::Pi4) => "rpi4",
            Loader::Rpi(Model::Pi5) => "rpi5",
            Loader::Grub => "grub",
        }
    }
}

/// What a boot loader boots. Paths are relative to the partition's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootPlan {
    /// `extlinux`, `rpi4`, `rpi5` or `grub`.
    pub loader: &'static str,
    /// The configuration file read.
    pub config: String,
    /// The kernel image.
    pub kernel: String,
    /// The initrd, if any.
    pub initrd: Option<String>,
    /// The DTB passed to the kernel, before the overlays.
    pub fdt: String,
    /// The overlays applied to `fdt`, in order.
    pub overlays: Vec<String>,
    /// The kernel command line.
    pub cmdline: String,
    /// The file the command line comes from.
    pub cmdline_file: String,
}

impl BootPlan {
    /// Reads the partition whose files are in `dir` as `loader` does, from
    /// `config` (default: [`Loader::default_config`]).
    pub fn read(dir: &Path, loader: Loader, config: Option<&str>) -> Result<BootPlan> {
        let config = extlinux::resolve("", config.unwrap_or(loader.default_config()))
            .map_err(|msg| Error::config("--config", 0, msg))?;
        let text = read_text(dir, &config)?;
        let plan = match loader {
            Loader::Extlinux => from_extlinux(&config, &text)?,
            Loader::Grub => from_grub(&config, &text)?,
            Loader::Rpi(model) => {
                let s = rpi::parse(&config, &text, model)?;
                let cmdline_file = s.cmdline.clone();
                let args = read_text(dir, &cmdline_file).map_err(|e| match e {
                    Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                        missing(&cmdline_file, &config, "cmdline")
                    }
                    e => e,
                })?;
                BootPlan {
                    loader: "",
                    config: config.clone(),
                    kernel: s.kernel,
                    initrd: s.initramfs,
                    fdt: s.device_tree,
                    overlays: s.overlays,
                    cmdline: rpi::cmdline(&args),
                    cmdline_file,
                }
            }
        };
        let plan = BootPlan {
            loader: loader.name(),
            ..plan
        };
        plan.check_files(dir)?;
        Ok(plan)
    }

    fn check_files(&self, dir: &Path) -> Result<()> {
        let mut files = vec![(&self.kernel, "kernel"), (&self.fdt, "fdt")];
        files.extend(self.initrd.iter().map(|f| (f, "initrd")));
        files.extend(self.overlays.iter().map(|f| (f, "overlay")));
        for (file, what) in files {
            if !dir.join(file).is_file() {
                return Err(missing(file, &self.config, what));
            }
        }
        Ok(())
    }

    /// The value of the last `key=value` on the command line (the kernel and
    /// the test image's init let later ones win); `Some("")` for a bare key.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.cmdline
            .split_whitespace()
            .rev()
            .find_map(|w| match w.split_once('=') {
                Some((k, v)) if k == key => Some(v),
                None if w == key => Some(""),
                _ => None,
            })
    }

    /// Fails unless the command line has `want` (`key=value`, or a bare
    /// `key`) as the last value of its key.
    pub fn require(&self, want: &str) -> Result<()> {
        let (key, value) = want.split_once('=').unwrap_or((want, ""));
        match self.param(key) {
            Some(v) if v == value => Ok(()),
            found => Err(Error::Param {
                file: self.cmdline_file.clone(),
                want: want.to_owned(),
                found: found.map(str::to_owned),
            }),
        }
    }
}

fn from_extlinux(config: &str, text: &str) -> Result<BootPlan> {
    let cfg = Config::parse(config, text)?;
    let label = cfg.boot_label(config)?;
    let at_label = |msg: String| Error::config(config, label.line, msg);
    let path = |file: &str| extlinux::resolve(config, file).map_err(at_label);
    let kernel = label
        .kernel
        .as_deref()
        .ok_or_else(|| at_label(format!("label {} has no kernel", label.name)))?;
    let fdt = label.fdt.as_deref().ok_or_else(|| {
        at_label(format!(
            "label {} has no fdt: U-Boot would boot the board's own tree, without the layer's regions",
            label.name
        ))
    })?;
    Ok(BootPlan {
        loader: "",
        config: config.to_owned(),
        kernel: path(kernel)?,
        initrd: label.initrd.as_deref().map(path).transpose()?,
        fdt: path(fdt)?,
        overlays: label
            .fdtoverlays
            .iter()
            .map(|o| path(o))
            .collect::<Result<_>>()?,
        cmdline: label.append.clone().unwrap_or_default(),
        cmdline_file: config.to_owned(),
    })
}

fn from_grub(config: &str, text: &str) -> Result<BootPlan> {
    let cfg = grub::Config::parse(config, text)?;
    let entry = cfg.boot_entry(config)?;
    let at_entry = |msg: String| Error::config(config, entry.line, msg);
    let path = |file: &str| grub::resolve(file).map_err(at_entry);
    let kernel = entry
        .linux
        .as_deref()
        .ok_or_else(|| at_entry(format!("menuentry '{}' has no linux", entry.title)))?;
    let fdt = entry.devicetree.as_deref().ok_or_else(|| {
        at_entry(format!(
            "menuentry '{}' has no devicetree: GRUB would hand over the firmware's tree, without the layer's regions",
            entry.title
        ))
    })?;
    Ok(BootPlan {
        loader: "",
        config: config.to_owned(),
        kernel: path(kernel)?,
        initrd: entry.initrd.as_deref().map(path).transpose()?,
        fdt: path(fdt)?,
        overlays: Vec::new(),
        cmdline: entry.args.clone(),
        cmdline_file: config.to_owned(),
    })
}

fn read_text(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })
}

fn missing(file: &str, named_by: &str, what: &'static str) -> Error {
    Error::Missing {
        file: file.to_owned(),
        named_by: named_by.to_owned(),
        what,
    }
}
