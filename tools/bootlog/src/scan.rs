//! The log scanner: kernel lines that report a problem.
//!
//! Only the kernel stream is scanned (the runner's own lines are never
//! flagged), and within it only the lines that are not KTAP: a KUnit test
//! named `warning_on_overlap` or a `# ...` diagnostic of a test is not a
//! splat. The patterns are `heap-rules`' ([`heap_rules::splat`]), the list
//! `dma-heap test` and the Yocto oeqa case use too: case-sensitive, the
//! ones that are words (`BUG:`, `WARNING:`, `Oops`, ...) only where they
//! start a word, never on `Kernel command line:` lines.
//!
//! `Call trace:` is only reported when no problem header opened the splat it
//! belongs to: a bare `dump_stack()` still means something went wrong.

use heap_rules::splat::{splat_kind, CALL_TRACE};
use serde::Serialize;

use crate::console::Line;
use crate::ktap::Parsed;

/// After this many kernel lines a splat is considered over even without an
/// end marker (lockdep and hung-task reports have none).
const SPLAT_LINES: usize = 400;

/// Lines that end a splat: "---[ end trace 0000000000000000 ]---",
/// "---[ end Kernel panic - not syncing: ... ]---", and KASAN's rule.
fn ends_splat(text: &str) -> bool {
    text.contains("---[ end ") || text.trim_start().starts_with("=====")
}

/// One flagged kernel line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Line number in the log.
    pub line: usize,
    /// Which pattern matched (`oops`, `warning`, `kmemleak`, ...).
    pub kind: &'static str,
    /// The kernel line, without its timestamp.
    pub text: String,
}

/// The first pattern that matches `text`, if any.
pub fn classify(text: &str) -> Option<&'static str> {
    splat_kind(text)
}

