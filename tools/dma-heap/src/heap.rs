//! dma-buf heaps (`/dev/dma_heap/NAME`) and the buffers they hand out.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys;

pub use crate::sys::{AllocationData, Mapping};

/// Where the kernel's dma-heap framework creates its device nodes.
pub const DEV_DMA_HEAP: &str = "/dev/dma_heap";

/// `O_RDWR | O_CLOEXEC`: the fd flags every ordinary user passes.
pub const DEFAULT_FD_FLAGS: u32 = (libc::O_RDWR | libc::O_CLOEXEC) as u32;

/// An open dma-buf heap.
#[derive(Debug)]
pub struct Heap {
    name: String,
    file: File,
}

impl Heap {
    /// Opens `/dev/dma_heap/NAME`.
    pub fn open(name: &str) -> Result<Heap> {
        Heap::open_in(Path::new(DEV_DMA_HEAP), name)
    }

    /// Opens heap `name` in directory `dir` (normally `/dev/dma_heap`).
    pub fn open_in(dir: &Path, name: &str) -> Result<Heap> {
        validate_name(name)?;
        let path = dir.join(name);
        // The heap fd is only used for ioctls; read-only suffices and works
        // with the usual 0444/0600 device permissions alike.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    Error::NoSuchHeap {
                        name: name.into(),
                        dir: dir.into(),
                    }
                } else {
                    Error::io("open", path, e)
                }
            })?;
        Ok(Heap {
            name: name.into(),
            file,
        })
    }

    /// Names of the heaps in `/dev/dma_heap`, sorted.
    pub fn list() -> Result<Vec<String>> {
        list_dir(Path::new(DEV_DMA_HEAP))
    }

    /// The heap's name (its file name in `/dev/dma_heap`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Allocates `len` bytes with `DMA_HEAP_IOCTL_ALLOC`.
    ///
    /// `fd_flags` and `heap_flags` go to the kernel unchecked, so that tests
    /// can provoke its errors; the errno is kept in the returned error
    /// ([`Error::raw_os_error`]). Ordinary callers pass
    /// [`DEFAULT_FD_FLAGS`] and 0.
    pub fn alloc(&self, len: u64, fd_flags: u32, heap_flags: u64) -> Result<DmaBuf> {
        let mut data = AllocationData {
            len,
            fd: 0,
            fd_flags,
            heap_flags,
        };
        let fd = self.alloc_raw(&mut data).map_err(|source| Error::Alloc {
            heap: self.name.clone(),
            len,
            source,
        })?;
        Ok(DmaBuf::from_fd(fd, &self.name))
    }

    /// `DMA_HEAP_IOCTL_ALLOC` with a caller-built argument, passed as is
    /// (including a non-zero `fd` field). Returns the OS error unchanged.
    pub fn alloc_raw(&self, data: &mut AllocationData) -> io::Result<OwnedFd> {
        sys::heap_alloc(self.file.as_fd(), data)
    }
}

impl AsFd for Heap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// Heap names are file names in `/dev/dma_heap`.
fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::InvalidHeapName { name: name.into() });
    }
    Ok(())
}

/// Sorted names of the entries in `dir`.
pub fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Which way the CPU accesses a buffer between sync calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `DMA_BUF_SYNC_READ`.
    Read,
    /// `DMA_BUF_SYNC_WRITE`.
    Write,
    /// `DMA_BUF_SYNC_RW`.
    ReadWrite,
}

impl Access {
    fn bits(self) -> u64 {
        match self {
            Access::Read => sys::DMA_BUF_SYNC_READ,
            Access::Write => sys::DMA_BUF_SYNC_WRITE,
            Access::ReadWrite => sys::DMA_BUF_SYNC_RW,
        }
    }
}

/// Start or end of a CPU access session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `DMA_BUF_SYNC_START`.
    Start,
    /// `DMA_BUF_SYNC_END`.
    End,
}

/// A dma-buf: owns its file descriptor.
#[derive(Debug)]
pub struct DmaBuf {
    fd: OwnedFd,
    heap: String,
}

impl DmaBuf {
    /// Wraps a dma-buf fd; `heap` is only used in error messages.
    pub fn from_fd(fd: OwnedFd, heap: &str) -> DmaBuf {
        DmaBuf {
            fd,
            heap: heap.into(),
        }
    }

    /// Name of the heap the buffer came from.
    pub fn heap(&self) -> &str {
        &self.heap
    }

