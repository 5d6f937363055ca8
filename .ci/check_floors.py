"""Fail unless every runtime dependency installed in this environment is exactly its declared floor.

Reads ``[project] dependencies`` from pyproject.toml and compares each ``name>=floor`` with the installed version,
so a resolver that silently upgraded a pin (or a floor edited in one file only) is caught.
"""

import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.version import Version

root = Path(__file__).resolve().parents[1]
deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
pins = dict(re.match(r"^\s*([\w.-]+)==([\w.]+)", line).groups()
            for line in (root / ".ci" / "constraints-floor.txt").read_text().splitlines()
            if re.match(r"^\s*[\w.-]+==", line))
bad = []
for dep in deps:
    name, floor = re.match(r"^\s*([\w.-]+)\s*>=\s*([\w.]+)", dep).groups()
    if name not in pins or Version(pins[name]) != Version(floor):
        bad.append(f"{name}: pyproject floor {floor}, constraints file {pins.get(name)}")
    elif Version(version(name)) != Version(floor):
        bad.append(f"{name}: floor {floor}, installed {version(name)}")
if bad:
    sys.exit("dependency floors are not what is installed:\n  " + "\n  ".join(bad))
print(f"all {len(deps)} runtime dependencies at their declared floors")
