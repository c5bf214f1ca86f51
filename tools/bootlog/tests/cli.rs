//! Runs the `bootlog` binary on the fixture logs in `tests/fixtures/`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn bootlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootlog"))
        .args(args)
        .output()
        .expect("run bootlog")
}

/// Runs `bootlog check` on a fixture; returns (exit code, stdout, stderr).
fn check(name: &str, options: &[&str]) -> (i32, String, String) {
    let path = fixture(name);
    let path = path.to_str().expect("fixture path is UTF-8");
    let mut args = vec!["check"];
    args.extend_from_slice(options);
    args.push(path);
    let out = bootlog(&args);
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_line(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or("")
}

/// The problem lines of a human summary, without the fixture's directory.
fn problems(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.contains("/fixtures/"))
        .map(|l| {
            l.rsplit_once("/fixtures/")
                .map_or(l, |(_, rest)| rest)
                .to_string()
        })
        .collect()
}

const RUN: &[&str] = &["--expect-done", "--expect-suite", "heap_list"];

#[test]
fn clean_log_passes() {
    let (code, stdout, stderr) = check(
        "clean.log",
        &[
            "--expect-done",
            "--expect-suite",
            "heap_list",
            "--expect-suite",
            "heap_mmap",
            "--expect-suite",
            "coherent_heap_regions",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "boot: 0.84 s to /init\n\
heaps: camera default_cma_region display system video@78000000\n\
bootlog: 20 passed, 0 failed, 2 skipped\n"
    );
    assert_eq!(stderr, "");
}

#[test]
fn clean_log_json() {
    let path = fixture("clean.log");
    let out = bootlog(&[
        "check",
        "--format",
        "json",
        "--expect-done",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true);
    assert_eq!(v["passed"], 20);
    assert_eq!(v["failed"], 0);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["boot"]["init"], "/init");
    assert_eq!(v["boot"]["seconds"], 0.843211);
    assert_eq!(v["heaps"][0], "camera");
    assert_eq!(v["runner_done"], true);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["streams"][0]["stream"], "kernel");
    assert_eq!(v["streams"][1]["stream"], "runner");
    // The result line that a kernel record cut in two is whole again.
    let alloc = &v["streams"][1]["documents"][0]["tests"][1];
    assert_eq!(alloc["name"], "heap_alloc");
    assert_eq!(
        alloc["subtests"]["tests"][3]["name"],
        "alloc_all_pool_pages"
    );
    // KUnit's parameterised test, two levels down.
    let params = &v["streams"][0]["documents"][0]["tests"][1]["subtests"]["tests"][0];
    assert_eq!(params["name"], "alloc_sizes");
    assert_eq!(params["subtests"]["tests"][3]["name"], "33554432");
}

#[test]
fn arm64_oops_fails() {
    let (code, stdout, _) = check("oops.log", RUN);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        problems(&stdout),
        vec![
            "oops.log:152: runner missing result: top-level document (line 151) planned 1..3 but got 2 results; missing 3",
            "oops.log:161: runner test has no result line: heap_alloc (its output stops)",
            "oops.log:163: runner missing result: suite heap_alloc planned 1..5 but got 2 results; missing 3-5",
            "oops.log:167: kernel problem (fault): Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
            "oops.log:180: kernel problem (oops): Internal error: Oops: 0000000096000006 [#1]  SMP",
            "oops.log:210: kernel problem (panic): Kernel panic - not syncing: Oops: Fatal exception",
            "oops.log: runner did not finish: no '# runner: done' line (log ends at line 215)",
        ]
    );
    assert_eq!(
        last_line(&stdout),
        "bootlog: 15 passed, 4 failed, 1 skipped"
    );
}

