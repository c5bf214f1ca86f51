//! A tolerant KTAP parser.
//!
//! Follows `Documentation/dev-tools/ktap.rst` and what KUnit's
//! `tools/testing/kunit/kunit_parser.py` accepts:
//!
//! - version lines `KTAP version 1`, `TAP version 13`, `TAP version 14`;
//! - plans `1..N` (before or after the results);
//! - results `ok N [-] [description][ # directive]`, with the directives
//!   `SKIP`, `TODO` and `XFAIL` (any other directive falls back to ok/not ok,
//!   as the spec asks);
//! - nesting by indentation: a subtest document is indented further than its
//!   parent (KUnit uses 4 spaces, the spec 2, tabs count to the next multiple
//!   of 4), starts with a version line and/or `# Subtest: NAME` (or, as in
//!   TAP 14, a `# Subtest: NAME` at the parent's level followed by indented
//!   lines) and ends with its result line at the parent's indentation;
//! - diagnostic lines (`# ...`) and unknown lines anywhere, which never change
//!   a result.
//!
//! The input is a stream of lines that may hold several top-level documents
//! in sequence (KUnit at boot, again when a test module loads) surrounded by
//! unrelated output. A document starts at a version line; a version line at
//! or left of the current top-level document's indentation starts the next
//! one. Nothing here fails: a document that stops early (a crash, a cut-off
//! log) is kept with what arrived, and its unfinished subtests are recorded
//! with [`Status::Incomplete`] so that the checks can report them.

use serde::Serialize;

/// How many diagnostic lines are kept for each test.
const LOG_LINES: usize = 8;

/// Outcome of one test, from its result line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `ok` (also `ok ... # TODO` / `# XFAIL`, and unknown directives).
    Pass,
    /// `not ok` without a SKIP, TODO or XFAIL directive.
    Fail,
    /// `# SKIP`, whether `ok` or `not ok`.
    Skip,
    /// `not ok ... # TODO` or `# XFAIL`: an expected failure.
    Todo,
    /// No result line: the output ended or moved on before the test finished.
    Incomplete,
}

/// A plan line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// `N` of `1..N`.
    pub count: u64,
    /// Line number of the plan.
    pub line: usize,
}

/// One test: a result line, and the subtest document it closes, if any.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Test {
    /// The number on the result line (for an incomplete test: the next one).
    pub number: u64,
    /// The description, or the `# Subtest:` name when the description is empty.
    pub name: String,
    /// The outcome.
    pub status: Status,
    /// Line number of the result line (incomplete test: of its first line).
    pub line: usize,
    /// The text after `#` on the result line (e.g. `SKIP not configured`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directive: Option<String>,
    /// The first diagnostic lines printed before the result, for context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// The nested document of a test that has subtests (a suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtests: Option<Document>,
}

impl Test {
    /// Its path under the test whose subtests it is (`parent`, empty at the
    /// top): `parent.name`, or `#N` for a test without a name.
    pub fn path_in(&self, parent: &str) -> String {
        let name = if self.name.is_empty() {
            format!("#{}", self.number)
        } else {
            self.name.clone()
        };
        if parent.is_empty() {
            name
        } else {
            format!("{parent}.{name}")
        }
    }

    /// Whether it has subtests: results, or a plan announcing some.
    pub fn has_subtests(&self) -> bool {
        self.subtests
            .as_ref()
            .is_some_and(|d| !d.tests.is_empty() || d.plan.as_ref().is_some_and(|p| p.count > 0))
    }
}

/// A KTAP document: a top-level one, or the subtests of one test.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Document {
    /// Line number of its first line (normally the version line).
    pub line: usize,
    /// The version line, if the document had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The `# Subtest:` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The plan, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The results, in the order they arrived.
    pub tests: Vec<Test>,
    /// Line numbers of plan lines after the first one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_plans: Vec<usize>,
    /// The first diagnostic lines after its last result (KUnit's
    /// `# suite: pass:1 fail:0 ...`, or why it stopped, e.g.
    /// `# suite: failed to initialize`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

