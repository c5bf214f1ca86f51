# nooelint: oelint.var.bbclassextend,oelint.var.suggestedvar.CVE_PRODUCT - device trees of the target machine, this layer's own sources
SUMMARY = "Device-tree overlays that declare coherent dma-buf heap regions"
DESCRIPTION = "Compiles the overlays of the machine's board from the layer's \
               dts/<board>/ directory, checks them with dtregion against the \
               board's base device tree, merges them into it and deploys and \
               packages both (in /boot/devicetree/). The firmware of a \
               Raspberry Pi applies the overlays; the other boards boot the \
               merged tree; for QEMU virt, runqemu loads it (QB_DTB)."
HOMEPAGE = "https://github.com/meta-coherent-heap/meta-coherent-heap"
BUGTRACKER = "https://github.com/meta-coherent-heap/meta-coherent-heap/issues"
SECTION = "bsp"
# The overlays are (GPL-2.0-only OR MIT), see their SPDX lines. oe-core from
# blacksail on wants SPDX operators; wrynose parses only & and |.
LICENSE = "${@'GPL-2.0-only OR MIT' if 'blacksail' in d.getVar('LAYERSERIES_CORENAMES').split() else 'GPL-2.0-only | MIT'}"
# nooelint: oelint.var.licenseremotefile - the .dtso files carry SPDX lines; the texts are the common licenses
LIC_FILES_CHKSUM = "\
    file://${COMMON_LICENSE_DIR}/GPL-2.0-only;md5=801f80980d171dd6425610833a22dbe6 \
    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302 \
"

DEPENDS += "dma-heap-tools-native"
DEPENDS:append:qemuarm64 = " qemu-system-native"

# The layer's own dts/ directory, not a copy: the standalone build reads the
# same files.
# nooelint: oelint.vars.fileextrapaths,oelint.vars.outofcontext - the source is this layer's dts/
FILESEXTRAPATHS:prepend := "${THISDIR}/../..:"
SRC_URI = "\
    file://dts/${COHERENT_HEAP_BOARD} \
    file://dts/boards.toml \
"

inherit devicetree

# Set by conf/machine/include/coherent-heap.inc or the machine (dts/<board>).
COHERENT_HEAP_BOARD ??= ""
COMPATIBLE_MACHINE:coherent-heap = "^${MACHINE}$"

DT_FILES_PATH = "${UNPACKDIR}/dts/${COHERENT_HEAP_BOARD}"

# The base device tree the overlays are checked against (and, for QEMU,
# merged into). QEMU virt: dumped from the same machine runqemu boots
# (QB_MACHINE, QB_CPU, QB_SMP, QB_MEM), without the random /chosen seeds so
# that the output is reproducible (QEMU adds fresh ones at boot). Boards: the
# board's DTB as the kernel deploys it: dts/<board> is named after the DTB
# (dts/boards.toml), so KERNEL_DEVICETREE must build it.
COHERENT_HEAP_BASE_DTB = "${DEPLOY_DIR_IMAGE}/${COHERENT_HEAP_BOARD}.dtb"
COHERENT_HEAP_BASE_DTB:qemuarm64 = "${WORKDIR}/base/virt.dtb"
# The base tree with the overlays merged (conf/machine/include/coherent-heap.inc):
# what runqemu loads (QB_DTB), and what a board whose boot loader applies no
# overlays boots (its extlinux.conf or EFI partition names it).
COHERENT_HEAP_MERGED_DTB ??= "${COHERENT_HEAP_BOARD}-coherent.dtb"

do_coherent_heap_base() {
    rm -rf ${WORKDIR}/base
    mkdir -p ${WORKDIR}/base
    qemu-system-aarch64 ${QB_MACHINE} ${QB_CPU} ${QB_SMP} ${QB_MEM} -nographic \
        -machine dumpdtb=${WORKDIR}/base/virt.dtb >${WORKDIR}/base/dumpdtb.log 2>&1 ||
        bbfatal "qemu-system-aarch64 could not dump the virt device tree: $(cat ${WORKDIR}/base/dumpdtb.log)"
    fdtput -d ${WORKDIR}/base/virt.dtb /chosen kaslr-seed 2>/dev/null || true
    fdtput -d ${WORKDIR}/base/virt.dtb /chosen rng-seed 2>/dev/null || true
}
do_coherent_heap_base[doc] = "Dumps QEMU's virt device tree for the machine runqemu boots"
do_coherent_heap_base[vardeps] += "QB_MACHINE QB_CPU QB_SMP QB_MEM"

