//! A V4L2 capture device as a dma-buf importer: the `vivid` test driver's
//! video capture node, streaming into `V4L2_MEMORY_DMABUF` buffers.
//!
//! With `vivid.allocators=1` vivid's queues use videobuf2 dma-contig, with
//! a 32-bit DMA mask, like a camera's DMA engine: a buffer it imports is
//! attached and mapped for its device (`dma_buf_attach()` and
//! `dma_buf_map_attachment()`), and vivid writes its test pattern through
//! the buffer's kernel mapping (`dma_buf_vmap()`).

use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys::v4l2;

pub use crate::sys::v4l2::PixFormat;

/// Where the kernel lists video devices.
pub const VIDEO4LINUX: &str = "/sys/class/video4linux";

/// The name vivid gives its first video capture node.
pub const VIVID_CAPTURE: &str = "vivid-000-vid-cap";

/// The DMA mask of vivid's dma-contig queues: it reaches the first 4 GiB.
pub const VIVID_DMA_LIMIT: u64 = 1 << 32;

/// An open V4L2 capture device.
#[derive(Debug)]
pub struct Capture {
    file: File,
    path: PathBuf,
}

impl Capture {
    /// Opens the device node whose `name` in [`VIDEO4LINUX`] is `name`.
    pub fn open_named(name: &str) -> Result<Capture> {
        Self::open_named_in(Path::new(VIDEO4LINUX), Path::new("/dev"), name)
    }

    /// [`Capture::open_named`] with the sysfs class and `/dev` directories
    /// given.
    pub fn open_named_in(class: &Path, dev: &Path, name: &str) -> Result<Capture> {
        let entries = fs::read_dir(class).map_err(|e| Error::io("read", class, e))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", class, e))?;
            let node = entry.file_name();
            let label = fs::read_to_string(entry.path().join("name")).unwrap_or_default();
            if label.trim() == name {
                found.push(dev.join(node));
            }
        }
        found.sort();
        let Some(path) = found.into_iter().next() else {
            return Err(Error::Format {
                path: class.to_path_buf(),
                msg: format!("no video device named '{name}'"),
            });
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        Ok(Capture { file, path })
    }

    /// The device node.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn op<T>(&self, what: &'static str, r: std::io::Result<T>) -> Result<T> {
        r.map_err(|e| Error::io(what, &self.path, e))
    }

    /// The capture format (`VIDIOC_G_FMT`).
    pub fn format(&self) -> Result<PixFormat> {
        self.op("VIDIOC_G_FMT", v4l2::g_fmt(self.fd()))
    }

    /// Requests `count` dma-buf capture buffers (`VIDIOC_REQBUFS`; 0 frees
    /// them): how many the driver gave.
    pub fn request_dmabufs(&self, count: u32) -> Result<u32> {
        self.op("VIDIOC_REQBUFS", v4l2::reqbufs_dmabuf(self.fd(), count))
    }

    /// Queues dma-buf `buf` of `len` bytes as buffer `index` (`VIDIOC_QBUF`).
    /// The raw error, so that a caller can tell a refused import (`EINVAL`).
    pub fn queue(&self, index: u32, buf: BorrowedFd<'_>, len: u32) -> std::io::Result<()> {
        v4l2::qbuf_dmabuf(self.fd(), index, buf, len)
    }

    /// Starts (`on`) or stops streaming.
    pub fn stream(&self, on: bool) -> Result<()> {
        let what = if on {
            "VIDIOC_STREAMON"
        } else {
            "VIDIOC_STREAMOFF"
        };
        self.op(what, v4l2::stream(self.fd(), on))
    }

    /// Waits up to `timeout_ms` for a filled buffer and dequeues it: its
    /// index and the bytes the driver wrote.
    pub fn dequeue(&self, timeout_ms: i32) -> Result<(u32, u32)> {
        if !self.op("poll", v4l2::poll_in(self.fd(), timeout_ms))? {
            return Err(Error::Format {
                path: self.path.clone(),
                msg: format!("no frame within {timeout_ms} ms"),
            });
        }
        self.op("VIDIOC_DQBUF", v4l2::dqbuf(self.fd()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_node_by_name() {
        let dir = std::env::temp_dir().join(format!("v4l2-test-{}", std::process::id()));
        let class = dir.join("class");
        for (node, name) in [("video0", "vivid-000-vid-out"), ("video3", VIVID_CAPTURE)] {
            fs::create_dir_all(class.join(node)).unwrap();
            fs::write(class.join(node).join("name"), format!("{name}\n")).unwrap();
        }
        let dev = dir.join("dev");
        fs::create_dir_all(&dev).unwrap();
        fs::write(dev.join("video3"), b"").unwrap();
        let c = Capture::open_named_in(&class, &dev, VIVID_CAPTURE).unwrap();
        assert_eq!(c.path(), dev.join("video3"));
        let e = Capture::open_named_in(&class, &dev, "nothing").unwrap_err();
        assert!(
            e.to_string().contains("no video device named 'nothing'"),
            "{e}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
