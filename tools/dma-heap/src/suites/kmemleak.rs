//! `kmemleak`: no kernel memory leaked by the time every other suite has
//! run (`Documentation/dev-tools/kmemleak.rst`). Debug kernels only:
//! `CONFIG_DEBUG_KMEMLEAK`, with the automatic scan off so that the scans
//! happen here.
//!
//! `scan_clean` waits until everything the earlier suites allocated is old
//! enough to be reported (kmemleak skips objects younger than
//! `MSECS_MIN_AGE`, 5 s), writes `scan` to [`KMEMLEAK`] twice (each write
//! runs a synchronous scan; the second one weeds out transient false
//! positives, as the documentation recommends), then reads it back: every
//! `unreferenced object` report is a failure, and the first
//! [`SHOWN_REPORTS`] are printed.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::System;
use crate::error::errno_text;
use crate::ktap::{Case, Log, Outcome};

/// kmemleak's debugfs file.
pub const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// `MSECS_MIN_AGE` of `mm/kmemleak.c`: younger objects are not reported.
pub const MIN_AGE: Duration = Duration::from_millis(5000);

/// Reports printed in full when the scan finds leaks.
pub const SHOWN_REPORTS: usize = 3;

/// Skip reason without kmemleak.
pub const NO_KMEMLEAK: &str = "kernel built without CONFIG_DEBUG_KMEMLEAK";

/// The start of every report (`print_unreferenced()`), followed by
/// ` 0xADDR (size N):`, or ` (phys)` / ` (percpu)` then the address.
pub const REPORT_HEADER: &str = "unreferenced object";

/// Skip reason with `kmemleak=off` on the command line.
pub const KMEMLEAK_OFF: &str = "kmemleak=off on the kernel command line";

/// The suite: one case, `scan_clean`, declared to skip on a kernel without
/// kmemleak (or with `kmemleak=off`).
pub fn kmemleak(env: &System) -> Vec<Case<System>> {
    let declared = if !env.kernel.kmemleak {
        Some(NO_KMEMLEAK)
    } else if env.kmemleak_param.as_deref() == Some("off") {
        Some(KMEMLEAK_OFF)
    } else {
        None
    };
    vec![Case::new("scan_clean", scan_clean)
        .may_skip_if(declared.is_some(), declared.unwrap_or_default())]
}

/// Why kmemleak's file is missing: a kernel without it, or no debugfs.
fn missing(path: &Path) -> Outcome {
    let debugfs = path.parent().unwrap_or(Path::new("/"));
    let mounted = std::fs::read_dir(debugfs).is_ok_and(|mut d| d.next().is_some());
    Outcome::Skip(if mounted {
        NO_KMEMLEAK.to_string()
    } else {
        format!("{} is not there (debugfs not mounted?)", path.display())
    })
}

fn scan_clean(env: &System, log: &mut Log) -> Outcome {
    let path = env.kmemleak.as_path();
    if !path.exists() {
        return missing(path);
    }
    if !env.kmemleak_wait.is_zero() {
        log.note(format!(
            "waiting {} s first: kmemleak only reports objects at least {} s old",
            env.kmemleak_wait.as_secs_f64(),
            MIN_AGE.as_secs_f64()
        ));
        std::thread::sleep(env.kmemleak_wait);
    }
    let mut took = Vec::new();
    for _ in 0..2 {
        let t = Instant::now();
        let res = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(b"scan"));
        match res {
            Ok(()) => took.push(format!("{:.1} s", t.elapsed().as_secs_f64())),
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                return disabled(env.kmemleak_param.as_deref(), log)
            }
            Err(e) => {
                return Outcome::Fail(format!(
                    "write 'scan' to {}: {}",
                    path.display(),
                    errno_text(&e)
                ))
            }
        }
    }
    log.note(format!("two scans: {}", took.join(", ")));
    match std::fs::read(path) {
        Ok(bytes) => judge(&String::from_utf8_lossy(&bytes)),
        Err(e) => Outcome::Fail(format!("read {}: {}", path.display(), errno_text(&e))),
    }
}

