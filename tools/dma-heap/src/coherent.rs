//! Which heaps the coherent heap driver should create from `/reserved-memory`.
//!
//! The rules, applied to the nodes in device-tree order:
//!
//! 1. `compatible` contains `"shared-dma-pool"`;
//! 2. `status` is absent, `"okay"` or `"ok"`;
//! 3. no `reusable` (those are CMA areas, served by the CMA heap);
//! 4. opted in with `linux,dma-heap`;
//! 5. has `no-map` (on arm64 a pool inside the linear map is refused);
//! 6. the heap name, the node name without unit address, is not empty;
//! 7. the name is not taken: not by a mainline heap ([`MAINLINE_HEAP_NAMES`]),
//!    not by the CMA heap of a reusable node (named after the full node
//!    name), not by an earlier accepted node.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::dt::Region;

/// Heap names the mainline system and CMA heaps may register.
pub const MAINLINE_HEAP_NAMES: &[&str] = &[
    "system",
    "system_cc_shared",
    "default_cma_region",
    "reserved",
];

/// Who already owns a heap name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Owner {
    /// A mainline heap (`system`, `reserved`, ...).
    Mainline(String),
    /// The CMA heap of a reusable node (its full node name).
    CmaNode(String),
    /// An earlier node accepted by the coherent heap rules.
    CoherentNode(String),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Mainline(n) => write!(f, "mainline heap '{n}'"),
            Owner::CmaNode(n) => write!(f, "the CMA heap of node '{n}'"),
            Owner::CoherentNode(n) => write!(f, "earlier node '{n}'"),
        }
    }
}

/// Why a node gets no coherent heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// `compatible` lacks `"shared-dma-pool"`.
    NotSharedDmaPool,
    /// `status` is neither okay nor ok.
    Disabled {
        /// The status string.
        status: String,
    },
    /// Has `reusable`: a CMA area.
    Reusable,
    /// Lacks `linux,dma-heap`.
    NotOptedIn,
    /// Lacks `no-map`.
    Mapped,
    /// The node name has nothing before the `@`.
    EmptyName,
    /// The heap name is already taken.
    NameTaken {
        /// Who has it.
        by: Owner,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotSharedDmaPool => f.write_str("not compatible with \"shared-dma-pool\""),
            Refusal::Disabled { status } => write!(f, "status is \"{status}\""),
            Refusal::Reusable => f.write_str("reusable (a CMA region)"),
            Refusal::NotOptedIn => f.write_str("no linux,dma-heap property"),
            Refusal::Mapped => {
                f.write_str("no no-map property (mapped pools are refused on arm64)")
            }
            Refusal::EmptyName => f.write_str("empty heap name"),
            Refusal::NameTaken { by } => write!(f, "heap name taken by {by}"),
        }
    }
}

/// A node that should become a heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// Heap name: the node name without unit address.
    pub heap: String,
    /// Full node name.
    pub node: String,
    /// Pool size, when the node says.
    pub size: Option<u64>,
}

/// A node that should not become a heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Full node name.
    pub node: String,
    /// The heap name it would have had.
    pub heap: String,
    /// Why not.
    pub reason: Refusal,
}

/// What the coherent heap driver should do with a set of nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CoherentHeaps {
    /// Heaps to create, in node order.
    pub accepted: Vec<Accepted>,
    /// Nodes refused, in node order.
    pub refused: Vec<Refused>,
}

impl CoherentHeaps {
    /// The accepted heap names.
    pub fn names(&self) -> Vec<&str> {
        self.accepted.iter().map(|a| a.heap.as_str()).collect()
    }

    /// The accepted entry for heap `heap`.
    pub fn get(&self, heap: &str) -> Option<&Accepted> {
        self.accepted.iter().find(|a| a.heap == heap)
    }
}

