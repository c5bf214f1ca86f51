//! The block devices, mounts and swaps of a system, read from `/sys`,
//! `/proc/self/mountinfo`, `/proc/swaps` and `/dev` under roots the caller
//! gives.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the system's facts are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRoots {
    /// sysfs (`/sys`).
    pub sys: PathBuf,
    /// The mount table (`/proc/self/mountinfo`).
    pub mountinfo: PathBuf,
    /// The active swap areas (`/proc/swaps`).
    pub swaps: PathBuf,
    /// The device nodes (`/dev`), to resolve names such as `/dev/mapper/x`.
    pub dev: PathBuf,
}

impl Default for SystemRoots {
    fn default() -> SystemRoots {
        SystemRoots {
            sys: "/sys".into(),
            mountinfo: "/proc/self/mountinfo".into(),
            swaps: "/proc/swaps".into(),
            dev: "/dev".into(),
        }
    }
}

/// What a path given as the device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Nothing is there.
    Missing,
    /// A block device node with this device number.
    Block(DevNum),
    /// Something else: a regular file, a directory, a character device.
    Other,
}

/// A block device number, `major:minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevNum {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl DevNum {
    /// Parses `major:minor`.
    pub fn parse(s: &str) -> Option<DevNum> {
        let (a, b) = s.trim().split_once(':')?;
        Some(DevNum {
            major: a.parse().ok()?,
            minor: b.parse().ok()?,
        })
    }

    /// From a `dev_t` as Linux (glibc's `gnu_dev_major`/`minor`) encodes it.
    pub fn from_rdev(rdev: u64) -> DevNum {
        DevNum {
            major: (((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff)) as u32,
            minor: ((rdev & 0xff) | ((rdev >> 12) & !0xff)) as u32,
        }
    }
}

impl std::fmt::Display for DevNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// The device path given by the user and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// As given.
    pub path: PathBuf,
    /// What is there.
    pub kind: NodeKind,
}

impl DeviceNode {
    /// Looks at `path` (following symlinks, as a write would).
    pub fn stat(path: &Path) -> Result<DeviceNode> {
        let kind = match fs::metadata(path) {
            Ok(m) if m.file_type().is_block_device() => {
                NodeKind::Block(DevNum::from_rdev(m.rdev()))
            }
            Ok(_) => NodeKind::Other,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => NodeKind::Missing,
            Err(e) => return Err(Error::io(path, e)),
        };
        Ok(DeviceNode {
            path: path.to_owned(),
            kind,
        })
    }
}

/// A block device as sysfs shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDev {
    /// Kernel name (`sdb`, `sdb1`, `loop0`, `dm-0`).
    pub name: String,
    /// Device number.
    pub num: DevNum,
    /// Its sysfs directory (canonical).
    pub dir: PathBuf,
    /// For a partition: its number and the disk's name.
    pub partition_of: Option<(u32, String)>,
}

/// A whole disk, its partitions and what sits on top of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// The disk itself.
    pub dev: BlockDev,
    /// `removable` is 1.
    pub removable: bool,
    /// `ro` is 1.
    pub read_only: bool,
    /// Size in bytes (`size` is in 512-byte sectors).
    pub size: u64,
    /// The disk, its partitions, and the devices holding any of them
    /// (device-mapper, md), recursively: `(device, the device it holds)`;
    /// the disk and its partitions hold themselves.
    pub stack: Vec<(BlockDev, String)>,
}

fn read_trim(path: &Path) -> Result<String> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| Error::io(path, e))
}

fn block_dev(dir: PathBuf) -> Result<BlockDev> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::format(&dir, "no device name"))?
        .to_owned();
    let dev_file = dir.join("dev");
    let num = DevNum::parse(&read_trim(&dev_file)?)
        .ok_or_else(|| Error::format(&dev_file, "not major:minor"))?;
    let partition_of = if dir.join("partition").exists() {
        let n = read_trim(&dir.join("partition"))?;
        let disk = dir
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::format(&dir, "a partition outside a disk"))?;
        Some((n.parse().unwrap_or(0), disk.to_owned()))
    } else {
        None
    };
    Ok(BlockDev {
        name,
        num,
        dir,
        partition_of,
    })
}

