//! `coherent_import`: a device that maps coherent heap buffers, the camera
//! case: V4L2's `vivid` (booted with `vivid.allocators=1`: videobuf2
//! dma-contig, a 32-bit DMA mask) streams frames into coherent heap buffers
//! queued as `V4L2_MEMORY_DMABUF` capture buffers, and the test pattern is
//! read back through the heap's own `mmap()`.
//!
//! Where the importer cannot reach a buffer without bouncing it (the boot
//! says `swiotlb=force`, or the region lies beyond vivid's 32-bit mask), the
//! import must be refused instead, cleanly: `VIDIOC_QBUF` fails with
//! `EINVAL` and the kernel says, once, which importer could not take a
//! buffer of which heap. Either way the console must stay free of any kernel
//! report, which `bootlog` checks.

use std::os::fd::AsFd;

use super::{align_up, checked, System};
use crate::error::Result;
use crate::heap::{Heap, DEFAULT_FD_FLAGS};
use crate::kmsg;
use crate::ktap::{Case, Log, Outcome};
use crate::v4l2::{Capture, VIVID_CAPTURE, VIVID_DMA_LIMIT};

/// Capture buffers queued at once.
const BUFFERS: u32 = 2;

/// How long a frame may take (TCG is slow).
const FRAME_TIMEOUT_MS: i32 = 10_000;

/// What the kernel prints when an importer cannot reach a buffer (the
/// Rust dma-buf abstraction's `attach`).
pub const REFUSED: &str = "cannot import a buffer of";

/// One case per coherent heap the device tree exports.
pub(super) fn coherent_import(env: &System) -> Vec<Case<System>> {
    super::coherent_cases::exported_heaps(env)
        .into_iter()
        .map(|(heap, region)| {
            Case::new(
                format!("{heap}_v4l2_capture"),
                move |env: &System, log: &mut Log| checked(|| capture(env, &heap, region, log)),
            )
        })
        .collect()
}

/// Why the kernel must refuse vivid's import of a buffer of a region at
/// `region` (base, size), if it must.
fn must_refuse(cmdline: &str, region: Option<(u64, u64)>) -> Option<&'static str> {
    if cmdline.split_whitespace().any(|w| w == "swiotlb=force") {
        return Some("the boot forces bouncing (swiotlb=force)");
    }
    match region {
        Some((base, size)) if base.saturating_add(size) > VIVID_DMA_LIMIT => {
            Some("the region is beyond vivid's 32-bit DMA mask")
        }
        _ => None,
    }
}

fn capture(env: &System, heap: &str, region: Option<(u64, u64)>, log: &mut Log) -> Result<Outcome> {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let refuse = must_refuse(&cmdline, region);
    let dev = Capture::open_named(VIVID_CAPTURE)?;
    let fmt = dev.format()?;
    log.note(format!(
        "{}: {}x{}, {} bytes a frame",
        dev.path().display(),
        fmt.width,
        fmt.height,
        fmt.sizeimage
    ));
    let len = align_up(u64::from(fmt.sizeimage), env.page_size);
    let heap_dev = Heap::open(heap)?;
    let got = dev.request_dmabufs(BUFFERS)?;
    if got < BUFFERS {
        dev.request_dmabufs(0)?;
        return Ok(Outcome::Fail(format!(
            "vivid gave {got} buffers, asked for {BUFFERS}"
        )));
    }
    let outcome = stream(&dev, &heap_dev, heap, len, refuse, log);
    dev.request_dmabufs(0)?;
    outcome
}

fn stream(
    dev: &Capture,
    heap_dev: &Heap,
    heap: &str,
    len: u64,
    refuse: Option<&str>,
    log: &mut Log,
) -> Result<Outcome> {
    let len32 = u32::try_from(len).unwrap_or(u32::MAX);
    let mut bufs = Vec::new();
    for index in 0..BUFFERS {
        let buf = heap_dev.alloc(len, DEFAULT_FD_FLAGS, 0)?;
        let queued = dev.queue(index, buf.as_fd(), len32);
        match (queued, refuse) {
            (Ok(()), None) => bufs.push(buf),
            (Err(e), Some(why)) if e.raw_os_error() == Some(libc::EINVAL) => {
                log.note(format!("VIDIOC_QBUF refused the buffer (EINVAL): {why}"));
                return Ok(refusal_logged(heap));
            }
            (Ok(()), Some(why)) => {
                return Ok(Outcome::Fail(format!(
                    "vivid imported a buffer of '{heap}' although {why}"
                )))
            }
            (Err(e), _) => {
                return Ok(Outcome::Fail(format!(
                    "VIDIOC_QBUF of a {len} byte buffer of '{heap}': {e}"
                )))
            }
        }
    }
    dev.stream(true)?;
    let frame = dev.dequeue(FRAME_TIMEOUT_MS);
    dev.stream(false)?;
    let (index, used) = frame?;
    let map = bufs[index as usize].mmap()?;
    let data = &map.as_slice()[..(used as usize).min(map.len())];
    let nonzero = data.iter().filter(|&&b| b != 0).count();
    log.note(format!(
        "frame in buffer {index}: {used} bytes, {nonzero} of them non-zero"
    ));
    if used == 0 || nonzero < data.len() / 2 {
        return Ok(Outcome::Fail(format!(
            "the test pattern did not arrive: {nonzero} of {used} bytes are non-zero"
        )));
    }
    Ok(Outcome::Pass)
}

/// The kernel's line for a refused import of a buffer of `heap`.
fn refusal_logged(heap: &str) -> Outcome {
    let needle = format!("{REFUSED} {heap}:");
    match kmsg::read() {
        Ok(log) if log.lines().any(|l| l.contains(&needle)) => Outcome::Pass,
        Ok(_) => Outcome::Fail(format!("the kernel log has no line with '{needle}'")),
        Err(e) => Outcome::Fail(format!("reading the kernel log: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_follows_swiotlb_and_the_mask() {
        assert_eq!(
            must_refuse("console=ttyAMA0", Some((0x7000_0000, 64 << 20))),
            None
        );
        assert!(must_refuse("a swiotlb=force b", Some((0x7000_0000, 64 << 20))).is_some());
        assert!(must_refuse("", Some((0x1_4000_0000, 64 << 20))).is_some());
        assert!(must_refuse("", Some((0xfc00_0000, 64 << 20))).is_none());
        assert!(must_refuse("", Some((0xfc00_0000, (64 << 20) + 4096))).is_some());
        assert_eq!(must_refuse("swiotlb=forced", None), None);
    }
}