    fn err(&self, op: &'static str, source: io::Error) -> Error {
        Error::DmaBuf {
            op,
            heap: self.heap.clone(),
            source,
        }
    }

    /// Size of the buffer in bytes (`lseek(fd, 0, SEEK_END)`).
    pub fn size(&self) -> Result<u64> {
        sys::seek_end(self.fd.as_fd()).map_err(|e| self.err("lseek(SEEK_END)", e))
    }

    /// Maps the whole buffer shared, readable and writable.
    pub fn mmap(&self) -> Result<Mapping> {
        let size = self.size()?;
        let len = usize::try_from(size)
            .map_err(|_| self.err("mmap", io::Error::from_raw_os_error(libc::EOVERFLOW)))?;
        Mapping::new(self.fd.as_fd(), len).map_err(|e| self.err("mmap", e))
    }

    /// `mmap(NULL, len, prot, flags, fd, offset)` of the buffer, arguments
    /// passed as given (tests provoke `MAP_PRIVATE` and out-of-range
    /// errors); the OS error unchanged.
    pub fn mmap_raw(
        &self,
        len: usize,
        offset: u64,
        prot: libc::c_int,
        flags: libc::c_int,
    ) -> io::Result<Mapping> {
        sys::mmap_raw(self.fd.as_fd(), len, offset, prot, flags)
    }

    /// `DMA_BUF_IOCTL_SYNC` with `phase | access`.
    pub fn sync(&self, phase: Phase, access: Access) -> Result<()> {
        let phase = match phase {
            Phase::Start => sys::DMA_BUF_SYNC_START,
            Phase::End => sys::DMA_BUF_SYNC_END,
        };
        self.sync_raw(phase | access.bits())
            .map_err(|e| self.err("DMA_BUF_IOCTL_SYNC", e))
    }

    /// `DMA_BUF_IOCTL_SYNC` with arbitrary flags; the OS error unchanged.
    pub fn sync_raw(&self, flags: u64) -> io::Result<()> {
        sys::dma_buf_sync(self.fd.as_fd(), flags)
    }

    /// Names the buffer (`DMA_BUF_SET_NAME_B`); shown in
    /// `/proc/PID/fdinfo/FD` and debugfs. The kernel accepts up to
    /// 31 bytes.
    pub fn set_name(&self, name: &str) -> Result<()> {
        let c = CString::new(name).map_err(|_| {
            self.err(
                "DMA_BUF_SET_NAME_B",
                io::Error::from_raw_os_error(libc::EINVAL),
            )
        })?;
        sys::dma_buf_set_name(self.fd.as_fd(), &c).map_err(|e| self.err("DMA_BUF_SET_NAME_B", e))
    }

    /// `/proc/self/fdinfo/FD` of the buffer.
    pub fn fdinfo_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fdinfo/{}", self.fd.as_raw_fd()))
    }

    /// The name set with [`DmaBuf::set_name`], read back from fdinfo.
    pub fn name(&self) -> Result<Option<String>> {
        let path = self.fdinfo_path();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        Ok(fdinfo_field(&text, "name").map(str::to_owned))
    }
}

impl AsFd for DmaBuf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<DmaBuf> for OwnedFd {
    fn from(buf: DmaBuf) -> OwnedFd {
        buf.fd
    }
}

/// Value of `key:\tvalue` in an fdinfo text.
pub fn fdinfo_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == key).then(|| v.trim_start_matches(['\t', ' ']))
    })
}

/// What to write into a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Every byte the same.
    Byte(u8),
    /// Each 8-byte word holds its byte offset XOR the seed, so pages that
    /// alias each other or data that lands at the wrong offset show up.
    Pattern(u64),
}

impl Fill {
    /// The byte expected at `offset`.
    pub fn byte_at(&self, offset: usize) -> u8 {
        match *self {
            Fill::Byte(b) => b,
            Fill::Pattern(seed) => {
                let word = (offset & !7) as u64 ^ seed;
                word.to_le_bytes()[offset & 7]
            }
        }
    }

