# nooelint: oelint.var.suggestedvar.CVE_PRODUCT - this layer's own tools, not in any CVE database
# Generated with cargo-bitbake 0.3.16 from tools/dma-heap, then edited: the
# source is this layer's tools/ workspace (not a git URL), and the crate list
# with its sha256 sums is dma-heap-tools-crates.inc, generated from
# tools/Cargo.lock by checks/crates.py (scripts/check-layer fails when it is
# stale). See docs/yocto.md, "Updating the crate list".
SUMMARY = "dma-buf heap tools: dma-heap (target) and the layer's host tools"
DESCRIPTION = "dma-heap lists the dma-buf heaps, allocates from them and runs \
               the in-image test suites (KTAP). bootlog checks a QEMU console \
               log, dtregion checks device-tree reserved-memory regions, \
               bootcfg reads a boot partition as its boot loader would and \
               flashcheck decides whether an image may be written to a device; \
               these are host tools, used from the native variant."
HOMEPAGE = "https://github.com/meta-coherent-heap/meta-coherent-heap"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "devel"
# LICENSE: the source, every crate of tools/Cargo.lock (the native variant
# builds every tool). LICENSE:${PN}: the target package, only the crates the
# target dma-heap binary links (its normal dependencies for
# aarch64-unknown-linux-musl; the proc-macro crates and what they pull in run
# at build time only). checks/crates.py computes both with cargo
# (scripts/check-layer fails when either is stale).
# oe-core from blacksail on wants SPDX operators; wrynose parses only & and |.
LICENSE = "${@'MIT AND Unicode-3.0 AND (Apache-2.0 OR MIT) AND (MIT OR Unlicense)' if 'blacksail' in d.getVar('LAYERSERIES_CORENAMES').split() else 'MIT & Unicode-3.0 & (Apache-2.0 | MIT) & (MIT | Unlicense)'}"
LICENSE:${PN} = "${@'MIT AND (Apache-2.0 OR MIT) AND (MIT OR Unlicense)' if 'blacksail' in d.getVar('LAYERSERIES_CORENAMES').split() else 'MIT & (Apache-2.0 | MIT) & (MIT | Unlicense)'}"
# The layer's own COPYING.MIT (the tools are MIT); the crates' licence texts
# are the common licenses.
LIC_FILES_CHKSUM = "file://COPYING.MIT;md5=07d232666c945012bbcea1c9eb65e954"

# The layer's own tools/ workspace: the manifest, the lockfile and each member
# (tools/target, a local build directory, stays out), and the layer's licence,
# unpacked into the workspace (S) for LIC_FILES_CHKSUM.
# nooelint: oelint.vars.fileextrapaths,oelint.vars.outofcontext - the source is this layer's tools/
FILESEXTRAPATHS:prepend := "${THISDIR}/../..:"
require ${BPN}-crates.inc
SRC_URI += "\
    file://COPYING.MIT;subdir=tools \
    file://tools/Cargo.toml \
    file://tools/Cargo.lock \
    file://tools/dma-heap \
    file://tools/bootlog \
    file://tools/dtregion \
    file://tools/heap-rules \
    file://tools/bootcfg \
    file://tools/flashcheck \
    file://tools/picture \
"

S = "${UNPACKDIR}/tools"

inherit cargo

# Target: only dma-heap goes into the image. Native: every tool of the
# workspace (dtregion and bootlog are what the build host uses).
CARGO_BUILD_FLAGS:append:class-target = " -p dma-heap"
CARGO_BUILD_FLAGS:append:class-native = " --workspace"

# The workspace's release profile strips the binaries; leave that to the
# packaging, so that the -dbg package has the debug information.
export CARGO_PROFILE_RELEASE_STRIP = "false"

BBCLASSEXTEND = "native"