impl Document {
    /// The number the next result should carry.
    fn next_number(&self) -> u64 {
        self.tests.last().map_or(1, |t| t.number.saturating_add(1))
    }
}

/// What [`parse`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// The top-level documents, in order.
    pub documents: Vec<Document>,
    /// Line numbers (ascending) of the lines that were KTAP: version, plan,
    /// result, `# Subtest:` and the diagnostic lines inside a document.
    /// Unknown lines are not in it.
    pub ktap_lines: Vec<usize>,
}

impl Parsed {
    /// Whether line `number` was a KTAP line.
    pub fn is_ktap_line(&self, number: usize) -> bool {
        self.ktap_lines.binary_search(&number).is_ok()
    }
}

/// Parses `(line number, text)` pairs.
pub fn parse<'a, I>(lines: I) -> Parsed
where
    I: IntoIterator<Item = (usize, &'a str)>,
{
    let mut parser = Parser::default();
    for (number, text) in lines {
        parser.feed(number, text);
    }
    parser.finish()
}

/// One kind of KTAP line.
#[derive(Debug, PartialEq)]
enum Kind<'a> {
    Version(&'a str),
    Plan(u64),
    Result(ResultLine<'a>),
    Subtest(&'a str),
    Diagnostic,
    Unknown,
}

/// The parts of a result line.
#[derive(Debug, PartialEq)]
struct ResultLine<'a> {
    ok: bool,
    number: u64,
    description: &'a str,
    directive: Option<&'a str>,
}

impl ResultLine<'_> {
    fn status(&self) -> Status {
        let directive = self.directive.unwrap_or("");
        let word: String = directive
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_uppercase();
        if word.starts_with("SKIP") {
            Status::Skip
        } else if self.ok {
            Status::Pass
        } else if word == "TODO" || word == "XFAIL" {
            Status::Todo
        } else {
            Status::Fail
        }
    }
}

/// Classifies a line with its indentation removed.
fn classify(s: &str) -> Kind<'_> {
    let s = s.trim_end();
    if is_version(s) {
        return Kind::Version(s);
    }
    if let Some(count) = parse_plan(s) {
        return Kind::Plan(count);
    }
    if let Some(result) = parse_result(s) {
        return Kind::Result(result);
    }
    if let Some(rest) = s.strip_prefix('#') {
        let rest = rest.trim_start();
        if let Some(name) = rest.strip_prefix("Subtest:") {
            return Kind::Subtest(name.trim());
        }
        if rest == "Subtest" {
            return Kind::Subtest("");
        }
        return Kind::Diagnostic;
    }
    Kind::Unknown
}

fn is_version(s: &str) -> bool {
    s.strip_prefix("KTAP version ")
        .or_else(|| s.strip_prefix("TAP version "))
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits leading ASCII digits off `s`.
fn split_digits(s: &str) -> (&str, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

fn parse_plan(s: &str) -> Option<u64> {
    let (digits, tail) = split_digits(s.strip_prefix("1..")?);
    let tail = tail.trim_start();
    if digits.is_empty() || !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    digits.parse().ok()
}

fn parse_result(s: &str) -> Option<ResultLine<'_>> {
    let (ok, rest) = match s.strip_prefix("not ok") {
        Some(rest) => (false, rest),
        None => (true, s.strip_prefix("ok")?),
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let (digits, rest) = split_digits(rest.trim_start());
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with([' ', '\t', '#'])) {
        return None;
    }
    let number = digits.parse().ok()?;
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix('-') {
        Some(r) if r.is_empty() || r.starts_with([' ', '\t']) => r.trim_start(),
        _ => rest,
    };
    let (description, directive) = split_directive(rest);
    Some(ResultLine {
        ok,
        number,
        description,
        directive,
    })
}

/// Splits `description # directive`: the directive starts at the first `#`
/// that opens the text or follows whitespace (`test#1` is a description).
fn split_directive(s: &str) -> (&str, Option<&str>) {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return (s[..i].trim(), Some(s[i + 1..].trim()));
        }
    }
    (s.trim(), None)
}

