//! A KTAP (version 1) test runner that prints in KUnit's shape
//! (`Documentation/dev-tools/ktap.rst`, `lib/kunit/test.c`):
//!
//! ```text
//! KTAP version 1
//! # heaps: system
//! 1..2
//!     KTAP version 1
//!     # Subtest: suite_a
//!     1..2
//!     ok 1 case_one
//!     # case_two: what went wrong
//!     not ok 2 case_two
//! # suite_a: pass:1 fail:1 skip:0 total:2
//! not ok 1 suite_a
//!     KTAP version 1
//!     # Subtest: suite_b
//!     1..1
//!     ok 1 only_case # SKIP why
//! ok 2 suite_b # SKIP why
//! ```
//!
//! Every line is flushed as soon as it is written, so output cut off by a
//! time limit is still usable up to the last complete line.
//!
//! A case that runs a program printing TAP of its own (the kernel's
//! selftests) nests that output one level deeper, right before its own
//! result line, as the KTAP spec nests a subtest ([`Log::nested`]): the
//! parser that reads the runner's output judges those results too.
//!
//! Each case also says what a boot may see of it besides a pass
//! ([`Expect`]); [`list`] gives every case with that declaration without
//! running any (`dma-heap test --list`).
//!
//! Cases are isolated with `catch_unwind`: a panicking case fails and the
//! run goes on. That needs unwinding, so the crate refuses to build with
//! `panic = "abort"` (see `lib.rs`).

use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;

/// KUnit's indentation for one nesting level.
pub const INDENT: &str = "    ";

/// How a test case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed; the message is printed as diagnostic lines before the result.
    Fail(String),
    /// Skipped; the reason follows `# SKIP` on the result line.
    Skip(String),
}

/// What a case prints before its result line: diagnostics, and the TAP
/// output of a program it ran, nested one level deeper.
#[derive(Debug, Default)]
pub struct Log {
    lines: Vec<String>,
    nested: Vec<String>,
}

impl Log {
    /// Adds a diagnostic line (`# case: text`).
    pub fn note(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// Adds lines printed as they are, one level deeper than the case's
    /// result line, after its diagnostics: the case's subtest document
    /// (a selftest's own TAP output). Each line is kept to one line.
    pub fn nested(&mut self, lines: impl IntoIterator<Item = String>) {
        self.nested.extend(lines.into_iter().map(|l| one_line(&l)));
    }
}

/// What a boot may see of a case besides a pass: the declaration the
/// result is judged against (`dma-heap test --list`, `bootlog
/// --expect-cases`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "expect", content = "reason", rename_all = "kebab-case")]
pub enum Expect {
    /// It must run and pass.
    MustPass,
    /// It may skip, with exactly this reason; else it must pass.
    MaySkip(String),
}

/// The body of a test case.
pub type CaseFn<C> = Box<dyn FnOnce(&C, &mut Log) -> Outcome>;

/// A named test case.
pub struct Case<C> {
    /// The name as printed (see [`test_name`]).
    pub name: String,
    /// What a boot may see of it besides a pass.
    pub expect: Expect,
    /// Reasons the results nested under it ([`Log::nested`]) may skip for;
    /// any other nested skip is unexpected.
    pub nested_may_skip: Vec<String>,
    run: CaseFn<C>,
}

impl<C> Case<C> {
    /// A case running `f` that must pass. `name` is normalised with
    /// [`test_name`].
    pub fn new(
        name: impl AsRef<str>,
        f: impl FnOnce(&C, &mut Log) -> Outcome + 'static,
    ) -> Case<C> {
        Case {
            name: test_name(name.as_ref()),
            expect: Expect::MustPass,
            nested_may_skip: Vec::new(),
            run: Box::new(f),
        }
    }

    /// This case, declared to skip with `reason` if `declared` (it still
    /// runs: the skip must come from the case itself, with that reason).
    pub fn may_skip_if(self, declared: bool, reason: impl Into<String>) -> Case<C> {
        if declared {
            Case {
                expect: Expect::MaySkip(reason.into()),
                ..self
            }
        } else {
            self
        }
    }

    /// This case, with its nested results declared to skip with `reason`
    /// if `declared`.
    pub fn nested_may_skip_if(mut self, declared: bool, reason: impl Into<String>) -> Case<C> {
        if declared {
            self.nested_may_skip.push(reason.into());
        }
        self
    }
}

impl<C> std::fmt::Debug for Case<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

/// One case of [`list`]: where it is and what a boot may see of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// `SUITE.CASE`, as KTAP parsers name it; `SUITE.CASE.*` stands for
    /// every result nested under the case.
    pub name: String,
    /// The declaration.
    #[serde(flatten)]
    pub expect: Expect,
}

