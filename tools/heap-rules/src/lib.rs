//! `heap-rules`: the rules of the coherent dma-buf heap that every tool of the layer needs, in
//! one place.
//!
//! - [`fdt`]: reads a DTB or DTBO into a [`fdt::Tree`], in bounds, whatever the input.
//! - [`region`]: the children of `/reserved-memory` ([`region::Region`]) with their cells
//!   decoded as the kernel decodes them, and what the kernel reserves of them.
//! - [`rules`]: [`rules::classify`], what the coherent heap driver does with each region and
//!   the exact line it prints (the message templates are [`rules::CHECK_ORDER`]).
//! - [`mainline`]: the heap names the mainline system and CMA heaps take.
//! - [`size`]: the one grammar of sizes and addresses on command lines, and how sizes print.
//! - [`splat`]: the kernel log lines that report a problem.
//! - [`bench`]: the benchmark's figures, one line each, as the runner prints them and the
//!   host reads them back.
//!
//! `dtregion` (host: checks and writes region overlays), `dma-heap` (target: the in-image
//! runner) and `bootlog` (host: checks a QEMU console log) use these and keep no copy of their
//! own. The layer's kernel patch is checked against [`rules`] and [`mainline`] by the
//! `driver_patch` test, the oeqa case's splat list against [`splat`] by the `oeqa_splats` test,
//! the images' udev rule against [`OPT_IN_PROPERTY`] and [`mainline`] by the `udev_rule` test.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod error;
pub mod fdt;
pub mod mainline;
pub mod region;
pub mod rules;
pub mod size;
pub mod splat;

pub use error::{Error, Result};
pub use fdt::{Node, Tree};
pub use region::{Cells, Range, Region, Reservation, ReservedMemory, OPT_IN_PROPERTY};
pub use rules::{classify, Classification, Decision, LogLine, Owner, Refusal, Skip, Verdict};
