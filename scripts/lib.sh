# shellcheck shell=bash
# Common settings and helpers for the standalone build. Sourced, never run.
# shellcheck disable=SC2034 # the settings are used by the scripts that source this

LAYER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${MCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meta-coherent-heap}
# MCH_VARIANT=debug adds recipes-kernel/linux/files/variants/debug.cfg and
# builds in its own directory.
VARIANT=${MCH_VARIANT:-}
BUILD_DIR=${MCH_BUILD:-$CACHE_DIR/build${VARIANT:+-$VARIANT}}
KERNEL_FILES=$LAYER_DIR/recipes-kernel/linux/files
# Python tools of scripts/python-requirements.txt, installed by scripts/setup-host.
VENV_DIR=$CACHE_DIR/venv
# Cargo target dir of the host tools, one per checkout: cargo finds a build
# fresh by file times and workspace-relative paths, so two checkouts sharing
# one would run test binaries with the other checkout's paths compiled in
# (env!("CARGO_MANIFEST_DIR")).
HOST_TARGET_DIR=$CACHE_DIR/host-target/$(printf %s "$LAYER_DIR" | sha256sum | cut -c1-16)
LLVM_SUFFIX=-19
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned QEMU "virt" machine: the DTB is dumped with exactly these options and
# the boot uses them again, so the tree matches the machine. acpi=off: with
# firmware (-bios, the image boot through U-Boot) QEMU would otherwise enable
# ACPI and change the machine (no PL061 GPIO in the tree); off, the direct and
# the U-Boot boot run the same machine and the dumped tree fits both.
QEMU_VIRT_OPTS=(-machine "virt,gic-version=3,acpi=off" -cpu cortex-a72 -smp 4 -m 1G)

# vivid, the V4L2 test driver the coherent_import suite imports heap
# buffers into: one instance, a video capture node only, its queues on
# videobuf2 dma-contig (a 32-bit DMA mask, like a camera's DMA engine).
VIVID_PARAMS="vivid.n_devs=1 vivid.node_types=0x1 vivid.allocators=1"

# The importer boots of QEMU virt (scripts/boot --dma): what each changes.
# swiotlb: the test tree, with every DMA bounced (swiotlb=force);
# high: 5 GiB of RAM and a region above 4 GiB (dts/tests/import/);
# outside: 2 GiB of RAM, a tree whose /memory declares only the first GiB,
# and a region in the second: real memory without a struct page.
DMA_VARIANTS=(swiotlb high outside)
declare -A DMA_VARIANT_MEM=([swiotlb]=1G [high]=5G [outside]=2G)
# The suites an importer boot runs: the heaps, the import, the log (the
# others need the test tree's pools).
DMA_VARIANT_SUITES=heap_list,coherent_heap,coherent_import,coherent_log

# The QEMU machines scripts/boot knows, and the board of dts/ each emulates.
QEMU_MACHINES=(virt raspi4b imx8mp-evk)
declare -A QEMU_BOARD=([virt]=qemu-virt [raspi4b]=bcm2711-rpi-4-b [imx8mp-evk]=imx8mp-evk)

# qemu_machine_opts MACHINE: QEMU options and kernel console arguments of a
# machine, as two lines. virt is pinned (QEMU_VIRT_OPTS); raspi4b and
# imx8mp-evk emulate fixed boards (the Pi's first UART is its PL011, which
# the DT's stdout-path does not name; the EVK's console is UART2, QEMU's
# second serial port).
qemu_machine_opts() {
	case $1 in
	virt)
		echo "${QEMU_VIRT_OPTS[*]} -serial stdio"
		echo "console=ttyAMA0"
		;;
	raspi4b)
		echo "-machine raspi4b -m 2G -serial stdio"
		echo "console=ttyAMA0,115200 earlycon=pl011,mmio32,0xfe201000"
		;;
	imx8mp-evk)
		echo "-machine imx8mp-evk -m 3G -serial null -serial stdio"
		echo "console=ttymxc1,115200"
		;;
	*) die "unknown machine $1 (known: ${QEMU_MACHINES[*]})" ;;
	esac
}

