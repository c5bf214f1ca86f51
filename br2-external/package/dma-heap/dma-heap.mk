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

# A local source is not downloaded, so the cargo download post-process
# does not vendor it: fetch the crates of Cargo.lock into Buildroot's
# cargo home instead (once host-rustc is there), from which the --offline
# build takes them.
define DMA_HEAP_CARGO_FETCH
	mkdir -p $(BR_CARGO_HOME)
	cd $(@D) && $(HOST_MAKE_ENV) CARGO_HOME=$(BR_CARGO_HOME) \
		flock $(BR_CARGO_HOME)/.br-lock cargo fetch --locked --manifest-path Cargo.toml
endef
DMA_HEAP_PRE_CONFIGURE_HOOKS += DMA_HEAP_CARGO_FETCH

ifeq ($(BR2_PACKAGE_DMA_HEAP_INIT),y)
define DMA_HEAP_INSTALL_INIT
	ln -sf usr/bin/dma-heap $(TARGET_DIR)/init
endef
DMA_HEAP_POST_INSTALL_TARGET_HOOKS += DMA_HEAP_INSTALL_INIT
endif

$(eval $(cargo-package))
