################################################################################
#
# dtregion
#
################################################################################

# The layer's own tools/ workspace and its Cargo.lock, not a copy.
DTREGION_VERSION = 0.1.0
DTREGION_SITE = $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/../tools
DTREGION_SITE_METHOD = local
# The workspace's crates are MIT (tools/Cargo.toml); the crates.io
# dependencies of dtregion in tools/Cargo.lock: MIT or Apache-2.0 (clap,
# serde, toml, ...), Unlicense or MIT (memchr), Unicode-3.0
# (unicode-ident).
DTREGION_LICENSE = MIT, MIT or Apache-2.0, Unlicense or MIT, Unicode-3.0
DTREGION_LICENSE_FILES = Cargo.toml
# The crate's directory of the workspace (Cargo.lock is the workspace's).
DTREGION_SUBDIR = dtregion
# dtregion check runs fdtoverlay.
HOST_DTREGION_DEPENDENCIES = host-dtc

# A local source: the crates come from COHERENT_HEAP_CARGO_FETCH (external.mk).
HOST_DTREGION_PRE_CONFIGURE_HOOKS += COHERENT_HEAP_CARGO_FETCH

$(eval $(host-cargo-package))