# board_dtb BOARD: the board's base DTB (relative to arch/arm64/boot/dts/),
# from dts/boards.toml; empty for a board whose tree QEMU generates.
board_dtb() {
	awk -v key="[board.$1]" '$0 == key { f = 1; next } /^\[/ { f = 0 }
		f && $1 == "dtb" { gsub(/"/, "", $3); print $3 }' "$LAYER_DIR/dts/boards.toml"
}

# boards: the boards of dts/boards.toml, in file order.
boards() {
	sed -n 's/^\[board\.\(.*\)\]$/\1/p' "$LAYER_DIR/dts/boards.toml"
}

# The udev rule of the images (the coherent heaps read/write for the video
# group): the Yocto recipe's file, which the standalone test image ships too.
UDEV_RULES=$LAYER_DIR/recipes-core/coherent-heap-udev-rules/files/60-coherent-heap.rules

# Each board's boot files (the boot texts and the genimage.cfg of its image).
BOOT_FILES=$LAYER_DIR/recipes-bsp/coherent-heap-boot/files

# board_loader BOARD: what boots the board's image, for bootcfg: the loader
# (extlinux, rpi4, rpi5) and its configuration file on the boot partition.
# QEMU virt's U-Boot runs boot.scr, which runs sysboot on an extlinux.conf
# kept out of /extlinux/.
board_loader() {
	case $1 in
	qemu-virt) echo "extlinux sysboot/extlinux.conf" ;;
	bcm2711-rpi-4-b) echo "rpi4 config.txt" ;;
	bcm2712-rpi-5-b) echo "rpi5 config.txt" ;;
	*) echo "extlinux extlinux/extlinux.conf" ;;
	esac
}

# host_tool NAME: build the host tool NAME of tools/ (release, quiet) and
# print the path of its binary.
host_tool() {
	(cd "$LAYER_DIR/tools" && CARGO_TARGET_DIR=$HOST_TARGET_DIR \
		cargo build -q --locked --release -p "$1") >&2
	printf '%s\n' "$HOST_TARGET_DIR/release/$1"
}

# image_boot_files IMAGE DIR: copy the files of IMAGE's boot partition (FAT)
# into DIR, as its boot loader sees them.
image_boot_files() {
	local image=$1 dir=$2 offset size
	need mcopy "run scripts/setup-host (mtools)"
	read -r offset size < <("$(host_tool bootcfg)" boot-partition "$image") ||
		die "$image: no boot partition"
	mkdir -p "$dir"
	mcopy -s -n -m -i "$image@@$offset" '::*' "$dir/" || die "$image: cannot read its boot partition"
}

# compile_kernel_dtb KERNEL_SRC DTB OUT: compile DTB (e.g.
# broadcom/bcm2711-rpi-4-b.dtb) from its .dts in the kernel source as the
# kernel does (cpp, then dtc -@ so that overlays can refer to its labels).
compile_kernel_dtb() {
	local src=$1 dtb=$2 out=$3
	mkdir -p "$(dirname "$out")"
	cpp -nostdinc -I "$src/include" -I "$src/arch/arm64/boot/dts" \
		-I "$src/scripts/dtc/include-prefixes" -undef -D__DTS__ -x assembler-with-cpp \
		-o "$out.pp" "$src/arch/arm64/boot/dts/${dtb%.dtb}.dts"
	dtc -q -@ -I dts -O dtb -o "$out" "$out.pp"
	rm -f "$out.pp"
}

# dump_virt_dtb OUT [QEMU-OPTION...]: the QEMU virt tree, dumped with
# QEMU_VIRT_OPTS and the options given (the options the boot uses; a later
# -m wins). QEMU puts random kaslr-seed/rng-seed into /chosen:
# they are dropped (QEMU adds fresh ones at boot), and the tree is written out
# again by dtc, since deleting them leaves stale bytes in the blob.
dump_virt_dtb() {
	local out=$1
	shift
	mkdir -p "$(dirname "$out")"
	qemu_setup
	"${QEMU[@]}" "${QEMU_VIRT_OPTS[@]}" "$@" -machine dumpdtb="$out" -nographic >"$out.log" 2>&1 ||
		{ cat "$out.log" >&2; die "qemu could not dump the virt DTB"; }
	rm -f "$out.log"
	fdtput -d "$out" /chosen kaslr-seed 2>/dev/null || true
	fdtput -d "$out" /chosen rng-seed 2>/dev/null || true
	dtc -q -I dtb -O dtb -o "$out.tmp" "$out"
	mv "$out.tmp" "$out"
}

