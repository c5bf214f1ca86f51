# nooelint: oelint.var.suggestedvar.CVE_PRODUCT - an image: its packages carry their own
SUMMARY = "Test image for the coherent dma-buf heap"
DESCRIPTION = "core-image-minimal with the coherent heap module, the dma-heap \
               tool, the kernel's dma-buf heaps selftest and the udev rule \
               that gives the coherent heaps to the video group, with a user \
               in that group and one outside it: the checks the standalone \
               test image runs, and the heaps' access without root, as oeqa \
               runtime tests (testimage)."
HOMEPAGE = "https://github.com/meta-coherent-heap/meta-coherent-heap"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "images"
LICENSE = "MIT"

# nooelint: oelint.file.requirenotfound - oe-core's image, not in this layer
require recipes-core/images/core-image-minimal.bb

IMAGE_INSTALL += "\
    coherent-heap-udev-rules \
    dma-heap-tools \
    kernel-module-coherent-heap \
    kselftest-dmabuf-heaps \
    udev \
"

# The access test (coherent_heap.CoherentHeapTest.test_heap_access): heapuser
# is in the group the udev rule gives the coherent heaps (video), nobodyheap
# is not; the test runs dma-heap as each through su.
inherit extrausers
EXTRA_USERS_PARAMS = "\
    useradd --shell /bin/sh --groups video heapuser; \
    useradd --shell /bin/sh nobodyheap; \
"

# Only machines set up by conf/machine/include/coherent-heap.inc have the module.
COMPATIBLE_MACHINE = "^$"
COMPATIBLE_MACHINE:coherent-heap = "^${MACHINE}$"

# testimage: oe-core's basic checks plus this layer's (lib/oeqa/runtime/cases/
# coherent_heap.py). The tests log in over ssh.
# nooelint: oelint.vars.outofcontext - this is an image (through core-image-minimal.bb)
IMAGE_FEATURES += "ssh-server-dropbear"
TEST_SUITES = "ping ssh coherent_heap"
