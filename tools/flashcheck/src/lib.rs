//! Whether an image may be written to a block device, and whether it was.
//!
//! `scripts/flash` asks [`check`] before `bmaptool copy` writes anything,
//! and [`verify`] after it. A device is refused when it is not a whole block
//! device, when it (or a partition of it, or a device-mapper or md device on
//! top of it) holds the running system's root, `/boot` or swap, is mounted
//! or otherwise in use, is not removable (unless the caller forces fixed
//! disks), is read-only, or is smaller than the image. An image is refused
//! when its `.bmap` is missing, is not a bmap 2.x with SHA-256, fails its own
//! checksum, or does not match the image's size and blocks.
//!
//! Everything about the system is read from roots given by the caller
//! ([`SystemRoots`]: `/sys`, `/proc/self/mountinfo`, `/proc/swaps`, `/dev`),
//! so that the tests run on fixture trees.
//!
//! Modules: [`bmap`] (the block map and the image checks), [`system`] (the
//! block devices, mounts and swaps of a system), [`decide`] (the verdict).

pub mod bmap;
pub mod decide;
pub mod error;
pub mod system;

pub use decide::{check, verify, Refusal, RefusalKind, Request};
pub use error::{Error, Result};
pub use system::{DeviceNode, NodeKind, SystemRoots};
