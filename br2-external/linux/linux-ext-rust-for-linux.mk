################################################################################
#
# rust-for-linux
#
################################################################################

# rustc, the Rust standard library source and bindgen for the kernel's
# CONFIG_RUST, which Buildroot's Linux package does not pass.
LINUX_EXTENSIONS += rust-for-linux

# An extension that passes tools rather than patching the tree sets the
# Linux package's own variables (check-package expects a package prefix).
ifeq ($(BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX),y)
RUST_FOR_LINUX_BINDGEN = $(call qstrip,$(BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX_BINDGEN))
ifeq ($(RUST_FOR_LINUX_BINDGEN),)
RUST_FOR_LINUX_BINDGEN = $(HOST_DIR)/bin/bindgen
RUST_FOR_LINUX_LIBCLANG_PATH = $(HOST_DIR)/lib
RUST_FOR_LINUX_TOOLS = host-rust-bindgen
else
RUST_FOR_LINUX_LIBCLANG_PATH = $(call qstrip,$(BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX_LIBCLANG_PATH))
endif
# The kernel's Kconfig runs scripts/rust_is_available.sh: the tools must be
# there before the kernel is configured, and be named on every make call
# (LINUX_KCONFIG_OPTS is LINUX_MAKE_FLAGS).
# check-package disable TypoInPackageVariable
LINUX_KCONFIG_DEPENDENCIES += host-rustc rust-for-linux $(RUST_FOR_LINUX_TOOLS)
# check-package disable TypoInPackageVariable
LINUX_MAKE_FLAGS += \
	RUSTC=$(HOST_DIR)/bin/rustc \
	HOSTRUSTC=$(HOST_DIR)/bin/rustc \
	BINDGEN=$(RUST_FOR_LINUX_BINDGEN) \
	RUST_LIB_SRC=$(RUST_FOR_LINUX_LIB_SRC)
# bindgen loads libclang at run time.
# check-package disable TypoInPackageVariable
LINUX_MAKE_ENV += LIBCLANG_PATH=$(RUST_FOR_LINUX_LIBCLANG_PATH)
endif

# Nothing to patch: the kernel carries its Rust support itself; make sure
# the library source is where RUST_LIB_SRC points.
define RUST_FOR_LINUX_PREPARE_KERNEL
	@test -f $(RUST_FOR_LINUX_LIB_SRC)/core/src/lib.rs || \
		{ echo "rust-for-linux: no Rust library source in $(RUST_FOR_LINUX_LIB_SRC)" >&2; exit 1; }
endef
