//! The DTB reading path of `dtregion` on arbitrary bytes: the blob check and normalisation,
//! the `fdt` crate reading the normalised copy, the layout decoding and every check. None of it
//! may panic, and normalising is idempotent.

#![no_main]

use dtregion::blob;
use dtregion::check::{self, BoardFacts, Input};
use dtregion::Tree;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(normal) = blob::normalize(data) else {
        assert!(Tree::from_bytes(data).is_err());
        return;
    };
    assert_eq!(blob::normalize(&normal).as_deref(), Ok(normal.as_slice()));
    let tree = Tree::from_bytes(data).expect("a blob that normalises reads");
    let _ = tree.is_overlay();
    for baseline in [None, Some(&tree)] {
        let report = check::check(Input {
            tree: &tree,
            baseline,
            board: BoardFacts::NoTable,
            page_size: 4096,
        });
        assert_eq!(
            report.errors + report.warnings + report.notes,
            report.problems.len()
        );
    }
});
