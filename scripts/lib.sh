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
LLVM_SUFFIX=-19
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned QEMU "virt" machine: the DTB is dumped with exactly these options and
# the boot uses them again, so the tree matches the machine.
QEMU_VIRT_OPTS=(-machine "virt,gic-version=3" -cpu cortex-a72 -smp 4 -m 1G)

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
