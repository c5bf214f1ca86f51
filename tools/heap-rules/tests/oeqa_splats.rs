//! The oeqa case of the Yocto test image (`lib/oeqa/runtime/cases/coherent_heap.py`) cannot
//! import Rust, so it carries a copy of [`SPLAT_PATTERNS`]: this test fails when the copy
//! differs, and prints the Python lines that would make it equal.

use std::path::Path;

use heap_rules::splat::{SplatPattern, BENIGN_PREFIX, SPLAT_PATTERNS};

const OEQA: &str = "../../lib/oeqa/runtime/cases/coherent_heap.py";

/// The Python tuple line of a pattern, as the oeqa file spells it.
fn python(p: &SplatPattern) -> String {
    let also = p.also.map_or("None".to_string(), |a| format!("\"{a}\""));
    format!(
        "    (\"{}\", \"{}\", \"{}\", {also}),",
        p.id,
        p.needle,
        p.at.as_str()
    )
}

/// The lines between `SPLAT_PATTERNS = [` and `]`, comments and blank lines dropped.
fn oeqa_rows(text: &str) -> Result<Vec<String>, String> {
    let start = text
        .find("\nSPLAT_PATTERNS = [\n")
        .ok_or("no `SPLAT_PATTERNS = [` line")?;
    let body = &text[start + "\nSPLAT_PATTERNS = [\n".len()..];
    let end = body
        .find("\n]\n")
        .ok_or("no `]` line closing SPLAT_PATTERNS")?;
    Ok(body[..end]
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect())
}

fn oeqa_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(OEQA);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn the_oeqa_case_checks_the_same_splats() {
    let text = oeqa_text();
    let theirs = oeqa_rows(&text).unwrap_or_else(|e| panic!("{OEQA}: {e}"));
    let ours: Vec<String> = SPLAT_PATTERNS.iter().map(python).collect();
    assert!(
        theirs == ours,
        "{OEQA}: SPLAT_PATTERNS differs from heap_rules::splat::SPLAT_PATTERNS.\n\
         Only in the oeqa file:\n{}\nOnly in heap-rules:\n{}\nThe list heap-rules has, to paste:\n{}",
        theirs
            .iter()
            .filter(|l| !ours.contains(l))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        ours.iter()
            .filter(|l| !theirs.contains(l))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        ours.join("\n")
    );
    let benign = format!("\nSPLAT_BENIGN_PREFIX = \"{BENIGN_PREFIX}\"\n");
    assert!(
        text.contains(&benign),
        "{OEQA}: no line {:?}",
        benign.trim()
    );
}

/// The comparison itself catches a difference: a reordered or edited copy does not pass.
#[test]
fn a_changed_copy_is_noticed() {
    let text = oeqa_text();
    let ours: Vec<String> = SPLAT_PATTERNS.iter().map(python).collect();
    let first = &ours[0];
    let edited = text.replacen(first, &first.replace("word-start", "word"), 1);
    assert_ne!(oeqa_rows(&edited).unwrap(), ours);
    let swapped = text
        .replacen(first, "", 1)
        .replacen("\n]\n", &format!("\n{first}\n]\n"), 1);
    assert_ne!(oeqa_rows(&swapped).unwrap(), ours);
    assert!(oeqa_rows("SPLAT = re.compile(...)").is_err());
}
