# nooelint: oelint.file.underscores,oelint.var.mandatoryvar.SRC_URI,oelint.var.bbclassextend - the source and version are the kernel's (kernelsrc, like perf), built for the target kernel only
SUMMARY = "The kernel's dma-buf heaps selftest"
DESCRIPTION = "tools/testing/selftests/dmabuf-heaps from the kernel being \
               built (virtual/kernel), installed where the standalone test \
               image has it: /usr/lib/kselftests/dmabuf-heap."
HOMEPAGE = "https://docs.kernel.org/dev-tools/kselftest.html"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "kernel"
LICENSE = "GPL-2.0-only"
CVE_PRODUCT = "linux_kernel"
LIC_FILES_CHKSUM = "file://COPYING;md5=6bc538ed5bd9a7fc9398086aedcd7e46"

# The source is the kernel's own shared source tree (like perf).
inherit kernelsrc

B = "${WORKDIR}/build"

SELFTESTS = "${S}/tools/testing/selftests"

PACKAGE_ARCH = "${MACHINE_ARCH}"

do_configure[depends] += "virtual/kernel:do_shared_workdir"

# The flags of dmabuf-heaps/Makefile, without -static; the uapi headers come
# from the sysroot (linux-libc-headers).
do_compile() {
    ${CC} ${CFLAGS} -O3 -Wall -I${SELFTESTS} ${LDFLAGS} -Wl,-no-as-needed \
        -o ${B}/dmabuf-heap ${SELFTESTS}/dmabuf-heaps/dmabuf-heap.c
}

do_install() {
    install -D -m 0755 ${B}/dmabuf-heap ${D}${nonarch_libdir}/kselftests/dmabuf-heap
}

FILES:${PN} += "${nonarch_libdir}/kselftests"