impl Listed {
    /// The line of `dma-heap test --list`: `NAME must-pass` or
    /// `NAME may-skip REASON`.
    pub fn line(&self) -> String {
        match &self.expect {
            Expect::MustPass => format!("{} must-pass", self.name),
            Expect::MaySkip(r) => format!("{} may-skip {}", self.name, one_line(r)),
        }
    }
}

/// Every case of `suites` for `ctx` with its declaration, without running
/// any: the cases as [`run`] would list them.
pub fn list<C>(suites: &[Suite<C>], ctx: &C) -> Vec<Listed> {
    let mut out = Vec::new();
    for suite in suites {
        for case in list_cases(suite, ctx) {
            let name = format!("{}.{}", suite.name, case.name);
            for r in &case.nested_may_skip {
                out.push(Listed {
                    name: format!("{name}.*"),
                    expect: Expect::MaySkip(r.clone()),
                });
            }
            out.push(Listed {
                name,
                expect: case.expect,
            });
        }
    }
    out
}

/// The cases of `suite`; a panic while listing becomes one failing case.
fn list_cases<C>(suite: &Suite<C>, ctx: &C) -> Vec<Case<C>> {
    match catch_unwind(AssertUnwindSafe(|| (suite.cases)(ctx))) {
        Ok(c) => c,
        Err(p) => {
            let msg = format!("listing test cases panicked: {}", panic_text(&p));
            vec![Case::new("list_cases", move |_, _| Outcome::Fail(msg))]
        }
    }
}

/// A test suite: a name and a function listing its cases for a context.
///
/// Cases are listed before any runs, so the plan line (`1..N`) is exact.
pub struct Suite<C> {
    /// Suite name (`[a-z0-9_]`).
    pub name: &'static str,
    /// Lists the cases.
    pub cases: fn(&C) -> Vec<Case<C>>,
}

/// Pass/fail/skip counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Cases passed.
    pub pass: usize,
    /// Cases failed.
    pub fail: usize,
    /// Cases skipped.
    pub skip: usize,
}

impl Totals {
    /// All cases counted.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.skip
    }

    fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Pass => self.pass += 1,
            Outcome::Fail(_) => self.fail += 1,
            Outcome::Skip(_) => self.skip += 1,
        }
    }
}

/// Test names are `[a-z0-9_]` (KTAP parsers stop at `#` and spaces confuse
/// them): lowercase, everything else becomes `_`.
pub fn test_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if n.is_empty() {
        "unnamed".into()
    } else {
        n
    }
}

