//! The kernel log lines that report a problem ("splats"), in one list that `bootlog` (QEMU
//! console logs), `dma-heap test` (the in-image kernel log) and the oeqa case of the Yocto test
//! image (`lib/oeqa/runtime/cases/coherent_heap.py`, which carries a copy a test keeps equal)
//! all use.
//!
//! Every pattern is matched case-sensitively, and the ones that are words (`BUG:`, `WARNING:`,
//! `Oops`, ...) only where they start a word, so `DEBUG:` or `CONFIG_BUG:` do not match.
//! `Kernel command line:` lines are never flagged (the command line may say `panic=-1` or
//! `oops=panic`).

/// How a pattern's needle must appear in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Not preceded by a letter, digit or `_`.
    WordStart,
    /// Not preceded nor followed by a letter, digit or `_`.
    Word,
}

impl At {
    /// The spelling of the oeqa copy: `word-start`, `word`.
    pub fn as_str(self) -> &'static str {
        match self {
            At::WordStart => "word-start",
            At::Word => "word",
        }
    }
}

/// One kind of kernel problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplatPattern {
    /// Short name, shown in reports (`oops`, `warning`, `kmemleak`, ...).
    pub id: &'static str,
    /// Text that must be in the line.
    pub needle: &'static str,
    /// Where `needle` may be.
    pub at: At,
    /// A second text that must also be in the line, if any.
    pub also: Option<&'static str>,
}

const fn pattern(id: &'static str, needle: &'static str, at: At) -> SplatPattern {
    SplatPattern {
        id,
        needle,
        at,
        also: None,
    }
}

const fn pattern_with(
    id: &'static str,
    needle: &'static str,
    at: At,
    also: &'static str,
) -> SplatPattern {
    SplatPattern {
        id,
        needle,
        at,
        also: Some(also),
    }
}

/// Every kernel problem, checked in this order (the first match names the line). All but
/// [`CALL_TRACE`] open a splat in `bootlog`'s scan.
pub const SPLAT_PATTERNS: &[SplatPattern] = &[
    // arm64 oops header: "Internal error: Oops: 0000000096000006 [#1]  SMP",
    // also "Internal error: Oops - BUG: ..." (arch/arm64/kernel/traps.c).
    pattern("oops", "Internal error:", At::WordStart),
    // "Kernel panic - not syncing: ..." (kernel/panic.c), including init
    // (PID 1) dying: "Attempted to kill init!".
    pattern("panic", "Kernel panic", At::WordStart),
    // x86 oops header "Oops: 0002 [#1] SMP", and any other "Oops" word.
    pattern("oops", "Oops", At::Word),
    // Faulting kernel access: "Unable to handle kernel NULL pointer
    // dereference at virtual address ..." (arch/arm64/mm/fault.c).
    pattern("fault", "Unable to handle kernel", At::WordStart),
    // BUG() / BUG_ON(): "kernel BUG at drivers/foo.c:42!" (lib/bug.c).
    pattern("bug", "kernel BUG at", At::WordStart),
    // "BUG: KASAN: slab-out-of-bounds in ...", "BUG: sleeping function called
    // from invalid context", "BUG: scheduling while atomic", "BUG: unable to
    // handle page fault", "watchdog: BUG: soft lockup", "BUG: Bad page state"...
    pattern("bug", "BUG:", At::WordStart),
    // WARN() splats ("WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0")
    // and lockdep ("WARNING: possible circular locking dependency detected").
    pattern("warning", "WARNING:", At::WordStart),
    // Undefined behaviour: "UBSAN: array-index-out-of-bounds in ..." (lib/ubsan.c).
    pattern("ubsan", "UBSAN:", At::WordStart),
    // kmemleak report header: "kmemleak: unreferenced object 0x... (size 64):"
    // (mm/kmemleak.c, printed when kmemleak.verbose=1).
    pattern("kmemleak", "unreferenced object", At::WordStart),
    // kmemleak scan summary: "kmemleak: 2 new suspected memory leaks (see
    // /sys/kernel/debug/kmemleak)"; other kmemleak lines are benign.
    pattern_with(
        "kmemleak",
        "kmemleak:",
        At::WordStart,
        "suspected memory leak",
    ),
    // Hung task detector: "INFO: task init:1 blocked for more than 122 seconds."
    pattern_with(
        "hung-task",
        "INFO: task ",
        At::WordStart,
        "blocked for more than",
    ),
    // RCU stalls: "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
    // "rcu: INFO: rcu_sched self-detected stall on CPU".
    pattern_with("rcu-stall", "INFO: ", At::WordStart, "detected stall"),
    // refcount_t saturation/underflow: "refcount_t: underflow; use-after-free."
    pattern("refcount", "refcount_t:", At::WordStart),
    // CONFIG_DEBUG_LIST: "list_add corruption. next->prev should be prev ..."
    pattern("list-corruption", "list_add corruption", At::WordStart),
    // CONFIG_DEBUG_LIST: "list_del corruption, ffff...->next is LIST_POISON1"
    pattern("list-corruption", "list_del corruption", At::WordStart),
    // A Rust panic: "rust_kernel: panicked at rust/kernel/...:12:5:"
    // (the kernel's #[panic_handler] prints it, then BUG()s).
    pattern("rust-panic", "panicked at", At::WordStart),
    // Rust panic machinery in a backtrace or message.
    pattern("rust-panic", "rust_panic", At::WordStart),
    // A stack dump (arm64 spelling, arch/arm64/kernel/stacktrace.c): only
    // reported when no header above opened its splat, e.g. a bare dump_stack().
    pattern("call-trace", "Call trace:", At::WordStart),
    // The same on x86 ("Call Trace:").
    pattern("call-trace", "Call Trace:", At::WordStart),
];