impl SystemRoots {
    /// The block device with number `num`, if sysfs has one.
    pub fn block_by_num(&self, num: DevNum) -> Result<Option<BlockDev>> {
        let link = self.sys.join("dev/block").join(num.to_string());
        match fs::canonicalize(&link) {
            Ok(dir) => block_dev(dir).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(link, e)),
        }
    }

    /// The block device named `name` (`sdb1`, `dm-0`), if sysfs has one.
    pub fn block_by_name(&self, name: &str) -> Result<Option<BlockDev>> {
        let link = self.sys.join("class/block").join(name);
        match fs::canonicalize(&link) {
            Ok(dir) => block_dev(dir).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(link, e)),
        }
    }

    /// The whole disk `dev`, with its partitions and holders.
    pub fn disk(&self, dev: BlockDev) -> Result<Disk> {
        let flag = |f: &str| -> Result<bool> { Ok(read_trim(&dev.dir.join(f))? == "1") };
        let size_file = dev.dir.join("size");
        let sectors: u64 = read_trim(&size_file)?
            .parse()
            .map_err(|_| Error::format(&size_file, "not a number"))?;
        let mut stack = vec![(dev.clone(), dev.name.clone())];
        let mut entries: Vec<PathBuf> = fs::read_dir(&dev.dir)
            .map_err(|e| Error::io(&dev.dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("partition").is_file())
            .collect();
        entries.sort();
        for p in entries {
            let part = block_dev(p)?;
            stack.push((part.clone(), part.name.clone()));
        }
        let mut i = 0;
        while i < stack.len() {
            let (below, _) = stack[i].clone();
            let holders = below.dir.join("holders");
            if let Ok(rd) = fs::read_dir(&holders) {
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
                    .collect();
                names.sort();
                for name in names {
                    if stack.iter().any(|(d, _)| d.name == name) {
                        continue;
                    }
                    let holder = self.block_by_name(&name)?.ok_or_else(|| {
                        Error::format(&holders, format!("holder {name} is not in class/block"))
                    })?;
                    stack.push((holder, below.name.clone()));
                }
            }
            i += 1;
        }
        Ok(Disk {
            removable: flag("removable")?,
            read_only: flag("ro")?,
            size: sectors * 512,
            stack,
            dev,
        })
    }

    /// The kernel name of the block device at `path` (e.g. `/dev/mapper/x`
    /// resolves to `dm-0`), for paths under `/dev`.
    pub fn dev_name(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix("/dev/")?;
        let resolved =
            fs::canonicalize(self.dev.join(rest)).unwrap_or_else(|_| self.dev.join(rest));
        resolved.file_name()?.to_str().map(str::to_owned)
    }

    /// The mount table.
    pub fn mounts(&self) -> Result<Vec<Mount>> {
        let text =
            fs::read_to_string(&self.mountinfo).map_err(|e| Error::io(&self.mountinfo, e))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                Mount::parse(l)
                    .ok_or_else(|| Error::format(&self.mountinfo, format!("cannot parse {l:?}")))
            })
            .collect()
    }

    /// The block devices (paths) of the active swap areas.
    pub fn swap_devices(&self) -> Result<Vec<String>> {
        let text = fs::read_to_string(&self.swaps).map_err(|e| Error::io(&self.swaps, e))?;
        Ok(text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                match (f.next(), f.next()) {
                    (Some(name), Some("partition")) => Some(unescape(name)),
                    _ => None,
                }
            })
            .collect())
    }
}

/// A line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The `st_dev` of the mounted file system.
    pub num: DevNum,
    /// Where it is mounted.
    pub mount_point: String,
    /// The mount source (`/dev/sdb1`, `tmpfs`, ...).
    pub source: String,
}

impl Mount {
    /// Parses one line: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
    /// FSTYPE SOURCE SUPEROPTS`.
    pub fn parse(line: &str) -> Option<Mount> {
        let f: Vec<&str> = line.split(' ').collect();
        let sep = f.iter().position(|&w| w == "-")?;
        Some(Mount {
            num: DevNum::parse(f.get(2)?)?,
            mount_point: unescape(f.get(4)?),
            source: unescape(f.get(sep + 2)?),
        })
    }
}

/// Undoes the kernel's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_lines() {
        let m = Mount::parse("29 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw").unwrap();
        assert_eq!(
            m.num,
            DevNum {
                major: 254,
                minor: 0
            }
        );
        assert_eq!(m.mount_point, "/");
        assert_eq!(m.source, "/dev/vda");
        let m = Mount::parse("40 29 8:17 / /media/my\\040card rw - vfat /dev/sdb1 rw").unwrap();
        assert_eq!(m.mount_point, "/media/my card");
        assert_eq!(Mount::parse("garbage"), None);
    }

    #[test]
    fn decodes_device_numbers() {
        assert_eq!(
            DevNum::from_rdev(0x0811),
            DevNum {
                major: 8,
                minor: 17
            }
        );
        // loop devices past minor 255 use the high bits.
        assert_eq!(
            DevNum::from_rdev((7 << 8) | 0x0010_0000),
            DevNum {
                major: 7,
                minor: 256
            }
        );
        assert_eq!(
            DevNum::parse(" 259:3\n"),
            Some(DevNum {
                major: 259,
                minor: 3
            })
        );
        assert_eq!(DevNum::parse("259"), None);
    }
}
