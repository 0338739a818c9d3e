"""lrs-web is a gRPC client of lrs-server: no module of it may import the server, its storage or a
database library (every learner datum must leave through the server's one exit)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lrs_web"
FORBIDDEN = ("lrs_server", "sqlalchemy", "sqlmodel", "psycopg", "sqlite3", "alembic")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_lrs_web_imports_no_server_or_database_code() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    bad = {
        f"{path.name}: {name}"
        for path in modules
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert not bad, bad