/// The id of the headerless stack dump pattern: part of the splat above it, if any.
pub const CALL_TRACE: &str = "call-trace";

/// Lines that start like this are never flagged.
pub const BENIGN_PREFIX: &str = "Kernel command line:";

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl SplatPattern {
    /// Whether `text` (a kernel line without its timestamp) matches.
    pub fn matches(&self, text: &str) -> bool {
        let found = text.match_indices(self.needle).any(|(start, m)| {
            let before_ok = !text[..start].chars().next_back().is_some_and(is_word_char);
            let after_ok = self.at == At::WordStart
                || !text[start + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(is_word_char);
            before_ok && after_ok
        });
        found && self.also.is_none_or(|also| text.contains(also))
    }
}

/// The id of the first pattern that matches `text`, if any.
pub fn splat_kind(text: &str) -> Option<&'static str> {
    if text.trim_start().starts_with(BENIGN_PREFIX) {
        return None;
    }
    SPLAT_PATTERNS
        .iter()
        .find(|p| p.matches(text))
        .map(|p| p.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_each_kind_of_problem() {
        let cases = [
            ("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008", "fault"),
            ("Internal error: Oops: 0000000096000006 [#1]  SMP", "oops"),
            ("Oops: general protection fault, probably for non-canonical address", "oops"),
            ("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", "panic"),
            ("kernel BUG at drivers/dma-buf/heaps/coherent_heap.c:88!", "bug"),
            ("BUG: KASAN: slab-use-after-free in coherent_heap_release+0x2c/0x80", "bug"),
            ("watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [init:1]", "bug"),
            ("WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: init/1", "warning"),
            ("UBSAN: array-index-out-of-bounds in drivers/dma-buf/dma-heap.c:120:5", "ubsan"),
            ("kmemleak: unreferenced object 0xffff000003a1b200 (size 64):", "kmemleak"),
            ("kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", "kmemleak"),
            ("INFO: task init:1 blocked for more than 122 seconds.", "hung-task"),
            ("rcu: INFO: rcu_preempt self-detected stall on CPU", "rcu-stall"),
            ("refcount_t: underflow; use-after-free.", "refcount"),
            ("list_del corruption, ffff000003a1b200->next is LIST_POISON1 (dead000000000100)", "list-corruption"),
            ("rust_kernel: panicked at drivers/dma-buf/heaps/coherent.rs:12:5:", "rust-panic"),
            ("Call trace:", CALL_TRACE),
            ("Call Trace:", CALL_TRACE),
        ];
        for (line, kind) in cases {
            assert_eq!(splat_kind(line), Some(kind), "{line}");
        }
    }

    #[test]
    fn benign_lines_are_not_flagged() {
        for line in [
            "Kernel command line: console=ttyAMA0 panic=-1 oops=panic dmaheap.run=test",
            "DEBUG: something",
            "CONFIG_BUG: y",
            "xWARNING: no",
            "warning: lowercase is a plain printk, not a splat",
            "kmemleak: Kernel memory leak detector initialized (mem pool available: 15678)",
            "INFO: lockdep is turned off.",
            "Oopsie is not a word match",
            "BUGS: plural",
            "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
        ] {
            assert_eq!(splat_kind(line), None, "{line}");
        }
    }

    #[test]
    fn ids_are_kebab_case_and_call_trace_is_listed() {
        for p in SPLAT_PATTERNS {
            assert!(
                p.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                p.id
            );
            assert!(!p.needle.is_empty());
        }
        assert!(SPLAT_PATTERNS.iter().any(|p| p.id == CALL_TRACE));
    }
}
