//! The external device tree tools, from Debian's `device-tree-compiler`:
//!
//! - `fdtoverlay` applies overlays: it runs libfdt's `fdt_overlay_apply()`, the code U-Boot and
//!   the kernel build use, so the merged tree is the one the board boots with. Overlay merging
//!   is not re-implemented here.
//! - `dtc` compiles the `.dtso` that `dtregion new` writes, as the kernel build does (`-@`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// A private temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates one under the system's temporary directory.
    pub fn new() -> Result<TempDir> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("dtregion-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(Error::Write {
                        path: Some(path),
                        source,
                    })
                }
            }
        }
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tool: &'static str, args: &[&std::ffi::OsStr], what: String) -> Result<()> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| Error::Tool { tool, source })?;
    if out.status.success() && out.stderr.is_empty() {
        return Ok(());
    }
    Err(Error::ToolFailed {
        tool,
        what,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Applies `overlays` to `base` with `fdtoverlay`; returns the merged blob.
pub fn apply_overlays(base: &Path, overlays: &[PathBuf], tmp: &TempDir) -> Result<Vec<u8>> {
    let out = tmp.join("merged.dtb");
    let mut args = vec![
        "-i".as_ref(),
        base.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    args.extend(overlays.iter().map(|p| p.as_os_str()));
    let names: Vec<String> = overlays.iter().map(|p| p.display().to_string()).collect();
    run(
        "fdtoverlay",
        &args,
        format!("to apply {} to {}", names.join(" "), base.display()),
    )?;
    std::fs::read(&out).map_err(|source| Error::Read { path: out, source })
}

/// dtc checks the kernel build turns off by default (`scripts/Makefile.dtbs`); of them,
/// `avoid_unnecessary_addr_size` fires on an overlay that creates `/reserved-memory` and repeats
/// the root's cells for it.
pub const DTC_QUIET_CHECKS: [&str; 1] = ["-Wno-avoid_unnecessary_addr_size"];

/// Compiles overlay source with `dtc -@`; any other dtc warning is a failure.
pub fn compile_overlay(source: &str, tmp: &TempDir) -> Result<PathBuf> {
    let src = tmp.join("new.dtso");
    let out = tmp.join("new.dtbo");
    std::fs::write(&src, source).map_err(|source| Error::Write {
        path: Some(src.clone()),
        source,
    })?;
    run(
        "dtc",
        &[
            DTC_QUIET_CHECKS[0].as_ref(),
            "-@".as_ref(),
            "-I".as_ref(),
            "dts".as_ref(),
            "-O".as_ref(),
            "dtb".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            src.as_os_str(),
        ],
        "on the generated overlay".to_string(),
    )?;
    Ok(out)
}
