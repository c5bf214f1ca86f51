################################################################################
#
# rust-for-linux
#
################################################################################

# The Rust standard library source (rustup's rust-src component) of the
# release host-rustc installs: the kernel builds core and alloc from it,
# with the same compiler.
RUST_FOR_LINUX_VERSION = $(RUST_BIN_VERSION)
# The release's dist directory (channel-rust-$(RUST_FOR_LINUX_VERSION).toml):
# rust-src is not published in dist/ itself.
RUST_FOR_LINUX_SITE = https://static.rust-lang.org/dist/2026-06-30
RUST_FOR_LINUX_SOURCE = rust-src-$(RUST_FOR_LINUX_VERSION).tar.xz
RUST_FOR_LINUX_LICENSE = Apache-2.0 or MIT
RUST_FOR_LINUX_LICENSE_FILES = COPYRIGHT LICENSE-APACHE LICENSE-MIT
RUST_FOR_LINUX_INSTALL_TARGET = NO

RUST_FOR_LINUX_LIB_SRC = $(RUST_FOR_LINUX_DIR)/rust-src/lib/rustlib/src/rust/library

ifeq ($(BR2_PACKAGE_HOST_RUST),y)
# host-rust builds its own release: its library source must be that one.
ifneq ($(RUST_VERSION),$(RUST_BIN_VERSION))
$(error rust-for-linux: host-rust $(RUST_VERSION) and rust-src $(RUST_FOR_LINUX_VERSION) differ)
endif
endif

$(eval $(generic-package))