/// Applies the coherent heap driver's rules to `regions` (in device-tree order).
pub fn expected_coherent_heaps(regions: &[Region]) -> CoherentHeaps {
    let mut taken: BTreeMap<String, Owner> = MAINLINE_HEAP_NAMES
        .iter()
        .map(|n| (n.to_string(), Owner::Mainline(n.to_string())))
        .collect();
    for r in regions.iter().filter(|r| r.is_cma()) {
        taken
            .entry(r.node.clone())
            .or_insert_with(|| Owner::CmaNode(r.node.clone()));
    }

    let mut out = CoherentHeaps::default();
    for r in regions {
        let reason = if !r.is_shared_dma_pool() {
            Some(Refusal::NotSharedDmaPool)
        } else if !r.is_available() {
            Some(Refusal::Disabled {
                status: r.status.clone().unwrap_or_default(),
            })
        } else if r.reusable {
            Some(Refusal::Reusable)
        } else if !r.dma_heap {
            Some(Refusal::NotOptedIn)
        } else if !r.no_map {
            Some(Refusal::Mapped)
        } else if r.name.is_empty() {
            Some(Refusal::EmptyName)
        } else {
            taken
                .get(&r.name)
                .map(|by| Refusal::NameTaken { by: by.clone() })
        };
        match reason {
            Some(reason) => out.refused.push(Refused {
                node: r.node.clone(),
                heap: r.name.clone(),
                reason,
            }),
            None => {
                taken.insert(r.name.clone(), Owner::CoherentNode(r.node.clone()));
                out.accepted.push(Accepted {
                    heap: r.name.clone(),
                    node: r.node.clone(),
                    size: r.size(),
                });
            }
        }
    }
    out
}

