#!/usr/bin/env python3
"""Copies GOV.UK Frontend's built CSS, JavaScript, fonts and images from node_modules (npm ci) into
lrs_web/static/vendor/, which lrs-web serves itself: no page loads anything from another host.

    python scripts/vendor_govuk.py           # runs `npm ci` first when node_modules lacks the package
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
TARGET = ROOT / "lrs_web" / "static" / "vendor"
FILES = ("govuk-frontend.min.css", "govuk-frontend.min.js")


def main() -> int:
    if not DIST.is_dir():
        if shutil.which("npm") is None:
            print("npm is needed to fetch govuk-frontend (see package.json)", file=sys.stderr)
            return 1
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    version = json.loads((DIST.parent.parent / "package.json").read_text())["version"]
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(DIST / name, TARGET / name)
    shutil.copytree(DIST / "assets", TARGET / "assets")
    (TARGET / "VERSION").write_text(f"govuk-frontend {version}\n")
    print(f"vendored govuk-frontend {version} into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
