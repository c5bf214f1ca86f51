#!/usr/bin/env python3
"""Assembles a board machine's image with wic, as its image recipe does, and
reads it back as the board's boot loader does.

    checks/wic_boot.py --wic WIC --inputs OUT --bootcfg BOOTCFG --work DIR
                       [--image IMAGE] [--rpi-config-src DIR] [--rpi-firmware DIR]
                       [--grub-modules DIR] [--no-negatives]

Run in a bitbake build directory (after oe-init-build-env, or in `kas shell`)
whose MACHINE is one of the layer's board machines, with the layer, its
vendor sub-layer and the vendor's layers in BBLAYERS. No task runs and
nothing is fetched: the check needs no network.

What the image's do_image_wic would find in DEPLOY_DIR_IMAGE and the root
file system is made by the recipes' own functions, run by bitbake
(bb.build.exec_func) on each recipe's parsed datastore with its directories
pointed into --work:

- the Raspberry Pi's config.txt and cmdline.txt: meta-raspberrypi's
  rpi-config do_deploy (on --rpi-config-src, the RPi-config checkout at the
  recipe's SRCREV, with the recipe's patch applied here) and rpi-cmdline
  do_compile + do_deploy; the firmware: rpi-bootfiles do_deploy, on
  --rpi-firmware (Debian's raspi-firmware);
- extlinux.conf: oe-core's uboot-extlinux-config do_create_extlinux_config,
  on the datastore of the machine's virtual/bootloader, then installed and
  deployed under the names u-boot.inc's do_install and do_deploy give it;
- GRUB (AM62x): oe-core's grub-efi do_mkimage + do_deploy, on the arm64-efi
  modules of --grub-modules (Debian's grub-efi-arm64-bin);
- the .wks and the variables wic reads: the image's do_write_wks_template
  and do_rootfs_wicenv.

The kernel image, the board's DTB, the overlays and the merged DTB are the
standalone build's (--inputs, its out/ directory: the same kernel, patches
and dts, checked by dtregion). The boot loader binaries written raw outside
the file systems (imx-boot, idbloader, u-boot.itb, tiboot3.bin, ...) are
built by vendor recipes that need the network: the .wks parts and boot file
entries that name them are left out, and listed.

wic then runs as IMAGE_CMD:wic runs it (`wic create WKS --vars ... -e IMAGE`).
The partition the boot loader reads (the boot partition, or the root file
system for ROCK 5B's /boot/extlinux) is copied out (mtools, debugfs) and read
by `bootcfg plan`: the DTB it boots must be the merged DTB, or for the
Raspberry Pi the board's DTB with the overlays of dts/<board>/, byte for
byte, and a root=PARTUUID= or PARTLABEL= on its command line must name the
image's root file system partition.

Then each negative case of the board is assembled the same way with one of
the layer's hooks undone in the datastore (the config.txt line, the boot
file entry, the extlinux fdt, the .wks dtb=), and must fail.

Exit status: 0 the image boots the regions and every negative failed; 1 it
does not, or a negative passed; 2 usage or a tool failed.
"""

