//! The dma-buf heap names that mainline heaps take on the pinned kernel (Linux 7.2), in one
//! place.
//!
//! A coherent heap whose name is already taken is refused by the driver, whatever the initcall
//! order, so `dtregion check` reports any opted-in region that would be named like one of these.
//!
//! - `drivers/dma-buf/heaps/system_heap.c`: `exp_info.name = "system"` and
//!   `"system_cc_shared"` (the latter with `CONFIG_DMABUF_HEAPS_SYSTEM_CC_SHARED`).
//! - `drivers/dma-buf/heaps/cma_heap.c`: `add_cma_heaps()` registers the default CMA area as
//!   `DEFAULT_CMA_NAME` (`"default_cma_region"`) and then every area of
//!   `dma_contiguous_get_area_by_idx()` under `cma_get_name()`.
//! - `kernel/dma/contiguous.c`: the default area made from `cma=` or `CONFIG_CMA_SIZE_*` is
//!   declared with the name `"reserved"` (`dma_contiguous_reserve_area()`), and every
//!   reusable `shared-dma-pool` node gets an area named `rmem->name`: the node's *full* name,
//!   unit address included (`linux,cma`, `video@5c000000`), from `rmem_cma_setup()`. A node is
//!   such an area when it is `reusable` and has no `no-map` (`__rmem_cma_verify_node()`).
//!
//! The coherent heap driver keeps the fixed names as `MAINLINE_HEAP_NAMES` in
//! `coherent_heap.rs`; a test below checks both lists agree.

use crate::regions::Region;

/// Names a mainline heap takes whatever the device tree says, with who takes them.
pub const FIXED_HEAP_NAMES: [(&str, &str); 4] = [
    ("system", "the system heap"),
    ("system_cc_shared", "the system heap (CC shared)"),
    ("default_cma_region", "the CMA heap of the default CMA area"),
    (
        "reserved",
        "the CMA heap of the default CMA area (cma= or CONFIG_CMA_SIZE_*)",
    ),
];

/// Who takes `name` among the fixed names, if anyone.
pub fn fixed_owner(name: &str) -> Option<&'static str> {
    FIXED_HEAP_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, who)| *who)
}

/// The CMA heap name a region gets, if the kernel makes it a CMA area: an enabled reusable
/// `shared-dma-pool` without `no-map`; the name is the full node name.
pub fn cma_heap_name(region: &Region) -> Option<&str> {
    (region.enabled && region.is_pool() && region.reusable && !region.no_map)
        .then_some(region.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The driver's `MAINLINE_HEAP_NAMES`, read from the layer's kernel patch series.
    fn driver_names() -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes-kernel/linux/files");
        // A set: while the series is being renumbered two patches may carry the same list.
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("the layer's kernel patch directory") {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "patch") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let Some(start) = text.find("MAINLINE_HEAP_NAMES: [") else {
                continue;
            };
            let block = &text[start..];
            let block = &block[..block.find("];").expect("end of MAINLINE_HEAP_NAMES")];
            for piece in block.split("c\"").skip(1) {
                found.insert(piece.split('"').next().unwrap().to_string());
            }
        }
        found
    }

    #[test]
    fn fixed_names_match_the_driver() {
        let ours: BTreeSet<String> = FIXED_HEAP_NAMES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let driver = driver_names();
        assert!(
            !driver.is_empty(),
            "no MAINLINE_HEAP_NAMES in recipes-kernel/linux/files/*.patch"
        );
        assert_eq!(
            ours, driver,
            "mainline heap names differ from MAINLINE_HEAP_NAMES in the driver patch"
        );
    }

    #[test]
    fn fixed_owner_names_the_heap() {
        assert_eq!(fixed_owner("system"), Some("the system heap"));
        assert_eq!(fixed_owner("camera"), None);
    }
}
