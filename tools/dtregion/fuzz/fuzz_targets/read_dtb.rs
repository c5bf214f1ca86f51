//! The DTB reading path of the tools on arbitrary bytes: the walker of `heap-rules` (which
//! `dtregion` and `dma-heap` share), the region decoding, `classify()` and every check of
//! `dtregion check`. None of it may panic, and a tree that reads is consistent: every node's
//! path leads to a node of that name, children and parents agree.

#![no_main]

use dtregion::check::{self, BoardFacts, Input};
use heap_rules::{classify, Region, ReservedMemory, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Tree::from_bytes(data) else {
        return;
    };
    for (i, n) in tree.nodes.iter().enumerate() {
        assert_eq!(n.index, i);
        for &c in &n.children {
            assert_eq!(tree.nodes[c].parent, Some(i));
        }
        let found = tree.node(&tree.path(n)).expect("a node's path leads to a node");
        assert_eq!(found.name, n.name);
    }
    let _ = tree.is_overlay();
    if let Some(rm) = ReservedMemory::from_tree(&tree) {
        let _ = rm.format_problem();
        let heaps = classify(&rm.regions, Region::reservation);
        assert_eq!(heaps.verdicts.len(), rm.regions.len());
        for v in &heaps.verdicts {
            if let Some(line) = &v.line {
                assert!(line.is_about(&line.text));
            }
        }
    }
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
