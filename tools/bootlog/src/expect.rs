//! The cases a boot must run (`--expect-cases FILE`): the list that
//! `dma-heap test --list` prints, one case a line:
//!
//! ```text
//! heap_list.open_system must-pass
//! kmemleak.scan_clean may-skip kernel built without CONFIG_DEBUG_KMEMLEAK
//! kselftest_dmabuf_heaps.dmabuf_heap.* may-skip Could not open vgem -1
//! ```
//!
//! `NAME` is the test's path as this crate names it (`suite.case`, deeper
//! levels joined by `.`, an unnamed result as `#N`). `must-pass`: the case
//! must be there and pass. `may-skip REASON`: it must be there and pass or
//! skip with exactly that reason. `NAME.*` declares a skip reason for every
//! result nested under `NAME`. Blank lines and lines starting with `#` are
//! ignored.
//!
//! [`check`] then reports every listed case that is missing, every skip
//! with a reason the list does not give, and every skip of a case the list
//! does not name; failures are reported by the result checks already.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ktap::{Document, Status, Test};

/// What a case may end with besides a pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "expect", content = "reason", rename_all = "kebab-case")]
pub enum Expect {
    /// It must pass.
    MustPass,
    /// It may skip with exactly this reason.
    MaySkip(String),
}

impl Expect {
    fn describe(&self) -> String {
        match self {
            Expect::MustPass => "must pass".into(),
            Expect::MaySkip(r) => format!("may only skip with '{r}'"),
        }
    }
}

/// One line of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `suite.case`, or `suite.case.*` for the results nested under it.
    pub name: String,
    /// The declaration.
    #[serde(flatten)]
    pub expect: Expect,
    /// Its line in the list file.
    pub line: usize,
}

impl Entry {
    /// The path a `NAME.*` entry covers the results under, if it is one.
    fn subtree(&self) -> Option<&str> {
        self.name.strip_suffix(".*")
    }
}

/// The parsed list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

impl Expected {
    /// Parses the list. The error is `(line, message)`.
    pub fn parse(text: &str) -> Result<Expected, (usize, String)> {
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (name, rest) = l.split_once(' ').unwrap_or((l, ""));
            let (word, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            let reason = reason.trim();
            let expect = match word {
                "must-pass" if reason.is_empty() => Expect::MustPass,
                "must-pass" => return Err((line, format!("'{l}': nothing may follow must-pass"))),
                "may-skip" if reason.is_empty() => {
                    return Err((line, format!("'{l}': may-skip needs its reason")))
                }
                "may-skip" => Expect::MaySkip(reason.to_string()),
                _ => {
                    return Err((
                        line,
                        format!("'{l}': expected 'NAME must-pass' or 'NAME may-skip REASON'"),
                    ))
                }
            };
            if let Some(first) = entries.iter().find(|e| e.name == name) {
                return Err((
                    line,
                    format!("{name} is listed twice (first on line {})", first.line),
                ));
            }
            entries.push(Entry {
                name: name.to_string(),
                expect,
                line,
            });
        }
        Ok(Expected { entries })
    }
}

/// One thing the list says that the log does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A listed case has no result.
    Missing {
        /// The entry.
        entry: Entry,
    },
    /// A case skipped (or was marked TODO) for a reason the list does not
    /// give it.
    Undeclared {
        /// Its path.
        name: String,
        /// The log line of its result.
        line: usize,
        /// The directive (`SKIP reason`).
        directive: String,
        /// What the list says, if it names the case.
        declared: Option<Expect>,
    },
}

impl Finding {
    /// One line for a human; `label` names the stream.
    pub fn message(&self, label: &str) -> String {
        match self {
            Finding::Missing { entry } => format!(
                "{label} case missing: {} (the boot must run it; it {})",
                entry.name,
                entry.expect.describe()
            ),
            Finding::Undeclared {
                name,
                directive,
                declared: Some(expect),
                ..
            } => format!(
                "{label} case skipped for a reason the boot did not declare: {name} (# {directive}; it {})",
                expect.describe()
            ),
            Finding::Undeclared {
                name,
                directive,
                declared: None,
                ..
            } => format!(
                "{label} case skipped but not declared to: {name} (# {directive})"
            ),
        }
    }
}

