//! The crate's one error type.
//!
//! Every variant names what it is about (the heap, the file, the argument),
//! so that `error: {err}` on stderr is enough to act on. The underlying OS
//! error is kept as the `source()` and its errno is available through
//! [`Error::raw_os_error`], which the tests use to assert exact kernel
//! behaviour (`EINVAL`, `ENOMEM`, ...).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug)]
pub enum Error {
    /// A file or directory operation failed.
    Io {
        /// What was being done ("open", "read", "mount", ...).
        op: &'static str,
        /// The file it was done to.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// `/dev/dma_heap/NAME` does not exist.
    NoSuchHeap {
        /// The heap asked for.
        name: String,
        /// The directory searched (normally `/dev/dma_heap`).
        dir: PathBuf,
    },
    /// A heap name that cannot name a file in `/dev/dma_heap`.
    InvalidHeapName {
        /// The name as given.
        name: String,
    },
    /// `DMA_HEAP_IOCTL_ALLOC` failed.
    Alloc {
        /// Heap the allocation was made from.
        heap: String,
        /// Requested length in bytes.
        len: u64,
        /// The errno the kernel returned.
        source: io::Error,
    },
    /// An operation on an allocated dma-buf failed (mmap, sync, set name, ...).
    DmaBuf {
        /// What was being done ("mmap", "DMA_BUF_IOCTL_SYNC", ...).
        op: &'static str,
        /// Heap the buffer came from.
        heap: String,
        /// The OS error.
        source: io::Error,
    },
    /// A device-tree property could not be parsed.
    DeviceTree {
        /// The property file (or node directory) at fault.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A kernel file (debugfs, sysfs) does not read as expected.
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A command-line argument is malformed.
    InvalidArgument {
        /// The argument's name, e.g. `SIZE`.
        arg: &'static str,
        /// The value as given.
        value: String,
        /// Why it was rejected.
        msg: String,
    },
    /// Data read back from a buffer differs from what was written.
    Mismatch {
        /// Heap the buffer came from.
        heap: String,
        /// Byte offset of the first difference.
        offset: usize,
        /// Byte expected there.
        expected: u8,
        /// Byte found there.
        found: u8,
    },
}

impl Error {
    /// Wraps an OS error from an operation on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The errno behind this error, if it came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. }
            | Error::Alloc { source, .. }
            | Error::DmaBuf { source, .. } => source.raw_os_error(),
            Error::NoSuchHeap { .. } => Some(libc::ENOENT),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "{op} {}: {}", path.display(), errno_text(source))
            }
            Error::NoSuchHeap { name, dir } => {
                write!(f, "no dma-buf heap named '{name}' in {}", dir.display())
            }
            Error::InvalidHeapName { name } => write!(
                f,
                "invalid heap name '{name}': must be a file name in /dev/dma_heap"
            ),
            Error::Alloc { heap, len, source } => write!(
                f,
                "heap '{heap}': allocating {len} bytes failed: {}",
                errno_text(source)
            ),
            Error::DmaBuf { op, heap, source } => write!(
                f,
                "heap '{heap}': {op} on dma-buf failed: {}",
                errno_text(source)
            ),
            Error::DeviceTree { path, msg } | Error::Format { path, msg } => {
                write!(f, "{}: {msg}", path.display())
            }
            Error::InvalidArgument { arg, value, msg } => {
                write!(f, "invalid {arg} '{value}': {msg}")
            }
            Error::Mismatch {
                heap,
                offset,
                expected,
                found,
            } => write!(
                f,
                "heap '{heap}': read back 0x{found:02x} at offset {offset}, wrote 0x{expected:02x}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. }
            | Error::Alloc { source, .. }
            | Error::DmaBuf { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// "Invalid argument (EINVAL)": the text of `io::Error` plus the errno's
/// symbolic name, which is what kernel sources and test expectations use.
pub fn errno_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            // io::Error's Display appends " (os error N)"; replace it by the name.
            let text = match text.rfind(" (os error ") {
                Some(i) => &text[..i],
                None => &text,
            };
            format!("{text} ({})", errno_name(code))
        }
        None => err.to_string(),
    }
}

/// Symbolic name of the errno values this tool can meet; `errno N` otherwise.
pub fn errno_name(code: i32) -> String {
    let name = match code {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return format!("errno {code}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_subject() {
        let e = Error::Alloc {
            heap: "system".into(),
            len: 4096,
            source: io::Error::from_raw_os_error(libc::ENOMEM),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("heap 'system': allocating 4096 bytes failed: "),
            "{s}"
        );
        assert!(s.ends_with("(ENOMEM)"), "{s}");
        assert_eq!(e.raw_os_error(), Some(libc::ENOMEM));

        let e = Error::io(
            "open",
            "/dev/dma_heap/foo",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        assert!(e.to_string().starts_with("open /dev/dma_heap/foo: "));
        assert!(e.to_string().ends_with("(EACCES)"));
    }

    #[test]
    fn unknown_errno_is_numbered() {
        assert_eq!(errno_name(4000), "errno 4000");
    }
}