/// Indentation width (a tab moves to the next multiple of 4) and the rest.
fn split_indent(s: &str) -> (usize, &str) {
    let mut width = 0;
    for (i, c) in s.char_indices() {
        match c {
            ' ' => width += 1,
            '\t' => width = (width / 4 + 1) * 4,
            _ => return (width, &s[i..]),
        }
    }
    (width, "")
}

/// A document being read.
#[derive(Debug)]
struct Open {
    doc: Document,
    indent: usize,
    /// A TAP 14 `# Subtest: NAME` at this level, for the next subtest.
    pending_name: Option<String>,
    /// Diagnostic lines since the last result.
    log: Vec<String>,
}

impl Open {
    fn new(line: usize, indent: usize, version: Option<&str>, name: Option<String>) -> Open {
        Open {
            doc: Document {
                line,
                version: version.map(str::to_string),
                name,
                ..Document::default()
            },
            indent,
            pending_name: None,
            log: Vec::new(),
        }
    }

    /// The finished document, with the diagnostics after its last result.
    fn close(self) -> Document {
        Document {
            log: self.log,
            ..self.doc
        }
    }

    /// Records a child document that never got its result line.
    fn adopt_incomplete(&mut self, child: Document) {
        let number = self.doc.next_number();
        self.doc.tests.push(Test {
            number,
            name: child.name.clone().unwrap_or_default(),
            status: Status::Incomplete,
            line: child.line,
            directive: None,
            log: std::mem::take(&mut self.log),
            subtests: Some(child),
        });
    }

    /// Keeps a diagnostic line, indented relative to this document.
    fn note(&mut self, text: &str) {
        if self.log.len() < LOG_LINES {
            let relative = match text.get(..self.indent) {
                Some(prefix) if prefix.bytes().all(|b| b == b' ') => &text[self.indent..],
                _ => text.trim_start(),
            };
            self.log.push(relative.trim_end().to_string());
        }
    }
}

/// The parser's state: a stack of open documents, outermost first.
#[derive(Debug, Default)]
struct Parser {
    stack: Vec<Open>,
    parsed: Parsed,
}

impl Parser {
    fn feed(&mut self, number: usize, text: &str) {
        let (indent, body) = split_indent(text);
        let kind = classify(body);
        let Some(root_indent) = self.stack.first().map(|o| o.indent) else {
            if let Kind::Version(v) = kind {
                self.stack.push(Open::new(number, indent, Some(v), None));
                self.mark(number);
            }
            return;
        };
        if indent <= root_indent {
            if let Kind::Version(v) = kind {
                // The next top-level document.
                self.close_all();
                self.stack.push(Open::new(number, indent, Some(v), None));
                self.mark(number);
                return;
            }
            if indent < root_indent {
                // Left of the document: not part of it.
                return;
            }
        }
        match kind {
            Kind::Version(v) => {
                // A version line at the level of an open subtest means that
                // subtest ended without its result line.
                self.pop_to(indent, true);
                self.push(number, indent, Some(v), None);
            }
            Kind::Subtest(name) => {
                self.pop_to(indent, false);
                let fresh_subtest = self.stack.len() > 1;
                let top = self.top();
                if top.indent < indent {
                    self.push(number, indent, None, Some(name.to_string()));
                } else if fresh_subtest
                    && top.doc.name.is_none()
                    && top.doc.plan.is_none()
                    && top.doc.tests.is_empty()
                {
                    top.doc.name = Some(name.to_string());
                } else {
                    top.pending_name = Some(name.to_string());
                }
            }
            Kind::Plan(count) => {
                self.pop_to(indent, false);
                if self.top().indent < indent {
                    self.push(number, indent, None, None);
                }
                let top = self.top();
                // Diagnostics before the plan (`# module: ...`) describe the
                // document, not its first test.
                top.log.clear();
                if top.doc.plan.is_none() {
                    top.doc.plan = Some(Plan {
                        count,
                        line: number,
                    });
                } else {
                    top.doc.extra_plans.push(number);
                }
            }
            Kind::Result(result) => {
                let child = self.pop_closed(indent);
                let child = if self.top().indent < indent {
                    if let Some(orphan) = child {
                        self.top().adopt_incomplete(orphan);
                    }
                    self.push(number, indent, None, None);
                    None
                } else {
                    child
                };
                self.record(number, &result, child);
            }
            Kind::Diagnostic => self.top().note(text),
            Kind::Unknown => {
                // Indented unknown lines are usually the test's own output
                // (KUnit's "Expected x == y, but"); keep them as context.
                if indent > root_indent {
                    self.top().note(text);
                }
                return;
            }
        }
        self.mark(number);
    }