import argparse
import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Each board: (bootcfg --loader, the partition read: "boot" or "root", its
# configuration file on that partition).
BOARDS = {
    "bcm2711-rpi-4-b": ("rpi4", "boot", "config.txt"),
    "bcm2712-rpi-5-b": ("rpi5", "boot", "config.txt"),
    "imx8mp-evk": ("extlinux", "boot", "extlinux/extlinux.conf"),
    "rk3588-rock-5b": ("extlinux", "root", "boot/extlinux/extlinux.conf"),
    "k3-am625-sk": ("grub", "boot", "EFI/BOOT/grub.cfg"),
}


# The host tools wic runs for these .wks files (wic's NATIVE_RECIPES, and
# what its plugins call without naming a recipe).
NATIVE_TOOLS = ("parted", "sfdisk", "mkdosfs", "mkfs.vfat", "mcopy", "mmd", "mdir", "mdel", "mdeltree",
                "mkfs.ext2", "mkfs.ext3", "mkfs.ext4", "debugfs", "dumpe2fs", "e2fsck", "fsck.ext4",
                "tune2fs", "mkswap", "tar", "bmaptool")

SFDISK_WRAPPER = """#!/bin/sh
# Written by checks/wic_boot.py: @HOST@ predates --sector-size.
if [ "$1" = --sector-size ]; then
    [ "$2" = 512 ] || { echo "sfdisk: sector size $2: @HOST@ only does 512" >&2; exit 1; }
    shift 2
fi
exec @HOST@ "$@"
"""


class CheckFailed(Exception):
    """The image does not boot the regions."""


class ToolFailed(Exception):
    """A tool or a recipe function failed: the check could not be made."""


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise ToolFailed("%s failed (exit %d):\n%s%s" % (" ".join(map(str, cmd)), p.returncode, p.stdout, p.stderr))
    return p.stdout


def boot_file_entries(value: str) -> list[tuple[str, str]]:
    """IMAGE_BOOT_FILES as wic's bootimg plugins split it: (source, destination)."""
    entries = []
    for entry in re.findall(r"[\w;\-\.\+/\*]+", value or ""):
        src, _, dst = entry.partition(";")
        entries.append((src, dst or src))
    return entries


def drop_entries(value: str, missing: set[str]) -> str:
    return " ".join(e for e in re.findall(r"[\w;\-\.\+/\*]+", value or "") if e.partition(";")[0] not in missing)


def unresolved(entries, deploy: Path) -> set[str]:
    """The sources of entries that match no file in deploy."""
    return {src for src, _ in entries if not glob.glob(str(deploy / src))}


def drop_raw_parts(wks: str, deploy: Path, expand=lambda s: s) -> tuple[str, list[str]]:
    """The .wks without the rawcopy parts whose file (expanded as wic
    expands ${VAR}) is not in deploy."""
    kept, dropped = [], []
    for line in wks.splitlines():
        m = re.search(r'--source\s+rawcopy\b.*--sourceparams="?[^"]*\bfile=([^,"\s]+)', line)
        if m and not (deploy / expand(m.group(1))).exists():
            dropped.append(expand(m.group(1)))
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", dropped


def plan_problems(plan: dict, part: Path, inputs: Path, board: str, overlays: list[str]) -> list[str]:
    """What is wrong with a boot plan: it must boot the tree dtregion checked."""
    dtb = inputs / "dtb"
    fdt = (part / plan["fdt"]).read_bytes()
    if not overlays or plan["loader"] not in ("rpi4", "rpi5"):
        want = dtb / ("%s-coherent.dtb" % board)
        if fdt != want.read_bytes():
            return ["%s boots %s, which is not the merged DTB %s" % (plan["config"], plan["fdt"], want.name)]
        if plan["overlays"]:
            return ["%s applies overlays %s to the merged DTB" % (plan["config"], " ".join(plan["overlays"]))]
        return []
    problems = []
    if fdt != (dtb / ("%s.dtb" % board)).read_bytes():
        problems.append("%s boots %s, which is not the board's DTB %s.dtb" % (plan["config"], plan["fdt"], board))
    applied = [(part / o).read_bytes() for o in plan["overlays"]]
    for name in overlays:
        if (dtb / ("%s-%s.dtbo" % (board, name))).read_bytes() not in applied:
            problems.append("%s does not apply the overlay %s of dts/%s/ (applies: %s)"
                            % (plan["config"], name, board, " ".join(plan["overlays"]) or "none"))
    return problems


@contextlib.contextmanager
def output_to(log: Path):
    """Sends what a recipe function prints (stdout and stderr) to log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def root_problems(cmdline: str, table: dict) -> tuple[list[str], str]:
    """Whether the command line's root= names the image's root file system
    partition (the last one, as in every board's .wks): (problems, what was
    checked). table is `sfdisk -J`'s partitiontable."""
    roots = [w[len("root="):] for w in cmdline.split() if w.startswith("root=")]
    if not roots:
        return ["the command line has no root="], ""
    root = roots[-1]
    parts = table.get("partitions", [])
    if not parts:
        return ["the image has no partitions"], ""
    if table.get("label") == "dos":
        disk = table.get("id", "").lower().removeprefix("0x")
        uuids = ["%s-%02x" % (disk, i + 1) for i in range(len(parts))]
    else:
        uuids = [p.get("uuid", "").lower() for p in parts]
    names = [p.get("name", "") for p in parts]
    kind, _, value = root.partition("=")
    if kind == "PARTUUID":
        found = uuids.index(value.lower()) if value.lower() in uuids else None
    elif kind == "PARTLABEL":
        found = names.index(value) if value in names else None
    else:
        return [], "root=%s not checked (not a partition's UUID or label)" % root
    if found is None:
        return ["root=%s names no partition of the image (%s)" % (
            root, " ".join(uuids if kind == "PARTUUID" else names))], ""
    if found != len(parts) - 1:
        return ["root=%s is partition %d, not the root file system (%d)" % (root, found + 1, len(parts))], ""
    return [], "root=%s is partition %d" % (root, found + 1)


class Assembly:
    """One wic run of the image, with the recipes' functions run on datastores in work/."""

    def __init__(self, tinfoil, args, work: Path, undo=None):
        self.tinfoil = tinfoil
        self.args = args
        self.work = work
        self.undo = undo or {}
        self.deploy = work / "deploy"
        self.rootfs = work / "rootfs"
        self.left_out = []
        if work.exists():
            shutil.rmtree(work)
        for d in (self.deploy, self.rootfs):
            d.mkdir(parents=True)

    def datastore(self, target: str, key: str):
        d = self.tinfoil.parse_recipe(target)
        for var, value in self.undo.get(key, {}).items():
            d.setVar(var, value(d.getVar(var) or "") if callable(value) else value)
        return d

    def exec_funcs(self, d, name: str, funcs, **dirs):
        import bb.build
        base = self.work / name
        d.setVar("T", str(base / "temp"))
        # Each recipe deploys into its own DEPLOYDIR (deploy.bbclass empties
        # it first), which then goes to DEPLOY_DIR_IMAGE, as sstate does.
        deploydir = base / "deploydir"
        d.setVar("DEPLOYDIR", str(deploydir))
        deploydir.mkdir(parents=True, exist_ok=True)
        for var, path in dirs.items():
            d.setVar(var, str(path))
        for path in [base / "temp"] + [Path(p) for p in dirs.values()]:
            path.mkdir(parents=True, exist_ok=True)
        for func in funcs:
            try:
                with output_to(base / "temp" / ("log.%s" % func)):
                    bb.build.exec_func(func, d)
            except Exception as e:
                raise ToolFailed("%s %s failed: %s (logs in %s)" % (name, func, e, base / "temp")) from e
        if deploydir.is_dir() and name != "image":
            shutil.copytree(deploydir, self.deploy, symlinks=True, dirs_exist_ok=True)

    # What the layer's own recipes deploy and install: the standalone build's files.
    def stage_layer(self, d_img):
        inputs = Path(self.args.inputs)
        board = d_img.getVar("COHERENT_HEAP_BOARD")
        merged = d_img.getVar("COHERENT_HEAP_MERGED_DTB")
        imagetype = d_img.getVar("KERNEL_IMAGETYPE")
        shutil.copy(inputs / "Image", self.deploy / imagetype)
        for dtb in (d_img.getVar("KERNEL_DEVICETREE") or "").split():
            src = inputs / "dtb" / os.path.basename(dtb)
            if not src.exists():
                raise ToolFailed("%s (KERNEL_DEVICETREE) is not in %s" % (src.name, inputs / "dtb"))
            shutil.copy(src, self.deploy / os.path.basename(dtb))
        overlays = self.overlays(board)
        devicetree = self.deploy / "devicetree"
        devicetree.mkdir()
        for name in overlays:
            shutil.copy(inputs / "dtb" / ("%s-%s.dtbo" % (board, name)), devicetree / ("%s.dtbo" % name))
        shutil.copy(inputs / "dtb" / ("%s-coherent.dtb" % board), devicetree / merged)
        shutil.copy(devicetree / merged, self.deploy / merged)
        # kernel-image, kernel-devicetree-like /boot of coherent-heap-overlays.
        boot = self.rootfs / (d_img.getVar("KERNEL_IMAGEDEST") or "boot").strip("/")
        boot.mkdir(parents=True, exist_ok=True)
        shutil.copy(inputs / "Image", boot / imagetype)
        shutil.copytree(devicetree, boot / "devicetree")
        return board, overlays

    def overlays(self, board):
        layer = Path(__file__).resolve().parent.parent
        names = sorted(p.stem for p in (layer / "dts" / board).glob("*.dtso"))
        # The standalone build compiles each dts/<board>/NAME.dtso to <board>-NAME.dtbo;
        # overlays whose `// expect:` lines declare errors are negative fixtures, not deployed.
        return [n for n in names if (Path(self.args.inputs) / "dtb" / ("%s-%s.dtbo" % (board, n))).exists()]

    # What the vendor's recipes deploy and install, by their own functions.
    def stage_vendor(self, d_img):
        overrides = (d_img.getVar("MACHINEOVERRIDES") or "").split(":")
        if "rpi" in overrides:
            self.stage_rpi()
        d_boot = self.datastore("virtual/bootloader", "bootloader")
        if d_boot.getVar("UBOOT_EXTLINUX") == "1":
            self.stage_extlinux(d_boot)
        if d_img.getVar("EFI_PROVIDER") == "grub-efi" and "bootimg-efi" in (d_img.getVar("_WKS_TEMPLATE") or ""):
            self.stage_grub()

    def stage_rpi(self):
        if not (self.args.rpi_config_src and self.args.rpi_firmware):
            raise ToolFailed("a Raspberry Pi machine needs --rpi-config-src and --rpi-firmware")
        d = self.datastore("rpi-config", "rpi-config")
        src = self.work / "rpi-config" / "src"
        shutil.copytree(self.args.rpi_config_src, src, ignore=shutil.ignore_patterns(".git"))
        for url in (d.getVar("SRC_URI") or "").split():
            if url.startswith("file://") and url.endswith(".patch"):
                patch = self.find_file(d, url[len("file://"):])
                run(["patch", "-p1", "-d", str(src), "-i", str(patch)])
        self.exec_funcs(d, "rpi-config", ["do_deploy"], S=src)
        d = self.datastore("rpi-cmdline", "rpi-cmdline")
        self.exec_funcs(d, "rpi-cmdline", ["do_compile", "do_deploy"], WORKDIR=self.work / "rpi-cmdline" / "w")
        d = self.datastore("rpi-bootfiles", "rpi-bootfiles")
        self.exec_funcs(d, "rpi-bootfiles", ["do_deploy"], S=Path(self.args.rpi_firmware))

    def stage_extlinux(self, d):
        b = self.work / "u-boot" / "build"
        self.exec_funcs(d, "u-boot", ["do_create_extlinux_config"], B=b, WORKDIR=self.work / "u-boot")
        conf = Path(d.getVar("UBOOT_EXTLINUX_CONFIG"))
        # u-boot.inc: do_install (the ${PN}-extlinux package) and do_deploy.
        name = d.getVar("UBOOT_EXTLINUX_CONF_NAME")
        installed = self.rootfs / d.getVar("UBOOT_EXTLINUX_INSTALL_DIR").strip("/") / name
        installed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(conf, installed)
        symlink = d.getVar("UBOOT_EXTLINUX_SYMLINK")
        shutil.copy(conf, self.deploy / symlink)
        for link in ("%s-%s" % (name, d.getVar("MACHINE")), name):
            os.symlink(symlink, self.deploy / link)

    def stage_grub(self):
        if not self.args.grub_modules:
            raise ToolFailed("an EFI GRUB machine needs --grub-modules")
        d = self.datastore("grub-efi", "grub-efi")
        b = self.work / "grub-efi" / "build"
        unpack = self.work / "grub-efi" / "unpack"
        b.mkdir(parents=True)
        os.symlink(os.path.abspath(self.args.grub_modules), b / "grub-core")
        unpack.mkdir(parents=True)
        shutil.copy(self.find_file(d, "cfg"), unpack / "cfg")
        # grub-native's grub-mkimage: the host's, of the modules' GRUB version.
        mkimage = shutil.which("grub-mkimage")
        if not mkimage:
            raise ToolFailed("an EFI GRUB machine needs grub-mkimage (Debian's grub-common)")
        d.setVar("PATH", os.path.dirname(mkimage) + ":" + d.getVar("PATH"))
        self.exec_funcs(d, "grub-efi", ["do_mkimage", "do_deploy"], B=b, UNPACKDIR=unpack)

    @staticmethod
    def find_file(d, name):
        for p in (d.getVar("FILESPATH") or "").split(":"):
            if os.path.isfile(os.path.join(p, name)):
                return Path(p) / name
        raise ToolFailed("%s: no %s in FILESPATH" % (d.getVar("PN"), name))

    def native_sysroot(self) -> Path:
        """wic's native sysroot, where it looks for its tools: links to the
        host's (wic-tools builds them in a bitbake build), and an sfdisk
        that takes --sector-size when the host's is older than util-linux
        2.39: wic always passes the sector size; for 512, sfdisk's default,
        the option is dropped, and any other size is refused."""
        native = self.work / "native" / "usr" / "sbin"
        native.mkdir(parents=True, exist_ok=True)
        for tool in NATIVE_TOOLS:
            host = shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin")
            if not host:
                continue
            if tool == "sfdisk" and "--sector-size" not in run([host, "--help"]):
                (native / tool).write_text(SFDISK_WRAPPER.replace("@HOST@", host))
                (native / tool).chmod(0o755)
            else:
                os.symlink(host, native / tool)
        return self.work / "native"

    def build(self):
        """Runs wic; returns (board, the disk image)."""
        d = self.datastore(self.args.image, "image")
        board, overlays = self.stage_layer(d)
        if board not in BOARDS:
            raise ToolFailed("%s: no boot loader known for board %s" % (d.getVar("MACHINE"), board))
        self.stage_vendor(d)
        self.overlay_names = overlays
        self.image_data = d
        # The vendor's boot files that no recipe here can make are left out.
        for var in ("IMAGE_BOOT_FILES", "IMAGE_EFI_BOOT_FILES"):
            missing = unresolved(boot_file_entries(d.getVar(var)), self.deploy)
            if missing:
                self.left_out += ["%s %s" % (var, m) for m in sorted(missing)]
                d.setVar(var, drop_entries(d.getVar(var), missing))
        source_wks = d.getVar("WKS_FULL_PATH")
        if not d.getVar("_WKS_TEMPLATE") and not (source_wks and os.path.isfile(source_wks)):
            raise ToolFailed("%s: no .wks found (WKS_FILES %s)" % (self.args.image, d.getVar("WKS_FILES")))
        imgdir = self.work / "image"
        native = self.native_sysroot()
        for var, path in (("DEPLOY_DIR_IMAGE", self.deploy), ("IMAGE_ROOTFS", self.rootfs),
                          ("STAGING_DIR", imgdir / "staging"), ("IMGDEPLOYDIR", imgdir / "deploy"),
                          ("WKS_FULL_PATH", imgdir / "image.wks"), ("T", imgdir / "temp"),
                          ("RECIPE_SYSROOT_NATIVE", native)):
            d.setVar(var, str(path))
            if var != "WKS_FULL_PATH":
                path.mkdir(parents=True, exist_ok=True)
        if d.getVar("_WKS_TEMPLATE"):
            self.exec_funcs(d, "image", ["do_write_wks_template"])
        else:
            shutil.copy(source_wks, imgdir / "image.wks")
        wks, dropped = drop_raw_parts((imgdir / "image.wks").read_text(), self.deploy, d.expand)
        self.left_out += ["raw part %s" % f for f in dropped]
        (imgdir / "image.wks").write_text(wks)
        self.exec_funcs(d, "image", ["do_rootfs_wicenv"])
        out = imgdir / "out"
        env = dict(os.environ, BUILDDIR=d.getVar("TOPDIR"), PSEUDO_UNLOAD="1",
                   PATH="/usr/sbin:/sbin:" + os.environ.get("PATH", "/usr/bin:/bin"))
        run([self.args.wic, "create", str(imgdir / "image.wks"), "--vars",
             os.path.join(d.getVar("STAGING_DIR"), d.getVar("MACHINE"), "imgdata"),
             "-e", d.getVar("IMAGE_BASENAME"), "-o", str(out), "-w", str(imgdir / "tmp-wic")], env=env)
        images = sorted(out.glob("*.direct"))
        if len(images) != 1:
            raise ToolFailed("wic wrote %s, not one .direct image" % [p.name for p in images])
        return board, images[0]

    def read_back(self, board, image):
        """The boot plan of the partition the boot loader reads, and its files."""
        loader, which, config = BOARDS[board]
        part = self.work / "partition"
        table = json.loads(run(["sfdisk", "-J", str(image)]))["partitiontable"]
        if which == "boot":
            offset, _ = run([self.args.bootcfg, "boot-partition", str(image)]).split()
            part.mkdir()
            run(["mcopy", "-s", "-n", "-m", "-i", "%s@@%s" % (image, offset), "::*", str(part)])
        else:
            last = table["partitions"][-1]
            fs = self.work / "rootfs.ext4"
            run(["dd", "if=%s" % image, "of=%s" % fs, "bs=%d" % table.get("sectorsize", 512),
                 "skip=%d" % last["start"], "count=%d" % last["size"], "status=none"])
            part.mkdir()
            out = subprocess.run(["debugfs", "-R", "rdump /boot %s" % part, str(fs)],
                                 capture_output=True, text=True)
            if out.returncode != 0 or not (part / "boot").is_dir():
                raise CheckFailed("the root file system has no /boot: %s" % out.stderr.strip())
        p = subprocess.run([self.args.bootcfg, "plan", "--loader", loader, "--config", config,
                            "--format", "json", str(part)], capture_output=True, text=True)
        if p.returncode == 1:
            raise CheckFailed(p.stderr.strip())
        if p.returncode != 0:
            raise ToolFailed("bootcfg plan failed: %s" % p.stderr.strip())
        plan = json.loads(p.stdout)
        problems = plan_problems(plan, part, Path(self.args.inputs), board, self.overlay_names)
        root, plan["root"] = root_problems(plan["cmdline"], table)
        problems += root
        if problems:
            raise CheckFailed("; ".join(problems))
        return plan


def negatives(board: str, d_img) -> list[tuple[str, dict]]:
    """The board's hooks, each undone: (what, {datastore key: {VAR: value or function}})."""
    merged = d_img.getVar("COHERENT_HEAP_MERGED_DTB")

    def without(entry):
        return lambda v: " ".join(e for e in v.split() if e != entry)
    loader = BOARDS[board][0]
    if loader in ("rpi4", "rpi5"):
        return [
            ("config.txt without dtoverlay=coherent-heap",
             {"rpi-config": {"RPI_EXTRA_CONFIG": lambda v: v.replace("dtoverlay=coherent-heap", "")}}),
            ("the overlay not in IMAGE_BOOT_FILES",
             {"image": {"IMAGE_BOOT_FILES": without("devicetree/coherent-heap.dtbo;overlays/coherent-heap.dtbo")}}),
            ("the .wks with another disk id than cmdline.txt's root=PARTUUID",
             {"image": {"COHERENT_HEAP_DISK_ID": "0x0badd15c"}}),
        ]
    if loader == "extlinux":
        cases = [("extlinux.conf without the merged DTB (UBOOT_EXTLINUX_FDT unset)",
                  {"bootloader": {"UBOOT_EXTLINUX_FDT": "", "UBOOT_EXTLINUX_FDT:default:use-mainline-bsp": ""}})]
        if BOARDS[board][1] == "boot":
            cases.append(("the merged DTB not in IMAGE_BOOT_FILES",
                          {"image": {"IMAGE_BOOT_FILES": without("devicetree/%s;%s" % (merged, merged))}}))
        return cases
    return [("the .wks without dtb=%s" % merged,
             {"image": {"_WKS_TEMPLATE": lambda v: v.replace(",dtb=%s" % merged, "")}})]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wic", required=True, help="the wic script (wic's repository, or oe-core's scripts/wic)")
    ap.add_argument("--inputs", required=True, help="the standalone build's out/ (Image, dtb/)")
    ap.add_argument("--bootcfg", required=True, help="the bootcfg binary of tools/")
    ap.add_argument("--work", required=True, help="a scratch directory (emptied)")
    ap.add_argument("--image", default="coherent-heap-test-image")
    ap.add_argument("--rpi-config-src", help="RPi-config checkout at rpi-config's SRCREV")
    ap.add_argument("--rpi-firmware", help="the Raspberry Pi firmware's boot files")
    ap.add_argument("--grub-modules", help="GRUB's arm64-efi module directory")
    ap.add_argument("--no-negatives", action="store_true")
    args = ap.parse_args(argv)
    try:
        import bb.tinfoil
    except ImportError:
        print("wic_boot: run in a bitbake build environment (oe-init-build-env, or kas shell)", file=sys.stderr)
        return 2
    work = Path(args.work).resolve()
    status = 0
    with bb.tinfoil.Tinfoil() as tinfoil:
        tinfoil.prepare(config_only=False, quiet=2)
        machine = tinfoil.config_data.getVar("MACHINE")
        try:
            a = Assembly(tinfoil, args, work / "image")
            board, image = a.build()
            plan = a.read_back(board, image)
            print("ok - %s: wic image %s boots %s%s via %s; %s" % (
                machine, image.name, plan["fdt"],
                "".join(" + " + o for o in plan["overlays"]), plan["config"], plan["root"]))
            for item in a.left_out:
                print("# left out (a vendor binary not built here): %s" % item)
        except CheckFailed as e:
            print("not ok - %s: %s" % (machine, e))
            return 1
        except ToolFailed as e:
            print("wic_boot: %s" % e, file=sys.stderr)
            return 2
        if args.no_negatives:
            return 0
        for i, (what, undo) in enumerate(negatives(board, a.image_data)):
            try:
                n = Assembly(tinfoil, args, work / ("negative-%d" % i), undo)
                n.read_back(*n.build())
                print("not ok - %s negative: %s: still boots the regions" % (machine, what))
                status = 1
            except CheckFailed as e:
                print("ok - %s negative: %s: fails: %s" % (machine, what, e))
            except ToolFailed as e:
                print("wic_boot: negative %s: %s" % (what, e), file=sys.stderr)
                return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
