//! Which heaps the coherent heap driver should create from `/reserved-memory`.
//!
//! The rules, applied to the nodes in device-tree order:
//!
//! 1. `compatible` contains `"shared-dma-pool"`;
//! 2. `status` is absent, `"okay"` or `"ok"`;
//! 3. no `reusable` (those are CMA areas, served by the CMA heap);
//! 4. opted in with `linux,dma-heap` (any pool when the module parameter
//!    `export_all` is set, [`Rules::export_all`]);
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

/// Settings of the driver that change which nodes become heaps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// Module parameter `coherent_heap.export_all=1`: pools that did not
    /// opt in with `linux,dma-heap` are exported too.
    pub export_all: bool,
}

/// Applies the coherent heap driver's default rules to `regions` (in
/// device-tree order).
pub fn expected_coherent_heaps(regions: &[Region]) -> CoherentHeaps {
    expected_coherent_heaps_with(regions, Rules::default())
}

/// Applies the coherent heap driver's rules, with settings `rules`, to
/// `regions` (in device-tree order).
pub fn expected_coherent_heaps_with(regions: &[Region], rules: Rules) -> CoherentHeaps {
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
        } else if !r.dma_heap && !rules.export_all {
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

/// The prefix of every kernel log line of the driver (`pr_fmt`: the module name).
pub const LOG_PREFIX: &str = "coherent_heap: ";

/// What the driver says about one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// `heap "NAME" at BASE, SIZE bytes`.
    Accepted,
    /// `not exported: the heap name "NAME" is already taken`.
    NameTaken,
    /// `not exported: the region is System RAM ...; add no-map to NODE`.
    SystemRam,
    /// `not exported: the node has no name to give the heap`.
    NoName,
}

/// A kernel log line the driver must print for a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedLine {
    /// Full node name (`camera@70000000`).
    pub node: String,
    /// Which message.
    pub kind: LogKind,
    /// The line before the part that cannot be predicted (or the whole line).
    pub prefix: String,
    /// The line after it; `None` when `prefix` is the whole line. Only a
    /// dynamically placed region's base address is unknown in advance.
    pub suffix: Option<String>,
}

impl ExpectedLine {
    fn exact(node: &str, kind: LogKind, line: String) -> ExpectedLine {
        ExpectedLine {
            node: node.to_owned(),
            kind,
            prefix: line,
            suffix: None,
        }
    }

    /// Whether kernel log text `line` is this line.
    pub fn matches(&self, line: &str) -> bool {
        match &self.suffix {
            None => line == self.prefix,
            Some(suffix) => {
                line.len() > self.prefix.len() + suffix.len()
                    && line.starts_with(&self.prefix)
                    && line.ends_with(suffix.as_str())
            }
        }
    }

    /// The line for messages: `...` stands for the unpredictable part.
    pub fn display(&self) -> String {
        match &self.suffix {
            None => self.prefix.clone(),
            Some(s) => format!("{}...{s}", self.prefix),
        }
    }
}

/// The driver's name for a node in its messages: its full path.
pub fn node_path(node: &str) -> String {
    format!("/reserved-memory/{node}")
}

/// The driver's log: the line expected for each node it considers, and the
/// nodes whose outcome cannot be predicted from the device tree alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedLog {
    /// One line per node the driver reports on, in device-tree order.
    pub lines: Vec<ExpectedLine>,
    /// Nodes the driver tries to export but whose message is unknown:
    /// their name clashes with a reusable node's CMA heap, and which of
    /// the two registers first depends on initcall order.
    pub undetermined: Vec<String>,
}

impl ExpectedLog {
    /// The expectation for node `node`, if any.
    pub fn line_for(&self, node: &str) -> Option<&ExpectedLine> {
        self.lines.iter().find(|l| l.node == node)
    }

    /// Whether driver line `line` (a kernel log line starting with
    /// [`LOG_PREFIX`]) is accounted for: expected, or about an
    /// undetermined node.
    pub fn accounts_for(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l.matches(line))
            || self
                .undetermined
                .iter()
                .any(|n| line.starts_with(&format!("{LOG_PREFIX}{}: ", node_path(n))))
    }
}