/// A test and its path.
struct Found<'a> {
    path: String,
    test: &'a Test,
    leaf: bool,
}

fn collect<'a>(doc: &'a Document, path: &str, out: &mut Vec<Found<'a>>) {
    for test in &doc.tests {
        let full = test.path_in(path);
        let leaf = !test.has_subtests();
        if let Some(sub) = &test.subtests {
            collect(sub, &full, out);
        }
        out.push(Found {
            path: full,
            test,
            leaf,
        });
    }
}

/// The reason of a `SKIP reason` / `TODO reason` directive.
fn reason(directive: &str) -> &str {
    let d = directive.trim_start();
    let word_end = d
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(d.len());
    d[word_end..].trim()
}

/// Checks `documents` (one stream's) against `expected`.
pub fn check(documents: &[Document], expected: &Expected) -> Vec<Finding> {
    let mut found = Vec::new();
    for doc in documents {
        collect(doc, "", &mut found);
    }
    let mut by_path: BTreeMap<&str, Vec<&Found<'_>>> = BTreeMap::new();
    for f in &found {
        by_path.entry(f.path.as_str()).or_default().push(f);
    }
    let skipped = |t: &Test| matches!(t.status, Status::Skip | Status::Todo);
    let directive = |t: &Test| t.directive.clone().unwrap_or_else(|| "SKIP".into());

    let mut findings = Vec::new();
    for entry in expected.entries.iter().filter(|e| e.subtree().is_none()) {
        let Some(tests) = by_path.get(entry.name.as_str()) else {
            findings.push(Finding::Missing {
                entry: entry.clone(),
            });
            continue;
        };
        for f in tests.iter().filter(|f| skipped(f.test)) {
            let r = reason(f.test.directive.as_deref().unwrap_or(""));
            let declared = matches!(&entry.expect, Expect::MaySkip(want) if want == r);
            if !declared {
                findings.push(Finding::Undeclared {
                    name: f.path.clone(),
                    line: f.test.line,
                    directive: directive(f.test),
                    declared: Some(entry.expect.clone()),
                });
            }
        }
    }
    let listed = |p: &str| expected.entries.iter().any(|e| e.name == p);
    for f in found
        .iter()
        .filter(|f| f.leaf && skipped(f.test) && !listed(&f.path))
    {
        let r = reason(f.test.directive.as_deref().unwrap_or(""));
        let covered = expected.entries.iter().any(|e| {
            e.subtree().is_some_and(|p| {
                f.path.len() > p.len() + 1
                    && f.path.starts_with(p)
                    && f.path.as_bytes()[p.len()] == b'.'
            }) && matches!(&e.expect, Expect::MaySkip(want) if want == r)
        });
        if !covered {
            findings.push(Finding::Undeclared {
                name: f.path.clone(),
                line: f.test.line,
                directive: directive(f.test),
                declared: None,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Document> {
        crate::ktap::parse(text.lines().enumerate().map(|(i, l)| (i + 1, l))).documents
    }

    #[test]
    fn parses_the_list() {
        let e = Expected::parse(
            "# comment\n\nheap_list.open_system must-pass\nkmemleak.scan_clean may-skip kernel built without CONFIG_DEBUG_KMEMLEAK\nk.d.* may-skip Could not open vgem -1\n",
        )
        .unwrap();
        assert_eq!(
            e.entries,
            [
                Entry {
                    name: "heap_list.open_system".into(),
                    expect: Expect::MustPass,
                    line: 3
                },
                Entry {
                    name: "kmemleak.scan_clean".into(),
                    expect: Expect::MaySkip("kernel built without CONFIG_DEBUG_KMEMLEAK".into()),
                    line: 4
                },
                Entry {
                    name: "k.d.*".into(),
                    expect: Expect::MaySkip("Could not open vgem -1".into()),
                    line: 5
                },
            ]
        );
        for (bad, line, msg) in [
            ("a.b\n", 1, "expected 'NAME must-pass'"),
            (
                "a.b must-pass\na.b must-pass\n",
                2,
                "listed twice (first on line 1)",
            ),
            ("a.b may-skip\n", 1, "needs its reason"),
            ("a.b must-pass now\n", 1, "nothing may follow"),
            ("a.b pass\n", 1, "expected"),
        ] {
            let (l, m) = Expected::parse(bad).unwrap_err();
            assert_eq!(l, line, "{bad}");
            assert!(m.contains(msg), "{bad}: {m}");
        }
    }

    const RUN: &str = "\
KTAP version 1
1..3
    KTAP version 1
    # Subtest: s
    1..3
    ok 1 passes
    ok 2 declared # SKIP no kmemleak
    ok 3 other # SKIP driver not present
# s: pass:1 fail:0 skip:2 total:3
ok 1 s
    KTAP version 1
    # Subtest: k
    1..1
        TAP version 13
        1..2
        ok 1 # SKIP Could not open vgem -1
        ok 2 imported
    ok 1 selftest
ok 2 k
    KTAP version 1
    # Subtest: empty
    1..0
ok 3 empty # SKIP
";

    #[test]
    fn missing_undeclared_and_unlisted_skips() {
        let e = Expected::parse(
            "s.passes must-pass\ns.declared may-skip no kmemleak\ns.other must-pass\ns.gone must-pass\nk.selftest must-pass\n",
        )
        .unwrap();
        let f = check(&docs(RUN), &e);
        let messages: Vec<String> = f.iter().map(|f| f.message("runner")).collect();
        assert_eq!(
            messages,
            [
                "runner case skipped for a reason the boot did not declare: s.other (# SKIP driver not present; it must pass)",
                "runner case missing: s.gone (the boot must run it; it must pass)",
                "runner case skipped but not declared to: k.selftest.#1 (# SKIP Could not open vgem -1)",
                "runner case skipped but not declared to: empty (# SKIP)",
            ]
        );
        assert!(matches!(&f[0], Finding::Undeclared { line: 8, .. }));
        assert!(matches!(&f[2], Finding::Undeclared { line: 16, .. }));
    }

    #[test]
    fn declared_skips_pass() {
        let e = Expected::parse(
            "s.passes must-pass\ns.declared may-skip no kmemleak\ns.other may-skip driver not present\nk.selftest.* may-skip Could not open vgem -1\nk.selftest must-pass\nempty may-skip x\n",
        )
        .unwrap();
        let f = check(&docs(RUN), &e);
        // Only the suite without cases, whose skip has no reason.
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0]
            .message("runner")
            .contains("empty (# SKIP; it may only skip with 'x')"));
        // A wildcard covers what is under the case, not the case itself,
        // and only with its reason.
        let e = Expected::parse("k.selftest.* may-skip something else\n").unwrap();
        let f = check(&docs(RUN), &e);
        assert!(
            f.iter().any(|f| f.message("r").contains("k.selftest.#1")),
            "{f:?}"
        );
        let e = Expected::parse("k.* may-skip Could not open vgem -1\ns.* may-skip no kmemleak\n")
            .unwrap();
        let f = check(&docs(RUN), &e);
        assert!(
            !f.iter().any(|f| f.message("r").contains("k.selftest.#1")),
            "{f:?}"
        );
        assert!(
            !f.iter().any(|f| f.message("r").contains("s.declared")),
            "{f:?}"
        );
        assert!(
            f.iter().any(|f| f.message("r").contains("s.other")),
            "{f:?}"
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(reason("SKIP no kmemleak"), "no kmemleak");
        assert_eq!(reason("skip"), "");
        assert_eq!(reason("TODO later "), "later");
        assert_eq!(reason(""), "");
    }
}
