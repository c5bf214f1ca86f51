#!/usr/bin/env python3
"""Checks of the Buildroot tree (br2-external/) that need only this repository.

    checks/buildroot.py [--layer DIR]

- layout: external.desc (name COHERENT_HEAP), Config.in, external.mk; every
  package folder has a .mk and a Config.in or Config.in.host that Config.in
  sources; for every board of dts/boards.toml, board/BOARD/post-image.sh (a
  link to board/common/post-image.sh), board/BOARD/genimage.cfg (a link to
  the board's genimage.cfg in recipes-bsp/coherent-heap-boot/files/BOARD/)
  and exactly one defconfig whose overlays board is BOARD and whose
  post-image script is BOARD's;
- Config.in syntax: Config.in and linux/Config.ext.in parsed by kconfiglib;
  every symbol of the tree they or the defconfigs use is defined;
- every file the tree uses exists: each $(BR2_EXTERNAL_COHERENT_HEAP_PATH)/...
  path of the defconfigs, .mk files and Config.in files, each local _SITE;
- the pins are the layer's: the kernel tarball the defconfigs name and
  patches/linux/linux.hash are the first debian-tarball of
  scripts/kernel-sources.txt; the U-Boot tarball, patches/uboot/uboot.hash
  and U-Boot defconfig are scripts/uboot-sources.txt's; the kernel patches
  and fragments come from recipes-kernel/linux/files/;
- nothing is copied: no regular file of the tree has the content of a file
  of the layer outside it, and the tree holds no patch, kernel fragment,
  overlay, Cargo.lock or boot text of its own;
- the licences of the cargo packages (dma-heap, dtregion) name every licence
  of the crates their binary is built from (`cargo metadata` of tools/).

Buildroot itself is not needed (scripts/check-buildroot runs `make
DEFCONFIG` and utils/check-package when BUILDROOT_DIR is set).

Exit status: 0 no problem, 1 problems (one line each on stderr), 2 usage error.
"""

import argparse
import gc
import hashlib
import os
import re
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
NAME = "COHERENT_HEAP"
PATH_VAR = f"$(BR2_EXTERNAL_{NAME}_PATH)"
QEMU_DEFCONFIG = "coherent_heap_qemu_aarch64_virt_defconfig"
# What the layer keeps in one place and the tree must never hold a copy of.
OWN_ONLY = re.compile(r"(\.patch|\.cfg|\.dtso|\.dts|Cargo\.lock|Cargo\.toml|genimage\.cfg|"
                      r"config\.txt|cmdline\.txt|extlinux\.conf|boot\.cmd)$")
SYMBOL = re.compile(r"\bBR2_[A-Z0-9_]+")
ASSIGNMENT = re.compile(r"^(BR2_[A-Z0-9_]+)=(.*)$")


def missing_paths(text: str, tree: Path) -> list[str]:
    """The paths a text names through $(BR2_EXTERNAL_COHERENT_HEAP_PATH) (make)
    or $BR2_EXTERNAL_COHERENT_HEAP_PATH (Kconfig) that do not exist; a glob
    must match something."""
    missing = []
    var = re.escape(PATH_VAR) + "|" + re.escape(PATH_VAR.replace("$(", "$").replace(")", ""))
    for m in re.finditer(rf"(?:{var})(/[^\s\"'),]*)", text):
        rel = m.group(1)
        if "$(" in rel:  # a make variable of its own, e.g. $(COHERENT_HEAP_OVERLAYS_BOARD)
            rel = rel[:rel.index("$(")]
        path = os.path.normpath(str(tree) + rel)
        if "*" in path:
            if not list(Path("/").glob(path.lstrip("/"))):
                missing.append(path)
        elif not os.path.exists(path):
            missing.append(path)
    return missing


def defconfig_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        m = ASSIGNMENT.match(line)
        if m:
            values[m.group(1)] = m.group(2).strip('"')
    return values


def boards(layer: Path) -> list[str]:
    with (layer / "dts" / "boards.toml").open("rb") as f:
        return list(tomllib.load(f).get("board", {}))


def pinned(layer: Path, kind: str) -> list[list[str]]:
    """The lines of scripts/kernel-sources.txt of one kind, split."""
    rows = []
    for line in (layer / "scripts" / "kernel-sources.txt").read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == kind:
            rows.append(fields[1:])
    return rows


