//! `kselftest_dmabuf_heaps`: the kernel's own dma-buf heap selftest,
//! `tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c`, built static and
//! installed in the test image as [`DMABUF_HEAP_SELFTEST`].
//!
//! It runs the way the kernel's `tools/testing/selftests/kselftest/runner.sh`
//! runs a test: one case, [`CASE`], whose result its exit code decides
//! (`KSFT_PASS` passes, `KSFT_SKIP` skips, anything else, a signal or the
//! time limit fails), with everything it printed nested under that result.
//! Its output is TAP version 13 (a plan of 11 results per heap in
//! `/dev/dma_heap`, `# Testing heap: NAME` before each heap's results), so
//! nesting it one level deeper than the case makes it the case's subtest
//! document: the parser that judges the runner's KTAP (`bootlog`) judges
//! each of its results and its plan too. Nothing here reads its TAP.
//!
//! Every heap needs 33 MiB free: `test_alloc_zeroed()` allocates 32 x 1 MiB
//! while the 1 MiB buffer of `test_alloc_and_import()` is still open (its
//! success path returns without closing it), so smaller heaps fail with
//! `FAIL (Allocation (N) failed)` and one result short of the plan.
//!
//! Without vgem (`CONFIG_DRM_VGEM`) each heap's import test skips with
//! [`NO_VGEM`]; the case declares that nested skip when the kernel has no
//! vgem.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::System;
use crate::ktap::{Case, Log, Outcome};
use crate::sys;

/// Where the test image installs the selftest.
pub const DMABUF_HEAP_SELFTEST: &str = "/usr/lib/kselftests/dmabuf-heap";

/// The case: the selftest's name, as `runner.sh` reports it.
pub const CASE: &str = "dmabuf_heap";

/// Time limit for the whole selftest run.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for the selftest to go away after `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(10);

/// Output kept at most (the rest is read and dropped).
pub const MAX_LINES: usize = 10_000;

/// The reason the selftest's import test skips without vgem
/// (`test_alloc_and_import()`: `ksft_test_result_skip("Could not open vgem %d\n", importer_fd)`).
pub const NO_VGEM: &str = "Could not open vgem -1";

/// kselftest exit codes (`tools/testing/selftests/kselftest.h`).
pub const KSFT_PASS: i32 = 0;
/// Some test failed.
pub const KSFT_FAIL: i32 = 1;
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

// ---------------------------------------------------------------- judging

