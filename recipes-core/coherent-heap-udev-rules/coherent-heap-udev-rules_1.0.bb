# nooelint: oelint.var.bbclassextend,oelint.var.suggestedvar.CVE_PRODUCT - a rules file for the target, this layer's own
SUMMARY = "udev rule: the coherent dma-buf heaps read/write for the video group"
DESCRIPTION = "Gives the group video read/write access (0660) to the device \
               nodes of the coherent dma-buf heaps, /dev/dma_heap/<region>: \
               the dma_heap devices whose /reserved-memory node in the running \
               device tree opts in with linux,dma-heap. The system and CMA \
               heaps keep their default permissions. Camera and display \
               pipelines run as users in the video group."
HOMEPAGE = "https://github.com/meta-coherent-heap/meta-coherent-heap"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "base"
LICENSE = "MIT"
# The rules file's SPDX line.
LIC_FILES_CHKSUM = "file://60-coherent-heap.rules;beginline=1;endline=1;md5=b2dccaa94b3629a08bfb4f983cad6f89"

# The same file is the standalone test image's /etc/udev/rules.d/60-coherent-heap.rules
# (scripts/build) and the one a Buildroot image takes.
SRC_URI = "file://60-coherent-heap.rules"

S = "${UNPACKDIR}"

inherit allarch

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# A package's rules go to udev's rules directory; /etc/udev/rules.d is the
# administrator's, whose files override these by name.
do_install() {
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${S}/60-coherent-heap.rules ${D}${nonarch_base_libdir}/udev/rules.d/
}

# No RDEPENDS on udev: a rules file needs no udev to be installed (udev
# reads it where there is one), and an allarch package that depends at run
# time on a machine-tuned one gets a signature per tune, which
# yocto-check-layer's test_machine_signatures reported between the Pi 4
# and Pi 5 machines. The images that use it have udev
# (VIRTUAL-RUNTIME_dev_manager, coherent-heap-test-image).
