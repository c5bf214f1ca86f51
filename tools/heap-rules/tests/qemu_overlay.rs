//! `classify()` on the layer's QEMU overlay (`dts/qemu-virt/coherent-heap.dtso`), the driver's
//! test fixture, merged by `fdtoverlay` into a stand-in of QEMU virt's tree and read by the
//! walker: the heaps, the refusals (which must be the regions the overlay's `// expect:` lines
//! name) and the exact kernel lines the in-image runner expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use heap_rules::{classify, Decision, Refusal, Region, ReservedMemory, Tree};

const VIRT: &str = "/dts-v1/;\n/ {\n\tcompatible = \"linux,dummy-virt\";\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tmemory@40000000 {\n\t\tdevice_type = \"memory\";\n\t\treg = <0x0 0x40000000 0x0 0x40000000>;\n\t};\n};\n";

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tool: &str, args: &[&Path]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool}: {e} (scripts/setup-host installs device-tree-compiler)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The overlay's source and the virt stand-in with the overlay applied.
fn merged() -> (String, Tree) {
    let layer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let overlay = layer.join("dts/qemu-virt/coherent-heap.dtso");
    let source = std::fs::read_to_string(&overlay).unwrap();
    let d = Dir(std::env::temp_dir().join(format!("heap-rules-qemu-{}", std::process::id())));
    std::fs::create_dir_all(&d.0).unwrap();
    let (base_dts, base, dtbo, out) = (
        d.0.join("virt.dts"),
        d.0.join("virt.dtb"),
        d.0.join("coherent-heap.dtbo"),
        d.0.join("merged.dtb"),
    );
    std::fs::write(&base_dts, VIRT).unwrap();
    let q = Path::new("-q");
    let o = Path::new("-o");
    run("dtc", &[q, o, &base, &base_dts]);
    run("dtc", &[q, Path::new("-@"), o, &dtbo, &overlay]);
    run("fdtoverlay", &[Path::new("-i"), &base, o, &out, &dtbo]);
    let tree = Tree::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
    (source, tree)
}

#[test]
fn the_qemu_overlay_by_the_drivers_rules() {
    let (source, tree) = merged();
    let rm = ReservedMemory::from_tree(&tree).expect("the overlay creates /reserved-memory");
    assert_eq!(rm.format_problem(), None);
    let c = classify(&rm.regions, Region::reservation);

    let mut heaps = c.heap_names();
    heaps.sort_unstable();
    assert_eq!(
        heaps,
        [
            "camera@70000000",
            "display@60000000",
            "display@62800000",
            "scratch"
        ]
    );
    assert_eq!(
        c.cma_heaps,
        [(
            "video@78000000".into(),
            "/reserved-memory/video@78000000".into()
        )]
    );

    // The regions refused with a warning are those the overlay says dtregion reports.
    let mut refused: Vec<&str> = c
        .verdicts
        .iter()
        .filter(|v| v.refusal().is_some())
        .map(|v| v.path.as_str())
        .collect();
    refused.sort_unstable();
    let mut declared: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("// expect: "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    declared.sort_unstable();
    assert_eq!(refused, declared);
    let refusal = |path: &str| c.verdict(path).and_then(|v| v.refusal()).cloned();
    assert!(matches!(
        refusal("/reserved-memory/system"),
        Some(Refusal::NameTaken { .. })
    ));
    assert_eq!(
        refusal("/reserved-memory/mapped@75000000"),
        Some(Refusal::SystemRam)
    );
    for quiet in ["private@75800000", "disabled@76400000", "video@78000000"] {
        let v = c.verdict(&format!("/reserved-memory/{quiet}")).unwrap();
        assert!(matches!(v.decision, Decision::Skipped { .. }), "{quiet}");
        assert!(v.line.is_none(), "{quiet}");
    }

    let mut lines: Vec<String> = c.lines().map(ToString::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "coherent_heap: /reserved-memory/camera@70000000: heap \"camera@70000000\" at 0x70000000, 67108864 bytes",
            "coherent_heap: /reserved-memory/display@60000000: heap \"display@60000000\" at 0x60000000, 41943040 bytes",
            "coherent_heap: /reserved-memory/display@62800000: heap \"display@62800000\" at 0x62800000, 41943040 bytes",
            "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
            "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x..., 37748736 bytes",
            "coherent_heap: /reserved-memory/system: not exported: the heap name \"system\" is already taken",
        ]
    );
    // The kernel places scratch somewhere in its alloc-ranges; any base matches.
    let scratch = c.heap("scratch").unwrap().line.as_ref().unwrap();
    assert!(scratch.matches(
        "coherent_heap: /reserved-memory/scratch: heap \"scratch\" at 0x6dc00000, 37748736 bytes"
    ));
    let scratch_region = rm.region("/reserved-memory/scratch").unwrap();
    assert_eq!(scratch_region.alignment, Some(2 << 20));
    assert_eq!(
        scratch_region.alloc_ranges,
        [heap_rules::Range::new(0x6500_0000, 0xb00_0000)]
    );
}
