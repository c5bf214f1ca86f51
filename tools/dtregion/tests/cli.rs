//! Runs the `dtregion` binary on small trees compiled with dtc at test time.
//!
//! The real boards are tested by scripts/check-dts, which compiles their trees from the pinned
//! kernel source; these tests need only dtc and fdtoverlay.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A base tree: 1 GiB of DRAM at 0x40000000, a firmware region whose size is not page aligned
/// (a problem of the vendor's tree) and a CMA pool.
const BASE: &str = r#"
/dts-v1/;
/ {
    compatible = "acme,board", "acme,soc";
    #address-cells = <2>;
    #size-cells = <2>;

    memory@40000000 {
        device_type = "memory";
        reg = <0x0 0x40000000 0x0 0x40000000>;
    };

    reserved-memory {
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;

        fw@40000000 {
            reg = <0x0 0x40000000 0x0 0x100>;
            no-map;
        };

        linux,cma {
            compatible = "shared-dma-pool";
            reusable;
            size = <0x0 0x4000000>;
            linux,cma-default;
        };
    };
};
"#;

const TABLE: &str = r#"
[board.acme]
name = "ACME board"
compatible = "acme,board"
dtb = "acme/acme-board.dtb"
keep-out = [{ name = "boot", base = 0x40000000, size = 0x8000000, why = "kernel and initrd" }]

[board.other]
name = "Other board"
compatible = "other,board"
"#;

fn overlay(compatible: Option<&str>, regions: &str) -> String {
    let guard = compatible.map_or(String::new(), |c| {
        format!("/ {{\n\tcompatible = \"{c}\";\n}};\n")
    });
    format!(
        "/dts-v1/;\n/plugin/;\n{guard}&{{/reserved-memory}} {{\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n{regions}}};\n"
    )
}

const CAMERA: &str = "\tcamera@50000000 {\n\t\tcompatible = \"shared-dma-pool\";\n\t\treg = <0x0 0x50000000 0x0 0x4000000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n\t};\n";

struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("dtregion-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Compiles DTS source with `dtc -@`.
    fn dtc(&self, name: &str, source: &str) -> PathBuf {
        let src = self.write(&format!("{name}.dts"), source);
        let out = self.0.join(name);
        let status = Command::new("dtc")
            .args(["-q", "-@", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("dtc not found: run scripts/setup-host (device-tree-compiler)");
        assert!(status.success(), "dtc failed on {name}");
        out
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dtregion(args: &[&Path]) -> (i32, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_dtregion"))
        .args(args)
        .env_remove("DTREGION_BOARDS")
        .env_remove("DTREGION_DTBS")
        .output()
        .expect("run dtregion");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

/// The problem lines of a human report.
fn problems(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning[") || l.starts_with("note["))
        .collect()
}

#[test]
fn a_good_overlay_passes_and_base_problems_are_notes() {
    let d = Dir::new("good");
    let base = d.dtc("base.dtb", BASE);
    let ovl = d.dtc("camera.dtbo", &overlay(Some("acme,board"), CAMERA));
    let (code, out, err) = dtregion(&[p("check"), &base, &ovl]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == [
                "/reserved-memory/camera@50000000",
                "camera@50000000",
                "0x50000000",
                "64",
                "MiB",
                "no-map",
                "yes",
                "overlay"
            ]),
        "{out}"
    );
    assert_eq!(
        problems(&out),
        ["note[unaligned]: /reserved-memory/fw@40000000: size 256 B is not a multiple of the 4 KiB page: the kernel reserves and maps memory in whole pages, so the region does not end where the node says"]
    );
    assert_eq!(
        out.lines().last(),
        Some("dtregion: 0 errors, 0 warnings, 1 note")
    );
}

#[test]
fn json_names_class_node_and_severity() {
    let d = Dir::new("json");
    let base = d.dtc("base.dtb", BASE);
    let mapped = CAMERA.replace("\t\tno-map;\n", "");
    let ovl = d.dtc("mapped.dtbo", &overlay(None, &mapped));
    let (code, out, _) = dtregion(&[p("check"), p("--format"), p("json"), &base, &ovl]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"], 1);
    let errors: Vec<&serde_json::Value> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["class"], "missing-no-map");
    assert_eq!(errors[0]["node"], "/reserved-memory/camera@50000000");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("add no-map to /reserved-memory/camera@50000000"));
    // Each region carries the driver's decision and the kernel line it prints.
    let camera = v["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "camera@50000000")
        .unwrap();
    assert_eq!(camera["heap"], serde_json::Value::Null);
    assert_eq!(camera["decision"], "refused");
    assert_eq!(camera["refusal"]["reason"], "system-ram");
    assert_eq!(
        camera["log"],
        "coherent_heap: /reserved-memory/camera@50000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/camera@50000000"
    );
    let cma = v["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "linux,cma")
        .unwrap();
    assert_eq!(cma["origin"], "base");
    assert_eq!(cma["base"], serde_json::Value::Null);
    assert_eq!(cma["size"], 0x400_0000);
    assert_eq!(cma["decision"], "skipped");
    assert_eq!(cma["skip"], "reusable");
}

/// A dynamic region named like a mainline heap collides with it; with its full node name a
/// static region of the same name does not, nor do two regions whose names differ only in
/// their unit address.
#[test]
fn heap_names_are_full_node_names() {
    let d = Dir::new("names");
    let base = d.dtc("base.dtb", BASE);
    let regions = "\tsystem {\n\t\tcompatible = \"shared-dma-pool\";\n\t\tsize = <0x0 0x400000>;\n\t\talignment = <0x0 0x200000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n\t};\n\tsystem@54000000 {\n\t\tcompatible = \"shared-dma-pool\";\n\t\treg = <0x0 0x54000000 0x0 0x400000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n\t};\n"
        .to_string()
        + CAMERA
        + &CAMERA.replace("50000000", "58000000");
    let ovl = d.dtc("names.dtbo", &overlay(None, &regions));
    let (code, out, _) = dtregion(&[p("check"), &base, &ovl]);
    assert_eq!(code, 1, "{out}");
    let ours: Vec<&str> = problems(&out)
        .into_iter()
        .filter(|l| !l.starts_with("note["))
        .collect();
    assert_eq!(
        ours,
        ["error[heap-name-collision]: /reserved-memory/system: heap name \"system\" is taken by the system heap: the driver refuses it (\"coherent_heap: /reserved-memory/system: not exported: the heap name \"system\" is already taken\"); rename the node"]
    );
    let heaps: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("/reserved-memory/"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        heaps,
        [
            "camera@58000000",
            "camera@50000000",
            "system@54000000",
            "-",
            "-",
            "-"
        ],
        "{out}"
    );
}

/// The default DMA pool (`linux,dma-default`) is passed over like a CMA pool, and opting it in
/// is a warning: the driver skips it whatever it says.
#[test]
fn the_default_dma_pool_is_skipped() {
    let d = Dir::new("dma-default");
    let base = d.dtc("base.dtb", BASE);
    let pool = CAMERA
        .replace("camera@50000000", "dma@58000000")
        .replace("0x50000000", "0x58000000")
        .replace(
            "\t\tlinux,dma-heap;\n",
            "\t\tlinux,dma-heap;\n\t\tlinux,dma-default;\n",
        );
    let ovl = d.dtc("dma.dtbo", &overlay(None, &(pool + CAMERA)));
    let (code, out, err) = dtregion(&[p("check"), &base, &ovl]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        problems(&out).contains(&"warning[ignored-opt-in]: /reserved-memory/dma@58000000: linux,dma-heap on the default DMA pool (linux,dma-default): the coherent heap driver skips it, the consistent DMA allocator's default pool is not a per-device pool; drop one of the two"),
        "{out}"
    );
    let (_, out, _) = dtregion(&[p("check"), p("--format"), p("json"), &base, &ovl]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = |name: &str| {
        v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let dma = row("dma@58000000");
    assert_eq!(dma["decision"], "skipped");
    assert_eq!(dma["skip"], "dma-default");
    assert_eq!(dma["heap"], serde_json::Value::Null);
    assert_eq!(dma["log"], serde_json::Value::Null);
    assert!(dma["flags"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("dma-default")));
    assert_eq!(row("camera@50000000")["heap"], "camera@50000000");
}

/// `dtregion check ... | head`: a failed check stays exit status 1 when its reader goes away.
#[test]
fn a_failed_check_is_not_exit_0_when_the_pipe_closes() {
    let d = Dir::new("pipe");
    let base = d.dtc("base.dtb", BASE);
    let mapped = CAMERA.replace("\t\tno-map;\n", "");
    let ovl = d.dtc("mapped.dtbo", &overlay(None, &mapped));
    for format in ["human", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dtregion"))
            .args([p("check"), p("--format"), p(format), &base, &ovl])
            .env_remove("DTREGION_BOARDS")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before dtregion has run fdtoverlay and checked.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {out:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_merged_tree_alone_is_all_checked_unless_a_baseline_is_given() {
    let d = Dir::new("merged");
    let base = d.dtc("base.dtb", BASE);
    let ovl = d.dtc("camera.dtbo", &overlay(None, CAMERA));
    let merged = d.0.join("merged.dtb");
    let status = Command::new("fdtoverlay")
        .arg("-i")
        .arg(&base)
        .arg("-o")
        .arg(&merged)
        .arg(&ovl)
        .status()
        .expect("fdtoverlay not found: run scripts/setup-host");
    assert!(status.success());
    let (code, out, _) = dtregion(&[p("check"), &merged]);
    assert_eq!(code, 1, "{out}");
    assert!(problems(&out)[0].starts_with("error[unaligned]: /reserved-memory/fw@40000000"));
    let (code, out, _) = dtregion(&[p("check"), p("--baseline"), &base, &merged]);
    assert_eq!(code, 0, "{out}");
    assert!(problems(&out)[0].starts_with("note[unaligned]"));
}

#[test]
fn the_board_table_gives_keep_outs_and_missing_dram_is_an_error() {
    let d = Dir::new("table");
    let table = d.write("boards.toml", TABLE);
    let base = d.dtc("base.dtb", BASE);
    let boot = CAMERA.replace("50000000", "44000000");
    let ovl = d.dtc("boot.dtbo", &overlay(None, &boot));
    let (code, out, _) = dtregion(&[p("check"), p("--boards"), &table, &base, &ovl]);
    assert_eq!(code, 1);
    assert!(out.starts_with("board: acme\n"), "{out}");
    assert_eq!(
        problems(&out)[0],
        "error[overlap]: /reserved-memory/camera@44000000: 0x44000000-0x47ffffff overlaps the board's boot range 0x40000000-0x47ffffff (kernel and initrd; board table)"
    );

    let no_memory = BASE.replace(
        "reg = <0x0 0x40000000 0x0 0x40000000>;",
        "reg = <0x0 0x0 0x0 0x0>;",
    );
    let base = d.dtc("no-memory.dtb", &no_memory);
    let (code, out, _) = dtregion(&[p("check"), &base]);
    assert_eq!(code, 1);
    let line = problems(&out)
        .into_iter()
        .find(|l| l.starts_with("error[no-memory]"))
        .unwrap_or_else(|| panic!("no no-memory error: {out}"));
    assert!(
        line.starts_with("error[no-memory]: /memory@40000000: "),
        "{line}"
    );
    assert!(
        line.contains("no board table was given: pass --boards dts/boards.toml"),
        "{line}"
    );
    let (_, out, _) = dtregion(&[
        p("check"),
        p("--boards"),
        &table,
        p("--board"),
        p("other"),
        &base,
    ]);
    assert!(
        out.contains("error[no-memory]: /memory@40000000: /memory@40000000 has no bank of non-zero size (the firmware writes it at boot) and board other of the board table has no dram"),
        "{out}"
    );
}

#[test]
fn unusable_input_is_exit_2_with_the_file_named() {
    let d = Dir::new("unusable");
    let base = d.dtc("base.dtb", BASE);
    let text = d.write("notes.txt", "/dts-v1/;\n/ { };\n");
    let empty = d.write("empty.dtb", "");
    let bytes = std::fs::read(&base).unwrap();
    let cut = d.write("cut.dtb", &bytes[..bytes.len() / 2]);
    let mut flipped = bytes.clone();
    flipped[0] ^= 0xff;
    let magic = d.write("magic.dtb", &flipped);
    let other = d.dtc("other.dtbo", &overlay(Some("other,board"), CAMERA));
    let ovl = d.dtc("camera.dtbo", &overlay(None, CAMERA));

    let cases: [(&[&Path], &str); 7] = [
        (&[p("check"), &text], "notes.txt: not a device tree blob: bad magic 0x2f647473"),
        (&[p("check"), &empty], "empty.dtb: not a device tree blob: 0 bytes"),
        (&[p("check"), &cut], "cut.dtb: truncated device tree blob: the header says"),
        (&[p("check"), &magic], "magic.dtb: not a device tree blob: bad magic 0x2f0dfeed"),
        (&[p("check"), &base, &other], "other.dtbo: overlay for another board: it is for \"other,board\", the base tree is \"acme,board\", \"acme,soc\""),
        (&[p("check"), &ovl, &ovl], "camera.dtbo: is an overlay, not a base tree"),
        (&[p("check"), &base, &base], "base.dtb: not an overlay"),
    ];
    for (args, want) in cases {
        let (code, out, err) = dtregion(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with("dtregion: error: "), "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
    }
}

#[test]
fn new_writes_a_checked_overlay_and_refuses_a_bad_base() {
    let d = Dir::new("new");
    let table = d.write("boards.toml", TABLE);
    let base = d.dtc("base.dtb", BASE);
    let out_file = d.0.join("camera.dtso");
    let (code, out, err) = dtregion(&[
        p("new"),
        p("--boards"),
        &table,
        p("--board"),
        p("acme"),
        p("--dtb"),
        &base,
        p("--name"),
        p("camera"),
        p("--size"),
        p("64M"),
        p("-o"),
        &out_file,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty() && err.is_empty(), "{out}{err}");
    let source = std::fs::read_to_string(&out_file).unwrap();
    // Above the boot keep-out (0x40000000-0x47ffffff), 2 MiB aligned.
    assert!(source.contains("\tcamera@48000000 {\n"), "{source}");
    // The vendor learns the heap's exact name.
    assert!(
        source.contains(" * camera@48000000: 64 MiB coherent dma-buf heap region for the ACME board\n * (acme), written by `dtregion new`. The heap is\n * /dev/dma_heap/camera@48000000: "),
        "{source}"
    );
    assert!(source
        .contains("\t\treg = <0x0 0x48000000 0x0 0x4000000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n"));
    assert!(source.contains("\tcompatible = \"acme,board\";\n"));
    let dtbo = d.dtc("camera.dtbo", &source);
    let (code, out, _) = dtregion(&[p("check"), p("--boards"), &table, &base, &dtbo]);
    assert_eq!(code, 0, "{out}");

    let (code, out, err) = dtregion(&[
        p("new"),
        p("--boards"),
        &table,
        p("--board"),
        p("acme"),
        p("--dtb"),
        &base,
        p("--name"),
        p("system"),
        p("--size"),
        p("64M"),
        p("--base"),
        p("0x40000000"),
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "nothing written: {out}");
    // "system@40000000" is not the system heap's name: only the overlap fails.
    assert!(!err.contains("heap-name-collision"), "{err}");
    assert!(
        err.contains("error[overlap]: /reserved-memory/system@40000000"),
        "{err}"
    );
    assert!(
        err.ends_with("dtregion: the new region fails the check; nothing written\n"),
        "{err}"
    );
}

#[test]
fn help_documents_exit_status_and_overlay_application() {
    let (code, out, _) = dtregion(&[p("check"), p("--help")]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit status:\n  0  no error"));
    assert!(out.contains("  2  unusable input"));
    assert!(out.contains("external `fdtoverlay`"));
    let (_, out, _) = dtregion(&[p("new"), p("--help")]);
    assert!(out.contains("there is no --no-map option"));
    let (code, _, err) = dtregion(&[p("new"), p("--no-map")]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn boards_lists_the_table() {
    let d = Dir::new("boards");
    let table = d.write("boards.toml", TABLE);
    let (code, out, _) = dtregion(&[p("boards"), p("--boards"), &table]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "acme\tacme/acme-board.dtb\tacme,board\tACME board\nother\t-\tother,board\tOther board\n"
    );
}

/// A stand-in for QEMU virt's tree as far as memory goes (scripts/check-dts dumps the real one
/// from QEMU): 1 GiB at 0x40000000, no /reserved-memory.
const VIRT: &str = r#"
/dts-v1/;
/ {
    compatible = "linux,dummy-virt";
    #address-cells = <2>;
    #size-cells = <2>;

    memory@40000000 {
        device_type = "memory";
        reg = <0x0 0x40000000 0x0 0x40000000>;
    };
};
"#;

/// The `// expect:` lines of an overlay, as `SEVERITY[CLASS] NODE`, sorted.
fn expectations(source: &str) -> Vec<String> {
    let mut want: Vec<String> = source
        .lines()
        .filter_map(|l| l.strip_prefix("// expect: "))
        .map(str::to_string)
        .collect();
    want.sort();
    want
}

/// The problems of a human report as `SEVERITY[CLASS] NODE`, notes left out, sorted.
fn declared_form(stdout: &str) -> Vec<String> {
    let mut got: Vec<String> = problems(stdout)
        .into_iter()
        .filter(|l| !l.starts_with("note["))
        .map(|l| {
            let (head, rest) = l.split_once(": ").unwrap();
            let node = rest.split(": ").next().unwrap();
            format!("{head} {node}")
        })
        .collect();
    got.sort();
    got
}

/// The QEMU overlay is the driver's test fixture: what dtregion reports on it is what the
/// overlay declares in its `// expect:` lines, nothing more, nothing less.
#[test]
fn the_qemu_overlay_has_exactly_the_problems_it_declares() {
    let layer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = std::fs::read_to_string(layer.join("dts/qemu-virt/coherent-heap.dtso")).unwrap();
    let want = expectations(&source);
    assert!(!want.is_empty(), "no // expect: lines in the QEMU overlay");
    let d = Dir::new("qemu");
    let base = d.dtc("virt.dtb", VIRT);
    let ovl = d.dtc("coherent-heap.dtbo", &source);
    let table = layer.join("dts/boards.toml");
    let (code, out, err) = dtregion(&[p("check"), p("--boards"), &table, &base, &ovl]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(declared_form(&out), want, "{out}");
    // The heaps the driver makes, by their full node names.
    let mut heaps: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("/reserved-memory/"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|h| *h != "-")
        .collect();
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
    // The same check of a copy without its mistakes finds none: the lines are what the
    // overlay's mistakes cause.
    let fixed = source
        .replace(
            "\t\t\treg = <0x0 0x75000000 0x0 0x800000>;\n",
            "\t\t\treg = <0x0 0x75000000 0x0 0x800000>;\n\t\t\tno-map;\n",
        )
        .replace("\t\tsystem {", "\t\tsys {");
    let ovl = d.dtc("fixed.dtbo", &fixed);
    let (code, out, _) = dtregion(&[p("check"), p("--boards"), &table, &base, &ovl]);
    assert_eq!(code, 0, "{out}");
    assert!(declared_form(&out).is_empty(), "{out}");
}

/// Renders an SVG with rsvg-convert (librsvg, Debian's `librsvg2-bin`) into a PNG; the PNG's
/// width and height, or what rsvg-convert said.
fn render(d: &Dir, svg: &Path) -> Result<(u32, u32), String> {
    let png = d.0.join(format!(
        "{}.png",
        svg.file_stem().unwrap().to_string_lossy()
    ));
    let out = Command::new("rsvg-convert")
        .arg("-o")
        .arg(&png)
        .arg(svg)
        .output()
        .expect("rsvg-convert not found: run scripts/setup-host (librsvg2-bin)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    Ok((be(16), be(20)))
}

#[test]
fn map_draws_every_region_and_renders() {
    let d = Dir::new("map");
    let base = d.dtc("base.dtb", BASE);
    let high = "\thigh@100000000 {\n\t\tcompatible = \"shared-dma-pool\";\n\t\treg = <0x1 0x0 0x0 0x2000000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n\t};\n";
    let ovl = d.dtc(
        "camera.dtbo",
        &overlay(Some("acme,board"), &format!("{CAMERA}{high}")),
    );
    let table = d.write("boards.toml", TABLE);
    let svg = d.0.join("map.svg");
    let (code, out, err) = dtregion(&[p("map"), p("--boards"), &table, &base, &ovl, p("-o"), &svg]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let texts = picture::texts(&text).expect("an SVG document");
    for label in [
        "ACME board (acme): physical address space",
        "DRAM bank 0",
        "keep-out boot",
        "fw@40000000",
        "linux,cma",
        "camera@50000000",
        "high@100000000",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
    assert!(
        texts
            .iter()
            .any(|t| t
                .starts_with("0x50000000-0x53ffffff  64 MiB; heap /dev/dma_heap/camera@50000000")),
        "{texts:?}"
    );
    // The region above 4 GiB is outside the DRAM: the error is written under its label.
    assert!(
        texts.iter().any(|t| t.starts_with("error[outside-memory]")),
        "{texts:?}"
    );
    let (w, h) = render(&d, &svg).expect("rsvg-convert renders the map");
    assert!(w > 600 && h > 300, "{w}x{h}");
    // Standard output by default, the same picture.
    let (code, out, _) = dtregion(&[p("map"), p("--boards"), &table, &base, &ovl]);
    assert_eq!((code, out), (0, text));
    // The map it wrote passes --verify.
    let (code, _, err) = dtregion(&[
        p("map"),
        p("--verify"),
        &svg,
        p("--boards"),
        &table,
        &base,
        &ovl,
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_map_without_a_region_or_broken_fails() {
    let d = Dir::new("map-bad");
    let base = d.dtc("base.dtb", BASE);
    let ovl = d.dtc("camera.dtbo", &overlay(Some("acme,board"), CAMERA));
    let (code, good, _) = dtregion(&[p("map"), &base, &ovl]);
    assert_eq!(code, 0);
    // A region's label taken out: --verify names it.
    let cut = d.write(
        "cut.svg",
        good.replace(">camera@50000000</text>", "></text>"),
    );
    let (code, _, err) = dtregion(&[p("map"), p("--verify"), &cut, &base, &ovl]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cut.svg: no label \"camera@50000000\""),
        "{err}"
    );
    // The same map checked against the tree without the overlay passes: the label was the
    // overlay's region's.
    let (code, _, err) = dtregion(&[p("map"), p("--verify"), &cut, &base]);
    assert_eq!(code, 0, "{err}");
    // Not well-formed: --verify and rsvg-convert both refuse it.
    let broken = d.write("broken.svg", good.replace("</text>", ""));
    let (code, _, err) = dtregion(&[p("map"), p("--verify"), &broken, &base, &ovl]);
    assert_eq!(code, 1);
    assert!(err.contains("not an SVG document"), "{err}");
    assert!(render(&d, &broken).is_err());
    // A map file that is not there is unusable input.
    let (code, _, err) = dtregion(&[p("map"), p("--verify"), p("/nonexistent.svg"), &base]);
    assert_eq!(code, 2, "{err}");
}
