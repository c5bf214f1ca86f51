//! What a boot loader boots from a boot partition.
//!
//! The layer's images carry their boot configuration as text: an
//! `extlinux.conf` that U-Boot's `sysboot` / standard boot reads, or a
//! `config.txt` and `cmdline.txt` that the Raspberry Pi firmware reads, or
//! the `grub.cfg` that wic writes for GRUB on an EFI partition. This
//! crate reads those files the way the boot loader does and answers which
//! kernel, initrd, DTB, overlays and command line it would boot
//! ([`plan::BootPlan`]), so that a test can boot exactly that in QEMU when
//! the real boot chain cannot run there. [`mbr`] finds the boot partition in
//! an image.
//!
//! Modules:
//! - [`extlinux`]: U-Boot's extlinux/PXE configuration (`boot/pxe_utils.c`);
//! - [`rpi`]: the Raspberry Pi firmware's `config.txt`;
//! - [`grub`]: GRUB's `grub.cfg` as wic's `bootimg-efi` writes it;
//! - [`mbr`]: the MBR partition table of an image;
//! - [`plan`]: the boot plan of a partition, every file checked to exist.

pub mod error;
pub mod extlinux;
pub mod grub;
pub mod mbr;
pub mod plan;
pub mod rpi;

pub use error::{Error, Result};

/// The lines of a boot configuration that say something: `(line number
/// (1-based), trimmed text)`, without blank lines and `#` comments, which
/// config.txt, extlinux.conf and grub.cfg all skip.
pub(crate) fn config_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, raw)| (i + 1, raw.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}
pub use plan::{BootPlan, Loader};
