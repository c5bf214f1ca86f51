//! Writing a [`Report`]: a short human summary, or one JSON object.

use std::io::Write;

use crate::check::Report;
use crate::error::{Error, Result};

/// Problems listed in the human summary before it says "... and N more".
const MAX_PROBLEMS: usize = 100;
/// Context lines shown under a failed test.
const MAX_CONTEXT: usize = 4;

/// Writes the human summary.
///
/// ```text
/// boot: 0.84 s to /init
/// heaps: camera default_cma_region reserved system
/// virt-test.log:1234: runner test failed: heap_alloc.zero_size
///     # zero_size: expected EINVAL, got 0
/// bootlog: 12 passed, 1 failed, 1 skipped
/// ```
///
/// The last line always has that form; CI reads it.
pub fn write_human(out: &mut impl Write, report: &Report) -> Result<()> {
    write_human_io(out, report).map_err(Error::Write)
}

fn write_human_io(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    if let Some(boot) = &report.boot {
        writeln!(out, "boot: {:.2} s to {}", boot.seconds, boot.init)?;
    }
    if let Some(heaps) = &report.heaps {
        if heaps.is_empty() {
            writeln!(out, "heaps: (none)")?;
        } else {
            writeln!(out, "heaps: {}", heaps.join(" "))?;
        }
    }
    for problem in report.problems.iter().take(MAX_PROBLEMS) {
        match problem.line {
            Some(line) => writeln!(out, "{}:{}: {}", report.file, line, problem.message)?,
            None => writeln!(out, "{}: {}", report.file, problem.message)?,
        }
        for context in problem.context.iter().take(MAX_CONTEXT) {
            writeln!(out, "    {context}")?;
        }
    }
    if report.problems.len() > MAX_PROBLEMS {
        writeln!(
            out,
            "{}: ... and {} more problems (--format json lists all)",
            report.file,
            report.problems.len() - MAX_PROBLEMS
        )?;
    }
    writeln!(
        out,
        "bootlog: {} passed, {} failed, {} skipped",
        report.passed, report.failed, report.skipped
    )?;
    out.flush()
}

/// Writes the report as one JSON object on one line.
pub fn write_json(out: &mut impl Write, report: &Report) -> Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(Error::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_log, Options};

    #[test]
    fn human_summary_ends_with_the_ci_line() {
        let log = "[    0.843211] Run /init as init process\n\
KTAP version 1\n1..1\n# heaps: camera system\n    KTAP version 1\n    # Subtest: heap_alloc\n    1..1\n    # zero_size: expected EINVAL, got 0\n    not ok 1 zero_size\nnot ok 1 heap_alloc\n";
        let report = check_log("virt.log", log.as_bytes(), &Options::default());
        let mut out = Vec::new();
        write_human(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "boot: 0.84 s to /init\n\
heaps: camera system\n\
virt.log:9: runner test failed: heap_alloc.zero_size\n    # zero_size: expected EINVAL, got 0\n\
bootlog: 0 passed, 1 failed, 0 skipped\n"
        );
    }

    #[test]
    fn json_is_one_object() {
        let report = check_log("x", b"", &Options::default());
        let mut out = Vec::new();
        write_json(&mut out, &report).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["ok"], true);
        assert_eq!(value["passed"], 0);
        assert!(value["boot"].is_null());
    }
}
