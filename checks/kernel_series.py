#!/usr/bin/env python3
"""Checks the kernel patch series and the kernel recipe against each other.

    checks/kernel_series.py [--files DIR] [--recipe BB]

- every recipes-kernel/linux/files/*.patch has an `Upstream-Status:` line of a
  form oe-core's patch QA accepts and a `Signed-off-by:` line;
- the recipe's SRC_URI lists exactly files/*.patch, in the order the
  standalone build applies them (sorted by name);
- the recipe's SRC_URI names every files/*.cfg (variants/ excepted: those are
  standalone-build variants).

Exit status: 0 all good, 1 a problem (each printed with its file), 2 usage.
"""

import argparse
import re
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
FILES = LAYER / "recipes-kernel" / "linux" / "files"
RECIPE = LAYER / "recipes-kernel" / "linux" / "linux-coherent-heap_7.2.13+debian1.bb"

# oe-core meta/lib/oe/qa.py / insane.bbclass patch-status: the accepted values.
UPSTREAM_STATUS = re.compile(
    r"^Upstream-Status: (Pending|Submitted|Accepted|Backport|Denied|Inactive-Upstream|Inappropriate)"
    r"( \[.+\])?\s*$",
    re.MULTILINE,
)
NEEDS_REASON = ("Submitted", "Backport", "Denied", "Inactive-Upstream", "Inappropriate")
SIGNED_OFF = re.compile(r"^Signed-off-by: .+ <[^>]+>\s*$", re.MULTILINE)


def patch_problems(path: Path) -> list[str]:
    text = path.read_text(errors="replace")
    problems = []
    m = UPSTREAM_STATUS.search(text)
    if not m:
        if re.search(r"^Upstream-Status:", text, re.MULTILINE):
            problems.append(f"{path}: malformed Upstream-Status: line")
        else:
            problems.append(f"{path}: no Upstream-Status: line")
    elif m.group(1) in NEEDS_REASON and not m.group(2):
        problems.append(f"{path}: Upstream-Status: {m.group(1)} needs a [reason or reference]")
    if not SIGNED_OFF.search(text):
        problems.append(f"{path}: no Signed-off-by: line")
    return problems


def recipe_files(recipe_text: str, suffix: str) -> list[str]:
    """file:// entries of the recipe ending in suffix, in order."""
    return re.findall(r"file://([^\s;\\'\"]+" + re.escape(suffix) + r")\b", recipe_text)


def series_problems(files: Path, recipe: Path) -> list[str]:
    text = recipe.read_text()
    problems = []
    want = sorted(p.name for p in files.glob("*.patch"))
    have = recipe_files(text, ".patch")
    if have != want:
        extra = [p for p in have if p not in want]
        missing = [p for p in want if p not in have]
        detail = []
        if missing:
            detail.append("missing " + " ".join(missing))
        if extra:
            detail.append("not in files/: " + " ".join(extra))
        if not detail:
            detail.append("order differs from files/ (sorted by name)")
        problems.append(f"{recipe}: SRC_URI patch list is stale: {'; '.join(detail)}")
    cfgs = set(recipe_files(text, ".cfg"))
    for cfg in sorted(p.name for p in files.glob("*.cfg")):
        if cfg not in cfgs:
            problems.append(f"{recipe}: SRC_URI does not name files/{cfg}")
    return problems


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="checks/kernel_series.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=Path, default=FILES)
    p.add_argument("--recipe", type=Path, default=RECIPE)
    args = p.parse_args(argv)
    patches = sorted(args.files.glob("*.patch"))
    if not patches:
        print(f"error: {args.files}: no *.patch", file=sys.stderr)
        return 1
    problems = [line for path in patches for line in patch_problems(path)]
    problems += series_problems(args.files, args.recipe)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
