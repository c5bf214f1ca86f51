# nooelint: oelint.var.bbclassextend,oelint.var.mandatoryvar.LICENSE - a kernel has no native variant; LICENSE is linux-yocto.inc's
SUMMARY = "Debian's Linux 7.2.13 tree with the coherent dma-buf heap series"
DESCRIPTION = "Debian's linux-source-7.2 7.2.13-1 (kernel.org's 7.2.13 with \
               Debian's patches applied) with this layer's patch series (the \
               Rust coherent dma-buf heap driver and the abstractions it \
               needs) and configuration fragments, built the way the layer's \
               standalone build (scripts/build) builds it. Modelled on \
               oe-core's meta-skeleton linux-yocto-custom."
HOMEPAGE = "https://packages.debian.org/source/sid/linux"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "kernel"
# LICENSE: set by linux-yocto.inc (required below).
LIC_FILES_CHKSUM = "file://COPYING;md5=6bc538ed5bd9a7fc9398086aedcd7e46"

# linux-yocto.inc: kernel + kernel-yocto, the kernel's build dependencies, and
# a parse-time skip unless PREFERRED_PROVIDER_virtual/kernel names this recipe.
# nooelint: oelint.file.requirenotfound - oe-core's file, not in this layer
require recipes-kernel/linux/linux-yocto.inc

# The kernel's own version (its Makefile, uname -r). PV, from the file name,
# is 7.2.13+debian1: the tree is Debian's, not kernel.org's.
LINUX_VERSION = "7.2.13"

# Kernel source: the same file the standalone build uses (scripts/fetch-kernel,
# scripts/kernel-sources.txt), Debian's linux-source-7.2 7.2.13-1: kernel.org
# 7.2.13 with Debian's patches applied, as ./usr/src/linux-source-7.2.tar.xz
# inside the .deb. The layer cannot verify the hash of kernel.org's
# linux-7.2.13.tar.xz from where it is maintained, so it pins the .deb it
# builds and tests with, and says so in its version.
# snapshot.debian.org serves the file at a permanent address named by its
# sha1; the Debian pool serves it while the version is current (MIRRORS below).
# bitbake unpacks a .deb (ar + its data.tar.*) into subdir; do_unpack then
# extracts the inner tarball into S.
# nooelint: oelint.vars.downloadfilename - Debian's own name of the file, which carries its version 7.2.13-1
SRC_URI = "\
    https://snapshot.debian.org/file/60368f43b412a8b7a3d89caf48222aaa1c434364;downloadfilename=linux-source-7.2_7.2.13-1_all.deb;subdir=linux-deb;name=linux \
    file://kernel-meta;type=kmeta;destsuffix=kernel-meta \
    file://0001-of-reserved_mem-add-of_reserved_mem_device_init_with.patch \
    file://0002-dma-buf-dma-heap-refuse-a-duplicate-heap-name-before.patch \
    file://0003-rust-bindings-give-VM_MAYSHARE-its-own-value.patch \
    file://0004-dma-coherent-tell-which-reserved-regions-are-per-dev.patch \
    file://0005-rust-faux-give-users-a-bound-device-and-its-coherent.patch \
    file://0006-rust-of-add-reserved-memory-regions.patch \
    file://0007-rust-dma-buf-export-coherent-DMA-allocations-as-dma-.patch \
    file://0008-rust-dma-heap-add-dma-buf-heap-registration.patch \
    file://0009-dma-buf-heaps-add-coherent-heap-for-device-tree-rese.patch \
    file://0010-dma-coherent-allocate-exact-page-counts-with-a-cappe.patch \
    file://coherent-heap.cfg \
    ${@oe.utils.vartrue('COHERENT_HEAP_KUNIT', 'file://test.cfg', '', d)} \
"
# QEMU virt: the standalone build's qemuarm64.cfg, and runqemu.cfg for what a
# root file system image booted by runqemu and tested over ssh needs on top.
SRC_URI:append:qemuarm64 = " file://qemuarm64.cfg file://runqemu.cfg"
SRC_URI[linux.sha256sum] = "30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d"

