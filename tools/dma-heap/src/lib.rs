//! dma-buf heaps from user space: open `/dev/dma_heap/NAME`, allocate,
//! map and sync buffers, and relate heaps to the device tree's
//! `/reserved-memory` nodes, in particular the coherent pools that the
//! coherent heap driver exposes (`shared-dma-pool` + `no-map` +
//! `linux,dma-heap`). The rules of which node becomes which heap, and
//! what the driver prints for it, are `heap-rules`', shared with
//! `dtregion`.
//!
//! All unsafe code lives in [`sys`].
#![deny(unsafe_code)]
#![warn(missing_docs)]

// The test runner isolates its cases with `catch_unwind` (see [`ktap`]):
// with `panic = "abort"` a panicking case would end the whole run, so the
// release profile unwinds too (tools/Cargo.toml).
#[cfg(panic = "abort")]
compile_error!("dma-heap needs panic = \"unwind\": the test runner catches a panicking case");

pub mod bench;
pub mod cmdline;
pub mod debugfs;
pub mod dt;
pub mod error;
pub mod heap;
pub mod inventory;
pub mod kmsg;
pub mod ktap;
pub mod module;
pub mod prng;
pub mod size;
pub mod stats;
pub mod suites;
pub mod sys;
pub mod system;
pub mod v4l2;

pub use dt::Region;
pub use error::{Error, Result};
pub use heap::{Access, DmaBuf, Heap, Mapping, Phase};