/// Writing `scan` gave `EPERM`: kmemleak is off.
fn disabled(param: Option<&str>, log: &mut Log) -> Outcome {
    if param == Some("off") {
        return Outcome::Skip(KMEMLEAK_OFF.into());
    }
    if let Ok(klog) = crate::kmsg::read() {
        for l in klog.lines().filter(|l| l.contains("kmemleak")).take(5) {
            log.note(format!("kernel: {l}"));
        }
    }
    Outcome::Fail(
        "kmemleak is disabled ('scan' gives EPERM): it turned itself off after an error \
         (see the kernel log), or CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF is set without kmemleak=on"
            .into(),
    )
}

/// The reports in the text of [`KMEMLEAK`]: each starts with its
/// `unreferenced object ...` line and runs over the indented lines after it
/// (`comm`, `hex dump`, `backtrace` and its frames).
pub fn parse_reports(text: &str) -> Vec<Vec<&str>> {
    let mut reports: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if line.starts_with(REPORT_HEADER) {
            reports.push(vec![line]);
            open = true;
        } else if open && line.starts_with([' ', '\t']) {
            if let Some(r) = reports.last_mut() {
                r.push(line);
            }
        } else {
            open = false;
        }
    }
    reports
}

/// `scan_clean` from the text read after the scans.
pub fn judge(text: &str) -> Outcome {
    let reports = parse_reports(text);
    if reports.is_empty() {
        return Outcome::Pass;
    }
    let mut msg = vec![format!(
        "{} unreferenced object(s) after two scans ({KMEMLEAK}):",
        reports.len()
    )];
    for r in reports.iter().take(SHOWN_REPORTS) {
        msg.extend(r.iter().map(|l| l.to_string()));
    }
    if reports.len() > SHOWN_REPORTS {
        msg.push(format!(
            "... and {} more (cat {KMEMLEAK})",
            reports.len() - SHOWN_REPORTS
        ));
    }
    Outcome::Fail(msg.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::tests::{env, run_suite};

    /// The format of `print_unreferenced()` in the seq file (7.2
    /// `mm/kmemleak.c`: `%pS` frames, `backtrace (crc %x)`), three objects:
    /// a plain one, one without a trace and a per-CPU one.
    const THREE_LEAKS: &str = "\
unreferenced object 0xffff0000c1d3e400 (size 128):
  comm \"init\", pid 1, jiffies 4294893312
  hex dump (first 32 bytes):
    00 00 00 70 00 00 00 00 00 00 00 01 00 00 00 00  ...p............
    6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
  backtrace (crc 5f3e0c21):
    kmemleak_alloc+0x4c/0x60
    __kmalloc_cache_noprof+0x1f0/0x2f8
    coherent_heap_allocate+0x9c/0x210 [coherent_heap]
    dma_heap_ioctl+0x1a4/0x2d0
    __arm64_sys_ioctl+0xb4/0x100
    invoke_syscall+0x50/0x120
    el0_svc_common.constprop.0+0x48/0xf0
    do_el0_svc+0x24/0x38
    el0_svc+0x40/0xe0
    el0t_64_sync_handler+0x100/0x130
    el0t_64_sync+0x190/0x198
unreferenced object (phys) 0x70000000 (size 4096):
  comm \"swapper/0\", pid 1, jiffies 4294892301
  backtrace (crc 0):
unreferenced object (percpu) 0x0000ffff80012340 (size 8):
  comm \"kworker/u8:1\", pid 43, jiffies 4294893100
  hex dump (first 8 bytes on cpu 0):
    00 00 00 00 00 00 00 00                          ........
  backtrace (crc 9a41b7c2):
    kmemleak_percpu_alloc+0x5c/0x100
    pcpu_alloc_noprof+0x4a8/0x8f0
";

    #[test]
    fn parses_reports() {
        let r = parse_reports(THREE_LEAKS);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].len(), 17);
        assert_eq!(
            r[0][0],
            "unreferenced object 0xffff0000c1d3e400 (size 128):"
        );
        assert_eq!(
            r[0][8],
            "    coherent_heap_allocate+0x9c/0x210 [coherent_heap]"
        );
        assert_eq!(r[1].len(), 3);
        assert_eq!(r[2].len(), 7);
        assert_eq!(
            r[2][0],
            "unreferenced object (percpu) 0x0000ffff80012340 (size 8):"
        );
        assert_eq!(parse_reports(""), Vec::<Vec<&str>>::new());
        // Stray lines between reports belong to none.
        let r = parse_reports("garbage\n  indented garbage\nunreferenced object 0x1 (size 8):\n  comm \"x\", pid 2, jiffies 3\nother\n  more\n");
        assert_eq!(
            r,
            [vec![
                "unreferenced object 0x1 (size 8):",
                "  comm \"x\", pid 2, jiffies 3"
            ]]
        );
    }

    #[test]
    fn clean_passes_leaks_fail_with_the_first_reports() {
        assert_eq!(judge(""), Outcome::Pass);
        let Outcome::Fail(msg) = judge(THREE_LEAKS) else {
            panic!("leaks must fail")
        };
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(
            lines[0],
            "3 unreferenced object(s) after two scans (/sys/kernel/debug/kmemleak):"
        );
        assert_eq!(lines.len(), 1 + 17 + 3 + 7);
        assert!(!msg.contains("... and"), "{msg}");

        let many = THREE_LEAKS.repeat(2);
        let Outcome::Fail(msg) = judge(&many) else {
            panic!("leaks must fail")
        };
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 1 + 17 + 3 + 7 + 1);
        assert_eq!(
            lines.last().copied(),
            Some("... and 3 more (cat /sys/kernel/debug/kmemleak)")
        );
    }

    #[test]
    fn skips_without_kmemleak() {
        let mut e = env(&[], Vec::new(), &[]);
        // A directory with entries but no kmemleak file: debugfs without it.
        e.kmemleak = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kmemleak");
        let out = run_suite("kmemleak", &e);
        assert!(
            out.contains("    ok 1 scan_clean # SKIP kernel built without CONFIG_DEBUG_KMEMLEAK\n"),
            "{out}"
        );
        assert!(
            out.ends_with("ok 1 kmemleak # SKIP kernel built without CONFIG_DEBUG_KMEMLEAK\n"),
            "{out}"
        );
        e.kmemleak = "/nonexistent/debug/kmemleak".into();
        let out = run_suite("kmemleak", &e);
        assert!(
            out.contains("# SKIP /nonexistent/debug/kmemleak is not there (debugfs not mounted?)"),
            "{out}"
        );
    }

    #[test]
    fn scans_twice_then_judges_the_file() {
        // A regular file stands in for the debugfs file: the writes land
        // in it, so the read sees the two commands and no report.
        let dir = std::env::temp_dir().join(format!("dma-heap-kmemleak-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("kmemleak");
        std::fs::write(&file, "").unwrap();
        let mut e = env(&[], Vec::new(), &[]);
        e.kmemleak = file.clone();
        e.kmemleak_wait = Duration::ZERO;
        let out = run_suite("kmemleak", &e);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "scan");
        assert!(out.contains("    # scan_clean: two scans: "), "{out}");
        assert!(out.contains("    ok 1 scan_clean\n"), "{out}");

        // The writes overwrite the first line.
        std::fs::write(&file, format!("XXXX\n{THREE_LEAKS}")).unwrap();
        let out = run_suite("kmemleak", &e);
        assert!(
            out.contains("    # scan_clean: 3 unreferenced object(s) after two scans (/sys/kernel/debug/kmemleak):\n    # scan_clean: unreferenced object 0xffff0000c1d3e400 (size 128):\n    # scan_clean:   comm \"init\", pid 1, jiffies 4294893312\n"),
            "{out}"
        );
        assert!(out.contains("    not ok 1 scan_clean\n"), "{out}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn disabled_kmemleak() {
        let mut log = Log::default();
        assert_eq!(
            disabled(Some("off"), &mut log),
            Outcome::Skip("kmemleak=off on the kernel command line".into())
        );
        assert!(
            matches!(disabled(None, &mut log), Outcome::Fail(m) if m.starts_with("kmemleak is disabled"))
        );
    }
}