# nooelint: oelint.vars.bbvars.MIRRORS - a mirror of this one file, not of a site
MIRRORS:prepend = "https://snapshot.debian.org/file/60368f43b412a8b7a3d89caf48222aaa1c434364 http://deb.debian.org/debian/pool/main/l/linux/linux-source-7.2_7.2.13-1_all.deb \n"

S = "${UNPACKDIR}/linux-source-7.2"
# The kernel release (uname -r) is 7.2.13, as in the standalone build.
LINUX_VERSION_EXTENSION = ""

# Configuration baseline, chosen by the machine (conf/machine/include/coherent-heap.inc):
# "allnoconfig" for QEMU, exactly the standalone build's allnoconfig + the
# fragments + olddefconfig; "defconfig" for boards, arm64 defconfig + the
# fragments.
COHERENT_HEAP_KERNEL_BASE ??= "defconfig"
KCONFIG_MODE = "${@'--allnoconfig' if d.getVar('COHERENT_HEAP_KERNEL_BASE') == 'allnoconfig' else '--alldefconfig'}"
KBUILD_DEFCONFIG = "${@'' if d.getVar('COHERENT_HEAP_KERNEL_BASE') == 'allnoconfig' else 'defconfig'}"

# "rust" brings in kernel-yocto-rust (rust-native, clang-native,
# bindgen-cli-native and the rustavailable check); its configuration fragment is
# in kernel-meta/, since this kernel does not use yocto-kernel-cache. The
# cache's features that linux-yocto.inc adds for QEMU and machine features are
# left out: the configuration is the fragments and nothing else.
KERNEL_FEATURES = "rust"
KERNEL_FEATURES:remove = "\
    features/debug/printk.scc \
    features/taskstats/taskstats.scc \
    features/kernel-sample/kernel-sample.scc \
    features/nfsd/nfsd-enable.scc \
    cfg/efi.scc \
    cfg/fs/vfat.scc \
    features/numa/numa.scc \
"

# The heap driver is a module (CONFIG_DMABUF_HEAPS_COHERENT=m):
# kernel-module-coherent-heap, loaded at boot.
KERNEL_MODULE_AUTOLOAD += "coherent_heap"

CVE_PRODUCT = "linux_kernel"

# Kconfig drops an option whose dependencies are missing without a word (a
# compiler without Rust support drops CONFIG_RUST, and the heap with it).
# Every value of the fragments must be in the final .config, as in the
# standalone build (scripts/build): a value that did not make it fails
# do_kernel_configcheck, right after do_configure, and the two the layer
# exists for are named.
KCONF_AUDIT_LEVEL = "2"
KMETA_AUDIT_WERROR = "1"
COHERENT_HEAP_REQUIRED_CONFIGS = "CONFIG_RUST=y CONFIG_DMABUF_HEAPS_COHERENT=m"
python do_kernel_configcheck:append() {
    with open(os.path.join(d.getVar("B"), ".config")) as f:
        config = set(line.strip() for line in f)
    for want in d.getVar("COHERENT_HEAP_REQUIRED_CONFIGS").split():
        if want not in config:
            bb.fatal("%s is not in the kernel configuration: Kconfig dropped it (see the mismatches above, "
                     "and `make rustavailable` for CONFIG_RUST)" % want)
}

# Machines that require conf/machine/include/coherent-heap.inc (the "coherent-heap"
# override), and only those.
COMPATIBLE_MACHINE = "^$"
COMPATIBLE_MACHINE:coherent-heap = "^${MACHINE}$"

python do_unpack:append() {
    import subprocess
    unpackdir = d.getVar("UNPACKDIR")
    debroot = os.path.join(unpackdir, "linux-deb")
    tarball = os.path.join(debroot, "usr", "src", "linux-source-7.2.tar.xz")
    if not os.path.isfile(tarball):
        bb.fatal("%s: no usr/src/linux-source-7.2.tar.xz in the linux-source-7.2 .deb" % debroot)
    subprocess.run(["tar", "--extract", "--no-same-owner", "--xz", "-f", tarball, "-C", unpackdir], check=True)
    bb.utils.remove(debroot, recurse=True)
    if not os.path.isfile(os.path.join(d.getVar("S"), "Makefile")):
        bb.fatal("%s: no kernel Makefile after unpacking %s" % (d.getVar("S"), tarball))
}
