#!/usr/bin/env python3
"""Holds each board's Yocto machine to the boot mechanism of its standalone image.

    checks/boot_files.py [--layer DIR]

The standalone image of a board boots the regions one way, written in
recipes-bsp/coherent-heap-boot/files/<board>/; the board's Yocto machine sets
the same mechanism through its vendor layer's hooks. For every board of
dts/boards.toml:

- exactly one machine of the layer (conf/machine/ or dynamic-layers/*/conf/
  machine/) sets COHERENT_HEAP_BOARD to it and requires
  conf/machine/include/coherent-heap.inc (itself or through an include);
- config.txt (Raspberry Pi firmware): its `dtoverlay=` names are the
  overlays of dts/<board>/, and the machine's include puts the same names in
  RPI_EXTRA_CONFIG and IMAGE_BOOT_FILES (COHERENT_HEAP_OVERLAYS); the console
  of cmdline.txt is the machine's COHERENT_HEAP_CONSOLE;
- extlinux.conf (a merged DTB): its `fdt` is /<board>-coherent.dtb, the
  name scripts/build writes and COHERENT_HEAP_MERGED_DTB defaults to, and the
  machine hands that DTB to its boot loader: UBOOT_EXTLINUX_FDT, QB_DTB or the
  dtb= of its .wks names ${COHERENT_HEAP_MERGED_DTB}.

Exit status: 0 all good, 1 a problem (each printed), 2 usage.
"""

import argparse
import re
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
INCLUDE = "conf/machine/include/coherent-heap.inc"
MERGED = "${COHERENT_HEAP_MERGED_DTB}"
# Where a machine hands the merged DTB to its boot loader.
MERGED_HOOKS = ("UBOOT_EXTLINUX_FDT", "QB_DTB")


def boards(layer: Path) -> list[str]:
    text = (layer / "dts" / "boards.toml").read_text()
    return re.findall(r"^\[board\.([A-Za-z0-9_.-]+)\]\s*$", text, re.MULTILINE)


def assignments(text: str) -> dict[str, str]:
    """The plain `VAR = "value"` / `?=` / `??=` assignments of a conf file (overrides kept in the name)."""
    values = {}
    for m in re.finditer(r'^([A-Za-z0-9_:${}.-]+)\s*\??\??=\s*"([^"]*)"\s*$', text, re.MULTILINE):
        values.setdefault(m.group(1), m.group(2))
    return values


def requires(text: str) -> list[str]:
    return re.findall(r"^(?:require|include)\s+(\S+)\s*$", text, re.MULTILINE)


class Machine:
    """A machine file with the layer's includes it requires, read as one text."""

    def __init__(self, layer: Path, path: Path):
        self.path = path
        self.name = path.stem
        self.dir = path.parent.parent.parent  # the layer holding conf/machine/
        parts = [path.read_text()]
        for req in requires(parts[0]):
            for base in (self.dir, layer):
                f = base / req
                if f.is_file():
                    parts.append(f.read_text())
                    break
        self.text = "\n".join(parts)
        self.vars = assignments(self.text)

    def value(self, prefix: str) -> list[str]:
        """Every value assigned to a variable named prefix, with or without overrides."""
        return [v for k, v in self.vars.items() if k == prefix or k.startswith(prefix + ":")]

    def wks_files(self) -> list[Path]:
        return [f for name in self.value("WKS_FILE") for f in [self.dir / "files" / "wic" / name] if f.is_file()]


def machines(layer: Path) -> list[Machine]:
    paths = sorted(layer.glob("conf/machine/*.conf")) + sorted(layer.glob("dynamic-layers/*/conf/machine/*.conf"))
    return [Machine(layer, p) for p in paths]


def overlays(layer: Path, board: str) -> list[str]:
    return sorted(p.stem for p in (layer / "dts" / board).glob("*.dtso"))


