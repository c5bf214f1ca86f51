//! The crate's only unsafe code: thin, safe wrappers around the system calls
//! and ioctls the tool needs. Everything here returns the OS error unchanged
//! (`io::Error::last_os_error()`), so callers can assert exact errno values.
//!
//! UAPI definitions mirror `include/uapi/linux/dma-heap.h` and
//! `include/uapi/linux/dma-buf.h`.
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

/// `struct dma_heap_allocation_data` from `<linux/dma-heap.h>`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocationData {
    /// Size of the allocation in bytes (the kernel page-aligns it).
    pub len: u64,
    /// Out: the new dma-buf fd. Must be 0 on input or the kernel says EINVAL.
    pub fd: u32,
    /// Flags for the new fd: `O_CLOEXEC` and the `O_ACCMODE` bits only.
    pub fd_flags: u32,
    /// Heap-specific flags; mainline defines none (must be 0).
    pub heap_flags: u64,
}

/// `struct dma_buf_sync` from `<linux/dma-buf.h>`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct DmaBufSync {
    flags: u64,
}

const DMA_HEAP_IOC_MAGIC: u32 = b'H' as u32;
const DMA_BUF_BASE: u32 = b'b' as u32;

/// `DMA_HEAP_IOCTL_ALLOC`.
pub const DMA_HEAP_IOCTL_ALLOC: libc::Ioctl = libc::_IOWR::<AllocationData>(DMA_HEAP_IOC_MAGIC, 0);
/// `DMA_BUF_IOCTL_SYNC`.
pub const DMA_BUF_IOCTL_SYNC: libc::Ioctl = libc::_IOW::<DmaBufSync>(DMA_BUF_BASE, 0);
/// `DMA_BUF_SET_NAME_B` (the `__u64` spelling; same number on every 64-bit ABI).
pub const DMA_BUF_SET_NAME_B: libc::Ioctl = libc::_IOW::<u64>(DMA_BUF_BASE, 1);

/// `DMA_BUF_SYNC_READ`.
pub const DMA_BUF_SYNC_READ: u64 = 1 << 0;
/// `DMA_BUF_SYNC_WRITE`.
pub const DMA_BUF_SYNC_WRITE: u64 = 2; // (2 << 0)
/// `DMA_BUF_SYNC_RW`.
pub const DMA_BUF_SYNC_RW: u64 = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
/// `DMA_BUF_SYNC_START`.
pub const DMA_BUF_SYNC_START: u64 = 0; // (0 << 2)
/// `DMA_BUF_SYNC_END`.
pub const DMA_BUF_SYNC_END: u64 = 1 << 2;
/// `DMA_BUF_NAME_LEN`: names are at most this long including the NUL.
pub const DMA_BUF_NAME_LEN: usize = 32;
/// `DMA_HEAP_VALID_FD_FLAGS` (`O_CLOEXEC | O_ACCMODE`).
pub const DMA_HEAP_VALID_FD_FLAGS: u32 = (libc::O_CLOEXEC | libc::O_ACCMODE) as u32;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `ioctl(heap, DMA_HEAP_IOCTL_ALLOC, data)`; on success the new fd, which is
/// also left in `data.fd`. `data` is passed to the kernel as is.
pub fn heap_alloc(heap: BorrowedFd<'_>, data: &mut AllocationData) -> io::Result<OwnedFd> {
    // SAFETY: `data` is a valid, exclusively borrowed `dma_heap_allocation_data`
    // for the duration of the call; the kernel reads and writes exactly
    // `size_of::<AllocationData>()` bytes as encoded in the request number.
    cvt(unsafe {
        libc::ioctl(
            heap.as_raw_fd(),
            DMA_HEAP_IOCTL_ALLOC,
            data as *mut AllocationData,
        )
    })?;
    let fd = data.fd as RawFd;
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: on success the kernel installed a new descriptor `fd` in our
    // table and nothing else owns it yet.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `ioctl(buf, DMA_BUF_IOCTL_SYNC, {flags})`.
pub fn dma_buf_sync(buf: BorrowedFd<'_>, flags: u64) -> io::Result<()> {
    let mut arg = DmaBufSync { flags };
    // SAFETY: `arg` is a valid `struct dma_buf_sync` that outlives the call.
    cvt(unsafe {
        libc::ioctl(
            buf.as_raw_fd(),
            DMA_BUF_IOCTL_SYNC,
            &mut arg as *mut DmaBufSync,
        )
    })?;
    Ok(())
}

/// `ioctl(buf, DMA_BUF_SET_NAME_B, name)`.
pub fn dma_buf_set_name(buf: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `name` is a NUL-terminated string that outlives the call; the
    // kernel only reads it (strndup_user).
    cvt(unsafe { libc::ioctl(buf.as_raw_fd(), DMA_BUF_SET_NAME_B, name.as_ptr()) })?;
    Ok(())
}

/// `lseek(fd, 0, SEEK_END)`: for a dma-buf, its size.
pub fn seek_end(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: lseek has no memory-safety preconditions; `fd` is open.
    let off = unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) };
    if off < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(off as u64)
    }
}

