//! `kselftest_dmabuf_heaps`: the kernel's own dma-buf heap selftest,
//! `tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c`, built static and
//! installed in the test image as [`DMABUF_HEAP_SELFTEST`].
//!
//! The selftest prints TAP version 13 through `kselftest.h`: a plan of 11
//! results per heap in `/dev/dma_heap` (every heap, coherent ones
//! included), `ok N ...`, `not ok N ...`, `ok N # SKIP ...`, and `# ...`
//! diagnostics, among them `# Testing heap: NAME` before each heap's
//! results; it exits with a kselftest code (`KSFT_PASS` 0, `KSFT_FAIL` 1,
//! `KSFT_XFAIL` 2, `KSFT_XPASS` 3, `KSFT_SKIP` 4).
//!
//! Every heap needs 33 MiB free: `test_alloc_zeroed()` allocates 32 x 1 MiB
//! while the 1 MiB buffer of `test_alloc_and_import()` is still open (its
//! success path returns without closing it), so smaller heaps fail with
//! `FAIL (Allocation (N) failed)` and one result short of the plan.
//!
//! The suite runs it once, with a time limit, and reports:
//! - each of its results as a case: `dmabuf_heap_HEAP_DESCRIPTION`
//!   (sanitised, trailing return values dropped so that names are stable,
//!   made unique), with ok / not ok / SKIP carried over and the lines it
//!   printed before that result as diagnostics;
//! - `results_match_plan`: as many results as its plan announced, numbered
//!   1..N (the lines after its last result, e.g. `# Totals`, are shown
//!   here);
//! - `exit_status`: its exit code, judged like the kselftest runner
//!   (`kselftest/runner.sh`) does: PASS and XFAIL pass, SKIP skips, any
//!   other code, a signal or the time limit fail.
//!
//! The cases are the selftest's results, so they are only known once it
//! has run: listing this suite's cases runs it (when the suite starts).
//! Parsing and judging are plain functions, unit-tested on the host.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::Env;
use crate::ktap::{test_name, Case, Log, Outcome};
use crate::sys;

/// Where the test image installs the selftest.
pub const DMABUF_HEAP_SELFTEST: &str = "/usr/lib/kselftests/dmabuf-heap";

/// Time limit for the whole selftest run.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for the selftest to go away after `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(10);

/// Output kept at most (the rest is read and dropped).
pub const MAX_LINES: usize = 10_000;

/// Prefix of the cases made from the selftest's results (its binary name).
pub const CASE_PREFIX: &str = "dmabuf_heap_";

/// kselftest exit codes (`tools/testing/selftests/kselftest.h`).
pub const KSFT_PASS: i32 = 0;
/// Some test failed.
pub const KSFT_FAIL: i32 = 1;
/// Expected failure.
pub const KSFT_XFAIL: i32 = 2;
/// Unexpected pass.
pub const KSFT_XPASS: i32 = 3;
/// Skipped.
pub const KSFT_SKIP: i32 = 4;

/// How a selftest run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal (not by us).
    Signaled(i32),
    /// It was still running at the time limit and its process group was
    /// killed; `reaped`: it was gone within [`KILL_GRACE`] of `SIGKILL`.
    TimedOut {
        /// The time limit.
        limit: Duration,
        /// Whether it could be reaped after `SIGKILL`.
        reaped: bool,
    },
    /// It could not be started (or waited for).
    Error(String),
}

/// The output and end of one selftest run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// stdout and stderr, interleaved as written, one entry per line.
    pub lines: Vec<String>,
    /// More than [`MAX_LINES`] lines: the rest was dropped.
    pub truncated: bool,
    /// How it ended.
    pub ending: Ending,
    /// Wall time from start to end.
    pub elapsed: Duration,
}

impl Run {
    fn failed_to_start(msg: String, start: Instant) -> Run {
        Run {
            lines: Vec::new(),
            truncated: false,
            ending: Ending::Error(msg),
            elapsed: start.elapsed(),
        }
    }
}

/// Runs `path` with no arguments, stdin `/dev/null` and stdout and stderr
/// into one pipe (so their lines stay in order), in a process group of its
/// own. After `limit` the whole group is killed with `SIGKILL`.
///
/// The output is read by a helper thread, joined before returning unless
/// something that outlived the kill still holds the pipe open.
pub fn run(path: &Path, limit: Duration) -> Run {
    run_with_grace(path, limit, KILL_GRACE)
}

