# U-Boot script of the QEMU virt image (compiled to boot.scr with mkimage -T
# script). U-Boot's distro boot runs it from the boot partition; it sets the
# load addresses the qemu_arm64 environment lacks (without fdt_addr_r,
# extlinux's fdt line is ignored and QEMU's own tree, without the layer's
# regions, is passed on) and boots sysboot/extlinux.conf, kept out of
# /extlinux/ so that distro boot does not take it first, without them.
# Kernel at 0x40400000 and initrd at 0x44000000 (the environment's), the
# DTB and overlays in between: all in the first 256 MiB of RAM, which
# dts/qemu-virt keeps free of heap regions. The DTB and the initrd stay where
# they were loaded: the environment's 32-bit fdt_high would have U-Boot move
# the DTB below 4 GiB, which fails once the tree's no-map regions are
# reserved, and moving the initrd to the top of RAM is needless.
setenv fdt_addr_r 0x43c00000
setenv fdtoverlay_addr_r 0x43e00000
setenv fdt_high 0xffffffffffffffff
setenv initrd_high 0xffffffffffffffff
sysboot ${devtype} ${devnum}:${distro_bootpart} any ${scriptaddr} /sysboot/extlinux.conf
