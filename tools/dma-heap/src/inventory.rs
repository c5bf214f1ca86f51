//! Which heap is which: matches `/dev/dma_heap` entries with the
//! reserved-memory regions behind them, by the rules of `heap-rules`
//! (the mainline heap names, the CMA areas of reusable regions, and
//! [`heap_rules::classify`] for the coherent heaps).

use heap_rules::mainline::{mainline_heap, MainlineKind, DEFAULT_CMA_REGION};
use heap_rules::{classify, Classification};
use serde::Serialize;

use crate::dt::Region;

/// The driver behind a heap, as far as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapKind {
    /// The system heap (`system`, `system_cc_shared`).
    System,
    /// A CMA heap (`default_cma_region`, `reserved`, a reusable node's full name).
    Cma,
    /// A coherent pool heap (an exported `linux,dma-heap` node's full name).
    Coherent,
    /// Anything else (vendor heaps).
    Other,
}

impl HeapKind {
    /// Lowercase name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            HeapKind::System => "system",
            HeapKind::Cma => "cma",
            HeapKind::Coherent => "coherent",
            HeapKind::Other => "other",
        }
    }
}

/// Heap names and the regions they come from.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Reserved-memory regions, in device-tree order.
    pub regions: Vec<Region>,
    /// What the coherent heap driver does with them, and what it prints.
    pub coherent: Classification,
}

impl Inventory {
    /// Builds the inventory for `regions` (in device-tree order), judging
    /// what the kernel reserved from the nodes alone.
    pub fn new(regions: Vec<Region>) -> Inventory {
        let coherent = classify(&regions, Region::reservation);
        Inventory { regions, coherent }
    }

    /// The kind of heap `heap`, judged by its name.
    pub fn kind(&self, heap: &str) -> HeapKind {
        match mainline_heap(heap).map(|h| h.kind) {
            Some(MainlineKind::System) => HeapKind::System,
            Some(MainlineKind::Cma) => HeapKind::Cma,
            None if self.cma_region(heap).is_some() => HeapKind::Cma,
            None if self.coherent.heap(heap).is_some() => HeapKind::Coherent,
            None => HeapKind::Other,
        }
    }

    /// The reusable region whose CMA heap is `heap` (its full name).
    fn cma_region(&self, heap: &str) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| r.is_cma_area() && r.name == heap)
    }

    /// The region at `path` (`/reserved-memory/NODE`).
    pub fn region_at(&self, path: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.path == path)
    }

    /// The reserved-memory region behind heap `heap`, if any: the CMA
    /// node of that full name, the `linux,cma-default` node for
    /// `default_cma_region`, or the exported coherent node of that name.
    pub fn region(&self, heap: &str) -> Option<&Region> {
        if heap == DEFAULT_CMA_REGION {
            return self
                .regions
                .iter()
                .find(|r| r.is_cma_area() && r.cma_default);
        }
        if let Some(r) = self.cma_region(heap) {
            return Some(r);
        }
        self.region_at(&self.coherent.heap(heap)?.path)
    }
}

/// The boolean properties of `r` that are set, in device-tree spelling.
pub fn dt_flags(r: &Region) -> Vec<&'static str> {
    let mut f = Vec::new();
    if r.no_map {
        f.push("no-map");
    }
    if r.reusable {
        f.push("reusable");
    }
    if r.cma_default {
        f.push("linux,cma-default");
    }
    if r.dma_heap {
        f.push("linux,dma-heap");
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, tests::CELLS};
    use std::path::Path;

    #[test]
    fn classifies_and_matches() {
        let r = |node: &str, list: &[(&str, &[u8])]| {
            parse_region(Path::new("/t"), node, &props(list), CELLS).unwrap()
        };
        let size = be32(&[0, 0x100_0000]);
        let reg = be32(&[0, 0x7000_0000, 0, 0x10_0000]);
        let inv = Inventory::new(vec![
            r(
                "linux,cma",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &size),
                    ("reusable", b""),
                    ("linux,cma-default", b""),
                ],
            ),
            r(
                "camera@70000000",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &reg),
                    ("no-map", b""),
                    ("linux,dma-heap", b""),
                ],
            ),
            r(
                "scratch",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &size),
                    ("no-map", b""),
                    ("linux,dma-heap", b""),
                ],
            ),
        ]);
        assert_eq!(inv.kind("system"), HeapKind::System);
        assert_eq!(inv.kind("reserved"), HeapKind::Cma);
        assert_eq!(inv.kind("linux,cma"), HeapKind::Cma);
        assert_eq!(inv.kind("camera@70000000"), HeapKind::Coherent);
        assert_eq!(inv.kind("scratch"), HeapKind::Coherent);
        // The name without the unit address is nobody's heap.
        assert_eq!(inv.kind("camera"), HeapKind::Other);
        assert!(inv.region("camera").is_none());
        assert_eq!(inv.region("default_cma_region").unwrap().name, "linux,cma");
        assert_eq!(inv.region("linux,cma").unwrap().name, "linux,cma");
        assert_eq!(
            inv.region("camera@70000000").unwrap().base(),
            Some(0x7000_0000)
        );
        assert_eq!(inv.region("scratch").unwrap().bytes(), Some(0x100_0000));
        assert!(inv.region("system").is_none());
        assert!(inv.region("reserved").is_none());
        assert_eq!(
            dt_flags(inv.region("camera@70000000").unwrap()),
            ["no-map", "linux,dma-heap"]
        );
    }
}
