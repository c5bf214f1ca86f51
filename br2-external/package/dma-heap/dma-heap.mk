################################################################################
#
# dma-heap
#
################################################################################

# The layer's own tools/ workspace and its Cargo.lock, not a copy.
DMA_HEAP_VERSION = 0.1.0
DMA_HEAP_SITE = $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/../tools
DMA_HEAP_SITE_METHOD = local
# The workspace's crates are MIT (tools/Cargo.toml); the crates.io
# dependencies of dma-heap in tools/Cargo.lock: MIT or Apache-2.0 (clap,
# libc, serde, ...), Unlicense or MIT (memchr), Unicode-3.0
# (unicode-ident).
DMA_HEAP_LICENSE = MIT, MIT or Apache-2.0, Unlicense or MIT, Unicode-3.0
DMA_HEAP_LICENSE_FILES = Cargo.toml
# The crate's directory of the workspace (Cargo.lock is the workspace's).
DMA_HEAP_SUBDIR = dma-heap

# A local source: the crates come from COHERENT_HEAP_CARGO_FETCH (external.mk).
DMA_HEAP_PRE_CONFIGURE_HOOKS += COHERENT_HEAP_CARGO_FETCH

ifeq ($(BR2_PACKAGE_DMA_HEAP_INIT),y)
define DMA_HEAP_INSTALL_INIT
	ln -sf usr/bin/dma-heap $(TARGET_DIR)/init
endef
DMA_HEAP_POST_INSTALL_TARGET_HOOKS += DMA_HEAP_INSTALL_INIT
endif

$(eval $(cargo-package))