/// Who owns heap name `name` apart from the coherent node `except`, if
/// anyone: a mainline heap, a reusable node's CMA heap, or an accepted
/// coherent node.
pub fn other_owner(
    name: &str,
    regions: &[Region],
    plan: &CoherentHeaps,
    except: &str,
) -> Option<Owner> {
    if MAINLINE_HEAP_NAMES.contains(&name) {
        return Some(Owner::Mainline(name.into()));
    }
    if let Some(r) = regions.iter().find(|r| r.is_cma() && r.node == name) {
        return Some(Owner::CmaNode(r.node.clone()));
    }
    plan.accepted
        .iter()
        .find(|a| a.heap == name && a.node != except)
        .map(|a| Owner::CoherentNode(a.node.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::{parse_region, tests::be32, tests::props, Cells};
    use std::path::Path;

    fn region(node: &str, list: &[(&str, &[u8])]) -> Region {
        parse_region(Path::new("/t"), node, &props(list), Cells::default()).unwrap()
    }

    fn coherent(node: &str, base: u32) -> Region {
        let reg = be32(&[0, base, 0, 0x10_0000]);
        region(
            node,
            &[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &reg),
                ("no-map", b""),
                ("linux,dma-heap", b""),
            ],
        )
    }

    fn refusal<'a>(plan: &'a CoherentHeaps, node: &str) -> &'a Refusal {
        &plan.refused.iter().find(|r| r.node == node).unwrap().reason
    }

    #[test]
    fn accepts_opted_in_no_map_pools() {
        let plan = expected_coherent_heaps(&[
            coherent("camera@70000000", 0x7000_0000),
            coherent("video@71000000", 0x7100_0000),
        ]);
        assert_eq!(plan.names(), ["camera", "video"]);
        assert!(plan.refused.is_empty());
        assert_eq!(plan.get("camera").unwrap().node, "camera@70000000");
        assert_eq!(plan.get("camera").unwrap().size, Some(0x10_0000));
    }

    #[test]
    fn refusal_reasons() {
        let size = be32(&[0, 0x40_0000]);
        let regions = vec![
            // A dynamic CMA node: its full name becomes a CMA heap.
            region(
                "linux,cma",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &size),
                    ("reusable", b""),
                    ("linux,cma-default", b""),
                ],
            ),
            // Reusable even though opted in.
            region(
                "cmapool@60000000",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &be32(&[0, 0x6000_0000, 0, 0x40_0000])),
                    ("reusable", b""),
                    ("linux,dma-heap", b""),
                ],
            ),
            // Not opted in.
            region(
                "plain@61000000",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &be32(&[0, 0x6100_0000, 0, 0x1000])),
                    ("no-map", b""),
                ],
            ),
            // Opted in but mapped.
            region(
                "mapped@62000000",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &be32(&[0, 0x6200_0000, 0, 0x1000])),
                    ("linux,dma-heap", b""),
                ],
            ),
            // Disabled.
            {
                let mut r = coherent("off@63000000", 0x6300_0000);
                r.status = Some("disabled".into());
                r
            },
            // Another compatible.
            region(
                "ramoops@64000000",
                &[
                    ("compatible", b"ramoops\0"),
                    ("reg", &be32(&[0, 0x6400_0000, 0, 0x1000])),
                ],
            ),
            // Status okay spelled out, dynamic placement: accepted.
            {
                let mut r = region(
                    "dyn",
                    &[
                        ("compatible", b"shared-dma-pool\0"),
                        ("size", &size),
                        ("no-map", b""),
                        ("linux,dma-heap", b""),
                    ],
                );
                r.status = Some("okay".into());
                r
            },
            coherent("@65000000", 0x6500_0000),
        ];
        let plan = expected_coherent_heaps(&regions);
        assert_eq!(plan.names(), ["dyn"]);
        assert_eq!(plan.get("dyn").unwrap().size, Some(0x40_0000));
        assert_eq!(*refusal(&plan, "linux,cma"), Refusal::Reusable);
        assert_eq!(*refusal(&plan, "cmapool@60000000"), Refusal::Reusable);
        assert_eq!(*refusal(&plan, "plain@61000000"), Refusal::NotOptedIn);
        assert_eq!(*refusal(&plan, "mapped@62000000"), Refusal::Mapped);
        assert_eq!(
            *refusal(&plan, "off@63000000"),
            Refusal::Disabled {
                status: "disabled".into()
            }
        );
        assert_eq!(
            *refusal(&plan, "ramoops@64000000"),
            Refusal::NotSharedDmaPool
        );
        assert_eq!(*refusal(&plan, "@65000000"), Refusal::EmptyName);
        assert_eq!(plan.refused.len(), 7);
        assert_eq!(
            refusal(&plan, "mapped@62000000").to_string(),
            "no no-map property (mapped pools are refused on arm64)"
        );
    }

    #[test]
    fn name_collisions() {
        let regions = vec![
            coherent("camera@70000000", 0x7000_0000),
            coherent("camera@78000000", 0x7800_0000),
            coherent("system@79000000", 0x7900_0000),
            coherent("reserved@7a000000", 0x7a00_0000),
            coherent("default_cma_region@7b000000", 0x7b00_0000),
            coherent("system_cc_shared", 0x7c00_0000),
            // Collides with the CMA heap "gpu" of the reusable node named "gpu"
            // (full name, no unit address) further down: CMA names are taken
            // up front, whatever the order.
            coherent("gpu@7d000000", 0x7d00_0000),
            region(
                "gpu",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &be32(&[0, 0x10_0000])),
                    ("reusable", b""),
                ],
            ),
            // "pool" is only the short name of reusable "pool@1": no collision.
            coherent("pool@7e000000", 0x7e00_0000),
            region(
                "pool@1",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &be32(&[0, 0x100_0000, 0, 0x40_0000])),
                    ("reusable", b""),
                ],
            ),
        ];
        let plan = expected_coherent_heaps(&regions);
        assert_eq!(plan.names(), ["camera", "pool"]);
        assert_eq!(
            *refusal(&plan, "camera@78000000"),
            Refusal::NameTaken {
                by: Owner::CoherentNode("camera@70000000".into())
            }
        );
        for (node, name) in [
            ("system@79000000", "system"),
            ("reserved@7a000000", "reserved"),
            ("default_cma_region@7b000000", "default_cma_region"),
            ("system_cc_shared", "system_cc_shared"),
        ] {
            assert_eq!(
                *refusal(&plan, node),
                Refusal::NameTaken {
                    by: Owner::Mainline(name.into())
                }
            );
        }
        assert_eq!(
            *refusal(&plan, "gpu@7d000000"),
            Refusal::NameTaken {
                by: Owner::CmaNode("gpu".into())
            }
        );
        assert_eq!(
            refusal(&plan, "camera@78000000").to_string(),
            "heap name taken by earlier node 'camera@70000000'"
        );
        assert_eq!(
            other_owner("camera", &regions, &plan, "camera@78000000"),
            Some(Owner::CoherentNode("camera@70000000".into()))
        );
        assert_eq!(
            other_owner("camera", &regions, &plan, "camera@70000000"),
            None
        );
        assert_eq!(
            other_owner("gpu", &regions, &plan, ""),
            Some(Owner::CmaNode("gpu".into()))
        );
        assert_eq!(
            other_owner("system", &regions, &plan, ""),
            Some(Owner::Mainline("system".into()))
        );
    }

    #[test]
    fn disabled_cma_node_does_not_take_its_name() {
        let mut cma = region(
            "gpu",
            &[
                ("compatible", b"shared-dma-pool\0"),
                ("size", &be32(&[0, 0x10_0000])),
                ("reusable", b""),
            ],
        );
        cma.status = Some("disabled".into());
        let plan = expected_coherent_heaps(&[cma, coherent("gpu@7d000000", 0x7d00_0000)]);
        assert_eq!(plan.names(), ["gpu"]);
    }
}
