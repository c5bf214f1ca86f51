//! The test image's `/init`.
//!
//! Before running its mode it loads the coherent heap module when the image
//! carries one for the running kernel
//! (`/lib/modules/$(uname -r)/kernel/drivers/dma-buf/heaps/coherent_heap.ko`)
//! and it is not loaded yet, passing the `coherent_heap.*` parameters of
//! `/proc/cmdline` (see [`dma_heap::module`]).
//!
//! [`start`] prepares the system and says what to run; `main.rs` runs it
//! and hands the result to [`end`]. PID 1 must never exit (the kernel
//! would panic), so [`end`] never returns: flush, drain the console,
//! `sync()`, power off (or restart, with `dmaheap.end=reboot`). Panics
//! unwind (the runner catches them per case); the panic hook prints
//! `# runner: panic: ...` for each, and a panic that escapes the run ends
//! the boot through [`end`] too.
//!
//! Note: before `main` runs, Rust's runtime replaces closed descriptors
//! 0-2 with `/dev/null` and aborts if it cannot, so the initramfs must
//! provide `/dev/console` (as the kernel's default initramfs list does)
//! or at least `/dev/null`.

use std::ffi::CStr;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;

use dma_heap::cmdline::{Cmdline, EndAction, RunMode};
use dma_heap::module::{self, LoadOutcome};
use dma_heap::sys;

/// Filesystems to mount: (source, target, type).
const MOUNTS: &[(&CStr, &CStr, &CStr)] = &[
    (c"devtmpfs", c"/dev", c"devtmpfs"),
    (c"proc", c"/proc", c"proc"),
    (c"sysfs", c"/sys", c"sysfs"),
    (c"debugfs", c"/sys/kernel/debug", c"debugfs"),
];

/// `dmaheap.end=`, once the command line is read; until then [`finish`]
/// powers off.
static END: OnceLock<EndAction> = OnceLock::new();

/// Whether to act as init: PID 1, or started under a name ending in `init`.
pub fn should_run_as_init() -> bool {
    if std::process::id() == 1 {
        return true;
    }
    std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().ends_with("init"))
        })
        .unwrap_or(false)
}

/// What the boot is to run, once [`start`] has prepared the system.
pub struct Boot {
    /// `/proc/cmdline`.
    pub cmdline: Cmdline,
    /// `dmaheap.run=`.
    pub mode: RunMode,
    /// What loading the coherent heap module came to.
    pub load: LoadOutcome,
}

/// Mounts the filesystems, points the console at descriptors 0-2, reads
/// the command line and loads the coherent heap module: with the driver
/// built as a module, no coherent heap exists until it is loaded, whatever
/// the mode.
pub fn start() -> dma_heap::Result<Boot> {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string().replace('\n', " ");
        last_words(&format!("# runner: panic: {msg}\n"));
    }));

    let mut warnings = Vec::new();
    for (source, target, fstype) in MOUNTS {
        if let Err(w) = mount(source, target, fstype) {
            warnings.push(w);
        }
    }
    if let Err(w) = ensure_console() {
        warnings.push(w);
    }
    for w in &warnings {
        println!("# runner: warning: {w}");
    }

    let cmdline = Cmdline::read()?;
    let _ = END.set(cmdline.end_action()?);
    let mode = cmdline.run_mode()?;
    cmdline.load_deferred()?;
    let load = module::load_coherent_heap(&cmdline);
    if let LoadOutcome::Failed { path, error, .. } = &load {
        println!("# runner: warning: loading {}: {error}", path.display());
    }
    Ok(Boot {
        cmdline,
        mode,
        load,
    })
}

/// Prints `# runner: done` (or the error that stopped the run) and powers
/// off or restarts. Never returns.
pub fn end(result: Result<bool, String>) -> ! {
    let ok = match result {
        Ok(ok) => {
            println!("# runner: done");
            ok
        }
        Err(e) => {
            println!("# runner: error: {e}");
            false
        }
    };
    finish(ok)
}

/// Whether `dir` is a mount point: it lives on another device than its
/// parent directory.
fn is_mount_point(dir: &Path) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(d), Ok(p)) => d.dev() != p.dev(),
        _ => false,
    }
}

fn mount(source: &CStr, target: &CStr, fstype: &CStr) -> Result<(), String> {
    let dir = Path::new(target.to_str().unwrap_or("/"));
    // Already mounted (by the kernel, or when started by hand on a running
    // system): leave it alone rather than stack another mount on top.
    if is_mount_point(dir) {
        return Ok(());
    }
    // Fails harmlessly where the directory exists or cannot be made
    // (/sys/kernel/debug is provided by sysfs); mount reports what matters.
    let _ = std::fs::create_dir_all(dir);
    match sys::mount(source, target, fstype) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
        Err(e) => Err(format!(
            "mount {} on {}: {}",
            fstype.to_string_lossy(),
            dir.display(),
            dma_heap::error::errno_text(&e)
        )),
    }
}

/// Points descriptors 0-2 at /dev/console where they are closed or were
/// filled with /dev/null (by the Rust runtime, when the kernel could not
/// open a console before /dev existed).
fn ensure_console() -> Result<(), String> {
    let needs = |fd: i32| {
        !sys::fd_is_open(fd)
            || std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|p| p == Path::new("/dev/null"))
    };
    let fds: Vec<i32> = (0..=2).filter(|&fd| needs(fd)).collect();
    if fds.is_empty() {
        return Ok(());
    }
    let console = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")
        .map_err(|e| format!("open /dev/console: {}", dma_heap::error::errno_text(&e)))?;
    for fd in fds {
        sys::dup_onto(console.as_fd(), fd).map_err(|e| {
            format!(
                "dup /dev/console to fd {fd}: {}",
                dma_heap::error::errno_text(&e)
            )
        })?;
    }
    Ok(())
}

/// Writes straight to descriptor 1, ignoring errors: nothing else to do.
fn last_words(s: &str) {
    let _ = sys::write_stdout_unbuffered(s.as_bytes());
}

/// Flushes the console, syncs and powers off or restarts (PID 1); exits
/// otherwise.
fn finish(ok: bool) -> ! {
    let _ = io::stdout().flush();
    // Let the UART send what the tty layer still holds before power goes.
    let _ = sys::drain_stdout();
    sys::sync();
    if std::process::id() != 1 {
        // Started as ".../init" but not PID 1 (e.g. by hand): do not power
        // off the machine it runs on.
        std::process::exit(if ok { 0 } else { 1 });
    }
    let (cmd, name) = match END.get().copied().unwrap_or(EndAction::PowerOff) {
        EndAction::PowerOff => (
            libc::LINUX_REBOOT_CMD_POWER_OFF,
            "LINUX_REBOOT_CMD_POWER_OFF",
        ),
        EndAction::Restart => (libc::LINUX_REBOOT_CMD_RESTART, "LINUX_REBOOT_CMD_RESTART"),
    };
    let err = sys::reboot(cmd);
    last_words(&format!(
        "# runner: error: reboot({name}): {}\n",
        dma_heap::error::errno_text(&err)
    ));
    loop {
        sys::pause();
    }
}
