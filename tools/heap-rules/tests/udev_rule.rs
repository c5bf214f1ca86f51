//! The images' udev rule (`recipes-core/coherent-heap-udev-rules/files/60-coherent-heap.rules`)
//! gives the coherent heaps' device nodes to a group. udev cannot import Rust, so the rule spells
//! the opt-in property and the mainline heap names itself: this test fails when the rule does
//! not pick the heaps by [`OPT_IN_PROPERTY`] in the running device tree, or does not leave out
//! every name of [`MAINLINE_HEAPS`] and the reusable (CMA) nodes.

use std::path::Path;

use heap_rules::mainline::MAINLINE_HEAPS;
use heap_rules::OPT_IN_PROPERTY;

const RULES: &str = "../../recipes-core/coherent-heap-udev-rules/files/60-coherent-heap.rules";

/// Where the kernel shows `/reserved-memory/NODE` of the running device tree; udev substitutes
/// the device's name (the heap's, the node's full name) for `$kernel`.
const NODE: &str = "/sys/firmware/devicetree/base/reserved-memory/$kernel";

/// One `KEY{ATTR}OP"VALUE"` of a rule, the attribute kept in the key (`TEST{0644}`).
#[derive(Debug, PartialEq, Eq)]
struct Key {
    key: String,
    op: String,
    value: String,
}

/// The rules of a rules file: comments and blank lines dropped, `\` continuations joined.
fn rules(text: &str) -> Result<Vec<Vec<Key>>, String> {
    let joined = text.replace("\\\n", "");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_rule)
        .collect()
}

/// `KEY=="value", KEY="value", ...`: udev's syntax (udev(7)), values always quoted.
fn parse_rule(line: &str) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        // KEY, or KEY{ATTR}.
        let mut key_end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(rest.len());
        if rest[key_end..].starts_with('{') {
            key_end += rest[key_end..]
                .find('}')
                .ok_or_else(|| format!("no closing brace in {rest:?}"))?
                + 1;
        }
        if key_end == 0 {
            return Err(format!("no key in {rest:?}"));
        }
        let (key, after) = rest.split_at(key_end);
        let key = key.to_string();
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| after.starts_with(op))
            .ok_or_else(|| format!("{key}: no operator in {after:?}"))?;
        let after = after[op.len()..]
            .strip_prefix('"')
            .ok_or_else(|| format!("{key}{op}: the value is not quoted"))?;
        let end = after
            .find('"')
            .ok_or_else(|| format!("{key}{op}: the value has no closing quote"))?;
        keys.push(Key {
            key,
            op: op.to_string(),
            value: after[..end].to_string(),
        });
        rest = after[end + 1..].trim_start();
        rest = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if rest.is_empty() => rest,
            None => return Err(format!("expected a comma before {rest:?}")),
        };
    }
    Ok(keys)
}

/// What is wrong with the rules file `text`: empty if it holds one rule that matches the
/// dma_heap devices whose node opts in, is not reusable and has no mainline heap's name.
fn problems(text: &str) -> Vec<String> {
    let rules = match rules(text) {
        Ok(r) => r,
        Err(e) => return vec![e],
    };
    let [rule] = rules.as_slice() else {
        return vec![format!("{} rules, expected one", rules.len())];
    };
    let has = |key: &str, op: &str, value: &str| {
        rule.iter()
            .any(|k| k.key == key && k.op == op && k.value == value)
    };
    let mut out = Vec::new();
    let mut want = |key: &str, op: &str, value: String| {
        if !has(key, op, &value) {
            out.push(format!("the rule has no {key}{op}\"{value}\""));
        }
    };
    want("SUBSYSTEM", "==", "dma_heap".into());
    want("TEST", "==", format!("{NODE}/{OPT_IN_PROPERTY}"));
    want("TEST", "!=", format!("{NODE}/reusable"));
    let mainline: Vec<&str> = MAINLINE_HEAPS.iter().map(|h| h.name).collect();
    want("KERNEL", "!=", mainline.join("|"));
    for k in rule {
        if matches!(k.op.as_str(), "==" | "!=") && k.value.contains('*') {
            out.push(format!(
                "{}{}\"{}\": a glob matches more than the coherent heaps",
                k.key, k.op, k.value
            ));
        }
    }
    out
}

fn rules_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn the_rule_picks_the_heaps_by_the_opt_in_property() {
    let text = rules_text();
    assert_eq!(problems(&text), Vec::<String>::new(), "{RULES}");
}

/// The check catches a rule that would give the group other heaps, or none.
#[test]
fn a_wrong_rule_is_noticed() {
    let text = rules_text();
    let property = format!("$kernel/{OPT_IN_PROPERTY}\"");
    assert!(text.contains(&property));
    // Another property name (no heap would match), or the opt-in only in a comment.
    let misspelled = text.replace(&property, "$kernel/linux,dma_heap\"");
    assert!(problems(&misspelled)
        .iter()
        .any(|p| p.contains(OPT_IN_PROPERTY)));
    let commented: String = text.lines().map(|l| format!("# {l}\n")).collect::<String>()
        + "SUBSYSTEM==\"dma_heap\", GROUP=\"video\", MODE=\"0660\"\n";
    assert!(
        problems(&commented).len() >= 3,
        "{:?}",
        problems(&commented)
    );
    // Negated: every heap but the coherent ones.
    let negated = text.replace(
        &format!("TEST==\"{NODE}/{OPT_IN_PROPERTY}\""),
        &format!("TEST!=\"{NODE}/{OPT_IN_PROPERTY}\""),
    );
    assert_ne!(negated, text);
    assert!(!problems(&negated).is_empty());
    // A mainline heap name dropped from the exclusions, or the reusable test.
    let last = MAINLINE_HEAPS[MAINLINE_HEAPS.len() - 1].name;
    assert!(!problems(&text.replace(&format!("|{last}\""), "\"")).is_empty());
    assert!(!problems(&text.replace("TEST!=", "TEST==")).is_empty());
    // A glob, and two rules.
    assert!(
        !problems(&text.replace("SUBSYSTEM==\"dma_heap\"", "SUBSYSTEM==\"dma_heap*\"")).is_empty()
    );
    let rule = text.lines().find(|l| l.starts_with("SUBSYSTEM")).unwrap();
    assert!(!problems(&format!("{text}{rule}\n")).is_empty());
}

#[test]
fn rules_are_parsed_as_udev_reads_them() {
    let parsed = rules("# c\n\nA==\"1\", B{x}!=\"2\", \\\n  C=\"3\"\n").unwrap();
    assert_eq!(
        parsed,
        vec![vec![
            Key {
                key: "A".into(),
                op: "==".into(),
                value: "1".into()
            },
            Key {
                key: "B{x}".into(),
                op: "!=".into(),
                value: "2".into()
            },
            Key {
                key: "C".into(),
                op: "=".into(),
                value: "3".into()
            },
        ]]
    );
    assert!(rules("A==1\n").is_err());
    assert!(rules("A==\"1\" B=\"2\"\n").is_err());
    assert!(rules("A==\"1\n").is_err());
}