/// A `MAP_SHARED` mapping of a file, unmapped on drop.
///
/// The memory may be changed behind the program's back by devices or other
/// processes sharing the buffer; callers bracket CPU access with
/// `DMA_BUF_IOCTL_SYNC` as the dma-buf API requires.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`.
    pub fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: a fresh mapping chosen by the kernel (addr NULL) cannot
        // alias any Rust object; arguments are plain values.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
        Ok(Mapping { ptr, len })
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: zero-length mappings are refused by [`Mapping::new`].
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` bytes mapped readable and writable
        // until `self` is dropped; the borrow of `self` bounds the slice.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapped bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow exclusive
        // within this program.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and no slice
        // borrowed from `self` can outlive it.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// `mmap(NULL, len, prot, flags, fd, offset)` exactly as given, for tests
/// that provoke the kernel's checks (`MAP_PRIVATE`, ranges beyond the
/// buffer). The result is unmapped on drop like any [`Mapping`].
pub fn mmap_raw(
    fd: BorrowedFd<'_>,
    len: usize,
    offset: u64,
    prot: libc::c_int,
    flags: libc::c_int,
) -> io::Result<Mapping> {
    if len == 0 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let offset =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
    // SAFETY: a fresh mapping chosen by the kernel (addr NULL, no MAP_FIXED)
    // cannot alias any Rust object; arguments are plain values.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            flags,
            fd.as_raw_fd(),
            offset,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let ptr =
        NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
    Ok(Mapping { ptr, len })
}

/// The kernel release (`uname -r`).
pub fn kernel_release() -> io::Result<String> {
    // SAFETY: all-zero is a valid `utsname` (arrays of c_char).
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable `utsname` for the call.
    cvt(unsafe { libc::uname(&mut uts) })?;
    // SAFETY: the kernel NUL-terminates every field of `utsname`.
    let release = unsafe { CStr::from_ptr(uts.release.as_ptr()) };
    Ok(release.to_string_lossy().into_owned())
}

/// `finit_module(fd, params, flags)`: loads the module in file `fd` with
/// parameter string `params` (`"dyndbg=+p"`).
pub fn finit_module(fd: BorrowedFd<'_>, params: &CStr, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: `params` is a NUL-terminated string valid for the call and
    // `fd` an open file; the kernel only reads both.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            fd.as_raw_fd(),
            params.as_ptr(),
            flags,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `init_module(image, len, params)`: loads the module in `image`, which the
/// kernel copies (unlike `finit_module()`, reading no file on its own).
pub fn init_module(image: &[u8], params: &CStr) -> io::Result<()> {
    // SAFETY: `image` is valid for `image.len()` bytes and `params` a
    // NUL-terminated string, both for the call; the kernel only reads them.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            image.as_ptr(),
            image.len(),
            params.as_ptr(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `delete_module(name, flags)`: unloads module `name` (`O_NONBLOCK`: fail
/// at once instead of waiting for its users).
pub fn delete_module(name: &CStr, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: `name` is a NUL-terminated string valid for the call; the
    // kernel only reads it.
    let ret = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), flags) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Raises `RLIMIT_NOFILE` so that at least `want` descriptors can be open
/// (the hard limit too, which needs `CAP_SYS_RESOURCE`). Returns the soft
/// limit now in force; never lowers it.
pub fn raise_nofile(want: u64) -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) })?;
    let cur: u64 = lim.rlim_cur;
    if cur >= want {
        return Ok(cur);
    }
    let want = want as libc::rlim_t;
    let mut new = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: `new` is a valid `rlimit`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } < 0 {
        // Without CAP_SYS_RESOURCE: as far as the hard limit goes.
        new.rlim_cur = lim.rlim_max;
        new.rlim_max = lim.rlim_max;
        // SAFETY: as above.
        cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) })?;
    }
    Ok(new.rlim_cur)
}

/// A pipe: (read end, write end), both close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two descriptors for the kernel to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: on success both descriptors are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Writes all of `buf` to `fd` with plain write(2) calls (usable in a
/// forked child and from a panic hook).
pub fn write_all_fd(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is a valid slice for the duration of the call; a bad
        // descriptor only makes write fail.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// `klogctl(SYSLOG_ACTION_READ_ALL)`: the kernel log ring buffer as text.
pub fn syslog_read_all() -> io::Result<String> {
    const SYSLOG_ACTION_READ_ALL: libc::c_int = 3;
    const SYSLOG_ACTION_SIZE_BUFFER: libc::c_int = 10;
    // SAFETY: SIZE_BUFFER ignores the buffer arguments.
    let size = cvt(unsafe { libc::klogctl(SYSLOG_ACTION_SIZE_BUFFER, std::ptr::null_mut(), 0) })?;
    let mut buf = vec![0u8; (size as usize).max(4096)];
    let len = libc::c_int::try_from(buf.len()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `buf` is valid for writes of `len` bytes for the call.
    let n = cvt(unsafe { libc::klogctl(SYSLOG_ACTION_READ_ALL, buf.as_mut_ptr().cast(), len) })?;
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Who we are after [`fork`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The new process.
    Child,
    /// The calling process; the child's pid.
    Parent(libc::pid_t),
}

/// `fork()`.
///
/// Only for single-threaded callers (the test runner): the child starts
/// with a copy of every lock as it was, so it must not rely on locks held
/// by other threads. The child should leave with [`exit_now`].
pub fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions for a single-threaded
    // process; the child continues with a copy of our memory.
    let pid = unsafe { libc::fork() };
    match pid {
        p if p < 0 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        p => Ok(Forked::Parent(p)),
    }
}

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by signal N.
    Signaled(i32),
}

/// `waitpid(pid, &status, 0)`, retried on EINTR.
pub fn wait_child(pid: libc::pid_t) -> io::Result<ExitStatus> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, writable int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if libc::WIFEXITED(status) {
            return Ok(ExitStatus::Exited(libc::WEXITSTATUS(status)));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(ExitStatus::Signaled(libc::WTERMSIG(status)));
        }
    }
}

/// `kill(-pgid, SIGKILL)`: kills every process of process group `pgid`
/// (a child started as the leader of its own group).
pub fn kill_process_group(pgid: u32) -> io::Result<()> {
    let pgid = libc::pid_t::try_from(pgid)
        .ok()
        .filter(|&p| p > 1)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: kill has no memory-safety preconditions; a negative pid
    // addresses the process group, never this process alone.
    cvt(unsafe { libc::kill(-pgid, libc::SIGKILL) }).map(drop)
}

/// `_exit(code)`: ends the process at once, without running destructors,
/// atexit handlers or flushing std's buffers (a forked child must not
/// flush output its parent buffered).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions and does not return.
    unsafe { libc::_exit(code) }
}

/// The MMU page size.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

/// `mount(source, target, fstype, 0, NULL)`.
pub fn mount(source: &CStr, target: &CStr, fstype: &CStr) -> io::Result<()> {
    // SAFETY: all pointers are NUL-terminated strings valid for the call;
    // data is NULL, which every filesystem used here accepts.
    cvt(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    })?;
    Ok(())
}

/// `sync()`: flush filesystem buffers.
pub fn sync() {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() }
}

/// `reboot(cmd)`, e.g. `LINUX_REBOOT_CMD_POWER_OFF`. Returns only on failure.
pub fn reboot(cmd: libc::c_int) -> io::Error {
    // SAFETY: reboot has no memory-safety preconditions.
    unsafe { libc::reboot(cmd) };
    io::Error::last_os_error()
}

/// Whether `fd` is an open descriptor.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// `dup2(src, dst)`: make `dst` refer to the same file as `src`.
///
/// Only meant for filling the standard descriptors 0-2 when they are closed.
pub fn dup_onto(src: BorrowedFd<'_>, dst: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only manipulates the descriptor table; the caller makes
    // sure `dst` is not owned by any Rust object (it is closed).
    cvt(unsafe { libc::dup2(src.as_raw_fd(), dst) })?;
    Ok(())
}

/// `tcdrain(1)`: wait until output written to the terminal on descriptor 1
/// has been sent (ENOTTY when it is not a terminal).
pub fn drain_stdout() -> io::Result<()> {
    // SAFETY: tcdrain has no memory-safety preconditions.
    cvt(unsafe { libc::tcdrain(libc::STDOUT_FILENO) })?;
    Ok(())
}

/// Writes all of `buf` to descriptor 1 with plain write(2) calls,
/// bypassing std's buffered and locked stdout (for last words from a panic
/// hook).
pub fn write_stdout_unbuffered(buf: &[u8]) -> io::Result<()> {
    write_all_fd(libc::STDOUT_FILENO, buf)
}

/// Pauses the calling thread until a signal arrives.
pub fn pause() {
    // SAFETY: pause has no preconditions.
    unsafe {
        libc::pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values from the C headers (computed with _IOWR/_IOW on arm64/x86-64).
    #[test]
    fn ioctl_numbers_match_uapi() {
        assert_eq!(std::mem::size_of::<AllocationData>(), 24);
        assert_eq!(DMA_HEAP_IOCTL_ALLOC as u32, 0xc018_4800);
        assert_eq!(DMA_BUF_IOCTL_SYNC as u32, 0x4008_6200);
        assert_eq!(DMA_BUF_SET_NAME_B as u32, 0x4008_6201);
        assert_eq!(DMA_HEAP_VALID_FD_FLAGS, 0o2000003);
    }
}

/// V4L2 video capture, as far as a dma-buf importer test needs it: the UAPI
/// of `include/uapi/linux/videodev2.h` for single-planar capture into
/// `V4L2_MEMORY_DMABUF` buffers, and `poll()` for a frame.
pub mod v4l2 {
    use super::cvt;
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd};

    /// `V4L2_BUF_TYPE_VIDEO_CAPTURE`.
    pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
    /// `V4L2_MEMORY_DMABUF`.
    pub const MEMORY_DMABUF: u32 = 4;

    /// `struct v4l2_pix_format`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct PixFormat {
        /// Width in pixels.
        pub width: u32,
        /// Height in pixels.
        pub height: u32,
        /// FourCC.
        pub pixelformat: u32,
        /// `enum v4l2_field`.
        pub field: u32,
        /// Bytes per line.
        pub bytesperline: u32,
        /// Bytes per frame.
        pub sizeimage: u32,
        /// `enum v4l2_colorspace`.
        pub colorspace: u32,
        /// Private.
        pub priv_: u32,
        /// Format flags.
        pub flags: u32,
        /// `ycbcr_enc` or `hsv_enc`.
        pub enc: u32,
        /// `enum v4l2_quantization`.
        pub quantization: u32,
        /// `enum v4l2_xfer_func`.
        pub xfer_func: u32,
    }

    /// `struct v4l2_format`: the type, then a 200-byte union aligned for
    /// pointers (`struct v4l2_window` has some).
    #[repr(C)]
    struct Format {
        type_: u32,
        fmt: FormatUnion,
    }

    #[repr(C)]
    union FormatUnion {
        pix: PixFormat,
        raw: [u8; 200],
        _align: [u64; 25],
    }

    /// `struct v4l2_requestbuffers`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default)]
    struct RequestBuffers {
        count: u32,
        type_: u32,
        memory: u32,
        capabilities: u32,
        flags: u8,
        reserved: [u8; 3],
    }

    /// `struct v4l2_buffer` (64-bit `struct timeval`).
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Buffer {
        index: u32,
        type_: u32,
        bytesused: u32,
        flags: u32,
        field: u32,
        timestamp: libc::timeval,
        timecode: [u32; 4],
        sequence: u32,
        memory: u32,
        /// The `m` union; for `V4L2_MEMORY_DMABUF`, its `fd`.
        m: u64,
        length: u32,
        reserved2: u32,
        request_fd: i32,
    }

    const VIDIOC_G_FMT: libc::Ioctl = libc::_IOWR::<Format>(b'V' as u32, 4);
    const VIDIOC_REQBUFS: libc::Ioctl = libc::_IOWR::<RequestBuffers>(b'V' as u32, 8);
    const VIDIOC_QBUF: libc::Ioctl = libc::_IOWR::<Buffer>(b'V' as u32, 15);
    const VIDIOC_DQBUF: libc::Ioctl = libc::_IOWR::<Buffer>(b'V' as u32, 17);
    const VIDIOC_STREAMON: libc::Ioctl = libc::_IOW::<libc::c_int>(b'V' as u32, 18);
    const VIDIOC_STREAMOFF: libc::Ioctl = libc::_IOW::<libc::c_int>(b'V' as u32, 19);

    /// `VIDIOC_G_FMT` of the capture queue: its pixel format.
    pub fn g_fmt(dev: BorrowedFd<'_>) -> io::Result<PixFormat> {
        let mut f = Format {
            type_: BUF_TYPE_VIDEO_CAPTURE,
            fmt: FormatUnion { raw: [0; 200] },
        };
        // SAFETY: `f` is a valid `struct v4l2_format` of the size encoded in the request, borrowed
        // exclusively for the call.
        cvt(unsafe { libc::ioctl(dev.as_raw_fd(), VIDIOC_G_FMT, &mut f as *mut Format) })?;
        // SAFETY: For a capture queue the kernel filled in the `pix` member; every bit pattern is
        // a valid `PixFormat`.
        Ok(unsafe { f.fmt.pix })
    }

    /// `VIDIOC_REQBUFS` for `count` dma-buf capture buffers (0 frees them):
    /// the number the driver allocated.
    pub fn reqbufs_dmabuf(dev: BorrowedFd<'_>, count: u32) -> io::Result<u32> {
        let mut r = RequestBuffers {
            count,
            type_: BUF_TYPE_VIDEO_CAPTURE,
            memory: MEMORY_DMABUF,
            ..Default::default()
        };
        // SAFETY: `r` is a valid `struct v4l2_requestbuffers`, borrowed exclusively for the call.
        cvt(unsafe {
            libc::ioctl(
                dev.as_raw_fd(),
                VIDIOC_REQBUFS,
                &mut r as *mut RequestBuffers,
            )
        })?;
        Ok(r.count)
    }

    fn buffer(index: u32) -> Buffer {
        Buffer {
            index,
            type_: BUF_TYPE_VIDEO_CAPTURE,
            bytesused: 0,
            flags: 0,
            field: 0,
            timestamp: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            timecode: [0; 4],
            sequence: 0,
            memory: MEMORY_DMABUF,
            m: 0,
            length: 0,
            reserved2: 0,
            request_fd: 0,
        }
    }

    /// `VIDIOC_QBUF`: queues dma-buf `buf` (`len` bytes) as capture buffer
    /// `index`.
    pub fn qbuf_dmabuf(
        dev: BorrowedFd<'_>,
        index: u32,
        buf: BorrowedFd<'_>,
        len: u32,
    ) -> io::Result<()> {
        let mut b = buffer(index);
        b.m = buf.as_raw_fd() as u32 as u64;
        b.length = len;
        // SAFETY: `b` is a valid `struct v4l2_buffer`, borrowed exclusively for the call; the
        // kernel only reads the dma-buf fd it names and keeps a reference of its own.
        cvt(unsafe { libc::ioctl(dev.as_raw_fd(), VIDIOC_QBUF, &mut b as *mut Buffer) })?;
        Ok(())
    }

    /// `VIDIOC_DQBUF`: the index and `bytesused` of the next filled buffer.
    pub fn dqbuf(dev: BorrowedFd<'_>) -> io::Result<(u32, u32)> {
        let mut b = buffer(0);
        // SAFETY: `b` is a valid `struct v4l2_buffer`, borrowed exclusively for the call.
        cvt(unsafe { libc::ioctl(dev.as_raw_fd(), VIDIOC_DQBUF, &mut b as *mut Buffer) })?;
        Ok((b.index, b.bytesused))
    }

    /// `VIDIOC_STREAMON` (`on`) or `VIDIOC_STREAMOFF` of the capture queue.
    pub fn stream(dev: BorrowedFd<'_>, on: bool) -> io::Result<()> {
        let mut type_: libc::c_int = BUF_TYPE_VIDEO_CAPTURE as libc::c_int;
        let req = if on {
            VIDIOC_STREAMON
        } else {
            VIDIOC_STREAMOFF
        };
        // SAFETY: `type_` is a valid `int` for the call.
        cvt(unsafe { libc::ioctl(dev.as_raw_fd(), req, &mut type_ as *mut libc::c_int) })?;
        Ok(())
    }

    /// Waits up to `timeout_ms` for `fd` to be readable: whether it is.
    pub fn poll_in(fd: BorrowedFd<'_>, timeout_ms: libc::c_int) -> io::Result<bool> {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `p` is one valid `struct pollfd`, borrowed exclusively for the call.
        let n = cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
        Ok(n > 0 && p.revents & libc::POLLIN != 0)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The sizes the request numbers encode, as the arm64 kernel has them.
        #[test]
        fn structs_have_the_kernels_sizes() {
            assert_eq!(std::mem::size_of::<PixFormat>(), 48);
            assert_eq!(std::mem::size_of::<Format>(), 208);
            assert_eq!(std::mem::size_of::<RequestBuffers>(), 20);
            assert_eq!(std::mem::size_of::<Buffer>(), 88);
            assert_eq!(std::mem::offset_of!(Buffer, m), 64);
            assert_eq!(VIDIOC_QBUF, 0xc058_560f);
            assert_eq!(VIDIOC_G_FMT, 0xc0d0_5604);
        }
    }
}
