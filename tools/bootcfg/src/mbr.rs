//! The MBR partition table of an image: where its boot partition is.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

const SECTOR: u64 = 512;
/// MBR partition types of FAT file systems.
const FAT_TYPES: &[u8] = &[0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e, 0xef];

/// A primary partition of an MBR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based number (`p1` .. `p4`).
    pub number: u8,
    /// The bootable flag (0x80).
    pub bootable: bool,
    /// The partition type.
    pub kind: u8,
    /// Offset from the start of the image, in bytes.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

/// The primary partitions of the MBR in `sector0` (the image's first 512
/// bytes), without the empty entries.
pub fn partitions(sector0: &[u8]) -> std::result::Result<Vec<Partition>, String> {
    if sector0.len() < 512 || sector0[510..512] != [0x55, 0xaa] {
        return Err("no MBR (no 0x55aa signature at byte 510)".into());
    }
    let mut parts = Vec::new();
    for i in 0..4u8 {
        let e = &sector0[446 + 16 * usize::from(i)..][..16];
        let le32 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let (kind, start, count) = (e[4], le32(&e[8..12]), le32(&e[12..16]));
        if kind == 0xee {
            return Err("a GPT (protective MBR): only MBR images are read".into());
        }
        if kind == 0 || count == 0 {
            continue;
        }
        parts.push(Partition {
            number: i + 1,
            bootable: e[0] == 0x80,
            kind,
            offset: start * SECTOR,
            size: count * SECTOR,
        });
    }
    Ok(parts)
}

/// The boot partition: the first one with the bootable flag, else the first
/// FAT one.
pub fn boot_partition(parts: &[Partition]) -> Option<Partition> {
    parts
        .iter()
        .find(|p| p.bootable)
        .or_else(|| parts.iter().find(|p| FAT_TYPES.contains(&p.kind)))
        .copied()
}

/// The boot partition of the image at `path`, checked to lie inside it.
pub fn read_boot_partition(path: &Path) -> Result<Partition> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let image = |msg: String| Error::Image {
        path: path.to_owned(),
        msg,
    };
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut sector0 = Vec::with_capacity(512);
    f.by_ref().take(512).read_to_end(&mut sector0).map_err(io)?;
    let parts = partitions(&sector0).map_err(image)?;
    let p = boot_partition(&parts).ok_or_else(|| image("no bootable or FAT partition".into()))?;
    if p.offset + p.size > len {
        return Err(image(format!(
            "partition {} ends at byte {}, past the end of the image ({len} bytes)",
            p.number,
            p.offset + p.size
        )));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbr(entries: &[(u8, u8, u32, u32)]) -> Vec<u8> {
        let mut s = vec![0u8; 512];
        for (i, &(flag, kind, start, count)) in entries.iter().enumerate() {
            let e = &mut s[446 + 16 * i..][..16];
            e[0] = flag;
            e[4] = kind;
            e[8..12].copy_from_slice(&start.to_le_bytes());
            e[12..16].copy_from_slice(&count.to_le_bytes());
        }
        s[510] = 0x55;
        s[511] = 0xaa;
        s
    }

    #[test]
    fn finds_the_bootable_partition() {
        let s = mbr(&[(0, 0x83, 2048, 100), (0x80, 0x0c, 32768, 131072)]);
        let parts = partitions(&s).unwrap();
        assert_eq!(parts.len(), 2);
        let p = boot_partition(&parts).unwrap();
        assert_eq!((p.number, p.offset, p.size), (2, 16 << 20, 64 << 20));
    }

    #[test]
    fn falls_back_to_the_first_fat_partition() {
        let s = mbr(&[
            (0, 0x83, 2048, 100),
            (0, 0x0c, 4096, 100),
            (0, 0x0b, 8192, 100),
        ]);
        assert_eq!(boot_partition(&partitions(&s).unwrap()).unwrap().number, 2);
        let linux_only = mbr(&[(0, 0x83, 2048, 100)]);
        assert_eq!(boot_partition(&partitions(&linux_only).unwrap()), None);
    }

    #[test]
    fn refuses_gpt_and_garbage() {
        let gpt = mbr(&[(0, 0xee, 1, 0xffff_ffff)]);
        assert!(partitions(&gpt).unwrap_err().contains("GPT"));
        assert!(partitions(&[0u8; 512]).unwrap_err().contains("0x55aa"));
        assert!(partitions(&[0u8; 100]).is_err());
    }

    #[test]
    fn a_partition_past_the_end_is_refused() {
        let dir = std::env::temp_dir().join(format!("bootcfg-mbr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("short.img");
        std::fs::write(&img, mbr(&[(0x80, 0x0c, 1, 8)])).unwrap();
        let err = read_boot_partition(&img).unwrap_err().to_string();
        assert!(
            err.contains("past the end of the image (512 bytes)"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
