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
LLVM_SUFFIX=-19
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned QEMU "virt" machine: the DTB is dumped with exactly these options and
# the boot uses them again, so the tree matches the machine.
QEMU_VIRT_OPTS=(-machine "virt-10.0,gic-version=3" -cpu cortex-a72 -smp 4 -m 1G)

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

# apt_private_update SUITE...: read the package lists of Debian's SUITEs.
apt_private_update() {
	local suite opts
	mkdir -p "$APT_PRIVATE/lists/partial" "$APT_PRIVATE/cache/archives/partial"
	: >"$APT_PRIVATE/sources.list"
	for suite in "$@"; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
			"http://deb.debian.org/debian $suite main" >>"$APT_PRIVATE/sources.list"
	done
	info "apt: reading package lists for $*"
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
