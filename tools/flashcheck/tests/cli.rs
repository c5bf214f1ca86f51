//! The flashcheck binary: exit statuses, the one-line refusal, JSON.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flashcheck-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut img = vec![0u8; 32 * 1024];
    img[..4096].fill(0x5a);
    fs::write(dir.join("a.img"), &img).unwrap();
    fs::write(dir.join("a.img.bmap"), flashcheck::bmap::render(&img)).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flashcheck"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_regular_file_is_refused_in_one_line() {
    let dir = scratch("file");
    let out = run(&["check", s(&dir.join("a.img")), s(&dir.join("a.img"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("flashcheck: refusing to write: "), "{err}");
    assert!(
        err.trim_end().ends_with("a.img is not a block device"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn json_says_why() {
    let dir = scratch("json");
    let missing = dir.join("no-such-device");
    let out = run(&[
        "check",
        "--format",
        "json",
        s(&dir.join("a.img")),
        s(&missing),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["refusal"]["kind"], "no-device");
    assert!(v["refusal"]["reason"]
        .as_str()
        .unwrap()
        .ends_with("does not exist"));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn verify_reads_the_written_copy() {
    let dir = scratch("verify");
    let image = dir.join("a.img");
    let copy = dir.join("copy");
    fs::copy(&image, &copy).unwrap();
    let ok = run(&["verify", s(&image), s(&copy)]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(ok.stdout.is_empty() && ok.stderr.is_empty());
    let mut data = fs::read(&copy).unwrap();
    data[100] = 0;
    fs::write(&copy, data).unwrap();
    let bad = run(&["verify", s(&image), s(&copy)]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8(bad.stderr)
        .unwrap()
        .contains("blocks 0-0 do not hold what"));
    fs::remove_file(dir.join("a.img.bmap")).unwrap();
    let nobmap = run(&["verify", s(&image), s(&copy)]);
    assert_eq!(nobmap.status.code(), Some(3));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(run(&["check", "only-one"]).status.code(), Some(2));
    assert_eq!(run(&["format-the-disk"]).status.code(), Some(2));
}