#[test]
fn warning_splat_fails_unless_allowed() {
    let (code, stdout, _) = check("warning.log", RUN);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        problems(&stdout),
        vec!["warning.log:113: kernel problem (warning): WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: swapper/0/1"]
    );
    assert_eq!(
        last_line(&stdout),
        "bootlog: 20 passed, 0 failed, 2 skipped"
    );

    // Accepting the known splat accepts its call trace too; the message
    // before it is the line the driver is expected to cause.
    let (code, stdout, _) = check(
        "warning.log",
        &[
            "--expect-done",
            "--allow",
            "WARNING: kernel/iomem.c:105 at memremap",
            "--require-line",
            "memremap attempted on ram",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn missing_result_names_suite_and_numbers() {
    let (code, stdout, _) = check("missing-result.log", RUN);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        problems(&stdout),
        vec!["missing-result.log:163: runner missing result: suite heap_alloc planned 1..4 but got 3 results; missing 3"]
    );
    assert_eq!(
        last_line(&stdout),
        "bootlog: 18 passed, 1 failed, 2 skipped"
    );
}

#[test]
fn cut_off_log_is_not_done() {
    let (code, stdout, _) = check("cut-off.log", RUN);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        problems(&stdout),
        vec![
            "cut-off.log:173: runner test has no result line: heap_mmap (its output stops)",
            "cut-off.log:175: runner missing result: suite heap_mmap planned 1..3 but got 2 results; missing 3",
            "cut-off.log: runner did not finish: no '# runner: done' line (log ends at line 177)",
        ]
    );

    let (code, stdout, _) = check("cut-off.log", &["--expect-done", "--timed-out"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(
            "cut-off.log: timeout: QEMU was killed by the time limit (log ends at line 177)\n"
        ),
        "{stdout}"
    );
}

#[test]
fn kmemleak_report_fails() {
    let (code, stdout, _) = check("kmemleak.log", RUN);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        problems(&stdout),
        vec![
            "kmemleak.log:183: kernel problem (kmemleak): kmemleak: unreferenced object 0xffff000003a1b200 (size 64):",
            "kmemleak.log:198: kernel problem (kmemleak): kmemleak: 16 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
        ]
    );
}

#[test]
fn kunit_failure_shows_its_diagnostics() {
    let (code, stdout, _) = check("kunit-fail.log", &["--expect-suite", "coherent_heap_alloc"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "kunit-fail.log:149: kernel test failed: coherent_heap_alloc.alloc_too_big\n    \
# alloc_too_big: EXPECTATION FAILED at drivers/dma-buf/heaps/coherent_heap_test.rs:57\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        last_line(&stdout),
        "bootlog: 19 passed, 1 failed, 2 skipped"
    );
}

#[test]
fn garbage_and_empty_input_do_not_panic() {
    for name in ["garbage.bin", "empty.log"] {
        let (code, stdout, stderr) = check(name, &["--expect-suite", "heap_list"]);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert_eq!(
            problems(&stdout),
            vec![format!(
                "{name}: no KTAP found in either stream (expected suites: heap_list)"
            )]
        );
        assert_eq!(last_line(&stdout), "bootlog: 0 passed, 0 failed, 0 skipped");
        // Nothing expected: nothing wrong.
        let (code, stdout, _) = check(name, &[]);
        assert_eq!(code, 0, "{name}: {stdout}");
        assert_eq!(stdout, "bootlog: 0 passed, 0 failed, 0 skipped\n");
    }
}

#[test]
fn ktap_subcommand() {
    let path = fixture("runner.ktap");
    let out = bootlog(&[
        "ktap",
        "--expect-done",
        "--expect-suite",
        "heap_alloc",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "heaps: camera default_cma_region display system video@78000000\n\
bootlog: 10 passed, 0 failed, 1 skipped\n"
    );
    // A KTAP file without KTAP is a failure even with nothing expected.
    let out = bootlog(&["ktap", fixture("empty.log").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty.log: no KTAP found\n"));
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    let (code, stdout, stderr) = check("no-such.log", &[]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("bootlog: error: cannot read "),
        "{stderr}"
    );
    assert!(stderr.contains("no-such.log"), "{stderr}");

    let dir = fixture("");
    let out = bootlog(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["check"][..],
        &["check", "--format", "xml", "x.log"],
        &["check", "--allow", "", "x.log"],
        &["check", "--no-such-option", "x.log"],
        &["frobnicate"],
        &[],
    ] {
        let out = bootlog(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn help_documents_exit_codes() {
    let out = bootlog(&["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit status:"), "{help}");
    assert!(help.contains("2  unusable input"), "{help}");
    for option in [
        "--expect-suite",
        "--expect-done",
        "--allow",
        "--require-line",
        "--forbid-line",
        "--timed-out",
        "--format",
    ] {
        assert!(help.contains(option), "{option}");
    }
}

#[test]
fn reads_standard_input() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bootlog"))
        .args(["check", "--expect-done", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn bootlog");
    let log = std::fs::read(fixture("clean.log")).expect("fixture");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&log)
        .expect("write log");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("bootlog: 20 passed, 0 failed, 2 skipped\n")
    );
}