/// The verdict of `runner.sh` on how the selftest ended: `KSFT_PASS`
/// passes, `KSFT_SKIP` skips, any other exit code, a signal or the time
/// limit fails.
pub fn judge(ending: &Ending) -> Outcome {
    match ending {
        Ending::Exited(KSFT_PASS) => Outcome::Pass,
        Ending::Exited(KSFT_SKIP) => Outcome::Skip(format!("exit status {KSFT_SKIP} (KSFT_SKIP)")),
        Ending::Exited(code) => Outcome::Fail(format!(
            "exit={code}{}",
            if *code == KSFT_FAIL {
                " (KSFT_FAIL)"
            } else {
                ""
            }
        )),
        Ending::Signaled(sig) => {
            Outcome::Fail(format!("killed by signal {sig} ({})", signal_name(*sig)))
        }
        Ending::TimedOut { limit, reaped } => Outcome::Fail(format!(
            "TIMEOUT {} seconds: killed with SIGKILL{}",
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

/// The case's report of a finished run: how long it took, its output
/// nested under the result, and [`judge`]'s verdict.
pub fn report(run: &Run, log: &mut Log) -> Outcome {
    log.note(format!("ran for {:.1} s", run.elapsed.as_secs_f64()));
    if run.truncated {
        log.note(format!("output cut after {MAX_LINES} lines"));
    }
    log.nested(run.lines.iter().cloned());
    judge(&run.ending)
}

/// The suite: one case, running the selftest if the image has it.
pub fn kselftest_dmabuf_heaps(env: &System) -> Vec<Case<System>> {
    vec![Case::new(CASE, |env: &System, log: &mut Log| {
        let path = &env.kselftest;
        if !path.exists() {
            return Outcome::Skip(format!("{} is not in the image", path.display()));
        }
        report(&run(path, env.kselftest_timeout), log)
    })
    .nested_may_skip_if(!env.kernel.vgem, NO_VGEM)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ktap;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    /// Output of the 7.2 selftest for one coherent heap without vgem.
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

    /// The case's KTAP for `run`, through the real writer.
    fn ktap_of(run: &Run) -> String {
        fn suite(run: &Run) -> Vec<Case<Run>> {
            let run = run.clone();
            vec![Case::new(CASE, move |_: &Run, log: &mut Log| {
                report(&run, log)
            })]
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
    fn output_nests_under_one_result_its_exit_code_decides() {
        let out = ktap_of(&finished(ONE_HEAP, Ending::Exited(KSFT_PASS)));
        let nested: String = ONE_HEAP.lines().map(|l| format!("        {l}\n")).collect();
        assert_eq!(
            out,
            format!(
                "\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: kselftest_dmabuf_heaps
    1..1
    # dmabuf_heap: ran for 1.5 s
{nested}    ok 1 dmabuf_heap
ok 1 kselftest_dmabuf_heaps
"
            )
        );
        let out = ktap_of(&finished(ONE_HEAP, Ending::Exited(KSFT_FAIL)));
        assert!(
            out.contains("    # dmabuf_heap: exit=1 (KSFT_FAIL)\n        TAP version 13\n"),
            "{out}"
        );
        assert!(
            out.ends_with("    not ok 1 dmabuf_heap\nnot ok 1 kselftest_dmabuf_heaps\n"),
            "{out}"
        );
    }

    #[test]
    fn exit_codes_like_the_kselftest_runner() {
        assert_eq!(judge(&Ending::Exited(0)), Outcome::Pass);
        assert_eq!(
            judge(&Ending::Exited(KSFT_SKIP)),
            Outcome::Skip("exit status 4 (KSFT_SKIP)".into())
        );
        // runner.sh: only 0 passes and 4 skips; XFAIL (2) and XPASS (3)
        // are "not ok ... # exit=N".
        for code in [1, 2, 3, 5, 127] {
            assert!(
                matches!(judge(&Ending::Exited(code)), Outcome::Fail(m) if m.starts_with(&format!("exit={code}"))),
                "{code}"
            );
        }
        assert_eq!(
            judge(&Ending::Signaled(libc::SIGSEGV)),
            Outcome::Fail(format!("killed by signal {} (SIGSEGV)", libc::SIGSEGV))
        );
        assert_eq!(
            judge(&Ending::TimedOut {
                limit: TIMEOUT,
                reaped: false
            }),
            Outcome::Fail("TIMEOUT 120 seconds: killed with SIGKILL; still there after the grace period (stuck in the kernel?)".into())
        );
    }

    fn suite() -> ktap::Suite<System> {
        ktap::Suite {
            name: "kselftest_dmabuf_heaps",
            cases: kselftest_dmabuf_heaps,
        }
    }

    #[test]
    fn declares_the_vgem_skip_only_without_vgem() {
        let mut env = crate::suites::tests::env(&[], Vec::new(), &[]);
        env.kernel.vgem = true;
        let listed = crate::ktap::list(&[suite()], &env);
        assert_eq!(
            listed.iter().map(ktap::Listed::line).collect::<Vec<_>>(),
            ["kselftest_dmabuf_heaps.dmabuf_heap must-pass"]
        );
        env.kernel.vgem = false;
        let listed = crate::ktap::list(&[suite()], &env);
        assert_eq!(
            listed.iter().map(ktap::Listed::line).collect::<Vec<_>>(),
            [
                "kselftest_dmabuf_heaps.dmabuf_heap.* may-skip Could not open vgem -1",
                "kselftest_dmabuf_heaps.dmabuf_heap must-pass"
            ]
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
        assert_eq!(
            judge(&run.ending),
            Outcome::Fail("TIMEOUT 0.5 seconds: killed with SIGKILL".into())
        );
    }

    #[test]
    fn absent_or_unrunnable_binary() {
        let mut env = crate::suites::tests::env(&[], Vec::new(), &[]);
        env.kselftest = "/nonexistent/dmabuf-heap".into();
        let out = crate::suites::tests::run_suite("kselftest_dmabuf_heaps", &env);
        assert!(
            out.contains(
                "    ok 1 dmabuf_heap # SKIP /nonexistent/dmabuf-heap is not in the image\n"
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
        let out = crate::suites::tests::run_suite("kselftest_dmabuf_heaps", &env);
        assert!(out.contains("    # dmabuf_heap: cannot run "), "{out}");
        assert!(out.contains("    not ok 1 dmabuf_heap\n"), "{out}");
    }

    #[test]
    fn a_real_program_nested() {
        let s = Script::new(
            "real",
            "echo 'TAP version 13'\necho '1..2'\necho 'ok 1 first'\necho '# note' >&2\necho 'not ok 2 second'\nexit 1\n",
        );
        let mut env = crate::suites::tests::env(&[], Vec::new(), &[]);
        env.kselftest = s.path();
        let out = crate::suites::tests::run_suite("kselftest_dmabuf_heaps", &env);
        assert!(
            out.contains("    # dmabuf_heap: exit=1 (KSFT_FAIL)\n        TAP version 13\n        1..2\n        ok 1 first\n        # note\n        not ok 2 second\n    not ok 1 dmabuf_heap\n"),
            "{out}"
        );
    }
}