    fn mark(&mut self, number: usize) {
        if self.parsed.ktap_lines.last() != Some(&number) {
            self.parsed.ktap_lines.push(number);
        }
    }

    fn top(&mut self) -> &mut Open {
        // The stack is never empty while a document is open; `feed` returns
        // early otherwise. Keep an empty document around rather than panic.
        if self.stack.is_empty() {
            self.stack.push(Open::new(0, 0, None, None));
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn push(&mut self, number: usize, indent: usize, version: Option<&str>, name: Option<String>) {
        let name = name.or_else(|| self.top().pending_name.take());
        self.stack.push(Open::new(number, indent, version, name));
    }

    /// Closes the subtest documents deeper than `indent` (and at `indent`
    /// too if `inclusive`) without result lines; they become incomplete
    /// tests of their parents.
    fn pop_to(&mut self, indent: usize, inclusive: bool) {
        while self.stack.len() > 1 {
            let top_indent = self.top().indent;
            if top_indent < indent || (!inclusive && top_indent == indent) {
                break;
            }
            if let Some(open) = self.stack.pop() {
                self.top().adopt_incomplete(open.close());
            }
        }
    }

    /// Closes the subtest documents deeper than `indent` for a result line
    /// at `indent`. The outermost of them is returned: the result line
    /// closes it. Deeper ones never got their result and are incomplete.
    fn pop_closed(&mut self, indent: usize) -> Option<Document> {
        let mut child: Option<Document> = None;
        while self.stack.len() > 1 && self.top().indent > indent {
            if let Some(mut open) = self.stack.pop() {
                if let Some(grandchild) = child.take() {
                    open.adopt_incomplete(grandchild);
                }
                child = Some(open.close());
            }
        }
        child
    }

    fn record(&mut self, number: usize, result: &ResultLine<'_>, child: Option<Document>) {
        let top = self.top();
        let name = if result.description.is_empty() {
            child
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_default()
        } else {
            result.description.to_string()
        };
        top.doc.tests.push(Test {
            number: result.number,
            name,
            status: result.status(),
            line: number,
            directive: result
                .directive
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            log: std::mem::take(&mut top.log),
            subtests: child,
        });
    }

    /// Closes every open document; the outermost goes to the output.
    fn close_all(&mut self) {
        while self.stack.len() > 1 {
            if let Some(open) = self.stack.pop() {
                self.top().adopt_incomplete(open.close());
            }
        }
        if let Some(root) = self.stack.pop() {
            self.parsed.documents.push(root.close());
        }
    }

    fn finish(mut self) -> Parsed {
        self.close_all();
        self.parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Parsed {
        parse(text.lines().enumerate().map(|(i, l)| (i + 1, l)))
    }

    fn summary(doc: &Document) -> Vec<(u64, String, Status, bool)> {
        doc.tests
            .iter()
            .map(|t| (t.number, t.name.clone(), t.status, t.subtests.is_some()))
            .collect()
    }

    #[test]
    fn classifies_result_lines() {
        let r = parse_result("ok 1 exact_size").unwrap();
        assert_eq!((r.ok, r.number, r.description), (true, 1, "exact_size"));
        assert_eq!(r.status(), Status::Pass);
        let r = parse_result("not ok 12 - alignment # TIMEOUT 30 seconds").unwrap();
        assert_eq!(
            (r.ok, r.number, r.description, r.directive),
            (false, 12, "alignment", Some("TIMEOUT 30 seconds"))
        );
        assert_eq!(r.status(), Status::Fail);
        let r = parse_result("ok 3 old_behaviour # SKIP not configured").unwrap();
        assert_eq!(r.status(), Status::Skip);
        assert_eq!(r.directive, Some("SKIP not configured"));
        assert_eq!(
            parse_result("not ok 4 x # skip").unwrap().status(),
            Status::Skip
        );
        assert_eq!(
            parse_result("not ok 5 known_bug # TODO fix me")
                .unwrap()
                .status(),
            Status::Todo
        );
        assert_eq!(
            parse_result("not ok 6 y # XFAIL").unwrap().status(),
            Status::Todo
        );
        assert_eq!(
            parse_result("ok 7 z # XFAIL").unwrap().status(),
            Status::Pass
        );
        assert_eq!(
            parse_result("ok 5 check return code # rcode=0")
                .unwrap()
                .status(),
            Status::Pass
        );
        let r = parse_result("ok 8 test#1").unwrap();
        assert_eq!((r.description, r.directive), ("test#1", None));
        let r = parse_result("ok 9 # SKIP").unwrap();
        assert_eq!((r.description, r.status()), ("", Status::Skip));
        let r = parse_result("ok 10").unwrap();
        assert_eq!((r.number, r.description), (10, ""));
        let r = parse_result("ok 11 -").unwrap();
        assert_eq!(r.description, "");
        let r = parse_result("ok 12 -1 is negative").unwrap();
        assert_eq!(r.description, "-1 is negative");
        for not_a_result in [
            "ok",
            "okay 1 x",
            "ok x",
            "ok 1x",
            "not ok",
            "not okay",
            "ok 99999999999999999999999 overflow",
            "book 1 x",
        ] {
            assert_eq!(parse_result(not_a_result), None, "{not_a_result}");
        }
    }

    #[test]
    fn classifies_other_lines() {
        assert_eq!(classify("KTAP version 1"), Kind::Version("KTAP version 1"));
        assert_eq!(classify("TAP version 13"), Kind::Version("TAP version 13"));
        assert_eq!(
            classify("TAP version 14  "),
            Kind::Version("TAP version 14")
        );
        assert_eq!(classify("KTAP version one"), Kind::Unknown);
        assert_eq!(classify("1..3"), Kind::Plan(3));
        assert_eq!(classify("1..0 # SKIP no heaps"), Kind::Plan(0));
        assert_eq!(classify("1..x"), Kind::Unknown);
        assert_eq!(classify("1..3 tests"), Kind::Unknown);
        assert_eq!(classify("1..99999999999999999999999"), Kind::Unknown);
        assert_eq!(
            classify("# Subtest: coherent_alloc"),
            Kind::Subtest("coherent_alloc")
        );
        assert_eq!(classify("# module: coherent"), Kind::Diagnostic);
        assert_eq!(classify("Expected a == b, but"), Kind::Unknown);
    }

    #[test]
    fn indentation() {
        assert_eq!(split_indent("    ok"), (4, "ok"));
        assert_eq!(split_indent("\tok"), (4, "ok"));
        assert_eq!(split_indent("  \t\tok"), (8, "ok"));
        assert_eq!(split_indent("   "), (3, ""));
    }

    const KUNIT: &str = "\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: coherent_alloc
    # module: coherent
    1..3
    ok 1 exact_size
    # alignment: EXPECTATION FAILED at drivers/dma-buf/heaps/coherent_test.c:87
    Expected addr % align == 0, but
        addr % align == 64 (0x40)
    not ok 2 alignment
    ok 3 old_behaviour # SKIP not configured
# coherent_alloc: pass:1 fail:1 skip:1 total:3
not ok 1 coherent_alloc
    KTAP version 1
    # Subtest: coherent_params
    1..1
        KTAP version 1
        # Subtest: sizes
        ok 1 size=4096
        not ok 2 size=0
    # sizes: pass:1 fail:1 skip:0 total:2
    not ok 1 sizes
# Totals: pass:2 fail:2 skip:1 total:5
not ok 2 coherent_params
";

    #[test]
    fn parses_kunit_nesting() {
        let parsed = parse_str(KUNIT);
        assert_eq!(parsed.documents.len(), 1);
        let root = &parsed.documents[0];
        assert_eq!(root.plan.as_ref().map(|p| p.count), Some(2));
        assert_eq!(
            summary(root),
            vec![
                (1, "coherent_alloc".into(), Status::Fail, true),
                (2, "coherent_params".into(), Status::Fail, true),
            ]
        );
        let alloc = root.tests[0].subtests.as_ref().unwrap();
        assert_eq!(alloc.name.as_deref(), Some("coherent_alloc"));
        assert_eq!(alloc.version.as_deref(), Some("KTAP version 1"));
        assert_eq!(
            summary(alloc),
            vec![
                (1, "exact_size".into(), Status::Pass, false),
                (2, "alignment".into(), Status::Fail, false),
                (3, "old_behaviour".into(), Status::Skip, false),
            ]
        );
        assert_eq!(
            alloc.tests[1].log,
            vec![
                "# alignment: EXPECTATION FAILED at drivers/dma-buf/heaps/coherent_test.c:87",
                "Expected addr % align == 0, but",
                "    addr % align == 64 (0x40)",
            ]
        );
        let params = root.tests[1].subtests.as_ref().unwrap();
        let sizes = params.tests[0].subtests.as_ref().unwrap();
        assert_eq!(sizes.name.as_deref(), Some("sizes"));
        assert_eq!(sizes.plan, None);
        assert_eq!(
            summary(sizes),
            vec![
                (1, "size=4096".into(), Status::Pass, false),
                (2, "size=0".into(), Status::Fail, false),
            ]
        );
        // Every line but the two unknown ones is KTAP.
        assert!(parsed.is_ktap_line(1));
        assert!(parsed.is_ktap_line(8));
        assert!(!parsed.is_ktap_line(9));
        assert!(!parsed.is_ktap_line(10));
        assert!(parsed.is_ktap_line(25));
    }

    #[test]
    fn interleaved_unknown_lines_and_surrounding_output() {
        let text = "\
Booting Linux on physical CPU 0x0000000000
ok 1 before any document
KTAP version 1
1..1
    KTAP version 1
    # Subtest: heap_alloc
    1..2
coherent-heap: camera: 1048576 bytes at 0x70000000
    ok 1 one_page
WARNING: kernel/iomem.c:105 at memremap+0x13c/0x1d0, CPU#0: init/1
    ok 2 two_pages
ok 1 heap_alloc
reboot: Power down
";
        let parsed = parse_str(text);
        assert_eq!(parsed.documents.len(), 1);
        let root = &parsed.documents[0];
        assert_eq!(root.line, 3);
        let suite = root.tests[0].subtests.as_ref().unwrap();
        assert_eq!(suite.tests.len(), 2);
        assert!(!parsed.is_ktap_line(2));
        assert!(!parsed.is_ktap_line(8));
        assert!(!parsed.is_ktap_line(10));
        assert!(parsed.is_ktap_line(11));
    }

    #[test]
    fn several_top_level_documents() {
        let text = "    KTAP version 1\n    1..1\n    ok 1 a\n    KTAP version 1\n    1..1\n        ok 1 deep\n    ok 1 b\n";
        // The second version line is at the top-level indentation (4 here,
        // as if a prefix were left), so it is a new document.
        let parsed = parse_str(text);
        assert_eq!(parsed.documents.len(), 2);
        assert_eq!(parsed.documents[1].line, 4);
        let b = &parsed.documents[1].tests[0];
        assert_eq!(b.name, "b");
        let implicit = b.subtests.as_ref().unwrap();
        assert_eq!(implicit.version, None);
        assert_eq!(implicit.tests[0].name, "deep");
    }

    #[test]
    fn cut_off_document_keeps_incomplete_subtests() {
        let text = "\
KTAP version 1
1..3
    KTAP version 1
    # Subtest: heap_list
    1..1
    ok 1 lists_camera
ok 1 heap_list
    KTAP version 1
    # Subtest: heap_alloc
    1..5
    ok 1 one_page
        KTAP version 1
        # Subtest: sizes
        ok 1 size=4096
";
        let parsed = parse_str(text);
        let root = &parsed.documents[0];
        assert_eq!(
            summary(root),
            vec![
                (1, "heap_list".into(), Status::Pass, true),
                (2, "heap_alloc".into(), Status::Incomplete, true),
            ]
        );
        let alloc = root.tests[1].subtests.as_ref().unwrap();
        assert_eq!(
            summary(alloc),
            vec![
                (1, "one_page".into(), Status::Pass, false),
                (2, "sizes".into(), Status::Incomplete, true),
            ]
        );
        assert_eq!(root.tests[1].line, 8);
    }

    #[test]
    fn subtest_without_result_line_then_next_subtest() {
        let text = "\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: crashed
    1..2
    ok 1 a
    KTAP version 1
    # Subtest: next
    1..1
    ok 1 b
ok 2 next
";
        let root = &parse_str(text).documents[0];
        assert_eq!(
            summary(root),
            vec![
                (1, "crashed".into(), Status::Incomplete, true),
                (2, "next".into(), Status::Pass, true),
            ]
        );
    }

    #[test]
    fn tap14_subtest_header_at_parent_level_and_trailing_plan() {
        let text = "\
TAP version 14
1..2
# Subtest: first
    1..2
    ok 1 - a
    ok 2 - b
ok 1 - first
ok 2 - second # TODO later
";
        let root = &parse_str(text).documents[0];
        assert_eq!(
            summary(root),
            vec![
                (1, "first".into(), Status::Pass, true),
                (2, "second".into(), Status::Pass, false),
            ]
        );
        let first = root.tests[0].subtests.as_ref().unwrap();
        assert_eq!(first.name.as_deref(), Some("first"));
        assert_eq!(first.plan.as_ref().map(|p| p.count), Some(2));

        let trailing = parse_str("KTAP version 1\nok 1 a\nok 2 b\n1..2\n1..3\n");
        let doc = &trailing.documents[0];
        assert_eq!(doc.plan, Some(Plan { count: 2, line: 4 }));
        assert_eq!(doc.extra_plans, vec![5]);
    }

    #[test]
    fn tabs_and_two_space_indentation() {
        let text = "KTAP version 1\n1..1\n\tKTAP version 1\n\t1..1\n\tnot ok 1 t\nnot ok 1 s\n";
        let root = &parse_str(text).documents[0];
        assert_eq!(root.tests[0].subtests.as_ref().unwrap().tests[0].name, "t");
        let text = "KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n    KTAP version 1\n    1..1\n    ok 1 x\n  ok 1 y\nok 1 z\n";
        let root = &parse_str(text).documents[0];
        let y = root.tests[0].subtests.as_ref().unwrap();
        assert_eq!(y.tests[0].subtests.as_ref().unwrap().tests[0].name, "x");
    }

    #[test]
    fn no_document_and_garbage() {
        assert_eq!(parse_str(""), Parsed::default());
        assert_eq!(parse_str("ok 1 a\n1..2\n# Subtest: x\n"), Parsed::default());
        let weird = "KTAP version 1\n        ok 1 deep\nok 2 shallow\n  1..9\n    # Subtest: s\n\t\t\tok 1 t\n  not ok 7 u\nKTAP version 1\n";
        let parsed = parse_str(weird);
        assert_eq!(parsed.documents.len(), 2);
    }
}