def hash_entries(path: Path) -> dict[str, str]:
    """file name -> sha256 of a Buildroot .hash file."""
    entries = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "sha256":
            entries[fields[2]] = fields[1]
    return entries


def layout_problems(layer: Path) -> list[str]:
    tree = layer / "br2-external"
    problems = []
    for name in ("external.desc", "Config.in", "external.mk"):
        if not (tree / name).is_file():
            problems.append(f"{tree}: no {name}")
    if problems:
        return problems
    desc = (tree / "external.desc").read_text()
    if not re.search(rf"^name: {NAME}$", desc, re.M):
        problems.append(f"{tree / 'external.desc'}: the name must be {NAME}")
    config_in = (tree / "Config.in").read_text()
    for pkg in sorted(p for p in (tree / "package").iterdir() if p.is_dir()):
        if not list(pkg.glob("*.mk")):
            problems.append(f"{pkg}: no .mk file")
        kconfigs = [k for k in ("Config.in", "Config.in.host") if (pkg / k).is_file()]
        if not kconfigs:
            problems.append(f"{pkg}: no Config.in or Config.in.host")
        for k in kconfigs:
            if f'"{PATH_VAR.replace("$(", "$").replace(")", "")}/package/{pkg.name}/{k}"' not in config_in:
                problems.append(f"{tree / 'Config.in'}: does not source package/{pkg.name}/{k}")
    configs = sorted((tree / "configs").glob("*_defconfig"))
    if not any(c.name == QEMU_DEFCONFIG for c in configs):
        problems.append(f"{tree / 'configs'}: no {QEMU_DEFCONFIG}")
    by_board: dict[str, list[str]] = {}
    for c in configs:
        board = defconfig_values(c).get("BR2_PACKAGE_COHERENT_HEAP_OVERLAYS_BOARD")
        if board is None:
            problems.append(f"{c}: no BR2_PACKAGE_COHERENT_HEAP_OVERLAYS_BOARD")
            continue
        by_board.setdefault(board, []).append(c.name)
        script = defconfig_values(c).get("BR2_ROOTFS_POST_IMAGE_SCRIPT")
        if script != f"{PATH_VAR}/board/{board}/post-image.sh":
            problems.append(f"{c}: BR2_ROOTFS_POST_IMAGE_SCRIPT is not board/{board}/post-image.sh")
    files = layer / "recipes-bsp" / "coherent-heap-boot" / "files"
    common = (tree / "board" / "common" / "post-image.sh").resolve()
    for board in boards(layer):
        names = by_board.pop(board, [])
        if len(names) != 1:
            problems.append(f"{tree / 'configs'}: board {board} of dts/boards.toml has "
                            f"{len(names)} defconfigs ({' '.join(names) or 'none'}), expected 1")
        d = tree / "board" / board
        cfg, script = d / "genimage.cfg", d / "post-image.sh"
        if not cfg.is_symlink() or cfg.resolve() != (files / board / "genimage.cfg").resolve():
            problems.append(f"{cfg}: must be a link to recipes-bsp/coherent-heap-boot/files/{board}/genimage.cfg")
        elif not cfg.exists():
            problems.append(f"{cfg}: its target does not exist")
        if not script.is_symlink() or script.resolve() != common:
            problems.append(f"{script}: must be a link to ../common/post-image.sh")
    for board, names in sorted(by_board.items()):
        problems.append(f"{' '.join(names)}: board {board} is not a board of dts/boards.toml")
    return problems


