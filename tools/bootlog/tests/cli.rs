//! Runs the `bootlog` binary on real console logs of this layer's QEMU virt
//! boots, trimmed (`tests/fixtures/`, written by `scripts/bootlog-fixtures`):
//!
//! - `virt-test.log`: `scripts/boot --mode test`, and `virt-test.cases`, the
//!   case list that boot was checked against (`dma-heap test --list --dtb`);
//! - `virt-test-no-module.log`: `scripts/boot --negative no-module`;
//! - `virt-test-no-overlay.log`: `scripts/boot --negative no-overlay`;
//! - `virt-panic.log`: the kernel with no init to be found;
//! - `virt-bench.log`: `scripts/boot --mode bench`, the runner's tables and
//!   its `# bench-figure:` lines;
//! - `runner.ktap`: the runner's lines of `virt-test.log`.
//!
//! The expectations are written so that they hold for fixtures made from
//! another day's boots (`scripts/bootlog-fixtures --check` runs them on
//! fresh ones): counts and heap names come from the fixtures, not from
//! here. Logs that no boot produces (cut off, a result line lost, a
//! skip that is not declared) are made from the real ones in the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture directory: `BOOTLOG_FIXTURES`, else `tests/fixtures`.
fn fixture(name: &str) -> PathBuf {
    match std::env::var_os("BOOTLOG_FIXTURES") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    }
}

fn read(name: &str) -> String {
    let path = fixture(name);
    String::from_utf8(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("fixture is UTF-8")
}

fn bootlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootlog"))
        .args(args)
        .output()
        .expect("run bootlog")
}

/// Runs `bootlog check OPTIONS LOG`; returns (exit code, stdout, stderr).
fn check_path(log: &Path, options: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check"];
    args.extend_from_slice(options);
    args.push(log.to_str().expect("UTF-8 path"));
    let out = bootlog(&args);
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check(name: &str, options: &[&str]) -> (i32, String, String) {
    check_path(&fixture(name), options)
}

fn last_line(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or("")
}

/// `(passed, failed, skipped)` of the summary line.
fn counts(stdout: &str) -> (u64, u64, u64) {
    let line = last_line(stdout);
    let nums: Vec<u64> = line
        .strip_prefix("bootlog: ")
        .unwrap_or_else(|| panic!("no summary line: {stdout}"))
        .split(", ")
        .map(|p| p.split(' ').next().unwrap().parse().unwrap())
        .collect();
    (nums[0], nums[1], nums[2])
}

/// The problem lines of a human summary, without the file's directory.
fn problems(stdout: &str, file: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(file).map(|(_, rest)| rest))
        .map(|rest| rest.trim_start_matches(':').trim_start().to_string())
        .collect()
}

/// A name as the runner's case names spell it (its `ktap::test_name()`): `camera@70000000` is
/// `camera_70000000`.
fn case_name(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect()
}

/// The coherent heaps the case list declares (`coherent_heap.HEAP_present`), as case names
/// spell them (see [`case_name`]).
fn declared_heaps() -> Vec<String> {
    let heaps: Vec<String> = read("virt-test.cases")
        .lines()
        .filter_map(|l| l.strip_prefix("coherent_heap."))
        .filter_map(|l| l.strip_suffix("_present must-pass"))
        .filter(|h| *h != "driver")
        .map(str::to_owned)
        .collect();
    assert!(!heaps.is_empty(), "the case list declares no coherent heap");
    heaps
}

/// A file in a fresh temporary directory; removed with it.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let dir = std::env::temp_dir().join(format!("bootlog-cli-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tmp(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cases_path() -> String {
    fixture("virt-test.cases").to_str().unwrap().to_owned()
}