    /// Fills `buf`.
    pub fn write(&self, buf: &mut [u8]) {
        match *self {
            Fill::Byte(b) => buf.fill(b),
            Fill::Pattern(seed) => {
                let mut chunks = buf.chunks_exact_mut(8);
                let mut off = 0u64;
                for c in &mut chunks {
                    c.copy_from_slice(&(off ^ seed).to_le_bytes());
                    off += 8;
                }
                let tail_start = off as usize;
                for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
                    *b = self.byte_at(tail_start + i);
                }
            }
        }
    }

    /// The first byte of `buf` that differs from the fill:
    /// `(offset, expected, found)`.
    pub fn check(&self, buf: &[u8]) -> Option<(usize, u8, u8)> {
        let mut chunks = buf.chunks_exact(8);
        let mut off = 0usize;
        for c in &mut chunks {
            let ok = match *self {
                Fill::Byte(b) => c.iter().all(|&x| x == b),
                Fill::Pattern(seed) => c == ((off as u64) ^ seed).to_le_bytes(),
            };
            if !ok {
                break;
            }
            off += 8;
        }
        buf[off..]
            .iter()
            .enumerate()
            .map(|(i, &found)| (off + i, self.byte_at(off + i), found))
            .find(|&(_, want, found)| want != found)
    }
}

/// Offset of the first non-zero byte of `buf`.
pub fn first_nonzero(buf: &[u8]) -> Option<usize> {
    let words = buf
        .chunks_exact(8)
        .position(|c| c != [0u8; 8])
        .unwrap_or(buf.len() / 8);
    buf[words * 8..]
        .iter()
        .position(|&b| b != 0)
        .map(|i| words * 8 + i)
}

/// Writes `fill` into `map` inside `SYNC_START|WRITE` ... `SYNC_END|WRITE`,
/// then reads it back inside `SYNC_START|READ` ... `SYNC_END|READ`.
pub fn write_and_verify(buf: &DmaBuf, map: &mut Mapping, fill: &Fill) -> Result<()> {
    buf.sync(Phase::Start, Access::Write)?;
    fill.write(map.as_mut_slice());
    buf.sync(Phase::End, Access::Write)?;
    buf.sync(Phase::Start, Access::Read)?;
    let bad = fill.check(map.as_slice());
    buf.sync(Phase::End, Access::Read)?;
    match bad {
        None => Ok(()),
        Some((offset, expected, found)) => Err(Error::Mismatch {
            heap: buf.heap().to_owned(),
            offset,
            expected,
            found,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_names_are_file_names() {
        for bad in ["", ".", "..", "a/b", "/system"] {
            assert!(
                matches!(
                    Heap::open_in(Path::new("/nonexistent"), bad),
                    Err(Error::InvalidHeapName { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn missing_heap_is_named() {
        let err = Heap::open_in(Path::new("/nonexistent-dma-heap-dir"), "camera").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no dma-buf heap named 'camera' in /nonexistent-dma-heap-dir"
        );
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn fill_patterns() {
        for len in [0usize, 7, 8, 4096 + 5] {
            for fill in [Fill::Byte(0xa5), Fill::Pattern(0x1234_5678_9abc_def0)] {
                let mut buf = vec![0u8; len];
                fill.write(&mut buf);
                assert_eq!(fill.check(&buf), None, "{fill:?} {len}");
                for (i, &b) in buf.iter().enumerate() {
                    assert_eq!(b, fill.byte_at(i));
                }
                if len > 0 {
                    let at = len - 1;
                    buf[at] ^= 0xff;
                    assert_eq!(
                        fill.check(&buf),
                        Some((at, fill.byte_at(at), fill.byte_at(at) ^ 0xff))
                    );
                }
            }
        }
        // Neighbouring words differ, and so do pages.
        let p = Fill::Pattern(0);
        assert_ne!(p.byte_at(0), p.byte_at(8));
        assert_ne!(p.byte_at(1), p.byte_at(4097));
    }

    #[test]
    fn nonzero_search() {
        assert_eq!(first_nonzero(&[0; 20]), None);
        let mut b = [0u8; 20];
        b[17] = 1;
        assert_eq!(first_nonzero(&b), Some(17));
        b[3] = 1;
        assert_eq!(first_nonzero(&b), Some(3));
    }

    #[test]
    fn fdinfo_parsing() {
        let text = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nsize:\t4096\ncount:\t1\nexp_name:\tsystem\nname:\tmy buf\n";
        assert_eq!(fdinfo_field(text, "name"), Some("my buf"));
        assert_eq!(fdinfo_field(text, "exp_name"), Some("system"));
        assert_eq!(fdinfo_field(text, "size"), Some("4096"));
        assert_eq!(fdinfo_field(text, "missing"), None);
    }
}
