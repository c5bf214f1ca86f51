//! The layer's kernel patch series (`recipes-kernel/linux/files/*.patch`) against this crate:
//! the coherent heap driver, `drivers/dma-buf/heaps/coherent_heap.rs`, must
//!
//! - print the messages of [`CHECK_ORDER`] with exactly its format strings (named arguments
//!   `{path}`, `{name}`, `{base:#x}`, `{size}`, each with its own `pr_warn!`/`pr_info!` and a
//!   final `\n`), in that order in the source: not reserved, no name, a mainline name, empty,
//!   System RAM, a name another heap registered (`-EEXIST`), exported;
//! - opt regions in with `linux,dma-heap` only (no `export_all` parameter), skipping what is
//!   not a `shared-dma-pool` or is `reusable`;
//! - know the mainline heap names of [`MAINLINE_HEAPS`].
//!
//! When this fails, the message says what differs; [`classify`](heap_rules::classify) and the
//! tools follow `heap-rules`, so it is the driver that has to change.

use std::path::{Path, PathBuf};

use heap_rules::mainline::MAINLINE_HEAPS;
use heap_rules::rules::{
    Message, CHECK_ORDER, EMPTY, EXPORTED, NAME_TAKEN, NOT_RESERVED, NO_NAME, SYSTEM_RAM,
};
use heap_rules::OPT_IN_PROPERTY;

const DRIVER: &str = "drivers/dma-buf/heaps/coherent_heap.rs";

fn patch_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes-kernel/linux/files");
    dir.canonicalize().unwrap_or(dir)
}

/// The driver's source, from the one patch that creates it: its added lines.
fn driver_source() -> (PathBuf, String) {
    let dir = patch_dir();
    let mut patches: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "patch"))
        .collect();
    patches.sort();
    let header = format!("+++ b/{DRIVER}\n");
    let touching: Vec<(PathBuf, String)> = patches
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .filter(|(_, text)| text.contains(&header))
        .collect();
    assert!(
        touching.len() == 1,
        "this test reads {DRIVER} from the one patch that creates it; {} patches of {} touch it: {:?}",
        touching.len(),
        dir.display(),
        touching.iter().map(|(p, _)| p.file_name().unwrap()).collect::<Vec<_>>()
    );
    let (path, text) = touching.into_iter().next().unwrap();
    let start = text.find(&header).unwrap() + header.len();
    let source = text[start..]
        .lines()
        .take_while(|l| !l.starts_with("diff --git ") && *l != "-- ")
        .filter_map(|l| l.strip_prefix('+'))
        .collect::<Vec<_>>()
        .join("\n");
    (path, source)
}

/// A printk of the driver: its macro and the format string it prints, unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Printk {
    macro_name: &'static str,
    format: String,
}

/// Reads the Rust string literal at the start of `s` (after `"`), unescaped.
fn string_literal(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '0' => out.push('\0'),
                // A line continuation: the newline and the indentation after it vanish.
                '\n' => {
                    let rest = chars.as_str().trim_start();
                    chars = rest.chars();
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c => out.push(c),
        }
    }
}