fn run_with_grace(path: &Path, limit: Duration, grace: Duration) -> Run {
    let start = Instant::now();
    let what = path.display();
    let (rd, wr) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => return Run::failed_to_start(format!("pipe: {e}"), start),
    };
    let wr2 = match wr.try_clone() {
        Ok(w) => w,
        Err(e) => return Run::failed_to_start(format!("dup: {e}"), start),
    };
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(wr))
        .stderr(Stdio::from(wr2))
        // kselftest.h leaves out "TAP version 13" when this is set.
        .env_remove("KSFT_TAP_LEVEL")
        .process_group(0);
    let spawned = cmd.spawn();
    // The command holds our copies of the write end: close them, or the
    // reader never sees the end of the output.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Run::failed_to_start(format!("cannot run {what}: {e}"), start),
    };

    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut input = BufReader::new(File::from(rd));
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match input.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {
                    while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                        buf.pop();
                    }
                    if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    });

    let mut out = Output::default();
    let deadline = start + limit;
    let mut eof = out.collect(&rx, deadline);
    let mut status = if eof {
        wait_until(&mut child, deadline)
    } else {
        Ok(None)
    };
    let ending = match status {
        Ok(Some(st)) => match (st.code(), st.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signaled(sig),
            (None, None) => Ending::Error(format!("{what}: unknown wait status {st:?}")),
        },
        Err(e) => Ending::Error(format!("waitpid {what}: {e}")),
        Ok(None) => {
            // Too late: kill the group (the selftest and anything it
            // started), then give it a moment to go away.
            let _ = sys::kill_process_group(child.id());
            let _ = child.kill();
            let grace_end = Instant::now() + grace;
            status = wait_until(&mut child, grace_end);
            if !eof {
                eof = out.collect(&rx, grace_end);
            }
            Ending::TimedOut {
                limit,
                reaped: matches!(status, Ok(Some(_))),
            }
        }
    };
    let elapsed = start.elapsed();
    if eof {
        let _ = reader.join();
    }
    Run {
        lines: out.lines,
        truncated: out.truncated,
        ending,
        elapsed,
    }
}

#[derive(Default)]
struct Output {
    lines: Vec<String>,
    truncated: bool,
}

impl Output {
    /// Takes lines until the writer side is closed (`true`) or `deadline`.
    fn collect(&mut self, rx: &Receiver<String>, deadline: Instant) -> bool {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if self.lines.len() < MAX_LINES => self.lines.push(line),
                Ok(_) => self.truncated = true,
                Err(RecvTimeoutError::Disconnected) => return true,
                Err(RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}

/// Polls `child` until it has exited (`Some`) or `deadline` (`None`).
fn wait_until(
    child: &mut Child,
    deadline: Instant,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

// ------------------------------------------------------------- TAP parsing

/// A TAP directive after `#` on a result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// `# SKIP`
    Skip,
    /// `# TODO`
    Todo,
    /// `# XFAIL` (kselftest)
    Xfail,
    /// `# XPASS` (kselftest)
    Xpass,
    /// `# error` (kselftest's `ksft_test_result_error()`)
    Error,
}

impl Directive {
    /// The directive as kselftest prints it.
    pub fn keyword(self) -> &'static str {
        match self {
            Directive::Skip => "SKIP",
            Directive::Todo => "TODO",
            Directive::Xfail => "XFAIL",
            Directive::Xpass => "XPASS",
            Directive::Error => "error",
        }
    }

    fn parse(word: &str) -> Option<Directive> {
        Some(match word.to_ascii_uppercase().as_str() {
            "SKIP" => Directive::Skip,
            "TODO" => Directive::Todo,
            "XFAIL" => Directive::Xfail,
            "XPASS" => Directive::Xpass,
            "ERROR" => Directive::Error,
            _ => return None,
        })
    }
}

/// One `ok` / `not ok` line and the lines printed before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapResult {
    /// `ok` (`true`) or `not ok`.
    pub ok: bool,
    /// The test number, if the line has one.
    pub number: Option<u64>,
    /// The description (before any `#`), trimmed.
    pub description: String,
    /// A directive, with the text after it.
    pub directive: Option<(Directive, String)>,
    /// Text after `#` that is not a directive (`ksft_test_result_code()`).
    pub comment: Option<String>,
    /// The heap of the last `# Testing heap: NAME` before this result.
    pub heap: Option<String>,
    /// Diagnostics and other lines since the previous result, `# `
    /// removed.
    pub diagnostics: Vec<String>,
    /// The line as printed.
    pub line: String,
}

/// A plan line: `1..N`, possibly `1..0 # SKIP reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// N.
    pub count: u64,
    /// The reason of a `# SKIP` directive on the plan line.
    pub skip: Option<String>,
}

/// The selftest's output, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tap {
    /// The first plan line.
    pub plan: Option<Plan>,
    /// Every result line, in order.
    pub results: Vec<TapResult>,
    /// Lines after the last result (`# Totals: ...`, `Bail out! ...`),
    /// `# ` removed.
    pub trailing: Vec<String>,
    /// A `Bail out!` line was printed.
    pub bailed_out: bool,
    /// The last diagnostic before the end or a `Bail out!`: the reason a
    /// selftest that exits with `KSFT_SKIP` usually gives.
    pub last_diagnostic: Option<String>,
}