/// One line of free text: no newlines (and so no way to fake a result line).
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes KTAP lines, flushing after each.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Wraps `out`.
    pub fn new(out: W) -> Writer<W> {
        Writer { out }
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes `line` at nesting `level` and flushes.
    pub fn line(&mut self, level: usize, line: &str) -> io::Result<()> {
        for _ in 0..level {
            self.out.write_all(INDENT.as_bytes())?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// `# text` at `level`; multi-line text becomes several lines.
    pub fn diag(&mut self, level: usize, text: &str) -> io::Result<()> {
        for l in text.lines() {
            self.line(level, &format!("# {l}"))?;
        }
        Ok(())
    }

    /// `ok N name`, `not ok N name` or `ok N name # SKIP reason`.
    pub fn result(
        &mut self,
        level: usize,
        n: usize,
        name: &str,
        outcome: &Outcome,
    ) -> io::Result<()> {
        let name = test_name(name);
        let line = match outcome {
            Outcome::Pass => format!("ok {n} {name}"),
            Outcome::Fail(_) => format!("not ok {n} {name}"),
            Outcome::Skip(r) if r.is_empty() => format!("ok {n} {name} # SKIP"),
            Outcome::Skip(r) => format!("ok {n} {name} # SKIP {}", one_line(r)),
        };
        self.line(level, &line)
    }
}

/// Runs `suites` against `ctx`, printing KTAP to `out`: the version line,
/// `header` as diagnostic lines, the plan, then each suite as a subtest.
pub fn run<C, W: Write>(
    out: &mut Writer<W>,
    header: &[String],
    suites: &[Suite<C>],
    ctx: &C,
) -> io::Result<Totals> {
    out.line(0, "KTAP version 1")?;
    for h in header {
        out.diag(0, h)?;
    }
    out.line(0, &format!("1..{}", suites.len()))?;
    let mut all = Totals::default();
    for (i, suite) in suites.iter().enumerate() {
        let t = run_suite(out, i + 1, suite, ctx)?;
        all.pass += t.pass;
        all.fail += t.fail;
        all.skip += t.skip;
    }
    Ok(all)
}

fn run_suite<C, W: Write>(
    out: &mut Writer<W>,
    number: usize,
    suite: &Suite<C>,
    ctx: &C,
) -> io::Result<Totals> {
    let cases = list_cases(suite, ctx);
    out.line(1, "KTAP version 1")?;
    out.line(1, &format!("# Subtest: {}", suite.name))?;
    out.line(1, &format!("1..{}", cases.len()))?;

    let mut totals = Totals::default();
    let mut skip_reasons: Vec<String> = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let name = case.name;
        let run = case.run;
        let mut log = Log::default();
        let outcome = match catch_unwind(AssertUnwindSafe(|| run(ctx, &mut log))) {
            Ok(o) => o,
            Err(p) => Outcome::Fail(format!("panicked: {}", panic_text(&p))),
        };
        for l in &log.lines {
            out.diag(1, &format!("{name}: {}", one_line(l)))?;
        }
        if let Outcome::Fail(msg) = &outcome {
            for l in msg.lines() {
                out.diag(1, &format!("{name}: {l}"))?;
            }
        }
        for l in &log.nested {
            out.line(2, l)?;
        }
        if let Outcome::Skip(r) = &outcome {
            if !skip_reasons.contains(r) {
                skip_reasons.push(r.clone());
            }
        }
        out.result(1, i + 1, &name, &outcome)?;
        totals.add(&outcome);
    }

    if totals.total() > 1 {
        out.diag(
            0,
            &format!(
                "{}: pass:{} fail:{} skip:{} total:{}",
                suite.name,
                totals.pass,
                totals.fail,
                totals.skip,
                totals.total()
            ),
        )?;
    }
    // KUnit: a suite fails if any case failed, is skipped if every case
    // was (or it has none), and passes otherwise.
    let outcome = if totals.fail > 0 {
        Outcome::Fail(String::new())
    } else if totals.pass == 0 {
        Outcome::Skip(if skip_reasons.len() == 1 {
            skip_reasons.remove(0)
        } else {
            String::new()
        })
    } else {
        Outcome::Pass
    };
    out.result(0, number, suite.name, &outcome)?;
    Ok(totals)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ctx {
        value: u32,
    }

    fn suite_a(_: &Ctx) -> Vec<Case<Ctx>> {
        vec![
            Case::new("case_one", |c: &Ctx, _: &mut Log| {
                if c.value == 7 {
                    Outcome::Pass
                } else {
                    Outcome::Fail("bad".into())
                }
            }),
            Case::new("Case Two#4K", |_: &Ctx, log: &mut Log| {
                log.note("trying\nhard");
                Outcome::Fail("expected EINVAL\ngot ENOMEM".into())
            }),
            Case::new("case_three", |_: &Ctx, _: &mut Log| {
                Outcome::Skip("needs\nhardware".into())
            }),
        ]
    }

    fn suite_b(_: &Ctx) -> Vec<Case<Ctx>> {
        let skip = |_: &Ctx, _: &mut Log| Outcome::Skip("driver not present".into());
        vec![
            Case::new("only", skip).may_skip_if(true, "driver not present"),
            Case::new("other", skip).may_skip_if(false, "never declared"),
        ]
    }

    fn suite_c(_: &Ctx) -> Vec<Case<Ctx>> {
        vec![Case::new("single", |_: &Ctx, _: &mut Log| Outcome::Pass)]
    }

    fn suite_empty(_: &Ctx) -> Vec<Case<Ctx>> {
        Vec::new()
    }

    #[test]
    fn prints_kunit_shape() {
        let suites = [
            Suite {
                name: "suite_a",
                cases: suite_a,
            },
            Suite {
                name: "suite_b",
                cases: suite_b,
            },
            Suite {
                name: "suite_c",
                cases: suite_c,
            },
            Suite {
                name: "suite_empty",
                cases: suite_empty,
            },
        ];
        let mut w = Writer::new(Vec::new());
        let totals = run(
            &mut w,
            &["heaps: a b".to_string()],
            &suites,
            &Ctx { value: 7 },
        )
        .unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        let expected = "\
KTAP version 1
# heaps: a b
1..4
    KTAP version 1
    # Subtest: suite_a
    1..3
    ok 1 case_one
    # case_two_4k: trying; hard
    # case_two_4k: expected EINVAL
    # case_two_4k: got ENOMEM
    not ok 2 case_two_4k
    ok 3 case_three # SKIP needs; hardware
# suite_a: pass:1 fail:1 skip:1 total:3
not ok 1 suite_a
    KTAP version 1
    # Subtest: suite_b
    1..2
    ok 1 only # SKIP driver not present
    ok 2 other # SKIP driver not present
# suite_b: pass:0 fail:0 skip:2 total:2
ok 2 suite_b # SKIP driver not present
    KTAP version 1
    # Subtest: suite_c
    1..1
    ok 1 single
ok 3 suite_c
    KTAP version 1
    # Subtest: suite_empty
    1..0
ok 4 suite_empty # SKIP
";
        assert_eq!(text, expected);
        assert_eq!(
            totals,
            Totals {
                pass: 2,
                fail: 1,
                skip: 3
            }
        );
    }

    #[test]
    fn lists_cases_with_their_declarations_without_running_them() {
        fn suite(_: &Ctx) -> Vec<Case<Ctx>> {
            vec![
                Case::new("runs", |_: &Ctx, _: &mut Log| panic!("listing ran a case")),
                Case::new("selftest", |_: &Ctx, _: &mut Log| Outcome::Pass)
                    .may_skip_if(true, "not in\nthe image")
                    .nested_may_skip_if(true, "Could not open vgem -1")
                    .nested_may_skip_if(false, "not declared"),
            ]
        }
        fn broken(_: &Ctx) -> Vec<Case<Ctx>> {
            panic!("cannot list")
        }
        let suites = [
            Suite {
                name: "s",
                cases: suite,
            },
            Suite {
                name: "broken",
                cases: broken,
            },
        ];
        let listed = list(&suites, &Ctx { value: 0 });
        let lines: Vec<String> = listed.iter().map(Listed::line).collect();
        assert_eq!(
            lines,
            [
                "s.runs must-pass",
                "s.selftest.* may-skip Could not open vgem -1",
                "s.selftest may-skip not in; the image",
                "broken.list_cases must-pass",
            ]
        );
        assert_eq!(
            serde_json::to_value(&listed[1]).unwrap(),
            serde_json::json!({"name": "s.selftest.*", "expect": "may-skip", "reason": "Could not open vgem -1"})
        );
        assert_eq!(
            serde_json::to_value(&listed[0]).unwrap(),
            serde_json::json!({"name": "s.runs", "expect": "must-pass"})
        );
    }

    #[test]
    fn nested_output_goes_one_level_deeper_before_the_result() {
        fn suite(_: &Ctx) -> Vec<Case<Ctx>> {
            vec![Case::new("prog", |_: &Ctx, log: &mut Log| {
                log.note("ran for 0.1 s");
                log.nested(["TAP version 13", "1..1", "ok 1 a\rb"].map(String::from));
                Outcome::Fail("exit=1".into())
            })]
        }
        let mut w = Writer::new(Vec::new());
        run(
            &mut w,
            &[],
            &[Suite {
                name: "s",
                cases: suite,
            }],
            &Ctx { value: 0 },
        )
        .unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert!(
            text.contains(
                "    # prog: ran for 0.1 s\n    # prog: exit=1\n        TAP version 13\n        1..1\n        ok 1 a; b\n    not ok 1 prog\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn panicking_case_fails_instead_of_aborting_the_run() {
        fn suite(_: &Ctx) -> Vec<Case<Ctx>> {
            vec![
                Case::new("boom", |_: &Ctx, _: &mut Log| panic!("kaput")),
                Case::new("after", |_: &Ctx, _: &mut Log| Outcome::Pass),
            ]
        }
        let mut w = Writer::new(Vec::new());
        let t = run(
            &mut w,
            &[],
            &[Suite {
                name: "s",
                cases: suite,
            }],
            &Ctx { value: 0 },
        )
        .unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert!(
            text.contains("    # boom: panicked: kaput\n    not ok 1 boom\n    ok 2 after\n"),
            "{text}"
        );
        assert_eq!(t.fail, 1);
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(
            test_name("camera@70000000_alloc_4k"),
            "camera_70000000_alloc_4k"
        );
        assert_eq!(test_name("linux,cma"), "linux_cma");
        assert_eq!(test_name("A b#c"), "a_b_c");
        assert_eq!(test_name(""), "unnamed");
    }

    /// A writer that fails the test if more than one line is ever
    /// buffered without a flush.
    struct FlushCheck {
        pending: Vec<u8>,
        lines: usize,
    }

    impl Write for FlushCheck {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(buf);
            assert!(
                self.pending.iter().filter(|&&b| b == b'\n').count() <= 1,
                "unflushed lines"
            );
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.lines += self.pending.iter().filter(|&&b| b == b'\n').count();
            self.pending.clear();
            Ok(())
        }
    }

    #[test]
    fn flushes_every_line() {
        let mut w = Writer::new(FlushCheck {
            pending: Vec::new(),
            lines: 0,
        });
        let suites = [Suite {
            name: "suite_a",
            cases: suite_a,
        }];
        run(&mut w, &[], &suites, &Ctx { value: 7 }).unwrap();
        let inner = w.into_inner();
        assert!(inner.pending.is_empty());
        assert_eq!(inner.lines, 13);
    }
}
