//! `dma-heap test --list --dtb` on the build host, on a real device tree:
//! the layer's QEMU virt overlay applied with `fdtoverlay` to a minimal
//! virt-like base, compiled with `dtc` (scripts/setup-host installs both),
//! and a kernel configuration made of the layer's own fragments.
//!
//! Also the stress test's children: the real binary re-executed with its
//! hidden subcommand.

use std::path::{Path, PathBuf};
use std::process::Command;

const LAYER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let dir = std::env::temp_dir().join(format!("dma-heap-list-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tmp(dir)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (run scripts/setup-host)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The virt overlay on a minimal base: `(coherent DTB, base DTB)`.
fn virt_dtbs(tmp: &Path) -> (PathBuf, PathBuf) {
    let base_dts = tmp.join("base.dts");
    std::fs::write(
        &base_dts,
        "/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tcompatible = \"linux,dummy-virt\";\n\tmemory@40000000 {\n\t\tdevice_type = \"memory\";\n\t\treg = <0x0 0x40000000 0x0 0x40000000>;\n\t};\n};\n",
    )
    .unwrap();
    let base = tmp.join("base.dtb");
    run(Command::new("dtc")
        .args(["-q", "-@", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&base)
        .arg(&base_dts));
    let dtbo = tmp.join("coherent-heap.dtbo");
    run(Command::new("dtc")
        .args(["-q", "-@", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&dtbo)
        .arg(Path::new(LAYER).join("dts/qemu-virt/coherent-heap.dtso")));
    let coherent = tmp.join("coherent.dtb");
    run(Command::new("fdtoverlay")
        .arg("-i")
        .arg(&base)
        .arg("-o")
        .arg(&coherent)
        .arg(&dtbo));
    (coherent, base)
}

/// The layer's kernel fragments, as `scripts/build` merges them (plus the
/// architecture, which allnoconfig sets), with `extra` appended.
fn kernel_config(tmp: &Path, variant_debug: bool) -> PathBuf {
    let files = Path::new(LAYER).join("recipes-kernel/linux/files");
    let mut text = String::from("CONFIG_ARM64=y\n");
    for f in ["coherent-heap.cfg", "qemuarm64.cfg", "test.cfg"] {
        text += &std::fs::read_to_string(files.join(f)).unwrap();
    }
    if variant_debug {
        text += &std::fs::read_to_string(files.join("variants/debug.cfg")).unwrap();
    }
    // merge_config.sh: the last value of an option wins.
    let mut last = std::collections::BTreeMap::new();
    for l in text.lines().filter(|l| l.starts_with("CONFIG_")) {
        if let Some((k, v)) = l.split_once('=') {
            last.insert(k.to_owned(), v.to_owned());
        }
    }
    let merged: String = last.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let path = tmp.join(if variant_debug {
        "debug.config"
    } else {
        "kernel.config"
    });
    std::fs::write(&path, merged).unwrap();
    path
}

fn list(dtb: &Path, config: &Path, extra: &[&str]) -> String {
    let out = run(Command::new(env!("CARGO_BIN_EXE_dma-heap"))
        .args(["test", "--list", "--dtb"])
        .arg(dtb)
        .arg("--kernel-config")
        .arg(config)
        .arg("--cmdline")
        .arg("console=ttyAMA0 dmaheap.regions=camera@70000000,display@60000000")
        .args(extra));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn lists_the_cases_of_the_virt_boot() {
    let tmp = Tmp::new("virt");
    let (coherent, base) = virt_dtbs(&tmp.0);
    let config = kernel_config(&tmp.0, false);
    let text = list(&coherent, &config, &[]);
    let lines: Vec<&str> = text.lines().collect();
    for want in [
        "heap_list.open_camera_70000000 must-pass",
        "heap_list.open_scratch must-pass",
        "heap_list.open_default_cma_region must-pass",
        "heap_list.open_reserved must-pass",
        "heap_list.open_video_78000000 must-pass",
        "cma_heap.video_78000000_present must-pass",
        "reserved_memory_dt.camera_70000000 must-pass",
        "coherent_module.module_load must-pass",
        "coherent_heap.driver_present must-pass",
        "coherent_heap.camera_70000000_present must-pass",
        "coherent_heap.display_60000000_present must-pass",
        "coherent_heap.display_62800000_present must-pass",
        "coherent_heap.scratch_present must-pass",
        "coherent_heap.scratch_alloc_region_plus_page_enomem must-pass",
        "coherent_heap.refused_mapped_75000000 must-pass",
        "coherent_heap.refused_system must-pass",
        "coherent_heap.refused_private_75800000 must-pass",
        "coherent_heap.refused_disabled_76400000 must-pass",
        "coherent_stress.parallel_stress must-pass",
        "kselftest_dmabuf_heaps.dmabuf_heap must-pass",
        "coherent_log.line_display_62800000 must-pass",
        "coherent_log.line_display_60000000 must-pass",
        "coherent_log.line_scratch must-pass",
        "coherent_log.line_system must-pass",
        "coherent_log.line_mapped_75000000 must-pass",
        "kmemleak.scan_clean may-skip kernel built without CONFIG_DEBUG_KMEMLEAK",
    ] {
        assert!(lines.contains(&want), "{want}:\n{text}");
    }
    // The two display pools are two heaps: each is named after its full
    // node name, unit address included.
    assert!(!text.contains("refused_display_"), "{text}");
    // Only the declared skip; nothing for the refused or disabled nodes'
    // heaps, nor for heaps the kernel does not create.
    assert_eq!(
        lines.iter().filter(|l| l.contains(" may-skip ")).count(),
        1,
        "{text}"
    );
    for absent in [
        "mapped_75000000_present",
        "open_mapped",
        "private_75800000_present",
        "open_private",
        "disabled_76400000_present",
        "open_disabled",
        "system_alloc_larger_than_ram",
        // The old naming: the node name without its unit address.
        "open_camera ",
        "camera_present",
    ] {
        assert!(!text.contains(absent), "{absent}:\n{text}");
    }
    assert!(lines
        .iter()
        .all(|l| l.ends_with(" must-pass") || l.contains(" may-skip ")));

    // JSON: the same cases.
    let json: serde_json::Value =
        serde_json::from_str(&list(&coherent, &config, &["--format", "json"])).unwrap();
    let cases = json.as_array().unwrap();
    assert_eq!(cases.len(), lines.len());
    assert_eq!(cases.last().unwrap()["name"], "kmemleak.scan_clean");
    assert_eq!(cases.last().unwrap()["expect"], "may-skip");
    assert_eq!(cases[0]["expect"], "must-pass");

    // The debug kernel: the driver built in, kmemleak.
    let debug = kernel_config(&tmp.0, true);
    let text = list(&coherent, &debug, &[]);
    let skips: Vec<&str> = text.lines().filter(|l| l.contains(" may-skip ")).collect();
    assert_eq!(
        skips,
        [
            "coherent_module.module_load may-skip coherent_heap is built in",
            "coherent_module.module_unload_refused may-skip coherent_heap is built in",
        ]
    );
    assert!(text.contains("kmemleak.scan_clean must-pass\n"));

    // The base tree alone: no coherent case at all; the nodes the command
    // line names are still cases (and will fail).
    let text = list(&base, &config, &[]);
    assert!(!text.contains("coherent_heap."), "{text}");
    assert!(
        text.contains("reserved_memory_dt.camera_70000000 must-pass\n"),
        "{text}"
    );
}

#[test]
fn list_errors_name_the_file() {
    let tmp = Tmp::new("errors");
    let config = kernel_config(&tmp.0, false);
    let junk = tmp.0.join("junk.dtb");
    std::fs::write(&junk, b"not a dtb").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dma-heap"))
        .args(["test", "--list", "--dtb"])
        .arg(&junk)
        .arg("--kernel-config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("junk.dtb: not a flattened device tree"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dma-heap"))
        .args(["test", "--list", "--dtb"])
        .arg(&junk)
        .arg("--kernel-config")
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.dtb: "), "{err}");
    // --format ktap is for a run, text and json for --list.
    for args in [
        &["test", "--list", "--format", "ktap"][..],
        &["test", "--format", "json"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dma-heap"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn stress_children_are_the_binary_itself() {
    use dma_heap::suites::stress::{self, StressConfig};
    let exe = Path::new(env!("CARGO_BIN_EXE_dma-heap"));
    let cfg = StressConfig {
        children: 2,
        ..StressConfig::default()
    };
    // No such heap here: each child starts, fails to open it and says so.
    let results = stress::run_children(exe, "no-such-heap", &cfg, 4096).unwrap();
    assert_eq!(results.len(), 2);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.index, i);
        let report = r.report.as_ref().expect("a report from the child");
        let err = report.error.as_deref().unwrap_or("");
        assert!(err.contains("'no-such-heap'"), "{err}");
        assert_eq!(report.steps, 0);
    }
    assert_eq!(stress::child_failures(&results).len(), 2);
    // A garbled configuration is a usage error of the child.
    let out = Command::new(exe)
        .args([stress::CHILD_COMMAND, "system", "0", "4096", "steps=x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Something that is not dma-heap: no report, and the parent says why.
    let results = stress::run_children(Path::new("/bin/true"), "system", &cfg, 4096).unwrap();
    assert!(
        matches!(&results[0].report, Err(m) if m.starts_with("exit status 0, no report")),
        "{:?}",
        results[0]
    );
}
