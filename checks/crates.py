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

`check` fails when the .inc differs from what `generate` would write, when
the recipe's file:// entries miss a workspace member of tools/Cargo.toml, and
when the recipe's licences are not what cargo computes: LICENSE, the licences
of every package of tools/Cargo.lock (`cargo metadata`: the source the recipe
fetches), and LICENSE:${PN}, the licences of exactly the crates the target
dma-heap binary links (`cargo tree -e normal,no-proc-macro --target
aarch64-unknown-linux-musl -p dma-heap`: normal dependencies, no build-time
proc-macro crate or what only they pull in). Both are written in both
spellings of the recipe's operator switch (SPDX operators from blacksail on,
& and | for wrynose). cargo runs --offline: the crates must be fetched
(`cargo fetch --locked` in tools/, as any cargo build does).

Exit status: 0 up to date, 1 stale or invalid input, 2 usage error.
"""

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
LOCK = LAYER / "tools" / "Cargo.lock"
RECIPE_DIR = LAYER / "recipes-support" / "dma-heap-tools"
INC = RECIPE_DIR / "dma-heap-tools-crates.inc"
RECIPE = RECIPE_DIR / "dma-heap-tools_0.1.0.bb"
TOOLS = LAYER / "tools"
COPYING = LAYER / "COPYING.MIT"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
# The target binary of the recipe and the triple the image's binary is built for.
TARGET_PACKAGE = "dma-heap"
TARGET_TRIPLE = "aarch64-unknown-linux-musl"
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


def spdx_terms(expr: str, what: str) -> frozenset[frozenset[str]]:
    """The AND-terms of an SPDX expression (or of a recipe's LICENSE, with & and |),
    each the set of its OR-alternatives: "(MIT OR Apache-2.0) AND Unicode-3.0" is
    {{Apache-2.0, MIT}, {Unicode-3.0}}. Cargo's old "MIT/Apache-2.0" is an OR. An
    expression that is not an AND of ORs ("(A AND B) OR C") is refused."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expr.replace("/", " OR "))
    tokens = [{"&": "AND", "|": "OR"}.get(t, t) for t in tokens]
    pos = 0

    def fail(why):
        raise InputError(f"{what}: {why} in license {expr!r}")

    def alternatives(depth):
        # ALT (OR ALT)*, where ALT is an identifier or a parenthesised OR-list.
        nonlocal pos
        found, saw_or = set(), False
        while True:
            if pos >= len(tokens):
                fail("an expression ends early")
            t = tokens[pos]
            pos += 1
            if t == "(":
                found |= alternatives(depth + 1)
                if pos >= len(tokens) or tokens[pos] != ")":
                    fail("no closing parenthesis")
                pos += 1
            elif t in ("AND", "OR", ")") or not re.fullmatch(r"[A-Za-z0-9.+-]+", t):
                fail(f"unexpected {t!r}")
            else:
                found.add(t)
            if pos < len(tokens) and tokens[pos] == "OR":
                saw_or = True
                pos += 1
                continue
            if pos < len(tokens) and tokens[pos] == "AND" and (depth or saw_or):
                fail("AND and OR mixed without parentheses, or AND inside OR")
            return found

    terms = set()
    while True:
        terms.add(frozenset(alternatives(0)))
        if pos == len(tokens):
            return frozenset(terms)
        if tokens[pos] != "AND":
            fail(f"unexpected {tokens[pos]!r}")
        pos += 1


def union_terms(licenses: dict[str, str]) -> frozenset[frozenset[str]]:
    """The AND of the licences of {package: SPDX expression}."""
    terms = set()
    for package, expr in sorted(licenses.items()):
        if not expr:
            raise InputError(f"{package} declares no license")
        terms |= spdx_terms(expr, package)
    return frozenset(terms)


def render_license(terms: frozenset[frozenset[str]], operators: tuple[str, str]) -> str:
    """terms as a LICENSE value, single licences first, each group sorted:
    operators ("AND", "OR") for SPDX, ("&", "|") for bitbake before blacksail."""
    and_, or_ = operators
    ordered = sorted((sorted(t) for t in terms), key=lambda alts: (len(alts) > 1, alts))
    return f" {and_} ".join(alts[0] if len(alts) == 1 else "(" + f" {or_} ".join(alts) + ")"
                            for alts in ordered)


SPDX_OPERATORS = ("AND", "OR")
BITBAKE_OPERATORS = ("&", "|")


def switched_license(terms: frozenset[frozenset[str]]) -> str:
    """The recipe's value: SPDX operators from blacksail on, & and | for wrynose."""
    return ("${@'%s' if 'blacksail' in d.getVar('LAYERSERIES_CORENAMES').split() else '%s'}"
            % (render_license(terms, SPDX_OPERATORS), render_license(terms, BITBAKE_OPERATORS)))


def recipe_value(recipe_text: str, var: str) -> str | None:
    """The quoted value of `VAR = "..."` in the recipe (the last assignment)."""
    found = re.findall(rf'^{re.escape(var)} = "(.*)"$', recipe_text, re.M)
    return found[-1] if found else None


def cargo(tools: Path, *args: str) -> str:
    try:
        done = subprocess.run(["cargo", *args, "--locked", "--offline",
                               "--manifest-path", str(tools / "Cargo.toml")],
                              capture_output=True, text=True, check=False)
    except OSError as e:
        raise InputError(f"cargo: {e.strerror}: run scripts/setup-host") from e
    if done.returncode != 0:
        raise InputError(f"cargo {args[0]} in {tools} failed (are the crates fetched? "
                         f"cargo fetch --locked):\n{done.stderr.strip()}")
    return done.stdout


def parse_tree(text: str) -> dict[str, str]:
    """{"name version": license} of `cargo tree --prefix none -f '{p}|{l}'` output."""
    licenses = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        package, sep, license = line.partition("|")
        if not sep:
            raise InputError(f"cargo tree: not a 'package|license' line: {line!r}")
        if "(proc-macro)" in package:
            raise InputError(f"cargo tree: {package.strip()} is a proc-macro, not linked")
        # "dma-heap v0.1.0 (/path)": the name and version.
        licenses[" ".join(package.split()[:2])] = license.strip()
    return licenses


def linked_licenses(tools: Path) -> dict[str, str]:
    """The licences of the crates the target binary links: normal dependencies
    for the target triple, without proc-macro crates and what only they use."""
    return parse_tree(cargo(tools, "tree", "-e", "normal,no-proc-macro", "--target", TARGET_TRIPLE,
                            "-p", TARGET_PACKAGE, "--prefix", "none", "--no-dedupe", "-f", "{p}|{l}"))


def source_licenses(tools: Path) -> dict[str, str]:
    """The licences of every package of the lockfile (the source the recipe fetches)."""
    metadata = json.loads(cargo(tools, "metadata", "--format-version", "1"))
    return {f"{p['name']} v{p['version']}": p.get("license") or "" for p in metadata["packages"]}


def license_problems(recipe: Path, recipe_text: str, source: dict[str, str],
                     linked: dict[str, str], copying: Path) -> list[str]:
    """The recipe's LICENSE against the source's licences, LICENSE:${PN} against the
    linked crates', and its LIC_FILES_CHKSUM against the layer's COPYING.MIT."""
    problems = []
    for var, licenses, whose in [
        ("LICENSE", source, "every crate of tools/Cargo.lock"),
        ("LICENSE:${PN}", linked, f"the crates the {TARGET_TRIPLE} {TARGET_PACKAGE} binary links"),
    ]:
        want = switched_license(union_terms(licenses))
        have = recipe_value(recipe_text, var)
        if have != want:
            problems.append(f"{recipe}: {var} is {have!r}; the licences of {whose} are:\n"
                            f'{var} = "{want}"')
    try:
        md5 = hashlib.md5(copying.read_bytes()).hexdigest()
    except OSError as e:
        raise InputError(f"{copying}: {e.strerror}") from e
    want = f"file://{copying.name};md5={md5}"
    if recipe_value(recipe_text, "LIC_FILES_CHKSUM") != want:
        problems.append(f'{recipe}: LIC_FILES_CHKSUM is not "{want}"')
    if f"file://{copying.name};subdir=tools" not in recipe_text:
        problems.append(f"{recipe}: SRC_URI has no file://{copying.name};subdir=tools")
    return problems


def check(lock_path: Path, inc: Path, recipe: Path, licenses=None) -> list[str]:
    """licenses: (source, linked) of license_problems, or None to ask cargo."""
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
    if licenses is None:
        tools = lock_path.parent
        licenses = source_licenses(tools), linked_licenses(tools)
    problems += license_problems(recipe, recipe_text, *licenses, lock_path.parent.parent / COPYING.name)
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
