//! The checks: from a log (or a KTAP file) and the options to a [`Report`].

use serde::Serialize;

use crate::console::{self, Line};
use crate::expect::{self, Expected, Finding};
use crate::ktap::{self, Document, Parsed, Status};
use crate::scan;

/// What the caller expects of the log.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Suites that must be present (`--expect-suite`).
    pub expect_suites: Vec<String>,
    /// The runner's `# runner: done` line must be present (`--expect-done`).
    pub expect_done: bool,
    /// Kernel lines containing any of these are not problems (`--allow`).
    pub allow: Vec<String>,
    /// Each must be in some kernel line (`--require-line`).
    pub require_lines: Vec<String>,
    /// None may be in any kernel line (`--forbid-line`).
    pub forbid_lines: Vec<String>,
    /// QEMU was killed by the time limit (`--timed-out`).
    pub timed_out: bool,
    /// The cases the runner must run, and the skips the boot declared
    /// (`--expect-cases`).
    pub expect_cases: Option<Expected>,
}

/// Which stream a document came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Kernel printk lines (KUnit).
    Kernel,
    /// Console lines without a printk timestamp (the userspace runner).
    Runner,
    /// A file of KTAP only (`bootlog ktap`).
    Ktap,
}

impl Stream {
    fn label(self) -> &'static str {
        match self {
            Stream::Kernel => "kernel",
            Stream::Runner => "runner",
            Stream::Ktap => "ktap",
        }
    }
}

/// Kinds of problems; each makes the check fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A `not ok` test (not SKIP/TODO/XFAIL).
    TestFailed,
    /// A test whose result line never came (its output was cut off).
    NoResultLine,
    /// Fewer results than the plan announced.
    MissingResult,
    /// A result numbered beyond the plan.
    ExtraResult,
    /// Two results with the same number in one document.
    DuplicateResult,
    /// A second plan in one document.
    ExtraPlan,
    /// No KTAP document at all.
    NoKtap,
    /// An `--expect-suite` suite that is not in the log.
    MissingSuite,
    /// `--expect-done` and no `# runner: done`.
    RunnerNotDone,
    /// A kernel line that reports a problem (oops, WARNING, ...).
    Kernel,
    /// No kernel line contains a `--require-line` text.
    RequiredLineMissing,
    /// A kernel line contains a `--forbid-line` text.
    ForbiddenLine,
    /// `--timed-out`: QEMU was killed by the time limit.
    Timeout,
    /// An `--expect-cases` case that has no result.
    ExpectedCaseMissing,
    /// A skip `--expect-cases` does not declare: of a listed case with
    /// another reason (or none allowed), or of a case it does not list.
    UndeclaredSkip,
}

/// One reason the check fails.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The log line at fault, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// One line of text for a human.
    pub message: String,
    /// Lines printed before the failure (a failed test's diagnostics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

impl Problem {
    fn new(kind: ProblemKind, line: Option<usize>, message: String) -> Problem {
        Problem {
            kind,
            line,
            message,
            context: Vec::new(),
        }
    }
}

/// When the kernel started `/init`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Boot {
    /// The printk timestamp of `Run /init as init process`, in seconds.
    pub seconds: f64,
    /// The init program (`/init`).
    pub init: String,
    /// Line number of that kernel line.
    pub line: usize,
}

/// The documents of one stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamDocuments {
    /// The stream.
    pub stream: Stream,
    /// Its top-level KTAP documents.
    pub documents: Vec<Document>,
}

/// The verdict on one log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The file, as named on the command line.
    pub file: String,
    /// `true` if there is no problem.
    pub ok: bool,
    /// Leaf tests that passed.
    pub passed: u64,
    /// Leaf tests that failed, plus expected results that never arrived.
    pub failed: u64,
    /// Leaf tests skipped (SKIP) or expected to fail (TODO/XFAIL).
    pub skipped: u64,
    /// QEMU was killed by the time limit.
    pub timed_out: bool,
    /// When `/init` started, if the kernel said so.
    pub boot: Option<Boot>,
    /// The heaps named by the runner's `# heaps:` line, if it printed one.
    pub heaps: Option<Vec<String>>,
    /// Whether the runner printed `# runner: done`.
    pub runner_done: bool,
    /// The parsed KTAP, per stream.
    pub streams: Vec<StreamDocuments>,
    /// Everything that makes the check fail, by line number.
    pub problems: Vec<Problem>,
}