def reference_problems(layer: Path) -> list[str]:
    tree = layer / "br2-external"
    problems = []
    texts = sorted(p for p in tree.rglob("*") if p.is_file() and not p.is_symlink()
                   and (p.suffix == ".mk" or p.name.startswith("Config.") or p.name.endswith("_defconfig")))
    for p in texts:
        for path in missing_paths(p.read_text(), tree):
            problems.append(f"{p}: {path} does not exist")
    for c in sorted((tree / "configs").glob("*_defconfig")):
        v = defconfig_values(c)
        patch = v.get("BR2_LINUX_KERNEL_PATCH")
        if patch != f"{PATH_VAR}/../recipes-kernel/linux/files":
            problems.append(f"{c}: BR2_LINUX_KERNEL_PATCH must be the layer's recipes-kernel/linux/files")
        fragments = v.get("BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "").split()
        if f"{PATH_VAR}/../recipes-kernel/linux/files/coherent-heap.cfg" not in fragments:
            problems.append(f"{c}: BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES lacks the layer's coherent-heap.cfg")
        for f in fragments:
            if not f.startswith(f"{PATH_VAR}/../recipes-kernel/linux/files/"):
                problems.append(f"{c}: kernel fragment {f} is not one of recipes-kernel/linux/files/")
        if v.get("BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX") != "y":
            problems.append(f"{c}: BR2_LINUX_KERNEL_EXT_RUST_FOR_LINUX is not set (the heap is a Rust driver)")
    problems += pin_problems(layer)
    return problems


def pin_problems(layer: Path) -> list[str]:
    tree = layer / "br2-external"
    problems = []
    tarballs = pinned(layer, "debian-tarball")
    if not tarballs:
        return [f"{layer / 'scripts' / 'kernel-sources.txt'}: no debian-tarball line"]
    version, sha = tarballs[0]
    name = f"linux-source-7.2_{re.sub(r'[~+:]', '_', version)}.tar.xz"
    linux_hash = tree / "patches" / "linux" / "linux.hash"
    if not linux_hash.is_file():
        problems.append(f"{linux_hash}: missing")
    elif hash_entries(linux_hash) != {name: sha}:
        problems.append(f"{linux_hash}: must hold exactly {name} {sha} (scripts/kernel-sources.txt)")
    uboot_pins = (layer / "scripts" / "uboot-sources.txt").read_text().split("\n")
    source = next((line.split() for line in uboot_pins if line.startswith("source ")), None)
    defconfig = next((line.split()[1] for line in uboot_pins if line.startswith("defconfig ")), None)
    uboot_hash = tree / "patches" / "uboot" / "uboot.hash"
    if source and uboot_hash.is_file() and hash_entries(uboot_hash) != {source[3]: source[4]}:
        problems.append(f"{uboot_hash}: must hold exactly {source[3]} {source[4]} (scripts/uboot-sources.txt)")
    for c in sorted((tree / "configs").glob("*_defconfig")):
        v = defconfig_values(c)
        location = v.get("BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION", "")
        if v.get("BR2_LINUX_KERNEL_CUSTOM_TARBALL") != "y" or location.rsplit("/", 1)[-1] != name:
            problems.append(f"{c}: the kernel must be BR2_LINUX_KERNEL_CUSTOM_TARBALL .../{name}")
        if v.get("BR2_TARGET_UBOOT") == "y" and source:
            if v.get("BR2_TARGET_UBOOT_CUSTOM_TARBALL_LOCATION", "").rsplit("/", 1)[-1] != source[3]:
                problems.append(f"{c}: the U-Boot tarball must be {source[3]} (scripts/uboot-sources.txt)")
            if f"{v.get('BR2_TARGET_UBOOT_BOARD_DEFCONFIG')}_defconfig" != defconfig:
                problems.append(f"{c}: BR2_TARGET_UBOOT_BOARD_DEFCONFIG must be {defconfig} without _defconfig")
            if v.get("BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES") != "$(COHERENT_HEAP_UBOOT_FRAGMENT)":
                problems.append(f"{c}: BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES must be $(COHERENT_HEAP_UBOOT_FRAGMENT)")
    return problems


def copy_problems(layer: Path) -> list[str]:
    tree = layer / "br2-external"
    own: dict[str, Path] = {}
    for root, dirs, names in os.walk(layer):
        root_path = Path(root)
        dirs[:] = [d for d in dirs if d not in (".git", "target") and root_path / d != tree]
        for n in names:
            p = root_path / n
            if p.is_file() and not p.is_symlink() and p.stat().st_size:
                own.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), p)
    problems = []
    for p in sorted(tree.rglob("*")):
        if not p.is_file() or p.is_symlink():
            continue
        if OWN_ONLY.search(p.name):
            problems.append(f"{p}: the layer keeps its {p.name} in one place; reference it, never copy it")
        twin = own.get(hashlib.sha256(p.read_bytes()).hexdigest())
        if twin is not None:
            problems.append(f"{p}: a copy of {twin.relative_to(layer)}")
    return problems


