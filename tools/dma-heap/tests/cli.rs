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
        &["bench", "--help"],
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
        err.starts_with("error: invalid value '64X' for '<SIZE>': unknown unit \"X\""),
        "{err}"
    );
    // dtregion's grammar: 0x hex parses, so the failure is the heap, exit 1.
    let out = dma_heap(&["alloc", "nonexistent-heap", "0x1000"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nonexistent-heap"), "{err}");
    assert!(!err.contains("SIZE"), "{err}");

    let out = dma_heap(&["list", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));

    let out = dma_heap(&["test", "--format", "tap"]);
    assert_eq!(out.status.code(), Some(2));

    let out = dma_heap(&["bench", "--iterations", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'--iterations <N>'"), "{err}");
}

#[test]
fn long_help_documents_modes_suites_and_bench() {
    let text = String::from_utf8(dma_heap(&["--help"]).stdout).unwrap();
    for s in [
        "dmaheap.run=",
        "`bench`",
        "coherent_heap.ko",
        "coherent_heap.*",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
    let text = String::from_utf8(dma_heap(&["test", "--help"]).stdout).unwrap();
    for s in [
        "coherent_module",
        "coherent_debugfs",
        "coherent_alloc",
        "parallel_stress",
        "coherent_log",
        "kselftest_dmabuf_heaps",
        "/usr/lib/kselftests/dmabuf-heap",
        "kmemleak",
        "scan_clean",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
    // Run order: the selftest after our suites, coherent_log after it,
    // kmemleak last.
    let at = |s: &str| text.find(&format!("\n  {s}")).unwrap();
    assert!(at("coherent_stress") < at("kselftest_dmabuf_heaps"));
    assert!(at("kselftest_dmabuf_heaps") < at("coherent_log"));
    assert!(at("coherent_log") < at("kmemleak"));
    let text = String::from_utf8(dma_heap(&["bench", "--help"]).stdout).unwrap();
    for s in ["# bench: done", "1080p NV12", "--iterations", "--heap"] {
        assert!(text.contains(s), "{s}: {text}");
    }
}