/// The kernel log lines the driver prints for `regions` (in device-tree
/// order) given the expected outcome `plan`, in the driver's own order of
/// checks (`export()` in `coherent_heap.rs`):
///
/// - nodes it does not consider (not a `shared-dma-pool`, disabled,
///   reusable, not opted in without `export_all`) get no line at all;
/// - an empty heap name is reported before anything else, then a name
///   taken by a mainline heap or an earlier exported node, then a region
///   that is System RAM (no `no-map`);
/// - an exported node gets `heap "NAME" at BASE, SIZE bytes`.
pub fn expected_log(regions: &[Region], plan: &CoherentHeaps, rules: Rules) -> ExpectedLog {
    let mut out = ExpectedLog::default();
    let mut exported: Vec<&str> = Vec::new();
    for r in regions {
        let considered = r.is_shared_dma_pool()
            && r.is_available()
            && !r.reusable
            && (r.dma_heap || rules.export_all);
        if !considered {
            continue;
        }
        let path = node_path(&r.node);
        let head = format!("{LOG_PREFIX}{path}: ");
        let line = if r.name.is_empty() {
            Some(ExpectedLine::exact(
                &r.node,
                LogKind::NoName,
                format!("{head}not exported: the node has no name to give the heap"),
            ))
        } else if MAINLINE_HEAP_NAMES.contains(&r.name.as_str())
            || exported.contains(&r.name.as_str())
        {
            Some(ExpectedLine::exact(
                &r.node,
                LogKind::NameTaken,
                format!(
                    "{head}not exported: the heap name \"{}\" is already taken",
                    r.name
                ),
            ))
        } else if !r.no_map {
            Some(ExpectedLine::exact(
                &r.node,
                LogKind::SystemRam,
                format!(
                    "{head}not exported: the region is System RAM and cannot be mapped write-combine; add no-map to {path}"
                ),
            ))
        } else if let Some(a) = plan.accepted.iter().find(|a| a.node == r.node) {
            exported.push(&a.heap);
            let size = r.size().map_or_else(String::new, |s| s.to_string());
            Some(match r.base() {
                Some(base) => ExpectedLine::exact(
                    &r.node,
                    LogKind::Accepted,
                    format!("{head}heap \"{}\" at {base:#x}, {size} bytes", a.heap),
                ),
                None => ExpectedLine {
                    node: r.node.clone(),
                    kind: LogKind::Accepted,
                    prefix: format!("{head}heap \"{}\" at 0x", a.heap),
                    suffix: Some(format!(", {size} bytes")),
                },
            })
        } else {
            out.undetermined.push(r.node.clone());
            None
        };
        out.lines.extend(line);
    }
    out
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
    fn export_all_takes_pools_that_did_not_opt_in() {
        let plain = region(
            "private@75800000",
            &[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &be32(&[0, 0x7580_0000, 0, 0x80_0000])),
                ("no-map", b""),
            ],
        );
        let cma = region(
            "video@78000000",
            &[
                ("compatible", b"shared-dma-pool\0"),
                ("reg", &be32(&[0, 0x7800_0000, 0, 0x200_0000])),
                ("reusable", b""),
            ],
        );
        let regions = vec![coherent("camera@70000000", 0x7000_0000), plain, cma];
        let plan = expected_coherent_heaps(&regions);
        assert_eq!(plan.names(), ["camera"]);
        assert_eq!(*refusal(&plan, "private@75800000"), Refusal::NotOptedIn);
        let plan = expected_coherent_heaps_with(&regions, Rules { export_all: true });
        assert_eq!(plan.names(), ["camera", "private"]);
        // Reusable pools stay with the CMA heap.
        assert_eq!(*refusal(&plan, "video@78000000"), Refusal::Reusable);
    }

    /// The QEMU overlay's nodes, in the order fdtoverlay leaves them
    /// (reversed).
    fn qemu_overlay() -> Vec<Region> {
        let node = |name: &str, base: u32, size: u32, extra: &[(&str, &[u8])]| {
            let reg = be32(&[0, base, 0, size]);
            let mut list: Vec<(&str, &[u8])> =
                vec![("compatible", b"shared-dma-pool\0"), ("reg", &reg)];
            list.extend_from_slice(extra);
            region(name, &list)
        };
        let heap: &[(&str, &[u8])] = &[("no-map", b""), ("linux,dma-heap", b"")];
        let mut disabled = node("disabled@76400000", 0x7640_0000, 0x40_0000, heap);
        disabled.status = Some("disabled".into());
        vec![
            node(
                "video@78000000",
                0x7800_0000,
                0x200_0000,
                &[("reusable", b"")],
            ),
            disabled,
            node("system@76000000", 0x7600_0000, 0x40_0000, heap),
            node(
                "private@75800000",
                0x7580_0000,
                0x80_0000,
                &[("no-map", b"")],
            ),
            node(
                "mapped@75000000",
                0x7500_0000,
                0x80_0000,
                &[("linux,dma-heap", b"")],
            ),
            node("display@74800000", 0x7480_0000, 0x80_0000, heap),
            node("display@74000000", 0x7400_0000, 0x80_0000, heap),
            node("camera@70000000", 0x7000_0000, 0x400_0000, heap),
        ]
    }

    #[test]
    fn expected_kernel_log_of_the_qemu_overlay() {
        let regions = qemu_overlay();
        let plan = expected_coherent_heaps(&regions);
        assert_eq!(plan.names(), ["display", "camera"]);
        let log = expected_log(&regions, &plan, Rules::default());
        let lines: Vec<String> = log.lines.iter().map(ExpectedLine::display).collect();
        assert_eq!(
            lines,
            [
                "coherent_heap: /reserved-memory/system@76000000: not exported: the heap name \"system\" is already taken",
                "coherent_heap: /reserved-memory/mapped@75000000: not exported: the region is System RAM and cannot be mapped write-combine; add no-map to /reserved-memory/mapped@75000000",
                "coherent_heap: /reserved-memory/display@74800000: heap \"display\" at 0x74800000, 8388608 bytes",
                "coherent_heap: /reserved-memory/display@74000000: not exported: the heap name \"display\" is already taken",
                "coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes",
            ]
        );
        assert!(log.undetermined.is_empty());
        assert_eq!(
            log.line_for("mapped@75000000").unwrap().kind,
            LogKind::SystemRam
        );
        assert!(log.line_for("private@75800000").is_none());
        assert!(log.accounts_for(&lines[4]));
        assert!(!log.accounts_for(
            "coherent_heap: /reserved-memory/private@75800000: heap \"private\" at 0x75800000, 8388608 bytes"
        ));

        let rules = Rules { export_all: true };
        let plan = expected_coherent_heaps_with(&regions, rules);
        assert_eq!(plan.names(), ["private", "display", "camera"]);
        let log = expected_log(&regions, &plan, rules);
        assert_eq!(
            log.line_for("private@75800000").unwrap().display(),
            "coherent_heap: /reserved-memory/private@75800000: heap \"private\" at 0x75800000, 8388608 bytes"
        );
        assert_eq!(log.lines.len(), 6);
    }

    #[test]
    fn expected_kernel_log_order_of_checks() {
        let size = be32(&[0, 0x40_0000]);
        let regions = vec![
            // Mapped and named like a mainline heap: the name is reported.
            region(
                "reserved@60000000",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("reg", &be32(&[0, 0x6000_0000, 0, 0x1000])),
                    ("linux,dma-heap", b""),
                ],
            ),
            // No name at all.
            coherent("@61000000", 0x6100_0000),
            // Dynamically placed: the base is not known in advance.
            region(
                "dyn",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &size),
                    ("no-map", b""),
                    ("linux,dma-heap", b""),
                ],
            ),
            // Clashes with the CMA heap "gpu": undetermined.
            coherent("gpu@62000000", 0x6200_0000),
            region(
                "gpu",
                &[
                    ("compatible", b"shared-dma-pool\0"),
                    ("size", &size),
                    ("reusable", b""),
                ],
            ),
        ];
        let plan = expected_coherent_heaps(&regions);
        let log = expected_log(&regions, &plan, Rules::default());
        assert_eq!(
            log.line_for("reserved@60000000").unwrap().kind,
            LogKind::NameTaken
        );
        assert_eq!(
            log.line_for("@61000000").unwrap().display(),
            "coherent_heap: /reserved-memory/@61000000: not exported: the node has no name to give the heap"
        );
        let dyn_line = log.line_for("dyn").unwrap();
        assert_eq!(
            dyn_line.display(),
            "coherent_heap: /reserved-memory/dyn: heap \"dyn\" at 0x..., 4194304 bytes"
        );
        assert!(dyn_line.matches(
            "coherent_heap: /reserved-memory/dyn: heap \"dyn\" at 0x7f000000, 4194304 bytes"
        ));
        assert!(!dyn_line.matches(
            "coherent_heap: /reserved-memory/dyn: heap \"dyn\" at 0x7f000000, 4194305 bytes"
        ));
        assert_eq!(log.undetermined, ["gpu@62000000"]);
        assert!(log.line_for("gpu@62000000").is_none());
        assert!(log.accounts_for(
            "coherent_heap: /reserved-memory/gpu@62000000: not exported: registering heap \"gpu\" failed (EINVAL)"
        ));
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
