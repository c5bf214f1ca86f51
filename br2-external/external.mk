################################################################################
#
# meta-coherent-heap
#
################################################################################

# The layer this tree belongs to: every file of the firmware (kernel patches
# and fragments, overlays, tools, boot texts) is read from there, never
# copied into the tree.
COHERENT_HEAP_LAYER = $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/..
COHERENT_HEAP_KERNEL_FILES = $(COHERENT_HEAP_LAYER)/recipes-kernel/linux/files

# The tools' cargo packages have the layer's tools/ as a local site, which
# Buildroot does not vendor at download time: their pre-configure hook
# fetches the crates of Cargo.lock into Buildroot's cargo home instead (once
# host-rustc is there), from which the --offline build takes them.
define COHERENT_HEAP_CARGO_FETCH
	mkdir -p $(BR_CARGO_HOME)
	cd $(@D) && $(HOST_MAKE_ENV) CARGO_HOME=$(BR_CARGO_HOME) \
		flock $(BR_CARGO_HOME)/.br-lock cargo fetch --locked --manifest-path Cargo.toml
endef

include $(sort $(wildcard $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/package/*/*.mk))

# The U-Boot of the QEMU virt image: the options scripts/uboot-sources.txt
# sets on top of its defconfig, as a fragment
# (BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES of the QEMU virt defconfig).
COHERENT_HEAP_UBOOT_FRAGMENT = $(BUILD_DIR)/coherent-heap/u-boot.fragment
$(COHERENT_HEAP_UBOOT_FRAGMENT): $(COHERENT_HEAP_LAYER)/scripts/uboot-sources.txt
	mkdir -p $(@D)
	awk '$$1 == "config" { print $$2 }' $< >$@
# The fragment is a make variable of the defconfig: make it a prerequisite
# of U-Boot's configuration (Buildroot takes the files given as they are).
ifeq ($(BR2_TARGET_UBOOT),y)
$(UBOOT_DIR)/.stamp_dotconfig: $(COHERENT_HEAP_UBOOT_FRAGMENT)
endif

# The kernel configuration must keep what the layer's fragments ask for:
# a fragment option that olddefconfig dropped (CONFIG_RUST without a usable
# Rust toolchain, CONFIG_DMABUF_HEAPS_COHERENT without its dependencies)
# fails the build here instead of giving a kernel without the heap.
COHERENT_HEAP_LINUX_FRAGMENTS = \
	$(filter $(COHERENT_HEAP_KERNEL_FILES)/%,$(call qstrip,$(BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES)))

ifneq ($(COHERENT_HEAP_LINUX_FRAGMENTS),)
define COHERENT_HEAP_LINUX_CHECK_CONFIG
	$(Q)for opt in $$(grep -hE '^CONFIG_[A-Z0-9_]+=' $(COHERENT_HEAP_LINUX_FRAGMENTS)); do \
		if ! grep -qxF "$${opt}" $(LINUX_DIR)/.config; then \
			echo "linux: $${opt} of the meta-coherent-heap fragments did not survive the kernel configuration" >&2; \
			if [ "$${opt}" = CONFIG_RUST=y ]; then \
				echo "linux: the kernel's Rust support needs BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX;" \
					"'make linux-rustavailable' says what is missing" >&2; \
			fi; \
			exit 1; \
		fi; \
	done
endef
LINUX_POST_CONFIGURE_HOOKS += COHERENT_HEAP_LINUX_CHECK_CONFIG
endif

# make linux-rustavailable: the kernel's own check of the Rust toolchain
# (rustc, bindgen, the standard library source), with the tools the build
# uses.
linux-rustavailable: linux-configure
	$(LINUX_MAKE_ENV) $(LINUX_MAKE) $(LINUX_MAKE_FLAGS) -C $(LINUX_DIR) rustavailable
.PHONY: linux-rustavailable
