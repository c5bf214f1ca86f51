################################################################################
#
# kselftest-dmabuf-heaps
#
################################################################################

# Built from the kernel's own tree, like linux-tools: no source of its own.
# GPL-2.0, as the kernel, whose licence files legal-info saves for linux.
KSELFTEST_DMABUF_HEAPS_LICENSE = GPL-2.0
KSELFTEST_DMABUF_HEAPS_DEPENDENCIES = linux

KSELFTEST_DMABUF_HEAPS_SELFTESTS = $(LINUX_DIR)/tools/testing/selftests

# The UAPI headers of the kernel being built (dma-heap.h, dma-buf.h),
# installed into the package's own directory.
define KSELFTEST_DMABUF_HEAPS_BUILD_CMDS
	$(LINUX_MAKE_ENV) $(LINUX_MAKE) $(LINUX_MAKE_FLAGS) -C $(LINUX_DIR) \
		headers_install INSTALL_HDR_PATH=$(@D)/uapi
	$(TARGET_CC) $(TARGET_CFLAGS) -O3 -Wall -Wl,-no-as-needed \
		-isystem $(@D)/uapi/include -I$(KSELFTEST_DMABUF_HEAPS_SELFTESTS) \
		$(TARGET_LDFLAGS) -o $(@D)/dmabuf-heap \
		$(KSELFTEST_DMABUF_HEAPS_SELFTESTS)/dmabuf-heaps/dmabuf-heap.c
endef

define KSELFTEST_DMABUF_HEAPS_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/dmabuf-heap \
		$(TARGET_DIR)/usr/lib/kselftests/dmabuf-heap
endef

$(eval $(generic-package))
