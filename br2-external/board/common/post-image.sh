#!/usr/bin/env bash
# Post-image script of the meta-coherent-heap boards, called as
# board/<board>/post-image.sh (a link to this file): lays out the board's
# image with the layer's own genimage.cfg and boot texts
# (recipes-bsp/coherent-heap-boot/files/<board>/, linked into the images
# directory, never copied), as scripts/images does for the standalone build,
# and writes <board>.img and <board>.img.bmap.
set -euo pipefail

board_dir=$(dirname "$0")
board=$(basename "$board_dir")
boot_files=$BR2_EXTERNAL_COHERENT_HEAP_PATH/../recipes-bsp/coherent-heap-boot/files/$board

die() {
	printf 'post-image.sh: %s\n' "$*" >&2
	exit 1
}

[[ -f $board_dir/genimage.cfg ]] || die "$board_dir/genimage.cfg missing"
command -v genimage >/dev/null || die "genimage not found: enable BR2_PACKAGE_HOST_GENIMAGE"
command -v bmaptool >/dev/null || die "bmaptool not found: enable BR2_PACKAGE_HOST_BMAP_TOOLS"

cd "$BINARIES_DIR"
# The names genimage.cfg takes: the test initramfs, the boot texts, a
# U-Boot script compiled as scripts/images does (with the mkimage of the
# image's own U-Boot), and the Raspberry Pi 4 firmware of rpi-firmware with
# its licence.
ln -sf rootfs.cpio initramfs.cpio
for f in "$boot_files"/*; do
	[[ ${f##*/} == genimage.cfg ]] || ln -sf "$f" .
done
if [[ -f $boot_files/boot.cmd ]]; then
	mkimage=("$BUILD_DIR"/uboot-*/tools/mkimage)
	[[ -x ${mkimage[0]} ]] || die "boot.cmd needs U-Boot's mkimage: enable BR2_TARGET_UBOOT"
	"${mkimage[0]}" -q -A arm64 -O linux -T script -C none -n "$board boot script" \
		-d "$boot_files/boot.cmd" boot.scr >/dev/null
fi
if [[ -f rpi-firmware/start4.elf ]]; then
	ln -sf rpi-firmware/start4.elf rpi-firmware/fixup4.dat .
	licence=("$BUILD_DIR"/rpi-firmware-*/boot/LICENCE.broadcom)
	ln -sf "${licence[0]}" raspi-firmware.copyright
fi

rootpath=$(mktemp -d)
trap 'rm -rf "$rootpath"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
genimage --config "$board_dir/genimage.cfg" --rootpath "$rootpath" \
	--tmppath "$BUILD_DIR/genimage.tmp" --inputpath "$BINARIES_DIR" --outputpath "$BINARIES_DIR"
# Zero blocks as holes, whatever the file system: the map lists data only.
fallocate --dig-holes "$board.img"
bmaptool -q create -o "$board.img.bmap" "$board.img"