def kconfig_problems(layer: Path) -> list[str]:
    """Config.in and linux/Config.ext.in parsed by kconfiglib: syntax errors,
    and symbols of the tree used (by them or the defconfigs) but not defined."""
    import kconfiglib  # scripts/python-requirements.txt

    tree = layer / "br2-external"
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "Kconfig"
        top.write_text(f'mainmenu "br2-external"\nsource "{tree}/Config.in"\n'
                       f'menu "Linux Kernel Extensions"\nsource "{tree}/linux/Config.ext.in"\nendmenu\n')
        os.environ[f"BR2_EXTERNAL_{NAME}_PATH"] = str(tree)
        with warnings.catch_warnings():
            # kconfiglib leaves the file it failed in open.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                kconf = kconfiglib.Kconfig(str(top), warn=False)
            except kconfiglib.KconfigError as e:
                return [f"Kconfig: {e}"]
            finally:
                gc.collect()
    defined = {name for name, sym in kconf.syms.items() if sym.nodes}
    # The tree's own name spaces: its packages and Linux extensions.
    prefixes = []
    for pkg in (tree / "package").iterdir():
        name = pkg.name.upper().replace("-", "_")
        prefixes += [f"BR2_PACKAGE_{name}", f"BR2_PACKAGE_HOST_{name}"]
    for ext in (tree / "linux").glob("linux-ext-*.mk"):
        prefixes.append("BR2_LINUX_KERNEL_EXT_" + ext.stem[len("linux-ext-"):].upper().replace("-", "_"))
    problems = []
    for p in [tree / "Config.in", tree / "linux" / "Config.ext.in", *tree.glob("package/*/Config.in*"),
              *tree.glob("configs/*_defconfig")]:
        for sym in SYMBOL.findall(p.read_text()):
            if sym not in defined and any(sym == x or sym.startswith(x + "_") for x in prefixes):
                problems.append(f"{p}: {sym} is not defined by the tree's Config.in files")
    return sorted(set(problems))


# The cargo packages of the tree: package folder, crate, licence variable.
CARGO_PACKAGES = (("dma-heap", "dma-heap", "DMA_HEAP_LICENSE"), ("dtregion", "dtregion", "DTREGION_LICENSE"))


def canonical(term: str) -> str:
    """A licence term with its choices sorted: "MIT or Apache-2.0" and
    "Apache-2.0 OR MIT" are the same term."""
    return " or ".join(sorted(c.strip() for c in re.split(r"\s+(?:or|OR)\s+", term.strip().strip("()"))))


def spdx_to_buildroot(expr: str) -> set[str]:
    """The terms of a crate's SPDX licence (those of an AND), canonical."""
    return {canonical(part) for part in re.split(r"\s+AND\s+", expr.strip())}


def crate_licences(metadata: dict, crate: str) -> set[str]:
    """The licences (Buildroot spelling) of a crate and of every crate its
    binary is built from (normal and build dependencies, recursively)."""
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    roots = [p["id"] for p in metadata["packages"] if p["name"] == crate]
    if not roots:
        raise ValueError(f"no crate {crate} in the workspace")
    seen, stack = set(), roots
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k.get("kind") in (None, "build") for k in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    licences = set()
    for pid in seen:
        licences |= spdx_to_buildroot(packages[pid].get("license") or "unknown")
    return licences


def licence_problems(layer: Path, metadata: dict | None = None) -> list[str]:
    tree = layer / "br2-external"
    if metadata is None:
        import json
        import subprocess

        r = subprocess.run(["cargo", "metadata", "--locked", "--offline", "--format-version", "1",
                            "--manifest-path", str(layer / "tools" / "Cargo.toml")], capture_output=True, text=True)
        if r.returncode:
            return [f"cargo metadata of tools/ failed: {r.stderr.strip()}"]
        metadata = json.loads(r.stdout)
    problems = []
    for folder, crate, var in CARGO_PACKAGES:
        mk = tree / "package" / folder / f"{folder}.mk"
        m = re.search(rf"^{var} = (.*)$", mk.read_text(), re.M)
        if not m:
            problems.append(f"{mk}: no {var}")
            continue
        listed = {canonical(t) for t in m.group(1).split(",")}
        missing = crate_licences(metadata, crate) - listed
        if missing:
            problems.append(f"{mk}: {var} lacks {', '.join(sorted(missing))} (crates of {crate} in tools/Cargo.lock)")
    return problems


def all_problems(layer: Path) -> list[str]:
    problems = layout_problems(layer)
    if problems:
        return problems
    return reference_problems(layer) + copy_problems(layer) + kconfig_problems(layer) + licence_problems(layer)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="checks/buildroot.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--layer", type=Path, default=LAYER)
    args = p.parse_args(argv)
    try:
        problems = all_problems(args.layer)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
