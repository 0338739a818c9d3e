"""A PostgreSQL cluster of one's own: ``initdb`` in a temporary folder, a free loopback port, trust
authentication. Benchmarks and tests that stop and restart PostgreSQL use it, so the shared
instance is never touched. Run as the ``postgres`` OS user when we are root (CI)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.batch_throughput import free_port


class NoPostgresBinaries(RuntimeError):
    """No PostgreSQL server binaries (``initdb``, ``pg_ctl``) under /usr/lib/postgresql."""


def server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class ScratchCluster:
    """initdb'd on construction; ``start``, ``stop``, ``restart`` (fast shutdown) and ``remove``.

    ``settings`` are extra ``-c name=value`` server settings (tests pass ``fsync=off``; a benchmark
    keeps PostgreSQL's durable defaults).
    """

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise NoPostgresBinaries("no PostgreSQL server binaries under /usr/lib/postgresql")
        self._bin = binaries
        self.settings = dict(settings or {})
        self.folder = Path(tempfile.mkdtemp(prefix="lrs-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self._bin / tool), *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart -m MODE``: ``fast`` cuts sessions and rolls back what is in flight;
        ``immediate`` is a crash (recovery from the WAL on start). Returns when the server accepts
        connections again (same port and settings)."""
        log = str(self.folder / "log")
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-l", log, "-w", "restart")

    def remove(self) -> None:
        subprocess.run(
            [*self._as, str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)