#[test]
fn real_boot_passes_against_its_case_list() {
    let cases = cases_path();
    let (code, stdout, stderr) = check(
        "virt-test.log",
        &[
            "--expect-done",
            "--expect-suite",
            "dma_coherent_pool",
            "--expect-cases",
            &cases,
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stderr, "");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("boot: ") && lines[0].ends_with(" s to /init"),
        "{stdout}"
    );
    let heaps: Vec<&str> = lines[1]
        .strip_prefix("heaps: ")
        .unwrap()
        .split(' ')
        .collect();
    assert!(heaps.contains(&"system"), "{stdout}");
    // Every heap name is a full node name: camera@70000000, never camera.
    let heaps: Vec<String> = heaps.into_iter().map(case_name).collect();
    for h in declared_heaps() {
        assert!(heaps.contains(&h), "{h}: {stdout}");
    }
    // Every listed case ran; the one declared skip is kmemleak's.
    let (passed, failed, skipped) = counts(&stdout);
    let listed = read("virt-test.cases").lines().count() as u64;
    assert!(passed >= listed - 1, "{passed} passed, {listed} listed");
    assert_eq!((failed, skipped), (0, 1), "{stdout}");
}

#[test]
fn real_boot_json_has_both_streams_and_the_nested_selftest() {
    let path = fixture("virt-test.log");
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
    assert_eq!(v["failed"], 0);
    assert_eq!(v["boot"]["init"], "/init");
    assert_eq!(v["runner_done"], true);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["streams"][0]["stream"], "kernel");
    assert_eq!(v["streams"][1]["stream"], "runner");
    let kunit = &v["streams"][0]["documents"][0]["tests"][0];
    assert_eq!(kunit["name"], "dma_coherent_pool");
    let runner = &v["streams"][1]["documents"][0];
    let suites = runner["tests"].as_array().unwrap();
    assert_eq!(runner["plan"]["count"].as_u64(), Some(suites.len() as u64));
    // The selftest's TAP, nested under the one case its exit code decides.
    let kselftest = suites
        .iter()
        .find(|s| s["name"] == "kselftest_dmabuf_heaps")
        .expect("kselftest suite");
    let case = &kselftest["subtests"]["tests"][0];
    assert_eq!(case["name"], "dmabuf_heap");
    assert_eq!(case["status"], "pass");
    let nested = &case["subtests"];
    assert_eq!(nested["version"], "TAP version 13");
    let results = nested["tests"].as_array().unwrap();
    assert!(!results.is_empty());
    assert_eq!(nested["plan"]["count"].as_u64(), Some(results.len() as u64));
    // 11 results per heap the selftest found.
    let heaps = v["heaps"].as_array().unwrap().len();
    assert_eq!(results.len(), 11 * heaps);
}

