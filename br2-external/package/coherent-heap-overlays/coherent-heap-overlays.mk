################################################################################
#
# coherent-heap-overlays
#
################################################################################

# The layer's own dts/ (the board's overlays and dts/boards.toml), not a copy.
COHERENT_HEAP_OVERLAYS_VERSION = 1.0
COHERENT_HEAP_OVERLAYS_SITE = $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/../dts
COHERENT_HEAP_OVERLAYS_SITE_METHOD = local
COHERENT_HEAP_OVERLAYS_BOARD = $(call qstrip,$(BR2_PACKAGE_COHERENT_HEAP_OVERLAYS_BOARD))
# Each overlay carries its SPDX line.
COHERENT_HEAP_OVERLAYS_LICENSE = GPL-2.0-only or MIT
COHERENT_HEAP_OVERLAYS_LICENSE_FILES = \
	$(patsubst $(COHERENT_HEAP_OVERLAYS_SITE)/%,%, \
		$(wildcard $(COHERENT_HEAP_OVERLAYS_SITE)/$(COHERENT_HEAP_OVERLAYS_BOARD)/*.dtso))
COHERENT_HEAP_OVERLAYS_DEPENDENCIES = host-dtc host-dtregion
COHERENT_HEAP_OVERLAYS_INSTALL_TARGET = NO
COHERENT_HEAP_OVERLAYS_INSTALL_IMAGES = YES

COHERENT_HEAP_OVERLAYS_B = $(@D)/build

ifeq ($(BR_BUILDING),y)
ifeq ($(BR2_PACKAGE_COHERENT_HEAP_OVERLAYS),y)
ifeq ($(COHERENT_HEAP_OVERLAYS_BOARD),)
$(error BR2_PACKAGE_COHERENT_HEAP_OVERLAYS_BOARD is empty: name a board of dts/boards.toml)
endif
endif
endif

ifeq ($(COHERENT_HEAP_OVERLAYS_BOARD),qemu-virt)
# QEMU virt: the tree of the machine the image boots, dumped with the
# layer's machine options (scripts/lib.sh), without QEMU's random /chosen
# seeds (QEMU adds fresh ones at boot), written out again by dtc (deleting
# them leaves stale bytes): the tree scripts/build dumps.
COHERENT_HEAP_OVERLAYS_QEMU = $(call qstrip,$(BR2_PACKAGE_COHERENT_HEAP_OVERLAYS_QEMU))
ifeq ($(COHERENT_HEAP_OVERLAYS_QEMU),)
COHERENT_HEAP_OVERLAYS_QEMU = $(HOST_DIR)/bin/qemu-system-aarch64
COHERENT_HEAP_OVERLAYS_DEPENDENCIES += host-qemu
endif
COHERENT_HEAP_OVERLAYS_QEMU_OPTS = \
	$(shell sed -n 's/^QEMU_VIRT_OPTS=(\(.*\))$$/\1/p' $(COHERENT_HEAP_LAYER)/scripts/lib.sh)
define COHERENT_HEAP_OVERLAYS_BASE_DTB
	$(COHERENT_HEAP_OVERLAYS_QEMU) $(COHERENT_HEAP_OVERLAYS_QEMU_OPTS) -nographic \
		-machine dumpdtb=$(COHERENT_HEAP_OVERLAYS_B)/base.dtb
	-$(HOST_DIR)/bin/fdtput -d $(COHERENT_HEAP_OVERLAYS_B)/base.dtb /chosen kaslr-seed
	-$(HOST_DIR)/bin/fdtput -d $(COHERENT_HEAP_OVERLAYS_B)/base.dtb /chosen rng-seed
	$(HOST_DIR)/bin/dtc -q -I dtb -O dtb -o $(COHERENT_HEAP_OVERLAYS_B)/base.dtb.tmp \
		$(COHERENT_HEAP_OVERLAYS_B)/base.dtb
	mv $(COHERENT_HEAP_OVERLAYS_B)/base.dtb.tmp $(COHERENT_HEAP_OVERLAYS_B)/base.dtb
endef
else
# A board: the kernel's DTB that dts/boards.toml names.
COHERENT_HEAP_OVERLAYS_DEPENDENCIES += linux
COHERENT_HEAP_OVERLAYS_KERNEL_DTB = \
	$(shell awk -v key="[board.$(COHERENT_HEAP_OVERLAYS_BOARD)]" \
		'$$0 == key { f = 1; next } /^\[/ { f = 0 } f && $$1 == "dtb" { gsub(/"/, "", $$3); print $$3 }' \
		$(COHERENT_HEAP_OVERLAYS_SITE)/boards.toml)
define COHERENT_HEAP_OVERLAYS_BASE_DTB
	cp $(LINUX_ARCH_PATH)/boot/dts/$(COHERENT_HEAP_OVERLAYS_KERNEL_DTB) \
		$(COHERENT_HEAP_OVERLAYS_B)/base.dtb
endef
endif

# dtregion check: the errors must be exactly those the overlays declare in
# their `// expect: error[CLASS] NODE` lines (none but QEMU virt's test
# regions), as in the Yocto overlays recipe and scripts/check-dts.
define COHERENT_HEAP_OVERLAYS_BUILD_CMDS
	rm -rf $(COHERENT_HEAP_OVERLAYS_B)
	mkdir -p $(COHERENT_HEAP_OVERLAYS_B)
	for dtso in $(@D)/$(COHERENT_HEAP_OVERLAYS_BOARD)/*.dtso; do \
		$(HOST_DIR)/bin/dtc -q -@ -I dts -O dtb \
			-o $(COHERENT_HEAP_OVERLAYS_B)/$(COHERENT_HEAP_OVERLAYS_BOARD)-$$(basename $${dtso} .dtso).dtbo \
			$${dtso} || exit 1; \
	done
	$(COHERENT_HEAP_OVERLAYS_BASE_DTB)
	cd $(COHERENT_HEAP_OVERLAYS_B) && $(HOST_MAKE_ENV) \
		$(HOST_DIR)/bin/dtregion check --boards $(@D)/boards.toml \
			--board $(COHERENT_HEAP_OVERLAYS_BOARD) base.dtb \
			$(COHERENT_HEAP_OVERLAYS_BOARD)-*.dtbo >check.log; \
		rc=$$?; cat check.log; [ $${rc} -le 1 ] || exit 1; \
		sed -n 's|^// expect: \(error\[.*\]\)|\1|p' $(@D)/$(COHERENT_HEAP_OVERLAYS_BOARD)/*.dtso | \
			sort >expected; \
		sed -nE 's/^(error\[[a-z0-9-]+\]): ([^:]+): .*/\1 \2/p' check.log | sort >errors; \
		diff -u expected errors || { \
			echo "dtregion check of dts/$(COHERENT_HEAP_OVERLAYS_BOARD): errors (+) the overlays do not declare, or declared ones (-) missing" >&2; \
			exit 1; }
	$(HOST_MAKE_ENV) fdtoverlay -i $(COHERENT_HEAP_OVERLAYS_B)/base.dtb \
		-o $(COHERENT_HEAP_OVERLAYS_B)/$(COHERENT_HEAP_OVERLAYS_BOARD)-coherent.dtb \
		$(COHERENT_HEAP_OVERLAYS_B)/$(COHERENT_HEAP_OVERLAYS_BOARD)-*.dtbo
endef

define COHERENT_HEAP_OVERLAYS_INSTALL_IMAGES_CMDS
	$(INSTALL) -m 0644 -t $(BINARIES_DIR) \
		$(COHERENT_HEAP_OVERLAYS_B)/$(COHERENT_HEAP_OVERLAYS_BOARD)-*.dtbo \
		$(COHERENT_HEAP_OVERLAYS_B)/$(COHERENT_HEAP_OVERLAYS_BOARD)-coherent.dtb
endef

$(eval $(generic-package))