/// Every `pr_*!("...")` of `source`, in source order.
fn printks(source: &str) -> Vec<Printk> {
    const MACROS: [&str; 5] = ["pr_err!", "pr_warn!", "pr_notice!", "pr_info!", "pr_debug!"];
    let mut found: Vec<(usize, Printk)> = Vec::new();
    for macro_name in MACROS {
        for (at, _) in source.match_indices(&format!("{macro_name}(")) {
            let args = source[at + macro_name.len() + 1..].trim_start();
            if let Some(format) = args.strip_prefix('"').and_then(string_literal) {
                found.push((at, Printk { macro_name, format }));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, p)| p).collect()
}

/// The printk a message must be in the driver, as source.
fn expected_call(m: &Message) -> String {
    format!(
        "{}(\"{}\\n\")",
        m.level.macro_name(),
        m.template.replace('"', "\\\"")
    )
}

fn call(p: &Printk) -> String {
    format!(
        "{}(\"{}\")",
        p.macro_name,
        p.format.replace('"', "\\\"").replace('\n', "\\n")
    )
}

/// What differs between `source` (the driver) and `heap-rules`; empty if nothing.
fn differences(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let all = printks(source);
    let known = [
        NOT_RESERVED,
        NO_NAME,
        NAME_TAKEN,
        EMPTY,
        SYSTEM_RAM,
        EXPORTED,
    ];
    let template_of = |p: &Printk| {
        known
            .iter()
            .find(|m| p.format.strip_suffix('\n') == Some(m.template))
            .copied()
    };
    for m in &known {
        if !all.iter().any(|p| template_of(p) == Some(*m)) {
            out.push(format!("missing: {}", expected_call(m)));
        }
    }
    let printed: Vec<(&Printk, Message)> = all
        .iter()
        .filter_map(|p| template_of(p).map(|m| (p, m)))
        .collect();
    for (p, m) in &printed {
        if p.macro_name != m.level.macro_name() {
            out.push(format!(
                "wrong level: {}; classify() says {}",
                call(p),
                expected_call(m)
            ));
        }
    }
    let order: Vec<&str> = printed.iter().map(|(_, m)| m.template).collect();
    let want: Vec<&str> = CHECK_ORDER.iter().map(|m| m.template).collect();
    if order != want {
        out.push(format!(
            "order: the driver's messages come in this order:\n{}\n  classify() checks in this order (NAME_TAKEN twice: a mainline name before the size and no-map checks, a name another heap registered, -EEXIST from dma_heap_add(), after them):\n{}",
            numbered(&order),
            numbered(&want)
        ));
    }
    if source.contains("export_all") {
        out.push(format!(
            "the driver still has export_all: {OPT_IN_PROPERTY} must be the only opt-in"
        ));
    }
    for needed in ["shared-dma-pool", "reusable", OPT_IN_PROPERTY].map(|p| format!("c\"{p}\"")) {
        if !source.contains(&needed) {
            out.push(format!(
                "the driver never reads {needed}, which classify() skips regions by"
            ));
        }
    }
    out
}

fn numbered(templates: &[&str]) -> String {
    if templates.is_empty() {
        return "    (none)".into();
    }
    templates
        .iter()
        .enumerate()
        .map(|(i, t)| format!("    {}. {t}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails while the driver prints or orders its lines otherwise than `classify()` predicts.
#[test]
fn the_driver_prints_what_classify_predicts() {
    let (patch, source) = driver_source();
    let diff = differences(&source);
    assert!(
        diff.is_empty(),
        "{} ({DRIVER}) differs from heap-rules' classify():\n- {}\n\nThe driver's printk format strings are:\n{}",
        patch.display(),
        diff.join("\n- "),
        printks(&source)
            .iter()
            .map(|p| format!("    {}", call(p)))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_driver_knows_the_mainline_heap_names() {
    let (patch, source) = driver_source();
    let start = source
        .find("MAINLINE_HEAP_NAMES: [")
        .unwrap_or_else(|| panic!("{}: no MAINLINE_HEAP_NAMES", patch.display()));
    let block = &source[start..];
    let block = &block[..block.find("];").expect("end of MAINLINE_HEAP_NAMES")];
    let mut driver: Vec<&str> = block
        .split("c\"")
        .skip(1)
        .map(|piece| piece.split('"').next().unwrap())
        .collect();
    let mut ours: Vec<&str> = MAINLINE_HEAPS.iter().map(|h| h.name).collect();
    driver.sort_unstable();
    ours.sort_unstable();
    assert_eq!(
        driver,
        ours,
        "{}: MAINLINE_HEAP_NAMES differs from heap_rules::mainline::MAINLINE_HEAPS",
        patch.display()
    );
}

/// A driver written to the rules passes the check, so the rules can be met.
#[test]
fn a_driver_written_to_the_rules_passes() {
    let conforming = r#"
fn wanted(region: &Region) -> bool {
    region.is_compatible(c"shared-dma-pool")
        && !region.node().property_read_bool(c"reusable")
        && region.node().property_read_bool(c"linux,dma-heap")
}

fn export(region: &Region, module: &'static ThisModule) -> Result<&'static CoherentHeap> {
    let path = region.node();
    let Some(mem) = region.mem() else {
        pr_warn!("{path}: not exported: the kernel did not reserve this region\n");
        return Err(ENODEV);
    };
    let name = mem.name();
    if name.is_empty() || name.to_bytes()[0] == b'@' {
        pr_warn!("{path}: not exported: the node has no name to give the heap\n");
        return Err(EINVAL);
    }
    if MAINLINE_HEAP_NAMES.iter().any(|n| *n == name) {
        pr_warn!("{path}: not exported: the heap name \"{name}\" is already taken\n");
        return Err(EEXIST);
    }
    if mem.size() == 0 {
        pr_warn!("{path}: not exported: the region is empty\n");
        return Err(EINVAL);
    }
    if mem.intersects_system_ram() {
        pr_warn!(
            "{path}: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to {path}\n"
        );
        return Err(EINVAL);
    }
    let heap = dma_heap::register(name, heap, module).inspect_err(|e| {
        if *e == EEXIST {
            pr_warn!("{path}: not exported: the heap name \"{name}\" is already taken\n");
        } else {
            pr_warn!("{path}: not exported: registering heap \"{name}\" failed ({e:?})\n");
        }
    })?;
    let (base, size) = (mem.base(), mem.size());
    pr_info!("{path}: heap \"{name}\" at {base:#x}, {size} bytes\n");
    Ok(heap)
}
"#;
    assert_eq!(differences(conforming), Vec::<String>::new());

    // Every kind of drift is named.
    let swapped = conforming.replacen(
        "if mem.size() == 0 {",
        "if mem.intersects_system_ram() { pr_warn!(\"{path}: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to {path}\\n\"); }\n    if mem.size() == 0 {",
        1,
    );
    assert!(
        differences(&swapped)[0].starts_with("order: "),
        "{:?}",
        differences(&swapped)
    );
    let old_names = conforming.replace("{path}", "{node}");
    assert!(differences(&old_names)
        .iter()
        .any(|d| d == &format!("missing: {}", expected_call(&NO_NAME))));
    let info = conforming.replace(
        "pr_warn!(\"{path}: not exported: the region is empty\\n\")",
        "pr_info!(\"{path}: not exported: the region is empty\\n\")",
    );
    assert!(differences(&info).iter().any(|d| d
        .starts_with("wrong level: pr_info!(\"{path}: not exported: the region is empty\\n\")")));
    let param =
        format!("{conforming}\nmodule! {{ params: {{ export_all: bool {{ default: false }} }} }}");
    assert!(differences(&param).iter().any(|d| d.contains("export_all")));
    let no_optin = conforming.replace("c\"linux,dma-heap\"", "c\"linux,heap\"");
    assert!(differences(&no_optin)
        .iter()
        .any(|d| d.contains("c\"linux,dma-heap\"")));
}

#[test]
fn printks_are_read_like_rustc_reads_them() {
    let source = "pr_warn!(\n    \"a \\\"b\\\" \\\n     c\\n\"\n); pr_info!(fmt!(\"x\")); pr_err!(\"e\\\\\")";
    assert_eq!(
        printks(source),
        [
            Printk {
                macro_name: "pr_warn!",
                format: "a \"b\" c\n".into()
            },
            Printk {
                macro_name: "pr_err!",
                format: "e\\".into()
            }
        ]
    );
}
