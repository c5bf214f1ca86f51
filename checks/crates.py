#!/usr/bin/env python3
"""The crate list of the dma-heap-tools recipe, generated from tools/Cargo.lock.

    checks/crates.py generate [--lock tools/Cargo.lock] [--out INC]
    checks/crates.py check    [--lock tools/Cargo.lock] [--inc INC] [--recipe BB]

`generate` writes recipes-support/dma-heap-tools/dma-heap-tools-crates.inc in
the format of oe-core's cargo-update-recipe-crates class: one
crate://crates.io/NAME/VERSION entry per registry package of the lockfile and
its SRC_URI[NAME-VERSION.sha256sum] (the lockfile's checksum, which is the
sha256 of the .crate file that oe-core's crate fetcher verifies). Workspace
members, path and git dependencies are not crates.io packages and are left out.

`check` fails when the .inc differs from what `generate` would write, and when
the recipe's file:// entries miss a workspace member of tools/Cargo.toml.

Exit status: 0 up to date, 1 stale or invalid input, 2 usage error.
"""

import argparse
import re
import sys
import tomllib
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
LOCK = LAYER / "tools" / "Cargo.lock"
RECIPE_DIR = LAYER / "recipes-support" / "dma-heap-tools"
INC = RECIPE_DIR / "dma-heap-tools-crates.inc"
RECIPE = RECIPE_DIR / "dma-heap-tools_0.1.0.bb"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
# cargo-bitbake 0.3.16 reads lockfile version 3 only.
SUPPORTED_LOCK_VERSIONS = (3,)


class InputError(Exception):
    """A lockfile, manifest or recipe that cannot be used, with the file named."""


def load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML: {e}") from e


def registry_crates(lock: dict, path: Path) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every crates.io package, sorted."""
    version = lock.get("version", 1)
    if version not in SUPPORTED_LOCK_VERSIONS:
        raise InputError(f"{path}: lockfile version {version}, expected one of {SUPPORTED_LOCK_VERSIONS}")
    crates = []
    for pkg in lock.get("package", []):
        source = pkg.get("source")
        if source is None:
            continue  # a workspace member or a path dependency
        if source != CRATES_IO:
            raise InputError(f"{path}: {pkg['name']} {pkg['version']} comes from {source}; only crates.io is supported")
        checksum = pkg.get("checksum")
        if not checksum or not re.fullmatch(r"[0-9a-f]{64}", checksum):
            raise InputError(f"{path}: {pkg['name']} {pkg['version']} has no sha256 checksum")
        crates.append((pkg["name"], pkg["version"], checksum))
    return sorted(crates)


def render(crates: list[tuple[str, str, str]], lock_name: str) -> str:
    lines = [
        "# Generated from tools/Cargo.lock by checks/crates.py generate: do not edit.",
        "# scripts/check-layer fails when this file is stale.",
        "",
        f"# from {lock_name}",
        'SRC_URI += "\\',
    ]
    lines += [f"    crate://crates.io/{name}/{version} \\" for name, version, _ in crates]
    lines.append('"')
    lines.append("")
    lines += [f'SRC_URI[{name}-{version}.sha256sum] = "{sha}"' for name, version, sha in crates]
    return "\n".join(lines) + "\n"


def generate_text(lock_path: Path) -> str:
    return render(registry_crates(load_toml(lock_path), lock_path), lock_path.name)


def workspace_members(manifest: Path) -> list[str]:
    members = load_toml(manifest).get("workspace", {}).get("members", [])
    if not members:
        raise InputError(f"{manifest}: no [workspace] members")
    return members


def missing_members(recipe_text: str, members: list[str]) -> list[str]:
    """Members without a file://tools/MEMBER entry in the recipe."""
    present = set(re.findall(r"file://tools/([A-Za-z0-9_.-]+)", recipe_text))
    return [m for m in members if m not in present]


def check(lock_path: Path, inc: Path, recipe: Path) -> list[str]:
    problems = []
    want = generate_text(lock_path)
    try:
        have = inc.read_text()
    except OSError as e:
        raise InputError(f"{inc}: {e.strerror}") from e
    if have != want:
        problems.append(f"{inc} is stale against {lock_path}: run checks/crates.py generate")
    try:
        recipe_text = recipe.read_text()
    except OSError as e:
        raise InputError(f"{recipe}: {e.strerror}") from e
    for m in missing_members(recipe_text, workspace_members(lock_path.parent / "Cargo.toml")):
        problems.append(f"{recipe}: workspace member {m} has no file://tools/{m} entry in SRC_URI")
    return problems


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="checks/crates.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write the -crates.inc from Cargo.lock")
    g.add_argument("--lock", type=Path, default=LOCK)
    g.add_argument("--out", type=Path, default=INC)
    c = sub.add_parser("check", help="fail if the -crates.inc or the recipe is stale")
    c.add_argument("--lock", type=Path, default=LOCK)
    c.add_argument("--inc", type=Path, default=INC)
    c.add_argument("--recipe", type=Path, default=RECIPE)
    args = p.parse_args(argv)
    try:
        if args.cmd == "generate":
            args.out.write_text(generate_text(args.lock))
            return 0
        problems = check(args.lock, args.inc, args.recipe)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
