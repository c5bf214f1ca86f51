#!/usr/bin/env python3
"""Validates kas files against kas's own JSON schema (kas.configschema).

    checks/kas_schema.py FILE.yml...

Also checks that every include names a file of this repository that exists.
Needs the kas and PyYAML packages (the venv of scripts/setup-host).
Exit status: 0 all valid, 1 an invalid file (each problem printed), 2 usage.
"""

import sys
from pathlib import Path

import jsonschema
import yaml
from kas.configschema import CONFIGSCHEMA

LAYER = Path(__file__).resolve().parent.parent


def problems(path: Path) -> list[str]:
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        return [f"{path}: {e}"]
    found = [f"{path}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
             for e in jsonschema.Draft7Validator(CONFIGSCHEMA).iter_errors(config)]
    for inc in (config or {}).get("header", {}).get("includes", []):
        if isinstance(inc, str) and not (LAYER / inc).is_file():
            found.append(f"{path}: include {inc} does not exist (paths are relative to the repository root)")
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    found = [line for arg in argv for line in problems(Path(arg))]
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