# qemu_setup: set QEMU to the command of the pinned QEMU (scripts/fetch-qemu),
# whatever QEMU the host has, with no network and no audio.
qemu_setup() {
	local root
	root=$("$LAYER_DIR/scripts/fetch-qemu")
	QEMU=(env "QEMU_MODULE_DIR=$root/usr/lib/x86_64-linux-gnu/qemu"
		"$root/usr/bin/qemu-system-aarch64" -L "$root/usr/share/qemu" -nic none -audio none)
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

info() {
	printf '==> %s\n' "$*" >&2
}

# need TOOL HINT: fail early, saying how to get a missing tool.
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# png_size PNG: "WIDTHxHEIGHT" from the PNG's IHDR chunk.
png_size() {
	local w h
	read -r w h < <(od -An -j16 -N8 -tx1 "$1" | tr -d ' \n' | sed -E 's/^(.{8})(.{8})$/\1 \2/')
	printf '%dx%d\n' "$((16#$w))" "$((16#$h))"
}

# SOURCE_DATE_EPOCH from the layer's last commit, so that two builds of one
# commit agree; a tree that is not a git checkout must set it.
source_date_epoch() {
	if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
		printf '%s\n' "$SOURCE_DATE_EPOCH"
	elif git -C "$LAYER_DIR" rev-parse HEAD >/dev/null 2>&1; then
		git -C "$LAYER_DIR" log -1 --format=%ct
	else
		die "not a git checkout: set SOURCE_DATE_EPOCH"
	fi
}

# A private apt configuration under the cache (our own sources list and lists
# directory), for downloading pinned Debian packages: the machine's own apt
# sources are never read or changed.
APT_PRIVATE=$CACHE_DIR/apt
apt_private_opts() {
	printf '%s\n' -o "Dir::Etc::SourceList=$APT_PRIVATE/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$APT_PRIVATE/lists" \
		-o "Dir::Cache=$APT_PRIVATE/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
}

# apt_private_update [--source] [--components "COMPONENT..."] SUITE...: read
# the package lists of Debian's SUITEs (components: main unless given), and
# with --source their source package lists too.
apt_private_update() {
	local types=(deb) components=main suite type opts
	while [[ ${1:-} == --* ]]; do
		case $1 in
		--source) types+=(deb-src); shift ;;
		--components) components=$2; shift 2 ;;
		*) die "apt_private_update: unknown option $1" ;;
		esac
	done
	mkdir -p "$APT_PRIVATE/lists/partial" "$APT_PRIVATE/cache/archives/partial"
	: >"$APT_PRIVATE/sources.list"
	for suite in "$@"; do
		for type in "${types[@]}"; do
			echo "$type [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
				"http://deb.debian.org/debian $suite $components" >>"$APT_PRIVATE/sources.list"
		done
	done
	info "apt: reading package lists for $* ($components${types[1]:+, sources})"
	mapfile -t opts < <(apt_private_opts)
	apt-get "${opts[@]}" -qq update >&2 || die "apt-get update failed for $*"
}

# apt_private_download DIR PACKAGE=VERSION...: download .debs into DIR.
apt_private_download() {
	local dir=$1 opts
	shift
	mapfile -t opts < <(apt_private_opts)
	(cd "$dir" && apt-get "${opts[@]}" -qq download "$@") >&2
}

# apt_private_source DIR PACKAGE/SUITE: download a source package (.dsc and
# tarballs) into DIR; apt checks them against the signed Sources list.
apt_private_source() {
	local dir=$1 opts
	shift
	mapfile -t opts < <(apt_private_opts)
	(cd "$dir" && apt-get "${opts[@]}" -qq source --download-only "$@") >&2
}

# image_qemu_opts BOARD IMAGE DIR ARGS: the QEMU options, one a line, that
# boot the flashable IMAGE of BOARD as its boot chain would. QEMU virt runs
# the image's U-Boot path for real (-bios u-boot.bin, the image as a virtio
# disk, never written: snapshot=on). For the other boards, whose boot chain
# QEMU cannot run, the boot partition is copied into DIR and read as the Pi
# firmware or U-Boot reads it (bootcfg plan): its kernel, initrd, DTB with
# the overlays it names applied, and its command line followed by ARGS.
image_qemu_opts() {
	local board=$1 image=$2 dir=$3 args=$4 loader config plan fdt overlays
	[[ -e $image ]] || die "$image missing: run scripts/build images"
	if [[ $board == qemu-virt ]]; then
		printf '%s\n' -bios "$("$LAYER_DIR/scripts/fetch-uboot")/u-boot.bin" \
			-drive "file=$image,if=virtio,format=raw,snapshot=on"
		return 0
	fi
	need fdtoverlay "run scripts/setup-host (device-tree-compiler)"
	rm -rf "$dir"
	image_boot_files "$image" "$dir"
	read -r loader config < <(board_loader "$board")
	plan=$("$(host_tool bootcfg)" plan --loader "$loader" --config "$config" "$dir") ||
		die "$image: its boot partition does not boot"
	plan_item() { awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print }' <<<"$plan"; }
	fdt=$dir/$(plan_item fdt)
	mapfile -t overlays < <(plan_item overlay | sed "s|^|$dir/|")
	if ((${#overlays[@]})); then
		fdtoverlay -i "$fdt" -o "$dir/boot.dtb" "${overlays[@]}" || die "$image: the overlays do not apply"
		fdt=$dir/boot.dtb
	fi
	printf '%s\n' -kernel "$dir/$(plan_item kernel)" -dtb "$fdt" -append "$(plan_item cmdline) $args"
	[[ -z $(plan_item initrd) ]] || printf '%s\n' -initrd "$dir/$(plan_item initrd)"
}
