"""Batch registration as a school runs it: ``lrs-server serve`` and ``lrs-school register`` processes,
and the checks every finished run must pass (results file, ULNs, database)."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from lrs_server.domain import uln as uln_rules
from lrs_server.storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from lrs_server.storage.engine import make_engine
from school_client.files import open_learner_file
from school_client.files.generate import write_synthetic_lrb
from school_client.files.results import REGISTRATION_COLUMNS
from tests.service.conftest import api  # noqa: F401  (the in-process server fixture)

BIN = Path(sys.executable).parent
SERVER = str(BIN / "lrs-server")
SCHOOL = str(BIN / "lrs-school")
BIG_FILE_ROWS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("LRS_SERVER", "LRS_TOKEN")}


def add_school(db: str, ref: str = "123456") -> str:
    """Migrate ``db``, add a school and return its token (as an administrator would)."""
    migrated = subprocess.run(
        [SERVER, "migrate", "--db", db], capture_output=True, text=True, timeout=60, env=clean_env()
    )
    assert migrated.returncode == 0, migrated.stderr
    added = subprocess.run(
        [SERVER, "org", "add", "--kind", "school", "--ref", ref, "--name", "School", "--json", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert added.returncode == 0, added.stderr
    return str(json.loads(added.stdout)["token"])


@dataclass
class ServerProcess:
    """``lrs-server serve`` on a fixed port; it can be killed and started again on the same port."""

    db: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SERVER, "serve", "--db", self.db, "--listen", self.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert "listening" in line, line
        with grpc.insecure_channel(self.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=15)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class School:
    """The school's side: its token and the ``lrs-school register`` command line."""

    server: ServerProcess
    token: str

    def command(self, source: Path, results: Path, *extra: str) -> list[str]:
        return [
            SCHOOL,
            "register",
            str(source),
            "--out",
            str(results),
            "--json",
            "--server",
            self.server.address,
            "--token",
            self.token,
            *extra,
        ]

    def start_register(self, source: Path, results: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(source, results),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )

    def register(self, source: Path, results: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(source, results, *extra),
            capture_output=True,
            text=True,
            timeout=300,
            env=clean_env(),
        )


@pytest.fixture
def served(db_url: str) -> Iterator[School]:
    """A migrated database (SQLite file, or a PostgreSQL scratch database) with one school, served."""
    token = add_school(db_url)
    server = ServerProcess(db_url)
    server.start()
    try:
        yield School(server, token)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lrb") / "year-groups.csv"
    write_synthetic_lrb(str(path), BIG_FILE_ROWS, seed=7)
    return path


def result_rows(path: Path) -> int:
    """Complete result rows written so far (the header not counted)."""
    try:
        return max(path.read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return 0


def wait_for_rows(path: Path, rows: int, process: subprocess.Popen[str], timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = result_rows(path)
        if done >= rows:
            return done
        if process.poll() is not None:
            raise AssertionError(f"the client ended early ({process.returncode}): {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"only {result_rows(path)} rows were written in {timeout}s")


def input_mis_identifiers(source: Path) -> list[str]:
    return [row.mis_identifier for row in open_learner_file(source).rows]


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames == list(REGISTRATION_COLUMNS)
        return list(reader)


def check_results(source: Path, results: Path) -> list[dict[str, str]]:
    """One result per input row, in input order; one ULN per MIS identifier; every ULN valid."""
    rows = read_results(results)
    assert [row["MISIdentifier"] for row in rows] == input_mis_identifiers(source)
    uln_of: dict[str, str] = {}
    for row in rows:
        if row["Outcome"] in ("NEW", "MATCHED"):
            assert uln_rules.is_valid(row["ULN"]), row
            assert uln_of.setdefault(row["MISIdentifier"], row["ULN"]) == row["ULN"], row
        else:
            assert row["Outcome"] in ("POSSIBLE_MATCH", "REJECTED"), row
            assert row["ULN"] == "", row
    return rows


def learner_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM learner")).scalar_one())


def check_database(db_url: str, results: list[dict[str, str]]) -> None:
    """The learners match the results file, each MIS identifier names one learner, and no row is torn."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as c:
            learners = {uln for (uln,) in c.execute(text("SELECT uln FROM learner"))}
            linked = c.execute(
                text("SELECT m.mis_identifier, l.uln FROM mis_link m JOIN learner l ON l.id = m.learner_id")
            ).all()
            duplicate_links = c.execute(
                text(
                    "SELECT organisation_id, mis_identifier FROM mis_link "
                    "GROUP BY organisation_id, mis_identifier HAVING count(*) > 1"
                )
            ).all()
            assert duplicate_links == []
            _check_foreign_keys(engine)
    finally:
        engine.dispose()
    ulns = {row["ULN"] for row in results if row["Outcome"] in ("NEW", "MATCHED")}
    # A row decided NEW whose answer was lost to the kill reads MATCHED after the resume, so the
    # learners are the distinct ULNs of NEW and MATCHED rows (the database started empty).
    assert learners == ulns
    assert {row["ULN"] for row in results if row["Outcome"] == "NEW"} <= learners
    expected = {row["MISIdentifier"]: row["ULN"] for row in results if row["ULN"]}
    assert dict(linked) == expected
    if make_url(db_url).get_backend_name() == "sqlite":
        database = make_url(db_url).database
        assert database is not None
        with sqlite3.connect(database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


def _check_foreign_keys(engine: Engine) -> None:
    """No row refers to a missing row, for every foreign key the schema declares (both backends)."""
    with engine.connect() as c:
        for table in SQLModel.metadata.sorted_tables:
            for fk in table.foreign_keys:
                child, parent = fk.parent, fk.column
                target = parent.table.alias("target")
                orphans = c.execute(
                    select(func.count())
                    .select_from(table.outerjoin(target, child == target.c[parent.name]))
                    .where(child.is_not(None), target.c[parent.name].is_(None))
                ).scalar_one()
                assert orphans == 0, f"{table.name}.{child.name} -> {parent.table.name}: {orphans} orphans"