const TESTING_HEAP: &str = "Testing heap:";

/// Parses the selftest's TAP. Lenient: anything that is not a version,
/// plan or result line is kept as a diagnostic of the next result.
pub fn parse(lines: &[String]) -> Tap {
    let mut tap = Tap::default();
    let mut pending: Vec<String> = Vec::new();
    let mut heap: Option<String> = None;
    for raw in lines {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.starts_with("TAP version") {
            continue;
        }
        if let Some(plan) = parse_plan(line) {
            if tap.plan.is_none() {
                tap.plan = Some(plan);
            } else {
                pending.push(format!("second plan line: {line}"));
            }
            continue;
        }
        if let Some(mut r) = parse_result(line) {
            r.heap = heap.clone();
            r.diagnostics = std::mem::take(&mut pending);
            tap.results.push(r);
            continue;
        }
        let text = match line.strip_prefix('#') {
            Some(d) => d.strip_prefix(' ').unwrap_or(d).to_owned(),
            None => line.to_owned(),
        };
        if let Some(name) = text.strip_prefix(TESTING_HEAP) {
            let name = name.trim();
            if !name.is_empty() {
                heap = Some(name.to_owned());
            }
        }
        if line.starts_with("Bail out!") {
            tap.bailed_out = true;
        } else if line.starts_with('#') && !is_summary(&text) {
            tap.last_diagnostic = Some(text.clone());
        }
        pending.push(text);
    }
    tap.trailing = pending;
    tap
}

/// The lines `ksft_print_cnts()` prints at exit.
fn is_summary(text: &str) -> bool {
    text.starts_with("Totals:")
        || text.starts_with("Planned tests != run tests")
        || text.contains("skipped test(s) detected")
}

fn parse_plan(line: &str) -> Option<Plan> {
    let rest = line.strip_prefix("1..")?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let count = rest[..digits].parse().ok()?;
    let tail = rest[digits..].trim();
    let skip = match tail.strip_prefix('#') {
        Some(d) => {
            let d = d.trim_start();
            let (word, reason) = d.split_once(char::is_whitespace).unwrap_or((d, ""));
            (Directive::parse(word) == Some(Directive::Skip)).then(|| reason.trim().to_owned())
        }
        None if tail.is_empty() => None,
        None => return None,
    };
    Some(Plan { count, skip })
}

fn parse_result(line: &str) -> Option<TapResult> {
    let (ok, rest) = if let Some(r) = line.strip_prefix("ok") {
        (true, r)
    } else if let Some(r) = line.strip_prefix("not ok") {
        (false, r)
    } else {
        return None;
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let rest = rest.trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number = rest[..digits].parse().ok();
    let rest = &rest[digits..];
    let (description, after) = match rest.find('#') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut directive = None;
    let mut comment = None;
    if let Some(after) = after {
        let after = after.trim();
        let (word, text) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        match Directive::parse(word) {
            Some(d) => directive = Some((d, text.trim().to_owned())),
            None if !after.is_empty() => comment = Some(after.to_owned()),
            None => {}
        }
    }
    Some(TapResult {
        ok,
        number,
        description: description.trim().trim_start_matches('-').trim().to_owned(),
        directive,
        comment,
        heap: None,
        diagnostics: Vec::new(),
        line: line.to_owned(),
    })
}

// ------------------------------------------------------------------ names

/// `[a-z0-9_]` with runs of `_` collapsed and none at either end.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in test_name(s).chars() {
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The case name of a result: `dmabuf_heap_` + the heap (unless the text
/// names it already) + the description (or, for `ok N # SKIP reason`, the
/// reason) without the return values the selftest appends (`Import buffer
/// 0`, `Error expected on invalid fd -1`), so names do not change with
/// them. Not yet unique: see [`unique`].
pub fn case_name(result: &TapResult) -> String {
    let text = if result.description.is_empty() {
        result.directive.as_ref().map_or("", |(_, t)| t.as_str())
    } else {
        result.description.as_str()
    };
    let mut words: Vec<&str> = text.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| w.parse::<i64>().is_ok()) {
        words.pop();
    }
    let mut base = slug(&words.join(" "));
    if base.is_empty() {
        base = match result.number {
            Some(n) => format!("result_{n}"),
            None => "result".into(),
        };
    }
    if let Some(heap) = result.heap.as_deref().map(slug).filter(|h| !h.is_empty()) {
        if !format!("_{base}_").contains(&format!("_{heap}_")) {
            base = format!("{heap}_{base}");
        }
    }
    format!("{CASE_PREFIX}{base}")
}

/// `name`, or `name_2`, `name_3`, ... if taken; records the result.
pub fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

// ---------------------------------------------------------------- judging

/// The outcome of one selftest result, and notes to print with it.
pub fn judge_result(r: &TapResult) -> (Outcome, Vec<String>) {
    let mut notes = r.diagnostics.clone();
    if let Some(c) = &r.comment {
        notes.push(c.clone());
    }
    let outcome = match (&r.directive, r.ok) {
        (Some((Directive::Skip, reason)), true) => Outcome::Skip(if reason.is_empty() {
            "skipped by the selftest".into()
        } else {
            reason.clone()
        }),
        (Some((Directive::Todo, reason)), false) => Outcome::Skip(format!("TODO {reason}")),
        (Some((d @ (Directive::Xfail | Directive::Xpass), reason)), true) => {
            notes.push(format!("{} {reason}", d.keyword()).trim_end().to_owned());
            Outcome::Pass
        }
        (_, true) => Outcome::Pass,
        (_, false) => Outcome::Fail(format!("selftest: {}", r.line)),
    };
    (outcome, notes)
}

/// `results_match_plan`: as many results as planned, numbered 1..N.
pub fn judge_plan(tap: &Tap, ending: &Ending) -> Outcome {
    let n = tap.results.len() as u64;
    let Some(plan) = &tap.plan else {
        if n == 0 && *ending == Ending::Exited(KSFT_SKIP) {
            return Outcome::Skip(skip_reason(tap));
        }
        return Outcome::Fail(format!(
            "no plan line (1..N) in the selftest's output ({n} result(s))"
        ));
    };
    if let (Some(reason), 0, 0) = (&plan.skip, plan.count, n) {
        return Outcome::Skip(if reason.is_empty() {
            skip_reason(tap)
        } else {
            reason.clone()
        });
    }
    let mut errs = Vec::new();
    if n != plan.count {
        errs.push(format!(
            "planned 1..{} but reported {n} result(s)",
            plan.count
        ));
    }
    if let Some((i, r)) = tap
        .results
        .iter()
        .enumerate()
        .find(|(i, r)| r.number != Some(*i as u64 + 1))
    {
        errs.push(format!(
            "result {} is numbered {}: {}",
            i + 1,
            r.number
                .map_or_else(|| "nothing".to_string(), |x| x.to_string()),
            r.line
        ));
    }
    if errs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(errs.join("\n"))
    }
}