def rpi_problems(layer: Path, board: str, m: Machine, files: Path) -> list[str]:
    problems = []
    config = (files / "config.txt").read_text()
    named = sorted(re.findall(r"^dtoverlay=([^,\s]+)", config, re.MULTILINE))
    if named != overlays(layer, board):
        problems.append(f"{files}/config.txt: dtoverlay= names {named}, dts/{board}/ has {overlays(layer, board)}")
    yocto = sorted(" ".join(m.value("COHERENT_HEAP_OVERLAYS")).split())
    if yocto != named:
        problems.append(f"{m.path}: COHERENT_HEAP_OVERLAYS is {yocto}, config.txt loads {named}")
    for var in ("RPI_EXTRA_CONFIG", "IMAGE_BOOT_FILES"):
        if not any("COHERENT_HEAP_OVERLAYS" in v for v in m.value(var)):
            problems.append(f"{m.path}: {var} does not take the overlays from COHERENT_HEAP_OVERLAYS")
    console = re.search(r"(?:^|\s)console=([^,\s]+)", (files / "cmdline.txt").read_text())
    want = console.group(1) if console else None
    if m.value("COHERENT_HEAP_CONSOLE") != [want]:
        problems.append(f"{m.path}: COHERENT_HEAP_CONSOLE is {m.value('COHERENT_HEAP_CONSOLE')}, cmdline.txt has {want}")
    return problems


def merged_problems(board: str, m: Machine, files: Path) -> list[str]:
    problems = []
    fdt = re.search(r"^\s*fdt\s+(\S+)\s*$", (files / "extlinux.conf").read_text(), re.MULTILINE)
    if not fdt or fdt.group(1) != f"/{board}-coherent.dtb":
        problems.append(f"{files}/extlinux.conf: fdt is {fdt and fdt.group(1)}, not /{board}-coherent.dtb")
    hooks = [v for var in MERGED_HOOKS for v in m.value(var)]
    dtbs = re.findall(r"dtb=([^,\"\s]+)", "\n".join(f.read_text() for f in m.wks_files()))
    # wic's bootimg-efi copies a dtb= file by its path under DEPLOY_DIR_IMAGE
    # into the partition's top directory but writes the path into grub.cfg.
    problems += [f"{m.path}: its .wks dtb={d} has a directory, which GRUB would not find" for d in dtbs if "/" in d]
    hooks += dtbs
    if not any(MERGED in h for h in hooks):
        problems.append(
            f"{m.path}: nothing hands {MERGED} to the boot loader ({', '.join(MERGED_HOOKS)} or a .wks dtb=)"
        )
    return problems


def problems(layer: Path) -> list[str]:
    found = []
    include = (layer / INCLUDE).read_text()
    if f'COHERENT_HEAP_MERGED_DTB ??= "${{COHERENT_HEAP_BOARD}}-coherent.dtb"' not in include:
        found.append(f"{INCLUDE}: COHERENT_HEAP_MERGED_DTB is not <board>-coherent.dtb")
    if '"$d/$board-coherent.dtb"' not in (layer / "scripts" / "build").read_text():
        found.append("scripts/build: does not write <board>-coherent.dtb")
    all_machines = machines(layer)
    for board in boards(layer):
        ms = [m for m in all_machines if m.vars.get("COHERENT_HEAP_BOARD") == board]
        if len(ms) != 1:
            found.append(f"dts/{board}: {len(ms)} machines set COHERENT_HEAP_BOARD to it, not 1")
            continue
        m = ms[0]
        if INCLUDE not in requires(m.text):
            found.append(f"{m.path}: does not require {INCLUDE}")
        files = layer / "recipes-bsp" / "coherent-heap-boot" / "files" / board
        if (files / "config.txt").is_file():
            found += rpi_problems(layer, board, m, files)
        elif (files / "extlinux.conf").is_file():
            found += merged_problems(board, m, files)
        else:
            found.append(f"{files}: no config.txt or extlinux.conf")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, default=LAYER)
    args = parser.parse_args()
    found = problems(args.layer)
    for p in found:
        print(f"boot_files: {p}", file=sys.stderr)
    if not found:
        print(f"boot_files: {len(boards(args.layer))} boards boot the regions as their standalone images do")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
