//! The block map of an image (bmap-tools' `.bmap`, format 2.x with
//! SHA-256), and the checks of an image or a written device against it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A range of mapped blocks and the SHA-256 of their bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First block.
    pub first: u64,
    /// Last block (inclusive).
    pub last: u64,
    /// SHA-256 of the range's bytes, lower-case hex.
    pub sha256: String,
}

/// A parsed block map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bmap {
    /// `ImageSize`: the image's size in bytes.
    pub image_size: u64,
    /// `BlockSize` in bytes.
    pub block_size: u64,
    /// `MappedBlocksCount`.
    pub mapped_blocks: u64,
    /// `BlockMap`'s ranges, in order.
    pub ranges: Vec<Range>,
}

impl Bmap {
    /// Parses a bmap and checks its own `BmapFileChecksum`. The error is the
    /// reason to refuse it.
    pub fn parse(text: &str) -> std::result::Result<Bmap, String> {
        let doc = roxmltree::Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
        let root = doc.root_element();
        if root.tag_name().name() != "bmap" {
            return Err(format!("<{}> is not <bmap>", root.tag_name().name()));
        }
        let version = root.attribute("version").unwrap_or("");
        if !version.starts_with("2.") {
            return Err(format!("bmap version {version:?}: only 2.x is read"));
        }
        let child = |name: &str| {
            root.children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .map(str::trim)
                .ok_or_else(|| format!("no <{name}>"))
        };
        let number = |name: &str| {
            child(name)?
                .parse::<u64>()
                .map_err(|_| format!("<{name}> is not a number"))
        };
        let kind = child("ChecksumType")?;
        if kind != "sha256" {
            return Err(format!("checksum type {kind}: only sha256 is read"));
        }
        let own = child("BmapFileChecksum")?;
        if !is_sha256(own) {
            return Err("<BmapFileChecksum> is not a SHA-256".into());
        }
        if sha256_hex(text.replace(own, &"0".repeat(own.len())).as_bytes()) != own {
            return Err("its BmapFileChecksum does not match its contents".into());
        }
        let block_size = number("BlockSize")?;
        if block_size == 0 {
            return Err("<BlockSize> is 0".into());
        }
        let map = root
            .children()
            .find(|n| n.has_tag_name("BlockMap"))
            .ok_or("no <BlockMap>")?;
        let mut ranges = Vec::new();
        for r in map.children().filter(|n| n.has_tag_name("Range")) {
            let t = r.text().unwrap_or("").trim();
            let (a, b) = t.split_once('-').unwrap_or((t, t));
            let block = |s: &str| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("<Range> {t:?} is not a block range"))
            };
            let (first, last) = (block(a)?, block(b)?);
            let sha256 = r.attribute("chksum").unwrap_or("").to_owned();
            if last < first || !is_sha256(&sha256) {
                return Err(format!("<Range> {t:?}: bad range or checksum"));
            }
            ranges.push(Range {
                first,
                last,
                sha256,
            });
        }
        let bmap = Bmap {
            image_size: number("ImageSize")?,
            block_size,
            mapped_blocks: number("MappedBlocksCount")?,
            ranges,
        };
        let counted: u64 = bmap.ranges.iter().map(|r| r.last - r.first + 1).sum();
        if counted != bmap.mapped_blocks {
            return Err(format!(
                "its ranges hold {counted} blocks, MappedBlocksCount says {}",
                bmap.mapped_blocks
            ));
        }
        if bmap
            .ranges
            .iter()
            .any(|r| r.first * block_size >= bmap.image_size)
        {
            return Err("a range starts past ImageSize".into());
        }
        Ok(bmap)
    }

    /// Reads and parses `path`: `Ok(Err(reason))` when it must be refused.
    pub fn read(path: &Path) -> Result<std::result::Result<Bmap, String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Bmap::parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Err("does not exist".into())),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The first range whose bytes in `data` (an image, or a device the
    /// image was written to) do not have the range's checksum. Ranges are
    /// clipped to `image_size`, as bmaptool hashes them.
    pub fn first_mismatch<R: Read + Seek>(&self, data: &mut R) -> io::Result<Option<&Range>> {
        let mut buf = vec![0u8; 1 << 20];
        for r in &self.ranges {
            let start = r.first * self.block_size;
            let end = ((r.last + 1) * self.block_size).min(self.image_size);
            data.seek(SeekFrom::Start(start))?;
            let mut hasher = Sha256::new();
            let mut left = end - start;
            while left > 0 {
                let n = left.min(buf.len() as u64) as usize;
                match data.read(&mut buf[..n])? {
                    0 => return Ok(Some(r)), // shorter than the range
                    got => {
                        hasher.update(&buf[..got]);
                        left -= got as u64;
                    }
                }
            }
            if hex(&hasher.finalize()) != r.sha256 {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Why the image at `path` does not match this map, if it does not.
    pub fn check_image(&self, path: &Path) -> Result<Option<String>> {
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        if len != self.image_size {
            return Ok(Some(format!(
                "it has {len} bytes, its bmap says {}",
                self.image_size
            )));
        }
        Ok(self
            .first_mismatch(&mut f)
            .map_err(|e| Error::io(path, e))?
            .map(|r| {
                format!(
                    "blocks {}-{} do not match the checksum of its bmap",
                    r.first, r.last
                )
            }))
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A bmap 2.0 of the in-memory `image` with 4 KiB blocks, its non-zero
/// blocks mapped, laid out as bmaptool 3.6 writes one: for tests and
/// fixtures.
pub fn render(image: &[u8]) -> String {
    let bs = 4096usize;
    let mut ranges = Vec::new();
    let mut mapped = 0;
    let blocks = image.len().div_ceil(bs);
    let mut b = 0;
    while b < blocks {
        let nonzero = |b: usize| {
            image[b * bs..((b + 1) * bs).min(image.len())]
                .iter()
                .any(|&x| x != 0)
        };
        if !nonzero(b) {
            b += 1;
            continue;
        }
        let first = b;
        while b < blocks && nonzero(b) {
            b += 1;
        }
        let bytes = &image[first * bs..(b * bs).min(image.len())];
        let span = if b - 1 == first {
            format!("{first}")
        } else {
            format!("{first}-{}", b - 1)
        };
        ranges.push(format!(
            "        <Range chksum=\"{}\"> {span} </Range>\n",
            sha256_hex(bytes)
        ));
        mapped += b - first;
    }
    let text = format!(
        "<?xml version=\"1.0\" ?>\n<bmap version=\"2.0\">\n    <ImageSize> {} </ImageSize>\n    \
         <BlockSize> 4096 </BlockSize>\n    <BlocksCount> {blocks} </BlocksCount>\n    \
         <MappedBlocksCount> {mapped}   </MappedBlocksCount>\n    <ChecksumType> sha256 </ChecksumType>\n    \
         <BmapFileChecksum> {} </BmapFileChecksum>\n    <BlockMap>\n{}    </BlockMap>\n</bmap>\n",
        image.len(),
        "0".repeat(64),
        ranges.concat()
    );
    let sum = sha256_hex(text.as_bytes());
    text.replace(&"0".repeat(64), &sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn image() -> Vec<u8> {
        let mut img = vec![0u8; 64 * 1024];
        img[0] = 1;
        img[4096 * 3..4096 * 5].fill(7);
        img
    }

    #[test]
    fn parses_what_it_writes_like_bmaptool() {
        let b = Bmap::parse(&render(&image())).unwrap();
        assert_eq!(b.image_size, 65536);
        assert_eq!(b.mapped_blocks, 3);
        assert_eq!(
            b.ranges
                .iter()
                .map(|r| (r.first, r.last))
                .collect::<Vec<_>>(),
            [(0, 0), (3, 4)]
        );
        assert_eq!(b.first_mismatch(&mut Cursor::new(image())).unwrap(), None);
    }

    #[test]
    fn a_changed_block_is_found() {
        let b = Bmap::parse(&render(&image())).unwrap();
        let mut bad = image();
        bad[4096 * 4 + 9] = 0;
        assert_eq!(
            b.first_mismatch(&mut Cursor::new(bad))
                .unwrap()
                .map(|r| r.first),
            Some(3)
        );
        let short = image()[..4096 * 4].to_vec();
        assert!(b.first_mismatch(&mut Cursor::new(short)).unwrap().is_some());
    }

    #[test]
    fn an_edited_bmap_fails_its_own_checksum() {
        let text = render(&image()).replace("<ImageSize> 65536", "<ImageSize> 65537");
        assert_eq!(
            Bmap::parse(&text).unwrap_err(),
            "its BmapFileChecksum does not match its contents"
        );
    }

    #[test]
    fn other_formats_are_refused() {
        assert!(Bmap::parse("not xml").unwrap_err().starts_with("not XML"));
        assert!(Bmap::parse("<bmap version=\"1.4\"/>")
            .unwrap_err()
            .contains("only 2.x"));
        let sha1 = render(&image()).replace("sha256", "sha1");
        assert!(Bmap::parse(&sha1).unwrap_err().contains("only sha256"));
    }

    #[test]
    fn a_miscounted_map_is_refused() {
        // Recompute the file checksum so that only the count is wrong.
        let text = render(&image());
        let own = text.split("<BmapFileChecksum> ").nth(1).unwrap()[..64].to_owned();
        let zeroed = text
            .replace(&own, &"0".repeat(64))
            .replace("<MappedBlocksCount> 3", "<MappedBlocksCount> 4");
        let text = zeroed.replace(&"0".repeat(64), &sha256_hex(zeroed.as_bytes()));
        assert_eq!(
            Bmap::parse(&text).unwrap_err(),
            "its ranges hold 3 blocks, MappedBlocksCount says 4"
        );
    }
}