fn skip_reason(tap: &Tap) -> String {
    match &tap.last_diagnostic {
        Some(d) => format!("the selftest skipped: {d}"),
        None => "the selftest skipped".into(),
    }
}

/// `exit_status`, judged like `kselftest/runner.sh`: `KSFT_PASS` and
/// `KSFT_XFAIL` pass, `KSFT_SKIP` skips, anything else fails.
pub fn judge_ending(tap: &Tap, ending: &Ending) -> Outcome {
    match ending {
        Ending::Exited(KSFT_PASS | KSFT_XFAIL) => Outcome::Pass,
        Ending::Exited(KSFT_SKIP) => Outcome::Skip(format!(
            "{} (exit status {KSFT_SKIP}, KSFT_SKIP)",
            skip_reason(tap)
        )),
        Ending::Exited(code) => Outcome::Fail(format!(
            "exited with status {code}{}",
            match *code {
                KSFT_FAIL => " (KSFT_FAIL)",
                KSFT_XPASS => " (KSFT_XPASS)",
                _ => "",
            }
        )),
        Ending::Signaled(sig) => {
            Outcome::Fail(format!("killed by signal {sig} ({})", signal_name(*sig)))
        }
        Ending::TimedOut { limit, reaped } => Outcome::Fail(format!(
            "still running after {} s: killed with SIGKILL{}",
            limit.as_secs_f64(),
            if *reaped {
                ""
            } else {
                "; still there after the grace period (stuck in the kernel?)"
            }
        )),
        Ending::Error(e) => Outcome::Fail(e.clone()),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSYS => "SIGSYS",
        _ => "?",
    }
}

/// A case whose outcome is already known.
fn done<C>(name: String, outcome: Outcome, notes: Vec<String>) -> Case<C> {
    Case::new(name, move |_: &C, log: &mut Log| {
        for n in notes {
            log.note(n);
        }
        outcome
    })
}

/// The cases of a finished run: one per result, `results_match_plan`,
/// `exit_status`.
pub fn cases_from<C>(run: &Run) -> Vec<Case<C>> {
    if let Ending::Error(_) = run.ending {
        if run.lines.is_empty() {
            return vec![done(
                "exit_status".into(),
                judge_ending(&Tap::default(), &run.ending),
                Vec::new(),
            )];
        }
    }
    let tap = parse(&run.lines);
    let mut taken = BTreeSet::new();
    let mut cases = Vec::new();
    for r in &tap.results {
        let name = unique(case_name(r), &mut taken);
        let (outcome, notes) = judge_result(r);
        cases.push(done(name, outcome, notes));
    }
    let mut notes = tap.trailing.clone();
    if run.truncated {
        notes.push(format!("output cut after {MAX_LINES} lines"));
    }
    cases.push(done(
        "results_match_plan".into(),
        judge_plan(&tap, &run.ending),
        notes,
    ));
    cases.push(done(
        "exit_status".into(),
        judge_ending(&tap, &run.ending),
        vec![format!("ran for {:.1} s", run.elapsed.as_secs_f64())],
    ));
    cases
}