#[test]
fn runners_real_ktap_through_bootlog_ktap() {
    let cases = cases_path();
    let ktap = fixture("runner.ktap");
    // The runner's lines only: a kernel record that cut one in two is gone
    // and the two halves are one line again.
    let text = read("runner.ktap");
    let stamped = text.lines().find(|l| {
        l.match_indices('[').any(|(i, _)| {
            let rest = l[i + 1..].trim_start();
            rest.split_once(']').is_some_and(|(t, _)| {
                t.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && !b.is_empty()
                        && b.bytes().all(|c| c.is_ascii_digit())
                })
            })
        })
    });
    assert_eq!(stamped, None, "a kernel line in runner.ktap");
    let out = bootlog(&[
        "ktap",
        "--expect-done",
        "--expect-cases",
        &cases,
        ktap.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("heaps: "), "{stdout}");
    // The same runner results as in the whole log, without KUnit's.
    let (_, whole, _) = check(
        "virt-test.log",
        &["--expect-done", "--expect-cases", &cases],
    );
    let (kp, kf, ks) = counts(&stdout);
    let (wp, wf, ws) = counts(&whole);
    assert!(kp < wp, "{stdout}{whole}");
    assert_eq!((kf, ks), (wf, ws));
    // A KTAP file without KTAP is a failure even with nothing expected.
    let out = bootlog(&["ktap", fixture("empty.log").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty.log: no KTAP found\n"));
}

#[test]
fn boot_without_the_module_fails_naming_every_heap() {
    let cases = cases_path();
    let (code, stdout, _) = check(
        "virt-test-no-module.log",
        &[
            "--format",
            "json",
            "--expect-done",
            "--expect-cases",
            &cases,
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let messages: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    for want in ["runner test failed: coherent_module.module_load"]
        .into_iter()
        .map(String::from)
        .chain(["runner test failed: coherent_heap.driver_present".to_string()])
        .chain(
            declared_heaps()
                .iter()
                .map(|h| format!("runner test failed: coherent_heap.{h}_present")),
        )
    {
        assert!(messages.contains(&want.as_str()), "{want}: {messages:?}");
    }
    // The failure says why, in the runner's words.
    let module_load = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["message"] == "runner test failed: coherent_module.module_load")
        .unwrap();
    assert!(
        module_load["context"][0]
            .as_str()
            .unwrap()
            .contains("no coherent_heap module"),
        "{module_load}"
    );
    // The runner reports it itself: no list needed to fail this boot.
    let (code, stdout, _) = check("virt-test-no-module.log", &["--expect-done"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(counts(&stdout).2, 1, "{stdout}");
}

#[test]
fn boot_without_the_overlay_fails_with_the_cases_missing() {
    let cases = cases_path();
    let (code, stdout, _) = check(
        "virt-test-no-overlay.log",
        &[
            "--format",
            "json",
            "--expect-done",
            "--expect-cases",
            &cases,
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let missing: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "expected_case_missing")
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    for h in std::iter::once("driver".to_string()).chain(declared_heaps()) {
        let want = format!(
            "runner case missing: coherent_heap.{h}_present (the boot must run it; it must pass)"
        );
        assert!(missing.contains(&want.as_str()), "{want}: {missing:?}");
    }
}

#[test]
fn skips_must_be_declared() {
    let tmp = Tmp::new("skips");
    let list = read("virt-test.cases");
    let skip = list
        .lines()
        .find(|l| l.contains(" may-skip "))
        .expect("a declared skip")
        .to_owned();
    let (name, reason) = skip.split_once(" may-skip ").unwrap();
    // Declared to pass instead.
    let must = tmp.write(
        "must.cases",
        &list.replace(&skip, &format!("{name} must-pass")),
    );
    let (code, stdout, _) = check("virt-test.log", &["--expect-cases", must.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!(
            ": runner case skipped for a reason the boot did not declare: {name} (# SKIP {reason}; it must pass)\n"
        )),
        "{stdout}"
    );
    // Another reason.
    let other = tmp.write(
        "other.cases",
        &list.replace(&skip, &format!("{name} may-skip another reason")),
    );
    let (code, stdout, _) = check(
        "virt-test.log",
        &["--expect-cases", other.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("it may only skip with 'another reason')"),
        "{stdout}"
    );
    // Not listed at all.
    let unlisted = tmp.write("unlisted.cases", &list.replace(&format!("{skip}\n"), ""));
    let (code, stdout, _) = check(
        "virt-test.log",
        &["--expect-cases", unlisted.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!(
            ": runner case skipped but not declared to: {name} (# SKIP {reason})\n"
        )),
        "{stdout}"
    );
}

#[test]
fn cut_off_log_is_incomplete_and_misses_cases() {
    let tmp = Tmp::new("cut");
    let log = read("virt-test.log");
    let at = log
        .find("# Subtest: coherent_alloc")
        .expect("coherent_alloc suite");
    let end = at + log[at..].find('\n').unwrap() + 1;
    let cut = tmp.write("cut-off.log", &log[..end]);
    let cases = cases_path();
    let (code, stdout, _) = check_path(&cut, &["--expect-done", "--expect-cases", &cases]);
    assert_eq!(code, 1, "{stdout}");
    let p = problems(&stdout, "cut-off.log");
    assert!(
        p.iter()
            .any(|l| l
                .ends_with("runner test has no result line: coherent_alloc (its output stops)")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("runner case missing: coherent_log.")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l
                .starts_with("runner did not finish: no '# runner: done' line (log ends at line ")),
        "{p:?}"
    );
    let (_, stdout, _) = check_path(&cut, &["--timed-out"]);
    assert!(
        stdout.contains("cut-off.log: timeout: QEMU was killed by the time limit"),
        "{stdout}"
    );
}

#[test]
fn lost_result_line_is_a_missing_result_and_a_missing_case() {
    let tmp = Tmp::new("lost");
    let log = read("virt-test.log");
    let line = log
        .lines()
        .find(|l| l.starts_with("    ok ") && l.trim_end().ends_with(" system_heap_present"))
        .expect("heap_list.system_heap_present result")
        .to_owned();
    let kept: String = log
        .split_inclusive('\n')
        .filter(|l| l.trim_end() != line)
        .collect();
    assert_eq!(
        kept.len() + line.len() + 2,
        log.len(),
        "one \\r\\n line less"
    );
    let lost = tmp.write("lost.log", &kept);
    let cases = cases_path();
    let (code, stdout, _) = check_path(&lost, &["--expect-cases", &cases]);
    assert_eq!(code, 1, "{stdout}");
    let p = problems(&stdout, "lost.log");
    let number = line.split_whitespace().nth(1).unwrap();
    assert!(
        p.iter().any(
            |l| l.contains("runner missing result: suite heap_list planned 1..")
                && l.ends_with(&format!("; missing {number}"))
        ),
        "{p:?}"
    );
    assert!(
        p.iter().any(|l| l
            == "runner case missing: heap_list.system_heap_present (the boot must run it; it must pass)"),
        "{p:?}"
    );
}

#[test]
fn kernel_panic_fails() {
    let (code, stdout, _) = check(
        "virt-panic.log",
        &["--expect-done", "--expect-suite", "dma_coherent_pool"],
    );
    assert_eq!(code, 1, "{stdout}");
    let p = problems(&stdout, "virt-panic.log");
    assert!(
        p.iter().any(|l| l.contains(
            "kernel problem (panic): Kernel panic - not syncing: VFS: Unable to mount root fs"
        )),
        "{p:?}"
    );
    assert!(
        p.last().unwrap().starts_with("runner did not finish"),
        "{p:?}"
    );
}

#[test]
fn garbage_and_empty_input_do_not_panic() {
    for name in ["garbage.bin", "empty.log"] {
        let (code, stdout, stderr) = check(name, &["--expect-suite", "heap_list"]);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert_eq!(
            problems(&stdout, name),
            vec!["no KTAP found in either stream (expected suites: heap_list)".to_string()]
        );
        assert_eq!(last_line(&stdout), "bootlog: 0 passed, 0 failed, 0 skipped");
        // Nothing expected: nothing wrong.
        let (code, stdout, _) = check(name, &[]);
        assert_eq!(code, 0, "{name}: {stdout}");
        assert_eq!(stdout, "bootlog: 0 passed, 0 failed, 0 skipped\n");
    }
}

#[test]
fn unusable_input_exits_2_naming_the_file() {
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

    // A case list that is not one: FILE:LINE.
    let tmp = Tmp::new("list");
    let bad = tmp.write(
        "bad.cases",
        "heap_list.open_system must-pass\nkmemleak.scan_clean\n",
    );
    let (code, stdout, stderr) = check("virt-test.log", &["--expect-cases", bad.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("bad.cases:2: not a case list: 'kmemleak.scan_clean': expected"),
        "{stderr}"
    );
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
        "--expect-cases",
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
    let log = std::fs::read(fixture("virt-test.log")).expect("fixture");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&log)
        .expect("write log");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    let (_, from_file, _) = check("virt-test.log", &["--expect-done"]);
    assert_eq!(
        last_line(&String::from_utf8_lossy(&out.stdout)),
        last_line(&from_file)
    );
}

/// The heaps a bench log's tables name: the first column of the latency table.
fn bench_table_heaps(log: &str) -> Vec<String> {
    log.lines()
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| !l.starts_with("# alloc+free latency"))
        .skip(2)
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn bench_svg_draws_every_heap_of_a_real_bench_boot() {
    let log = fixture("virt-bench.log");
    let out = bootlog(&[
        "bench-svg",
        "--machine",
        "virt",
        "--commit",
        "v0-test",
        log.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let svg = String::from_utf8(out.stdout).unwrap();
    let texts = picture::texts(&svg).expect("an SVG document");
    assert_eq!(texts[0], "dma-heap bench on virt, v0-test");
    // Every heap of the runner's tables is in the picture, by name.
    let heaps = bench_table_heaps(&read("virt-bench.log"));
    assert!(heaps.len() >= 3, "{heaps:?}");
    for h in &heaps {
        assert!(
            texts.iter().any(|t| t.starts_with(&format!("{h} ("))),
            "{h} not in the legend: {texts:?}"
        );
    }
    for panel in [
        "alloc+free latency per size",
        "frames per region",
        "fragmentation after churn",
    ] {
        assert!(texts.iter().any(|t| t == panel), "no panel {panel:?}");
    }
    // A real renderer reads it.
    let dir = std::env::temp_dir().join(format!("bootlog-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg_path, png) = (dir.join("bench.svg"), dir.join("bench.png"));
    let out = bootlog(&[
        "bench-svg",
        "--machine",
        "virt",
        "--commit",
        "v0-test",
        "-o",
        svg_path.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&svg_path).unwrap(), svg);
    let render = |svg: &Path| {
        Command::new("rsvg-convert")
            .arg("-o")
            .arg(&png)
            .arg(svg)
            .output()
            .expect("rsvg-convert not found: run scripts/setup-host (librsvg2-bin)")
    };
    let r = render(&svg_path);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    // And refuses a broken one: the render check can fail.
    let broken = dir.join("broken.svg");
    std::fs::write(&broken, svg.replace("</text>", "")).unwrap();
    assert!(!render(&broken).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_svg_refuses_a_log_without_figures_or_with_a_bad_one() {
    // A test boot has no bench figures.
    let test_log = fixture("virt-test.log");
    let out = bootlog(&[
        "bench-svg",
        "--machine",
        "virt",
        "--commit",
        "x",
        test_log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no bench figures"), "{err}");
    // A figure that does not read is named by its line.
    let dir = std::env::temp_dir().join(format!("bootlog-bench-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.log");
    let text = read("virt-bench.log");
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("# bench-figure: frames "))
        .unwrap();
    std::fs::write(
        &bad,
        text.replacen(line, &line.replace("count=", "count=x"), 1),
    )
    .unwrap();
    let out = bootlog(&[
        "bench-svg",
        "--machine",
        "virt",
        "--commit",
        "x",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "bad.log:{}: not a bench figure: frames figure: count=x",
            n + 1
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_readme_bench_picture_is_drawn_from_the_committed_fixture() {
    // The committed fixture, whatever BOOTLOG_FIXTURES says: the README shows that boot.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = dir.join("tests/fixtures/virt-bench.log");
    let picture = dir.join("../../docs/pictures/virt-bench.svg");
    let out = bootlog(&[
        "bench-svg",
        "--machine",
        "virt",
        "--commit",
        "2e12e87",
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::read(&picture).unwrap() == out.stdout,
        "{} is not what bootlog draws today: run `bootlog bench-svg --machine virt --commit 2e12e87 tools/bootlog/tests/fixtures/virt-bench.log -o docs/pictures/virt-bench.svg`",
        picture.display()
    );
}
