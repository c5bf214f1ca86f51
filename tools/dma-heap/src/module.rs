//! The coherent heap driver built as a loadable module: finding its file,
//! loading it with the parameters the kernel command line gives it, and
//! reading its state.
//!
//! Built in, the kernel applies `coherent_heap.*` parameters of the
//! command line itself (the driver has none of its own; the module loader
//! has `dyndbg`). Built as a module, nothing does unless the loader passes
//! them on (as `modprobe` does from `/proc/cmdline`); the test image has no
//! `modprobe`, so its init loads the module with `finit_module()` and
//! passes the `coherent_heap.*` parameters of `/proc/cmdline`.

use std::ffi::CString;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::cmdline::Cmdline;
use crate::error::errno_text;

/// The driver's module name.
pub const NAME: &str = "coherent_heap";

/// The module file under `/lib/modules/<release>`, as `modules_install`
/// places it (without a compression suffix).
pub const REL_PATH: &str = "kernel/drivers/dma-buf/heaps/coherent_heap.ko";

/// `/lib/modules`.
pub const LIB_MODULES: &str = "/lib/modules";

/// `/proc/modules`.
pub const PROC_MODULES: &str = "/proc/modules";

/// `MODULE_INIT_COMPRESSED_FILE`: the file is compressed, let the kernel
/// decompress it (`CONFIG_MODULE_DECOMPRESS`).
const MODULE_INIT_COMPRESSED_FILE: libc::c_int = 4;

/// Compression suffixes `modules_install` may add.
const COMPRESSED: [&str; 3] = [".xz", ".zst", ".gz"];

/// The module file for kernel `release` under `root` (normally
/// `/lib/modules`), compressed or not; `None` if there is none.
pub fn find_file(root: &Path, release: &str) -> Option<PathBuf> {
    let plain = root.join(release).join(REL_PATH);
    std::iter::once(plain.clone())
        .chain(COMPRESSED.iter().map(|ext| {
            let mut p = plain.clone().into_os_string();
            p.push(ext);
            PathBuf::from(p)
        }))
        .find(|p| p.is_file())
}

/// The module file for the running kernel, if the image has one.
pub fn running_kernel_file() -> Option<PathBuf> {
    let release = crate::sys::kernel_release().ok()?;
    find_file(Path::new(LIB_MODULES), &release)
}