/// The suite: runs the selftest (if the image has it) and reports.
pub fn kselftest_dmabuf_heaps(env: &Env) -> Vec<Case<Env>> {
    let path = &env.kselftest;
    if !path.exists() {
        let reason = format!("{} is not in the image", path.display());
        return vec![
            Case::skip("results_match_plan", reason.clone()),
            Case::skip("exit_status", reason),
        ];
    }
    cases_from(&run(path, env.kselftest_timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ktap;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    /// Real output of the 7.2 selftest for one coherent heap without vgem.
    const ONE_HEAP: &str = "\
TAP version 13
1..11
# Testing heap: camera
# =======================================
# Testing allocation and importing:
ok 1 # SKIP Could not open vgem -1
ok 2 test_alloc_and_import dmabuf sync succeeded
# Testing alloced 4k buffers are zeroed:
ok 3 Allocate and fill a bunch of buffers
ok 4 Allocate and validate all buffers are zeroed
# Testing alloced 1024k buffers are zeroed:
ok 5 Allocate and fill a bunch of buffers
ok 6 Allocate and validate all buffers are zeroed
# Testing (theoretical) older alloc compat:
ok 7 dmabuf_heap_alloc_older
# Testing (theoretical) newer alloc compat:
ok 8 dmabuf_heap_alloc_newer
# Testing expected error cases:
ok 9 Error expected on invalid fd -1
ok 10 Error expected on invalid heap flags -1
ok 11 Error expected on invalid heap flags -1
# 1 skipped test(s) detected. Consider enabling relevant config options to improve coverage.
# Totals: pass:10 fail:0 xfail:0 xpass:0 skip:1 error:0
";

    /// The cases of `run` through the real KTAP writer.
    fn ktap_of(run: &Run) -> String {
        fn suite(run: &Run) -> Vec<Case<Run>> {
            cases_from(run)
        }
        let suites = [ktap::Suite {
            name: "kselftest_dmabuf_heaps",
            cases: suite,
        }];
        let mut w = ktap::Writer::new(Vec::new());
        ktap::run(&mut w, &[], &suites, run).unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    fn finished(text: &str, ending: Ending) -> Run {
        Run {
            lines: lines(text),
            truncated: false,
            ending,
            elapsed: Duration::from_millis(1500),
        }
    }

    #[test]
    fn parses_one_heap() {
        let tap = parse(&lines(ONE_HEAP));
        assert_eq!(
            tap.plan,
            Some(Plan {
                count: 11,
                skip: None
            })
        );
        assert_eq!(tap.results.len(), 11);
        let first = &tap.results[0];
        assert!(first.ok);
        assert_eq!(first.number, Some(1));
        assert_eq!(first.description, "");
        assert_eq!(
            first.directive,
            Some((Directive::Skip, "Could not open vgem -1".into()))
        );
        assert_eq!(first.heap.as_deref(), Some("camera"));
        assert_eq!(
            first.diagnostics,
            [
                "Testing heap: camera",
                "=======================================",
                "Testing allocation and importing:"
            ]
        );
        assert_eq!(tap.results[1].diagnostics, Vec::<String>::new());
        assert_eq!(tap.trailing.len(), 2);
        assert!(tap.trailing[1].starts_with("Totals: pass:10"));
    }

    #[test]
    fn names_are_stable_unique_and_carry_the_heap() {
        let tap = parse(&lines(ONE_HEAP));
        let mut taken = BTreeSet::new();
        let names: Vec<String> = tap
            .results
            .iter()
            .map(|r| unique(case_name(r), &mut taken))
            .collect();
        assert_eq!(
            names,
            [
                "dmabuf_heap_camera_could_not_open_vgem",
                "dmabuf_heap_camera_test_alloc_and_import_dmabuf_sync_succeeded",
                "dmabuf_heap_camera_allocate_and_fill_a_bunch_of_buffers",
                "dmabuf_heap_camera_allocate_and_validate_all_buffers_are_zeroed",
                "dmabuf_heap_camera_allocate_and_fill_a_bunch_of_buffers_2",
                "dmabuf_heap_camera_allocate_and_validate_all_buffers_are_zeroed_2",
                "dmabuf_heap_camera_dmabuf_heap_alloc_older",
                "dmabuf_heap_camera_dmabuf_heap_alloc_newer",
                "dmabuf_heap_camera_error_expected_on_invalid_fd",
                "dmabuf_heap_camera_error_expected_on_invalid_heap_flags",
                "dmabuf_heap_camera_error_expected_on_invalid_heap_flags_2",
            ]
        );
        for n in &names {
            assert_eq!(&ktap::test_name(n), n);
        }
        // A description that names the heap keeps it once.
        let mut r = tap.results[1].clone();
        r.description = "camera: sync ok 12".into();
        assert_eq!(case_name(&r), "dmabuf_heap_camera_sync_ok");
        r.heap = Some("video@78000000".into());
        r.description = "FAIL (Allocation (8) failed) -12".into();
        assert_eq!(
            case_name(&r),
            "dmabuf_heap_video_78000000_fail_allocation_8_failed"
        );
        r.heap = None;
        r.description = "42".into();
        assert_eq!(case_name(&r), "dmabuf_heap_42");
        r.description = "#!?".into();
        assert_eq!(case_name(&r), "dmabuf_heap_result_2");
    }

    #[test]
    fn passing_run_as_ktap() {
        let out = ktap_of(&finished(ONE_HEAP, Ending::Exited(0)));
        let expected = "\
    KTAP version 1
    # Subtest: kselftest_dmabuf_heaps
    1..13
    # dmabuf_heap_camera_could_not_open_vgem: Testing heap: camera
    # dmabuf_heap_camera_could_not_open_vgem: =======================================
    # dmabuf_heap_camera_could_not_open_vgem: Testing allocation and importing:
    ok 1 dmabuf_heap_camera_could_not_open_vgem # SKIP Could not open vgem -1
    ok 2 dmabuf_heap_camera_test_alloc_and_import_dmabuf_sync_succeeded
    # dmabuf_heap_camera_allocate_and_fill_a_bunch_of_buffers: Testing alloced 4k buffers are zeroed:
    ok 3 dmabuf_heap_camera_allocate_and_fill_a_bunch_of_buffers
";
        assert!(out.contains(expected), "{out}");
        assert!(out.contains("\
    ok 10 dmabuf_heap_camera_error_expected_on_invalid_heap_flags
    ok 11 dmabuf_heap_camera_error_expected_on_invalid_heap_flags_2
    # results_match_plan: 1 skipped test(s) detected. Consider enabling relevant config options to improve coverage.
    # results_match_plan: Totals: pass:10 fail:0 xfail:0 xpass:0 skip:1 error:0
    ok 12 results_match_plan
    # exit_status: ran for 1.5 s
    ok 13 exit_status
"), "{out}");
        assert!(out.ends_with("ok 1 kselftest_dmabuf_heaps\n"), "{out}");
        assert!(!out.contains("not ok"), "{out}");
    }

    /// A heap too small for 32 x 1 MiB: the selftest's own failure path,
    /// then a short count and KSFT_FAIL.
    const SMALL_HEAP: &str = "\
TAP version 13
1..22
# Testing heap: display
# =======================================
# Testing allocation and importing:
ok 1 # SKIP Could not open vgem -1
ok 2 test_alloc_and_import dmabuf sync succeeded
# Testing alloced 4k buffers are zeroed:
ok 3 Allocate and fill a bunch of buffers
ok 4 Allocate and validate all buffers are zeroed
# Testing alloced 1024k buffers are zeroed:
not ok 5 FAIL (Allocation (8) failed) -1
# Testing (theoretical) older alloc compat:
ok 6 dmabuf_heap_alloc_older
# Testing (theoretical) newer alloc compat:
ok 7 dmabuf_heap_alloc_newer
# Testing expected error cases:
ok 8 Error expected on invalid fd -1
ok 9 Error expected on invalid heap flags -1
ok 10 Error expected on invalid heap flags -1
# Testing heap: system
# =======================================
# Testing allocation and importing:
ok 11 # SKIP Could not open vgem -1
ok 12 test_alloc_and_import dmabuf sync succeeded
# Testing alloced 4k buffers are zeroed:
ok 13 Allocate and fill a bunch of buffers
ok 14 Allocate and validate all buffers are zeroed
# Testing alloced 1024k buffers are zeroed:
ok 15 Allocate and fill a bunch of buffers
ok 16 Allocate and validate all buffers are zeroed
# Testing (theoretical) older alloc compat:
ok 17 dmabuf_heap_alloc_older
# Testing (theoretical) newer alloc compat:
ok 18 dmabuf_heap_alloc_newer
# Testing expected error cases:
ok 19 Error expected on invalid fd -1
ok 20 Error expected on invalid heap flags -1
ok 21 Error expected on invalid heap flags -1
# 2 skipped test(s) detected. Consider enabling relevant config options to improve coverage.
# Planned tests != run tests (22 != 21)
# Totals: pass:18 fail:1 xfail:0 xpass:0 skip:2 error:0
";

    #[test]
    fn failing_run_as_ktap() {
        let out = ktap_of(&finished(SMALL_HEAP, Ending::Exited(KSFT_FAIL)));
        assert!(
            out.contains(
                "    # dmabuf_heap_display_fail_allocation_8_failed: Testing alloced 1024k buffers are zeroed:\n    # dmabuf_heap_display_fail_allocation_8_failed: selftest: not ok 5 FAIL (Allocation (8) failed) -1\n    not ok 5 dmabuf_heap_display_fail_allocation_8_failed\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "    ok 11 dmabuf_heap_system_could_not_open_vgem # SKIP Could not open vgem -1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("    # results_match_plan: Planned tests != run tests (22 != 21)\n    # results_match_plan: Totals: pass:18 fail:1 xfail:0 xpass:0 skip:2 error:0\n    # results_match_plan: planned 1..22 but reported 21 result(s)\n    not ok 22 results_match_plan\n"),
            "{out}"
        );
        assert!(
            out.contains("    # exit_status: ran for 1.5 s\n    # exit_status: exited with status 1 (KSFT_FAIL)\n    not ok 23 exit_status\n"),
            "{out}"
        );
        assert!(out.contains("# kselftest_dmabuf_heaps: pass:18 fail:3 skip:2 total:23\nnot ok 1 kselftest_dmabuf_heaps\n"), "{out}");
    }

    #[test]
    fn skip_exit_and_bail_out() {
        // No /dev/dma_heap: no plan at all, KSFT_SKIP.
        let tap = parse(&lines("TAP version 13\n# No /dev/dma_heap directory?\n"));
        let ending = Ending::Exited(KSFT_SKIP);
        assert_eq!(
            judge_plan(&tap, &ending),
            Outcome::Skip("the selftest skipped: No /dev/dma_heap directory?".into())
        );
        assert_eq!(
            judge_ending(&tap, &ending),
            Outcome::Skip(
                "the selftest skipped: No /dev/dma_heap directory? (exit status 4, KSFT_SKIP)"
                    .into()
            )
        );
        // ksft_exit_skip() after a plan: the reason, not the counts.
        let tap = parse(&lines(
            "TAP version 13\n1..11\n# needs vgem\nok 1 # SKIP needs vgem\n# 1 skipped test(s) detected. Consider enabling relevant config options to improve coverage.\n# Planned tests != run tests (11 != 1)\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n",
        ));
        assert_eq!(tap.last_diagnostic.as_deref(), Some("needs vgem"));
        // ksft_exit_skip() before a plan.
        let tap = parse(&lines("TAP version 13\n1..0 # SKIP no heaps\n"));
        assert_eq!(judge_plan(&tap, &ending), Outcome::Skip("no heaps".into()));
        // dmabuf_heap_open() failing: Bail out!, KSFT_FAIL.
        let text = "TAP version 13\n1..11\n# Testing heap: camera\n# =======================================\nBail out! open /dev/dma_heap/camera failed: No such file or directory\n# Planned tests != run tests (11 != 0)\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n";
        let tap = parse(&lines(text));
        assert!(tap.bailed_out);
        assert_eq!(tap.results.len(), 0);
        assert_eq!(
            tap.trailing[2],
            "Bail out! open /dev/dma_heap/camera failed: No such file or directory"
        );
        assert_eq!(
            judge_plan(&tap, &Ending::Exited(KSFT_FAIL)),
            Outcome::Fail("planned 1..11 but reported 0 result(s)".into())
        );
        // No plan and not a skip.
        let tap = parse(&lines("ok 1 a\n"));
        assert!(
            matches!(judge_plan(&tap, &Ending::Exited(0)), Outcome::Fail(m) if m.starts_with("no plan line"))
        );
    }

    #[test]
    fn directives_and_numbering() {
        let text = "1..6\nok 1 a # XFAIL known\nok 2 b # XPASS odd\nnot ok 3 # error broken\nnot ok 4 d # TODO later\nok 5 e #  note\nok 7 f\n";
        let tap = parse(&lines(text));
        let outcomes: Vec<Outcome> = tap.results.iter().map(|r| judge_result(r).0).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Pass,
                Outcome::Pass,
                Outcome::Fail("selftest: not ok 3 # error broken".into()),
                Outcome::Skip("TODO later".into()),
                Outcome::Pass,
                Outcome::Pass,
            ]
        );
        assert_eq!(judge_result(&tap.results[0]).1, ["XFAIL known"]);
        assert_eq!(judge_result(&tap.results[1]).1, ["XPASS odd"]);
        assert_eq!(judge_result(&tap.results[4]).1, ["note"]);
        assert_eq!(case_name(&tap.results[2]), "dmabuf_heap_broken");
        assert_eq!(
            judge_plan(&tap, &Ending::Exited(0)),
            Outcome::Fail("result 6 is numbered 7: ok 7 f".into())
        );
        // Not results: "okay", "ok1".
        assert!(parse_result("okay").is_none());
        assert!(parse_result("ok1").is_none());
        assert!(parse_plan("1..x").is_none());
        assert!(parse_plan("1..3 trailing").is_none());
    }

    #[test]
    fn exit_codes_like_the_kselftest_runner() {
        let tap = Tap::default();
        assert_eq!(judge_ending(&tap, &Ending::Exited(0)), Outcome::Pass);
        assert_eq!(
            judge_ending(&tap, &Ending::Exited(KSFT_XFAIL)),
            Outcome::Pass
        );
        assert_eq!(
            judge_ending(&tap, &Ending::Exited(KSFT_XPASS)),
            Outcome::Fail("exited with status 3 (KSFT_XPASS)".into())
        );
        assert_eq!(
            judge_ending(&tap, &Ending::Signaled(libc::SIGSEGV)),
            Outcome::Fail(format!("killed by signal {} (SIGSEGV)", libc::SIGSEGV))
        );
        assert_eq!(
            judge_ending(
                &tap,
                &Ending::TimedOut {
                    limit: TIMEOUT,
                    reaped: false
                }
            ),
            Outcome::Fail("still running after 120 s: killed with SIGKILL; still there after the grace period (stuck in the kernel?)".into())
        );
    }

    // ------------------------------------------------ real processes (sh)

    struct Script {
        dir: std::path::PathBuf,
    }

    impl Script {
        fn new(tag: &str, body: &str) -> Script {
            use std::os::unix::fs::PermissionsExt;
            let dir = std::env::temp_dir()
                .join(format!("dma-heap-kselftest-{}-{tag}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("dmabuf-heap");
            std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            Script { dir }
        }

        fn path(&self) -> std::path::PathBuf {
            self.dir.join("dmabuf-heap")
        }
    }

    impl Drop for Script {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn runs_a_program_and_merges_stderr_in_order() {
        let s = Script::new(
            "merge",
            "echo 'TAP version 13'\necho '1..2'\necho 'ok 1 first'\necho 'from stderr' >&2\necho 'not ok 2 second'\nexit 1\n",
        );
        let run = run(&s.path(), Duration::from_secs(30));
        assert_eq!(run.ending, Ending::Exited(1));
        assert_eq!(
            run.lines,
            [
                "TAP version 13",
                "1..2",
                "ok 1 first",
                "from stderr",
                "not ok 2 second"
            ]
        );
        let tap = parse(&run.lines);
        assert_eq!(tap.results[1].diagnostics, ["from stderr"]);
    }

    #[test]
    fn kills_at_the_time_limit() {
        // A grandchild keeps the pipe open: the whole group must go.
        let s = Script::new(
            "timeout",
            "echo '1..1'\nsleep 30 &\necho 'ok 1 early'\nsleep 30\n",
        );
        let t = Instant::now();
        let run = run_with_grace(
            &s.path(),
            Duration::from_millis(500),
            Duration::from_secs(5),
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(
            run.ending,
            Ending::TimedOut {
                limit: Duration::from_millis(500),
                reaped: true
            }
        );
        assert_eq!(run.lines, ["1..1", "ok 1 early"]);
        let cases = cases_from::<()>(&run);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["dmabuf_heap_early", "results_match_plan", "exit_status"]
        );
        assert!(matches!(
            judge_ending(&parse(&run.lines), &run.ending),
            Outcome::Fail(m) if m == "still running after 0.5 s: killed with SIGKILL"
        ));
    }

    #[test]
    fn absent_or_unrunnable_binary() {
        let mut env = crate::suites::tests::env(&[], Vec::new(), &[]);
        env.kselftest = "/nonexistent/dmabuf-heap".into();
        let out = crate::suites::tests::run_suite("kselftest_dmabuf_heaps", &env);
        assert!(
            out.ends_with(
                "ok 1 kselftest_dmabuf_heaps # SKIP /nonexistent/dmabuf-heap is not in the image\n"
            ),
            "{out}"
        );
        assert!(!out.contains("not ok"), "{out}");

        // Present but not executable.
        let s = Script::new("noexec", "exit 0\n");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        env.kselftest = s.path();
        let cases = kselftest_dmabuf_heaps(&env);
        assert_eq!(cases[0].name, "exit_status");
        assert_eq!(cases.len(), 1);
        let out = crate::suites::tests::run_suite("kselftest_dmabuf_heaps", &env);
        assert!(out.contains("# exit_status: cannot run "), "{out}");
        assert!(out.contains("not ok 1 exit_status\n"), "{out}");
    }
}