/// Checks a QEMU console log.
pub fn check_log(file: &str, bytes: &[u8], options: &Options) -> Report {
    let streams = console::split(bytes);
    let kernel = parse_lines(&streams.kernel);
    let runner = parse_lines(&streams.console);
    let mut report = Report::new(file, options);
    report.boot = find_boot(&streams.kernel);
    report.read_runner_comments(&streams.console);

    for finding in scan::scan(&streams.kernel, &kernel, &options.allow) {
        report.problems.push(Problem::new(
            ProblemKind::Kernel,
            Some(finding.line),
            format!("kernel problem ({}): {}", finding.kind, finding.text),
        ));
    }
    for needle in &options.require_lines {
        if !streams
            .kernel
            .iter()
            .any(|l| l.text.contains(needle.as_str()))
        {
            report.problems.push(Problem::new(
                ProblemKind::RequiredLineMissing,
                None,
                format!("no kernel line contains required text: {needle}"),
            ));
        }
    }
    for line in &streams.kernel {
        for needle in &options.forbid_lines {
            if line.text.contains(needle.as_str()) {
                report.problems.push(Problem::new(
                    ProblemKind::ForbiddenLine,
                    Some(line.number),
                    format!(
                        "kernel line contains forbidden text '{needle}': {}",
                        line.text.trim()
                    ),
                ));
            }
        }
    }

    report.add_stream(Stream::Kernel, kernel.documents);
    report.add_stream(Stream::Runner, runner.documents);
    report.check_cases(Stream::Runner, options);
    report.finish(options, streams.total_lines, false);
    report
}

/// Checks a file that holds only KTAP (no log scanner).
pub fn check_ktap(file: &str, bytes: &[u8], options: &Options) -> Report {
    let lines = console::lines(bytes);
    let parsed = parse_lines(&lines);
    let mut report = Report::new(file, options);
    report.read_runner_comments(&lines);
    report.add_stream(Stream::Ktap, parsed.documents);
    report.check_cases(Stream::Ktap, options);
    report.finish(options, lines.len(), true);
    report
}

fn parse_lines(lines: &[Line]) -> Parsed {
    ktap::parse(lines.iter().map(|l| (l.number, l.text.as_str())))
}

/// The kernel's `Run /init as init process` line.
fn find_boot(kernel: &[Line]) -> Option<Boot> {
    kernel.iter().find_map(|line| {
        let rest = line.text.trim().strip_prefix("Run ")?;
        let init = rest.strip_suffix(" as init process")?;
        Some(Boot {
            seconds: line.time?,
            init: init.to_string(),
            line: line.number,
        })
    })
}

/// Adds the counts and problems of one document tree.
struct Walker<'a> {
    stream: Stream,
    passed: u64,
    failed: u64,
    skipped: u64,
    /// How many times something was added to `failed` (which saturates).
    failures: usize,
    problems: &'a mut Vec<Problem>,
}

