//! Writing a [`Report`]: a table and one line per problem, or one JSON object.

use std::io::Write;

use heap_rules::size::format_size;

use crate::check::{MemorySource, Origin, Report};

/// Writes the human report.
///
/// ```text
/// board: bcm2711-rpi-4-b
/// memory: 0x0-0x3b3fffff (board table)
/// keep-out: boot 0x0-0x9ffffff, videocore 0x3b400000-0x3fffffff
/// memreserve: 0x0-0xfff
///
/// NODE                              HEAP    BASE        SIZE    FLAGS    OPT-IN  FROM
/// /reserved-memory/camera@10000000  camera  0x10000000  64 MiB  no-map   yes     overlay
///
/// error[overlap]: /reserved-memory/camera@10000000: ...
/// dtregion: 1 error, 0 warnings, 0 notes
/// ```
///
/// The last line always has that form.
pub fn write_human(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    if let Some(board) = &report.board {
        writeln!(out, "board: {board}")?;
    }
    let banks: Vec<String> = report.memory.banks.iter().map(|b| b.to_string()).collect();
    match report.memory.source {
        MemorySource::None => writeln!(out, "memory: (unknown)")?,
        MemorySource::Tree => writeln!(out, "memory: {} (/memory)", banks.join(", "))?,
        MemorySource::BoardTable => writeln!(out, "memory: {} (board table)", banks.join(", "))?,
    }
    if !report.keep_out.is_empty() {
        let k: Vec<String> = report
            .keep_out
            .iter()
            .map(|k| format!("{} {}", k.name, k.range()))
            .collect();
        writeln!(out, "keep-out: {}", k.join(", "))?;
    }
    if !report.memreserve.is_empty() {
        let m: Vec<String> = report.memreserve.iter().map(|r| r.to_string()).collect();
        writeln!(out, "memreserve: {}", m.join(", "))?;
    }
    writeln!(out)?;
    let mut rows = vec![[
        "NODE".to_string(),
        "HEAP".into(),
        "BASE".into(),
        "SIZE".into(),
        "FLAGS".into(),
        "OPT-IN".into(),
        "FROM".into(),
    ]];
    for r in &report.regions {
        rows.push([
            r.node.clone(),
            r.heap.clone().unwrap_or_else(|| "-".into()),
            r.base.map_or_else(|| "-".into(), |b| format!("{b:#x}")),
            r.size.map_or_else(|| "-".into(), format_size),
            if r.flags.is_empty() {
                "-".into()
            } else {
                r.flags.join(",")
            },
            if r.opted_in { "yes" } else { "no" }.into(),
            match r.origin {
                Origin::Base => "base",
                Origin::Overlay => "overlay",
                Origin::Tree => "tree",
            }
            .into(),
        ]);
    }
    if report.regions.is_empty() {
        writeln!(out, "(no /reserved-memory regions)")?;
    } else {
        let mut widths = [0usize; 7];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        for row in &rows {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  "));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    if !report.problems.is_empty() {
        writeln!(out)?;
    }
    for p in &report.problems {
        writeln!(
            out,
            "{}[{}]: {}: {}",
            p.severity.as_str(),
            p.class.as_str(),
            p.node,
            p.message
        )?;
    }
    writeln!(out, "dtregion: {}", counts(report))?;
    out.flush()
}

/// `1 error, 2 warnings, 0 notes`: the counts of a report, as its last line has them.
pub fn counts(report: &Report) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}, {}",
        plural(report.errors, "error"),
        plural(report.warnings, "warning"),
        plural(report.notes, "note")
    )
}

/// Writes the report as one JSON object on one line.
pub fn write_json(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    writeln!(out)?;
    out.flush()
}
