"""Generate the typed Python code for proto/ into lrs/ (the one command; `--check` fails when stale).

The output sits at the repository root so that ``proto/lrs/v1/x.proto`` becomes the module
``lrs.v1.x_pb2`` and generated imports (``from lrs.v1 import learner_pb2``) work unpatched.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE = Path("lrs") / "v1"


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    bindir = Path(sys.executable).parent
    env = {"PATH": f"{bindir}:{Path('/usr/bin')}:{Path('/bin')}"}
    subprocess.run(cmd, check=True, env=env)
    for package_dir in (out / "lrs", out / PACKAGE):
        (package_dir / "__init__.py").write_text("")
    (out / PACKAGE / "py.typed").write_text("")


def _files(base: Path) -> set[Path]:
    return {
        p.relative_to(base) for p in (base / "lrs").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if args.check:
            stale = sorted(
                str(p)
                for p in _files(fresh) ^ _files(ROOT)
                | {
                    p
                    for p in _files(fresh) & _files(ROOT)
                    if not filecmp.cmp(fresh / p, ROOT / p, shallow=False)
                }
            )
            if stale:
                print("generated code is stale; run: python scripts/generate_protos.py", file=sys.stderr)
                print("\n".join(f"  {p}" for p in stale), file=sys.stderr)
                return 1
            print("generated code is up to date")
            return 0
        shutil.rmtree(ROOT / "lrs", ignore_errors=True)
        shutil.copytree(fresh / "lrs", ROOT / "lrs")
    print(f"generated {ROOT / PACKAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