/// Scans the kernel stream. `parsed` is the KTAP parse of the same stream
/// (its KTAP lines are skipped); a line containing any of `allow` is not
/// reported (but still opens its splat, so its `Call trace:` is accepted).
pub fn scan(kernel: &[Line], parsed: &Parsed, allow: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Index (into `kernel`) of the last header of a splat still open.
    let mut open_splat: Option<usize> = None;
    for (index, line) in kernel.iter().enumerate() {
        let text = line.text.as_str();
        if open_splat.is_some_and(|start| index - start > SPLAT_LINES) {
            open_splat = None;
        }
        if ends_splat(text) {
            open_splat = None;
            continue;
        }
        if parsed.is_ktap_line(line.number) {
            continue;
        }
        let Some(kind) = classify(text) else {
            continue;
        };
        if kind == CALL_TRACE {
            if open_splat.is_some() {
                continue;
            }
        } else {
            open_splat = Some(index);
        }
        if allow.iter().any(|a| text.contains(a.as_str())) {
            continue;
        }
        findings.push(Finding {
            line: line.number,
            kind,
            text: text.trim().to_string(),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ktap;

    fn kernel(text: &str) -> Vec<Line> {
        text.lines()
            .enumerate()
            .map(|(i, l)| Line {
                number: i + 1,
                text: l.to_string(),
                time: Some(0.0),
            })
            .collect()
    }

    fn run(text: &str, allow: &[&str]) -> Vec<(usize, &'static str)> {
        let lines = kernel(text);
        let parsed = ktap::parse(lines.iter().map(|l| (l.number, l.text.as_str())));
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        scan(&lines, &parsed, &allow)
            .into_iter()
            .map(|f| (f.line, f.kind))
            .collect()
    }

    #[test]
    fn flags_each_kind_of_problem() {
        let cases = [
            ("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008", "fault"),
            ("Internal error: Oops: 0000000096000006 [#1]  SMP", "oops"),
            ("Oops: general protection fault, probably for non-canonical address", "oops"),
            ("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", "panic"),
            ("kernel BUG at drivers/dma-buf/heaps/coherent_heap.c:88!", "bug"),
            ("BUG: KASAN: slab-use-after-free in coherent_heap_release+0x2c/0x80", "bug"),
            ("BUG: sleeping function called from invalid context at mm/slub.c:4180", "bug"),
            ("BUG: scheduling while atomic: init/1/0x00000002", "bug"),
            ("BUG: unable to handle page fault for address: ffffffffffffffe8", "bug"),
            ("watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [init:1]", "bug"),
            ("WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: init/1", "warning"),
            ("WARNING: possible circular locking dependency detected", "warning"),
            ("UBSAN: array-index-out-of-bounds in drivers/dma-buf/dma-heap.c:120:5", "ubsan"),
            ("kmemleak: unreferenced object 0xffff000003a1b200 (size 64):", "kmemleak"),
            ("kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", "kmemleak"),
            ("INFO: task init:1 blocked for more than 122 seconds.", "hung-task"),
            ("rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu-stall"),
            ("rcu: INFO: rcu_preempt self-detected stall on CPU", "rcu-stall"),
            ("refcount_t: underflow; use-after-free.", "refcount"),
            ("list_add corruption. prev->next should be next (ffff0000c0a1b2c8), but was 0000000000000000.", "list-corruption"),
            ("list_del corruption, ffff000003a1b200->next is LIST_POISON1 (dead000000000100)", "list-corruption"),
            ("rust_kernel: panicked at drivers/dma-buf/heaps/coherent.rs:12:5:", "rust-panic"),
            (" rust_panic+0x1c/0x20", "rust-panic"),
            ("Call trace:", "call-trace"),
        ];
        for (line, kind) in cases {
            assert_eq!(classify(line), Some(kind), "{line}");
        }
    }

    #[test]
    fn benign_lines_are_not_flagged() {
        for line in [
            "Kernel command line: console=ttyAMA0 panic=-1 oops=panic dmaheap.run=test",
            "Kernel command line: BUG: WARNING: Kernel panic",
            "DEBUG: something",
            "CONFIG_BUG: y",
            "xWARNING: no",
            "warning: lowercase is a plain printk, not a splat",
            "coherent-heap: camera: region is not page aligned (warning)",
            "kmemleak: Kernel memory leak detector initialized (mem pool available: 15678)",
            "kmemleak: Automatic memory scanning thread started",
            "INFO: lockdep is turned off.",
            "Oopsie is not a word match",
            "BUGS: plural",
            "rcu: Hierarchical RCU implementation.",
            "hung_task: timeout set to 120 seconds",
            "Run /init as init process",
        ] {
            assert_eq!(classify(line), None, "{line}");
        }
    }

    #[test]
    fn ktap_lines_are_not_scanned() {
        let log = "\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: warning_tests
    1..2
    # BUG: this diagnostic is the test's own output
    ok 1 WARNING: odd_name
    ok 2 rust_panic_is_caught
ok 1 warning_tests
BUG: but this is a real kernel line
";
        assert_eq!(run(log, &[]), vec![(10, "bug")]);
    }

    #[test]
    fn call_trace_after_header_is_part_of_the_splat() {
        let log = "\
------------[ cut here ]------------
memremap attempted on ram 0x0000000075000000 size: 0x800000
WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: init/1
Modules linked in:
Call trace:
 memremap+0x13c/0x1d0 (P)
---[ end trace 0000000000000000 ]---
CPU: 0 UID: 0 PID: 1 Comm: init Not tainted 7.2.13 #1 PREEMPT
Hardware name: linux,dummy-virt (DT)
Call trace:
 dump_stack+0x18/0x24
";
        assert_eq!(run(log, &[]), vec![(3, "warning"), (10, "call-trace")]);
        // Allowing the header also accepts its call trace, not the later one.
        assert_eq!(
            run(log, &["WARNING: kernel/iomem.c:105"]),
            vec![(10, "call-trace")]
        );
    }

    #[test]
    fn splat_window_expires() {
        let mut log = String::from("WARNING: possible recursive locking detected\n");
        for _ in 0..SPLAT_LINES + 1 {
            log.push_str("filler\n");
        }
        log.push_str("Call trace:\n");
        assert_eq!(
            run(&log, &[]),
            vec![(1, "warning"), (SPLAT_LINES + 3, "call-trace")]
        );
    }
}