# An overlay that is wrong on purpose (the QEMU test set exercises the driver's
# refusals) declares what dtregion reports on it in `// expect: SEVERITY[CLASS]
# NODE` lines, as dts/tests/bad/ does; scripts/check-dts reads the same lines.
# The errors must be exactly those: an error on any other region fails the
# build, and so does an expected one that is missing.
python do_coherent_heap_check() {
    import glob
    import json
    import subprocess

    board = d.getVar("COHERENT_HEAP_BOARD")
    base = d.getVar("COHERENT_HEAP_BASE_DTB")
    overlays = sorted(glob.glob(os.path.join(d.getVar("B"), "*.dtbo")))
    if not overlays:
        bb.fatal("no overlays in dts/%s" % board)
    if not os.path.isfile(base):
        bb.fatal("base device tree %s not found" % base)

    env = dict(os.environ, PATH=d.getVar("PATH"))
    cmd = ["dtregion", "check", "--boards", os.path.join(d.getVar("UNPACKDIR"), "dts", "boards.toml"),
           "--board", board, base] + overlays
    human = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if human.returncode not in (0, 1):
        bb.fatal("%s failed (exit %d):\n%s%s" % (" ".join(cmd), human.returncode, human.stdout, human.stderr))
    report = json.loads(subprocess.run(cmd + ["--format", "json"], env=env, capture_output=True, text=True).stdout)

    expected = set()
    for dtso in sorted(glob.glob(os.path.join(d.getVar("DT_FILES_PATH"), "*.dtso"))):
        with open(dtso) as f:
            expected.update(line[len("// expect: "):].strip() for line in f if line.startswith("// expect: "))
    found = {"%s[%s] %s" % (p["severity"], p["class"], p["node"])
             for p in report["problems"] if p["severity"] in ("error", "warning")}
    want_errors = {e for e in expected if e.startswith("error[")}
    errors = {e for e in found if e.startswith("error[")}
    if errors != want_errors:
        bb.fatal("dtregion check of dts/%s: errors %s, the overlays declare %s:\n%s%s"
                 % (board, sorted(errors) or "none", sorted(want_errors) or "none", human.stdout, human.stderr))
    for w in sorted(found - expected):
        bb.warn("dtregion check of dts/%s: %s" % (board, w))
    bb.note("dtregion check of dts/%s: %s (expected: %s)"
            % (board, human.stdout.strip().splitlines()[-1], " ".join(sorted(expected)) or "none"))

    subprocess.run(["fdtoverlay", "-i", base, "-o", os.path.join(d.getVar("B"), d.getVar("COHERENT_HEAP_MERGED_DTB"))]
                   + overlays, env=env, check=True)
}
do_coherent_heap_check[doc] = "Checks the overlays with dtregion against the base tree and merges them into it"

addtask coherent_heap_check after do_compile before do_install
addtask coherent_heap_base after do_prepare_recipe_sysroot before do_coherent_heap_check
do_coherent_heap_check[depends] += "${@'' if 'qemuarm64' in (d.getVar('OVERRIDES') or '').split(':') else 'virtual/kernel:do_deploy'}"

# devicetree.bbclass deploys to devicetree/; wic's bootimg-efi copies a dtb=
# file by its path but names it in grub.cfg by that path too, so the merged
# tree is also deployed at the top of DEPLOY_DIR_IMAGE, where a .wks can name
# it by its file name (dynamic-layers/ti/files/wic/coherent-heap-ti-efi.wks.in).
do_deploy:append() {
    install -m 0644 ${B}/${COHERENT_HEAP_MERGED_DTB} ${DEPLOYDIR}/${COHERENT_HEAP_MERGED_DTB}
}

# nooelint: oelint.task.noanonpython - skipping needs it: a machine without a board has nothing to build
python () {
    if not d.getVar("COHERENT_HEAP_BOARD"):
        raise bb.parse.SkipRecipe("COHERENT_HEAP_BOARD is not set: require conf/machine/include/coherent-heap.inc and set it to a directory of dts/")
    if "qemuarm64" not in d.getVar("OVERRIDES").split(":"):
        bb.build.deltask("do_coherent_heap_base", d)
}