/// The parameter string `finit_module()` gets for module `module` from the
/// command line: its `module.key=value` parameters, space-separated, in
/// command-line order (`dyndbg=+p`). Values with blanks are quoted, as
/// the kernel's argument parser expects.
pub fn params_from_cmdline(cmdline: &Cmdline, module: &str) -> String {
    cmdline
        .module_params(module)
        .into_iter()
        .map(|(k, v)| match v {
            None => k.to_owned(),
            Some(v) if v.contains(char::is_whitespace) => format!("{k}=\"{v}\""),
            Some(v) => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What loading the module came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// No module file for the running kernel: the driver is built in, or
    /// not built at all.
    NoFile,
    /// The module was loaded already.
    AlreadyLoaded {
        /// Its file.
        path: PathBuf,
    },
    /// Loaded now.
    Loaded {
        /// Its file.
        path: PathBuf,
        /// The parameter string passed.
        params: String,
    },
    /// The boot asked to leave the loading to a test (`dmaheap.load=defer`).
    Deferred {
        /// Its file.
        path: PathBuf,
    },
    /// `finit_module()` (or opening the file) failed.
    Failed {
        /// Its file.
        path: PathBuf,
        /// The parameter string passed.
        params: String,
        /// What went wrong, errno included.
        error: String,
    },
}

/// Loads the coherent heap module if the image has its file and it is not
/// loaded yet, with the `coherent_heap.*` parameters of `cmdline`.
pub fn load_coherent_heap(cmdline: &Cmdline) -> LoadOutcome {
    let Some(path) = running_kernel_file() else {
        return LoadOutcome::NoFile;
    };
    if proc_entry(NAME).is_some() {
        return LoadOutcome::AlreadyLoaded { path };
    }
    if cmdline.load_deferred().unwrap_or(false) {
        return LoadOutcome::Deferred { path };
    }
    let params = params_from_cmdline(cmdline, NAME);
    let failed = |error: String| LoadOutcome::Failed {
        path: path.clone(),
        params: params.clone(),
        error,
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => return failed(format!("open: {}", errno_text(&e))),
    };
    let Ok(c_params) = CString::new(params.clone()) else {
        return failed("the parameters contain a NUL byte".into());
    };
    let compressed = path.extension().is_some_and(|e| e != "ko");
    let flags = if compressed {
        MODULE_INIT_COMPRESSED_FILE
    } else {
        0
    };
    use std::os::fd::AsFd;
    match crate::sys::finit_module(file.as_fd(), &c_params, flags) {
        Ok(()) => LoadOutcome::Loaded { path, params },
        // Loaded meanwhile (by whom? but it is there).
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => LoadOutcome::AlreadyLoaded { path },
        Err(e) => failed(format!("finit_module: {}", errno_text(&e))),
    }
}

/// A line of `/proc/modules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcModule {
    /// Module name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Reference count (`-` while unloading: `None`).
    pub refcount: Option<u64>,
    /// Modules using it.
    pub users: Vec<String>,
    /// `Live`, `Loading` or `Unloading`.
    pub state: String,
}

/// Parses `/proc/modules`: `NAME SIZE REFCOUNT USERS STATE ADDRESS [TAINTS]`,
/// USERS being `-` or `a,b,`.
pub fn parse_proc_modules(text: &str) -> Vec<ProcModule> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let name = f.next()?.to_owned();
            let size = f.next()?.parse().ok()?;
            let refcount = f.next()?.parse().ok();
            let users = match f.next()? {
                "-" => Vec::new(),
                u => u
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            let state = f.next()?.to_owned();
            Some(ProcModule {
                name,
                size,
                refcount,
                users,
                state,
            })
        })
        .collect()
}

/// The `/proc/modules` entry of module `name`: present only for a loaded
/// loadable module, never for built-in code.
pub fn proc_entry(name: &str) -> Option<ProcModule> {
    let text = std::fs::read_to_string(PROC_MODULES).ok()?;
    parse_proc_modules(&text)
        .into_iter()
        .find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_and_compressed_files() {
        let root = std::env::temp_dir().join(format!("dma-heap-mod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("7.2.13/kernel/drivers/dma-buf/heaps");
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(find_file(&root, "7.2.13"), None);
        std::fs::write(dir.join("coherent_heap.ko.zst"), b"").unwrap();
        assert_eq!(
            find_file(&root, "7.2.13"),
            Some(dir.join("coherent_heap.ko.zst"))
        );
        std::fs::write(dir.join("coherent_heap.ko"), b"").unwrap();
        assert_eq!(
            find_file(&root, "7.2.13"),
            Some(dir.join("coherent_heap.ko"))
        );
        assert_eq!(find_file(&root, "7.2.14"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn parameters_come_from_the_command_line() {
        let c = Cmdline::parse(
            "console=ttyAMA0 coherent_heap.dyndbg=+p dmaheap.run=test coherent_heap.label=\"a b\" coherent_heap.flag",
        );
        assert_eq!(
            params_from_cmdline(&c, NAME),
            "dyndbg=+p label=\"a b\" flag"
        );
        assert_eq!(params_from_cmdline(&Cmdline::parse("quiet"), NAME), "");
    }

    #[test]
    fn proc_modules_lines() {
        let text = "coherent_heap 40960 3 - Live 0xffff800080a00000\nfoo 4096 0 bar,baz, Live 0x0 (O)\nbad line\ngone 100 - - Unloading 0x0\n";
        let m = parse_proc_modules(text);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            ProcModule {
                name: "coherent_heap".into(),
                size: 40960,
                refcount: Some(3),
                users: Vec::new(),
                state: "Live".into()
            }
        );
        assert_eq!(m[1].users, ["bar", "baz"]);
        assert_eq!(m[2].refcount, None);
        assert_eq!(m[2].state, "Unloading");
    }
}
