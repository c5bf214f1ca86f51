//! `bootlog`: checks the serial console log of a QEMU boot of the test kernel.
//!
//! The log mixes kernel printk lines (with a `[    1.234567] ` timestamp,
//! including KUnit's KTAP output) and the lines the userspace test runner
//! (`/init`) prints on the console without a timestamp (its own KTAP
//! document, `# heaps: ...`, `# runner: done`). [`console::split`] separates
//! the two streams, [`ktap::parse`] reads the KTAP documents in each,
//! [`scan::scan`] flags kernel lines that report a problem (oops, panic,
//! `WARNING:`, `BUG:`, kmemleak, ...) and [`check`] turns it all into a
//! [`Report`] with one [`Problem`] per thing wrong, each with its log line.
//! With [`expect`]'s list (`--expect-cases`, what `dma-heap test --list`
//! prints) every case the boot must run must be there, passed or skipped
//! for the one reason the boot declared, and no other case may skip.
//! [`bench`] draws the picture of a bench boot from its figures.

pub mod bench;
pub mod check;
pub mod console;
pub mod error;
pub mod expect;
pub mod ktap;
pub mod output;
pub mod scan;

pub use check::{check_ktap, check_log, Options, Problem, ProblemKind, Report};
pub use error::{Error, Result};
