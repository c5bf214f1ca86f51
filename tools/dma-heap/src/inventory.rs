//! Which heap is which: matches `/dev/dma_heap` entries with the
//! reserved-memory regions behind them.

use serde::Serialize;

use crate::coherent::{expected_coherent_heaps_with, CoherentHeaps, Rules};
use crate::dt::Region;

/// The driver behind a heap, as far as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapKind {
    /// The system heap (`system`, `system_cc_shared`).
    System,
    /// A CMA heap (`default_cma_region`, `reserved`, a reusable node's full name).
    Cma,
    /// A coherent pool heap (an accepted `linux,dma-heap` node's name).
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
    /// What the coherent heap driver should make of them.
    pub coherent: CoherentHeaps,
    /// The driver settings `coherent` was computed with.
    pub rules: Rules,
}

impl Inventory {
    /// Builds the inventory for `regions`, with the driver's default rules.
    pub fn new(regions: Vec<Region>) -> Inventory {
        Inventory::with_rules(regions, Rules::default())
    }

    /// Builds the inventory for `regions` with driver settings `rules`.
    pub fn with_rules(regions: Vec<Region>, rules: Rules) -> Inventory {
        let coherent = expected_coherent_heaps_with(&regions, rules);
        Inventory {
            regions,
            coherent,
            rules,
        }
    }

    /// The kind of heap `heap`, judged by its name.
    pub fn kind(&self, heap: &str) -> HeapKind {
        match heap {
            "system" | "system_cc_shared" => HeapKind::System,
            "default_cma_region" | "reserved" => HeapKind::Cma,
            _ if self.regions.iter().any(|r| r.is_cma() && r.node == heap) => HeapKind::Cma,
            _ if self.coherent.get(heap).is_some() => HeapKind::Coherent,
            _ => HeapKind::Other,
        }
    }

    /// The reserved-memory region behind heap `heap`, if any: the CMA
    /// node of that full name, the `linux,cma-default` node for
    /// `default_cma_region`, or the accepted coherent node of that name.
    pub fn region(&self, heap: &str) -> Option<&Region> {
        if heap == "default_cma_region" {
            return self.regions.iter().find(|r| r.is_cma() && r.cma_default);
        }
        if let Some(r) = self.regions.iter().find(|r| r.is_cma() && r.node == heap) {
            return Some(r);
        }
        let node = &self.coherent.get(heap)?.node;
        self.regions.iter().find(|r| &r.node == node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, Cells};
    use std::path::Path;

    #[test]
    fn classifies_and_matches() {
        let r = |node: &str, list: &[(&str, &[u8])]| {
            parse_region(Path::new("/t"), node, &props(list), Cells::default()).unwrap()
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
        ]);
        assert_eq!(inv.kind("system"), HeapKind::System);
        assert_eq!(inv.kind("reserved"), HeapKind::Cma);
        assert_eq!(inv.kind("linux,cma"), HeapKind::Cma);
        assert_eq!(inv.kind("camera"), HeapKind::Coherent);
        assert_eq!(inv.kind("vendor"), HeapKind::Other);
        assert_eq!(inv.region("default_cma_region").unwrap().node, "linux,cma");
        assert_eq!(inv.region("linux,cma").unwrap().node, "linux,cma");
        assert_eq!(inv.region("camera").unwrap().base(), Some(0x7000_0000));
        assert!(inv.region("system").is_none());
        assert!(inv.region("reserved").is_none());
    }
}
