//! Command-line behaviour that needs no kernel: help text and usage errors
//! (argument parsing fails before anything under /dev is opened).

use std::process::Command;

fn dma_heap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dma-heap"))
        .args(args)
        .output()
        .expect("run dma-heap")
}

#[test]
fn help_documents_exit_codes() {
    for args in [
        &["--help"][..],
        &["test", "--help"],
        &["alloc", "--help"],
        &["list", "--help"],
    ] {
        let out = dma_heap(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Exit status:"), "{args:?}: {text}");
        assert!(out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_argument() {
    let out = dma_heap(&["alloc", "system", "64X"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: invalid value '64X' for '<SIZE>': unknown unit 'X'"),
        "{err}"
    );

    let out = dma_heap(&["list", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));

    let out = dma_heap(&["test", "--format", "tap"]);
    assert_eq!(out.status.code(), Some(2));
}
