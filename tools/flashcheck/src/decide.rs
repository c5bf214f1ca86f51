//! The verdict: may the image be written to the device?

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bmap::Bmap;
use crate::error::{Error, Result};
use crate::system::{Disk, NodeKind, SystemRoots};
use crate::DeviceNode;

/// Mount points of the running system's boot files.
const BOOT_MOUNTS: &[&str] = &["/boot", "/boot/efi", "/boot/firmware", "/efi"];

/// What is asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The image to write.
    pub image: PathBuf,
    /// Its block map (`IMAGE.bmap`).
    pub bmap: PathBuf,
    /// The device to write it to.
    pub device: DeviceNode,
    /// Write a device that does not say it is removable.
    pub force_fixed: bool,
}

/// Why a write is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// The device path does not exist.
    NoDevice,
    /// It is not a block device.
    NotBlock,
    /// It is a partition, not a whole device.
    Partition,
    /// It holds the running system's root file system.
    Root,
    /// It holds the running system's `/boot` (or EFI partition).
    Boot,
    /// It holds an active swap area.
    Swap,
    /// A file system on it is mounted.
    Mounted,
    /// A device-mapper or md device sits on it.
    InUse,
    /// It does not say it is removable.
    Fixed,
    /// It is read-only.
    ReadOnly,
    /// It is smaller than the image.
    TooSmall,
    /// The `.bmap` is missing or unusable.
    Bmap,
    /// The image does not match its `.bmap`.
    Image,
    /// After writing: the device does not hold the image.
    Written,
}

impl RefusalKind {
    /// Whether the image (not the device) is at fault.
    pub fn is_image(self) -> bool {
        matches!(self, RefusalKind::Bmap | RefusalKind::Image)
    }
}

/// A refused write: the kind and one line saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// What kind of problem.
    pub kind: RefusalKind,
    /// One line, naming the device, partition or file at fault.
    pub reason: String,
}

fn refuse<T>(kind: RefusalKind, reason: String) -> Result<std::result::Result<T, Refusal>> {
    Ok(Err(Refusal { kind, reason }))
}

/// Decides whether `req.image` may be written to `req.device`. `Ok(Ok(disk))`
/// says yes, with the disk's facts; `Ok(Err(refusal))` says no and why.
pub fn check(roots: &SystemRoots, req: &Request) -> Result<std::result::Result<Disk, Refusal>> {
    use RefusalKind::*;
    let path = req.device.path.display().to_string();
    let num = match req.device.kind {
        NodeKind::Missing => return refuse(NoDevice, format!("{path} does not exist")),
        NodeKind::Other => return refuse(NotBlock, format!("{path} is not a block device")),
        NodeKind::Block(num) => num,
    };
    let Some(dev) = roots.block_by_num(num)? else {
        return refuse(
            NotBlock,
            format!("{path} ({num}) is not a block device the kernel knows"),
        );
    };
    if let Some((n, disk)) = &dev.partition_of {
        return refuse(
            Partition,
            format!("{path} is partition {n} of /dev/{disk}: give the whole device"),
        );
    }
    let disk = roots.disk(dev)?;
    let on_disk = |name: &str| disk.stack.iter().find(|(d, _)| d.name == name);
    let by_num = |num| disk.stack.iter().find(|(d, _)| d.num == num);
    let mounts = roots.mounts()?;
    // Root and boot first, for the clearest reason; then any mount.
    let mut ordered: Vec<_> = mounts.iter().collect();
    ordered.sort_by_key(|m| match m.mount_point.as_str() {
        "/" => 0,
        p if BOOT_MOUNTS.contains(&p) => 1,
        _ => 2,
    });
    for m in ordered {
        let hit = by_num(m.num).or_else(|| roots.dev_name(&m.source).and_then(|n| on_disk(&n)));
        let Some((d, _)) = hit else { continue };
        let what = format!("/dev/{} on {}", d.name, m.mount_point);
        return match m.mount_point.as_str() {
            "/" => refuse(
                Root,
                format!("{path} holds the running system's root file system ({what})"),
            ),
            p if BOOT_MOUNTS.contains(&p) => refuse(
                Boot,
                format!("{path} holds the running system's {p} ({what})"),
            ),
            _ => refuse(Mounted, format!("{path} is in use: {what} is mounted")),
        };
    }
    for s in roots.swap_devices()? {
        if let Some((d, _)) = roots.dev_name(&s).and_then(|n| on_disk(&n)) {
            return refuse(
                Swap,
                format!("{path} holds the running system's swap (/dev/{})", d.name),
            );
        }
    }
    if let Some((d, held)) = disk.stack.iter().find(|(d, held)| &d.name != held) {
        return refuse(
            InUse,
            format!("{path} is in use: /dev/{} sits on /dev/{held}", d.name),
        );
    }
    if !disk.removable && !req.force_fixed {
        return refuse(
            Fixed,
            format!(
                "{path} is not a removable device (a fixed disk?): --force-fixed writes it anyway"
            ),
        );
    }
    if disk.read_only {
        return refuse(ReadOnly, format!("{path} is read-only"));
    }
    let image = req.image.display().to_string();
    let bmap_name = req.bmap.display().to_string();
    let bmap = match crate::bmap::Bmap::read(&req.bmap)? {
        Ok(b) => b,
        Err(why) => return refuse(Bmap, format!("{bmap_name}: {why}")),
    };
    if disk.size < bmap.image_size {
        return refuse(
            TooSmall,
            format!(
                "{path} has {} bytes, {image} needs {}",
                disk.size, bmap.image_size
            ),
        );
    }
    if let Some(why) = bmap.check_image(&req.image)? {
        return refuse(Image, format!("{image} does not match {bmap_name}: {why}"));
    }
    Ok(Ok(disk))
}

/// After writing: whether `device` holds the mapped blocks of `bmap`.
/// Reads the device itself, not the page cache of the write.
pub fn verify(bmap_path: &Path, device: &Path) -> Result<std::result::Result<(), Refusal>> {
    let bmap_name = bmap_path.display().to_string();
    let bmap = match Bmap::read(bmap_path)? {
        Ok(b) => b,
        Err(why) => return refuse(RefusalKind::Bmap, format!("{bmap_name}: {why}")),
    };
    let mut f = File::open(device).map_err(|e| Error::io(device, e))?;
    drop_cache(&f);
    match bmap
        .first_mismatch(&mut f)
        .map_err(|e| Error::io(device, e))?
    {
        None => Ok(Ok(())),
        Some(r) => refuse(
            RefusalKind::Written,
            format!(
                "{}: blocks {}-{} do not hold what {bmap_name} says was written",
                device.display(),
                r.first,
                r.last
            ),
        ),
    }
}

/// Asks the kernel to drop its cached pages of `f`, so that reads come from
/// the medium.
fn drop_cache(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: posix_fadvise only reads its integer arguments; the descriptor
    // is open for the duration of the call (borrowed from `f`).
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}