impl Walker<'_> {
    fn fail(&mut self, count: u64) {
        self.failed = self.failed.saturating_add(count);
        self.failures += 1;
    }

    fn problem(&mut self, kind: ProblemKind, line: usize, message: String) {
        self.problems.push(Problem::new(kind, Some(line), message));
    }

    /// "suite heap_alloc", or the top-level document.
    fn place(path: &str, doc: &Document) -> String {
        if path.is_empty() {
            format!("top-level document (line {})", doc.line)
        } else {
            format!("suite {path}")
        }
    }

    fn walk(&mut self, doc: &Document, path: &str) {
        let label = self.stream.label();
        self.check_numbers(doc, path);
        for &line in &doc.extra_plans {
            self.problem(
                ProblemKind::ExtraPlan,
                line,
                format!("{label} second plan in {}", Self::place(path, doc)),
            );
        }
        for test in &doc.tests {
            let full = test.path_in(path);
            let failures_before = self.failures;
            let has_subtests = test.has_subtests();
            if let Some(sub) = &test.subtests {
                self.walk(sub, &full);
            }
            let subtest_failed = self.failures > failures_before;
            match test.status {
                Status::Pass if !has_subtests => self.passed = self.passed.saturating_add(1),
                Status::Skip | Status::Todo if !has_subtests => {
                    self.skipped = self.skipped.saturating_add(1)
                }
                Status::Pass | Status::Skip | Status::Todo => {}
                Status::Fail => {
                    if !subtest_failed {
                        self.fail(1);
                    }
                    if !subtest_failed || !has_subtests {
                        let directive = test
                            .directive
                            .as_ref()
                            .map(|d| format!(" (# {d})"))
                            .unwrap_or_default();
                        let mut p = Problem::new(
                            ProblemKind::TestFailed,
                            Some(test.line),
                            format!("{label} test failed: {full}{directive}"),
                        );
                        p.context = test.log.clone();
                        self.problems.push(p);
                    }
                }
                Status::Incomplete => {
                    if !subtest_failed {
                        self.fail(1);
                    }
                    let mut p = Problem::new(
                        ProblemKind::NoResultLine,
                        Some(test.line),
                        format!("{label} test has no result line: {full} (its output stops)"),
                    );
                    if let Some(sub) = &test.subtests {
                        p.context = sub.log.clone();
                    }
                    self.problems.push(p);
                }
            }
        }
    }

    /// Missing, duplicate and out-of-plan result numbers.
    fn check_numbers(&mut self, doc: &Document, path: &str) {
        let label = self.stream.label();
        let mut numbers: Vec<u64> = doc.tests.iter().map(|t| t.number).collect();
        numbers.sort_unstable();
        let mut duplicates: Vec<u64> = numbers
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        duplicates.dedup();
        for number in duplicates {
            let line = doc
                .tests
                .iter()
                .filter(|t| t.number == number)
                .nth(1)
                .map_or(doc.line, |t| t.line);
            self.problem(
                ProblemKind::DuplicateResult,
                line,
                format!(
                    "{label} duplicate result number {number} in {}",
                    Self::place(path, doc)
                ),
            );
        }
        numbers.dedup();
        let Some(plan) = &doc.plan else {
            return;
        };
        for test in doc
            .tests
            .iter()
            .filter(|t| t.number > plan.count || t.number == 0)
        {
            self.problem(
                ProblemKind::ExtraResult,
                test.line,
                format!(
                    "{label} result beyond plan: {} is number {} but {} planned 1..{}",
                    if test.name.is_empty() {
                        "(unnamed)"
                    } else {
                        &test.name
                    },
                    test.number,
                    Self::place(path, doc),
                    plan.count
                ),
            );
        }
        let in_plan: Vec<u64> = numbers
            .into_iter()
            .filter(|&n| n >= 1 && n <= plan.count)
            .collect();
        // u128: the number after u64::MAX must not wrap nor saturate.
        let mut missing: Vec<(u128, u128)> = Vec::new();
        let mut expected: u128 = 1;
        for &n in &in_plan {
            let n = u128::from(n);
            if n > expected {
                missing.push((expected, n - 1));
            }
            expected = n + 1;
        }
        if expected <= u128::from(plan.count) {
            missing.push((expected, u128::from(plan.count)));
        }
        if missing.is_empty() {
            return;
        }
        let count: u128 = missing.iter().map(|&(a, b)| b - a + 1).sum();
        self.fail(u64::try_from(count).unwrap_or(u64::MAX));
        let ranges: Vec<String> = missing
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        let mut p = Problem::new(
            ProblemKind::MissingResult,
            Some(plan.line),
            format!(
                "{label} missing result: {} planned 1..{} but got {} result{}; missing {}",
                Self::place(path, doc),
                plan.count,
                in_plan.len(),
                if in_plan.len() == 1 { "" } else { "s" },
                ranges.join(", ")
            ),
        );
        p.context = doc.log.clone();
        self.problems.push(p);
    }
}

