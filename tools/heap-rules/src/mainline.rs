//! The dma-buf heap names that mainline heaps take on the pinned kernel (Linux 7.2).
//!
//! - `drivers/dma-buf/heaps/system_heap.c`: `exp_info.name = "system"` and `"system_cc_shared"`
//!   (the latter with `CONFIG_DMABUF_HEAPS_SYSTEM_CC_SHARED`).
//! - `drivers/dma-buf/heaps/cma_heap.c`: `add_cma_heaps()` registers the default CMA area as
//!   `DEFAULT_CMA_NAME` (`"default_cma_region"`) and then every area of
//!   `dma_contiguous_get_area_by_idx()` under `cma_get_name()`.
//! - `kernel/dma/contiguous.c`: the default area made from `cma=` or `CONFIG_CMA_SIZE_*` is
//!   declared with the name `"reserved"`; every reusable `shared-dma-pool` node gets an area
//!   named `rmem->name`, the node's full name ([`crate::region::Region::is_cma_area`]).
//!
//! The coherent heap driver keeps the four fixed names as `MAINLINE_HEAP_NAMES`; the
//! `driver_patch` test checks the two lists agree.

use serde::Serialize;

/// Which mainline driver a heap name belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MainlineKind {
    /// The system heap.
    System,
    /// The CMA heap.
    Cma,
}

/// A heap name a mainline heap takes whatever the device tree says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MainlineHeap {
    /// The name, `/dev/dma_heap/<name>`.
    pub name: &'static str,
    /// Which driver registers it.
    pub kind: MainlineKind,
    /// Who takes it, for messages.
    pub owner: &'static str,
}

/// The system heap.
pub const SYSTEM: &str = "system";
/// The system heap's CC-shared variant.
pub const SYSTEM_CC_SHARED: &str = "system_cc_shared";
/// The CMA heap of the default CMA area.
pub const DEFAULT_CMA_REGION: &str = "default_cma_region";
/// The default CMA area under its own name, when `cma=` or `CONFIG_CMA_SIZE_*` made it.
pub const DEFAULT_CMA_AREA: &str = "reserved";

/// Every fixed mainline heap name.
pub const MAINLINE_HEAPS: [MainlineHeap; 4] = [
    MainlineHeap {
        name: SYSTEM,
        kind: MainlineKind::System,
        owner: "the system heap",
    },
    MainlineHeap {
        name: SYSTEM_CC_SHARED,
        kind: MainlineKind::System,
        owner: "the system heap (CC shared)",
    },
    MainlineHeap {
        name: DEFAULT_CMA_REGION,
        kind: MainlineKind::Cma,
        owner: "the CMA heap of the default CMA area",
    },
    MainlineHeap {
        name: DEFAULT_CMA_AREA,
        kind: MainlineKind::Cma,
        owner: "the CMA heap of the default CMA area (cma= or CONFIG_CMA_SIZE_*)",
    },
];

/// The mainline heap called `name`, if there is one.
pub fn mainline_heap(name: &str) -> Option<&'static MainlineHeap> {
    MAINLINE_HEAPS.iter().find(|h| h.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup() {
        assert_eq!(mainline_heap("system").unwrap().owner, "the system heap");
        assert_eq!(mainline_heap("reserved").unwrap().kind, MainlineKind::Cma);
        assert!(mainline_heap("camera").is_none());
        assert!(mainline_heap("system@76000000").is_none());
    }
}