impl Report {
    fn new(file: &str, options: &Options) -> Report {
        Report {
            file: file.to_string(),
            ok: true,
            passed: 0,
            failed: 0,
            skipped: 0,
            timed_out: options.timed_out,
            boot: None,
            heaps: None,
            runner_done: false,
            streams: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// `# heaps: ...` and `# runner: done`.
    fn read_runner_comments(&mut self, lines: &[Line]) {
        for line in lines {
            let text = line.text.trim();
            if let Some(heaps) = text.strip_prefix("# heaps:") {
                self.heaps = Some(heaps.split_whitespace().map(str::to_string).collect());
            } else if text.strip_prefix("# runner: done").is_some() {
                self.runner_done = true;
            }
        }
    }

    fn add_stream(&mut self, stream: Stream, documents: Vec<Document>) {
        let mut walker = Walker {
            stream,
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: 0,
            problems: &mut self.problems,
        };
        for doc in &documents {
            walker.walk(doc, "");
        }
        let (passed, failed, skipped) = (walker.passed, walker.failed, walker.skipped);
        self.passed = self.passed.saturating_add(passed);
        self.failed = self.failed.saturating_add(failed);
        self.skipped = self.skipped.saturating_add(skipped);
        self.streams.push(StreamDocuments { stream, documents });
    }

    /// `--expect-cases` against the documents of `stream` (the runner's:
    /// the list names the runner's cases, not KUnit's).
    fn check_cases(&mut self, stream: Stream, options: &Options) {
        let Some(expected) = &options.expect_cases else {
            return;
        };
        let docs: &[Document] = self
            .streams
            .iter()
            .find(|s| s.stream == stream)
            .map_or(&[], |s| &s.documents);
        let label = stream.label();
        let mut problems = Vec::new();
        for finding in expect::check(docs, expected) {
            let message = finding.message(label);
            problems.push(match finding {
                Finding::Missing { .. } => {
                    self.failed = self.failed.saturating_add(1);
                    Problem::new(ProblemKind::ExpectedCaseMissing, None, message)
                }
                Finding::Undeclared { line, .. } => {
                    Problem::new(ProblemKind::UndeclaredSkip, Some(line), message)
                }
            });
        }
        self.problems.extend(problems);
    }

    /// Suite names: the tests directly under a top-level document.
    fn has_suite(&self, name: &str) -> bool {
        self.streams
            .iter()
            .flat_map(|s| &s.documents)
            .flat_map(|d| &d.tests)
            .any(|t| {
                t.name == name || t.subtests.as_ref().and_then(|s| s.name.as_deref()) == Some(name)
            })
    }

    fn finish(&mut self, options: &Options, total_lines: usize, ktap_only: bool) {
        let any_ktap = self.streams.iter().any(|s| !s.documents.is_empty());
        if !any_ktap
            && (ktap_only || !options.expect_suites.is_empty() || options.expect_cases.is_some())
        {
            let expected = if options.expect_suites.is_empty() {
                String::new()
            } else {
                format!(" (expected suites: {})", options.expect_suites.join(", "))
            };
            let what = if ktap_only { "" } else { " in either stream" };
            self.problems.push(Problem::new(
                ProblemKind::NoKtap,
                None,
                format!("no KTAP found{what}{expected}"),
            ));
        } else {
            for suite in &options.expect_suites {
                if !self.has_suite(suite) {
                    self.problems.push(Problem::new(
                        ProblemKind::MissingSuite,
                        None,
                        format!("expected suite not found: {suite}"),
                    ));
                }
            }
        }
        if options.expect_done && !self.runner_done {
            self.problems.push(Problem::new(
                ProblemKind::RunnerNotDone,
                None,
                format!("runner did not finish: no '# runner: done' line (log ends at line {total_lines})"),
            ));
        }
        if options.timed_out {
            self.problems.push(Problem::new(
                ProblemKind::Timeout,
                None,
                format!(
                    "timeout: QEMU was killed by the time limit (log ends at line {total_lines})"
                ),
            ));
        }
        // By line; the ones without a line last, in the order above.
        self.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        self.ok = self.problems.is_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(report: &Report) -> Vec<(ProblemKind, Option<usize>)> {
        report.problems.iter().map(|p| (p.kind, p.line)).collect()
    }

    const RUNNER: &str = "\
KTAP version 1
1..2
# heaps: camera default_cma_region reserved system
    KTAP version 1
    # Subtest: heap_list
    1..2
    ok 1 lists_camera
    ok 2 skips_private # SKIP no private pool
ok 1 heap_list
    KTAP version 1
    # Subtest: heap_alloc
    1..4
    ok 1 one_page
    ok 2 zero_size
    ok 3 too_big
ok 2 heap_alloc
# runner: done
";

    #[test]
    fn counts_leaves_and_reports_missing_results() {
        let options = Options {
            expect_suites: vec!["heap_list".into(), "heap_mmap".into()],
            expect_done: true,
            ..Options::default()
        };
        let report = check_ktap("runner.ktap", RUNNER.as_bytes(), &options);
        assert_eq!((report.passed, report.failed, report.skipped), (4, 1, 1));
        assert_eq!(
            report.heaps,
            Some(vec![
                "camera".to_string(),
                "default_cma_region".into(),
                "reserved".into(),
                "system".into()
            ])
        );
        assert!(report.runner_done);
        assert_eq!(
            kinds(&report),
            vec![
                (ProblemKind::MissingResult, Some(12)),
                (ProblemKind::MissingSuite, None)
            ]
        );
        assert_eq!(
            report.problems[0].message,
            "ktap missing result: suite heap_alloc planned 1..4 but got 3 results; missing 4"
        );
        assert!(!report.ok);
    }

    #[test]
    fn suite_failure_without_failed_leaf_counts_once() {
        let text = "KTAP version 1\n1..2\n    KTAP version 1\n    1..1\n    ok 1 a\nnot ok 1 s\n    KTAP version 1\n    1..1\n    not ok 1 b\nnot ok 2 t\n";
        let report = check_ktap("x", text.as_bytes(), &Options::default());
        assert_eq!((report.passed, report.failed, report.skipped), (1, 2, 0));
        assert_eq!(
            kinds(&report),
            vec![
                (ProblemKind::TestFailed, Some(6)),
                (ProblemKind::TestFailed, Some(9))
            ]
        );
        assert_eq!(report.problems[0].message, "ktap test failed: s");
        assert_eq!(report.problems[1].message, "ktap test failed: t.b");
    }

    #[test]
    fn suite_that_failed_to_initialize() {
        let text = "\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: coherent_heap_regions
    # module: coherent_heap
    1..3
    # coherent_heap_regions: failed to initialize (-12)
not ok 1 coherent_heap_regions
";
        let report = check_ktap("x", text.as_bytes(), &Options::default());
        assert_eq!((report.passed, report.failed, report.skipped), (0, 3, 0));
        assert_eq!(kinds(&report), vec![(ProblemKind::MissingResult, Some(6))]);
        assert_eq!(
            report.problems[0].message,
            "ktap missing result: suite coherent_heap_regions planned 1..3 but got 0 results; missing 1-3"
        );
        assert_eq!(
            report.problems[0].context,
            vec!["# coherent_heap_regions: failed to initialize (-12)"]
        );
    }

    #[test]
    fn extra_duplicate_and_gaps() {
        let text =
            "KTAP version 1\n1..5\nok 1 a\nok 1 again\nok 3 c\nok 7 far\nnot ok 6 x # TODO known\n";
        let report = check_ktap("x", text.as_bytes(), &Options::default());
        assert_eq!(
            kinds(&report),
            vec![
                (ProblemKind::MissingResult, Some(2)),
                (ProblemKind::DuplicateResult, Some(4)),
                (ProblemKind::ExtraResult, Some(6)),
                (ProblemKind::ExtraResult, Some(7)),
            ]
        );
        assert!(
            report.problems[0].message.ends_with("missing 2, 4-5"),
            "{}",
            report.problems[0].message
        );
        assert_eq!((report.passed, report.failed, report.skipped), (4, 3, 1));
    }

    #[test]
    fn huge_plan_does_not_allocate_or_overflow() {
        let text = "KTAP version 1\n1..18446744073709551615\nok 18446744073709551615 last\n";
        let report = check_ktap("x", text.as_bytes(), &Options::default());
        assert_eq!(report.failed, 18446744073709551614);
        assert!(report.problems[0]
            .message
            .ends_with("missing 1-18446744073709551614"));
        let text = "KTAP version 1\n1..2\n    KTAP version 1\n    1..18446744073709551615\nnot ok 1 s\nnot ok 2 t\n";
        let report = check_ktap("x", text.as_bytes(), &Options::default());
        assert_eq!(report.failed, u64::MAX);
        assert_eq!(report.problems.len(), 2);
    }

    #[test]
    fn log_streams_are_separate() {
        let log = "\
[    0.500000] KTAP version 1\r
[    0.500001] 1..1\r
[    0.500002]     KTAP version 1\r
[    0.500003]     # Subtest: coherent_alloc\r
[    0.500004]     1..1\r
[    0.500005]     ok 1 exact_size\r
[    0.500006] ok 1 coherent_alloc\r
[    0.843211] Run /init as init process\r
KTAP version 1\r
1..1\r
# heaps: camera\r
    KTAP version 1\r
    # Subtest: heap_list\r
    1..1\r
[    1.000000] coherent-heap: camera: 4096 bytes at 0x70000000\r
    ok 1 lists_camera\r
ok 1 heap_list\r
# runner: done\r
";
        let options = Options {
            expect_suites: vec!["coherent_alloc".into(), "heap_list".into()],
            expect_done: true,
            ..Options::default()
        };
        let report = check_log("virt.log", log.as_bytes(), &options);
        assert_eq!(report.problems, vec![]);
        assert_eq!((report.passed, report.failed, report.skipped), (2, 0, 0));
        assert_eq!(
            report.boot,
            Some(Boot {
                seconds: 0.843211,
                init: "/init".into(),
                line: 8
            })
        );
        assert_eq!(report.streams[0].stream, Stream::Kernel);
        assert_eq!(report.streams[1].documents[0].line, 9);
    }

    #[test]
    fn lines_required_forbidden_and_timeout() {
        let log = "[    1.000000] coherent-heap: display@74800000: name collides with display@74000000, refused\n\
[    1.000001] coherent-heap: mapped@75000000: no no-map, refused\n";
        let options = Options {
            require_lines: vec!["name collides".into(), "registered heap".into()],
            forbid_lines: vec!["refused".into()],
            timed_out: true,
            ..Options::default()
        };
        let report = check_log("x", log.as_bytes(), &options);
        assert_eq!(
            kinds(&report),
            vec![
                (ProblemKind::ForbiddenLine, Some(1)),
                (ProblemKind::ForbiddenLine, Some(2)),
                (ProblemKind::RequiredLineMissing, None),
                (ProblemKind::Timeout, None),
            ]
        );
        assert!(report.timed_out);
    }

    /// Random mixes of KTAP fragments, timestamps and junk never panic.
    #[test]
    fn random_input_never_panics() {
        const PIECES: &[&[u8]] = &[
            b"KTAP version 1",
            b"TAP version 14",
            b"1..3",
            b"1..0",
            b"1..18446744073709551615",
            b"ok 1 a",
            b"not ok 2 b # SKIP",
            b"ok 18446744073709551615 max",
            b"not ok 0 zero # TODO",
            b"# Subtest: s",
            b"# Subtest",
            b"# heaps: camera",
            b"# runner: done",
            b"    ",
            b"  ",
            b"\t",
            b"[    1.000000] ",
            b"[    2.000000][    T1] ",
            b"[ 3.0",
            b"Call trace:",
            b"WARNING: x",
            b"\r",
            b"\x1b[",
            b"\xff\xfe",
            b"\xe2\x82",
            b"-",
            b"#",
            b"\n",
            b"\n",
            b"\n",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let options = Options {
            expect_suites: vec!["s".into()],
            expect_done: true,
            allow: vec!["x".into()],
            require_lines: vec!["a".into()],
            forbid_lines: vec!["b".into()],
            timed_out: true,
            expect_cases: Some(
                Expected::parse("s.a must-pass\ns.b may-skip x\ns.* may-skip y\n").unwrap(),
            ),
        };
        for _ in 0..3000 {
            let mut log = Vec::new();
            for _ in 0..(next() % 60) {
                let piece = PIECES[(next() % PIECES.len() as u64) as usize];
                log.extend_from_slice(piece);
            }
            let report = check_log("fuzz", &log, &options);
            let mut out = Vec::new();
            crate::output::write_human(&mut out, &report).unwrap();
            crate::output::write_json(&mut out, &report).unwrap();
            let report = check_ktap("fuzz", &log, &options);
            crate::output::write_human(&mut out, &report).unwrap();
        }
    }

    #[test]
    fn no_ktap() {
        let options = Options {
            expect_suites: vec!["heap_list".into()],
            ..Options::default()
        };
        let report = check_log("x", b"\x00\xff garbage", &options);
        assert_eq!(kinds(&report), vec![(ProblemKind::NoKtap, None)]);
        assert_eq!(
            report.problems[0].message,
            "no KTAP found in either stream (expected suites: heap_list)"
        );
        // Without expectations a log without tests is fine...
        assert!(check_log("x", b"", &Options::default()).ok);
        // ...but a KTAP file must have KTAP.
        let report = check_ktap("x", b"", &Options::default());
        assert_eq!(report.problems[0].message, "no KTAP found");
    }
}
