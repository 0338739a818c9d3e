"""Helpers for the operability tests: `lrs-server serve` as a real process on a free port, metrics
scraped over HTTP, and a scratch PostgreSQL cluster of the test's own (never the shared one)."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.scratch_postgres import NoPostgresBinaries, ScratchCluster

LRS_SERVER = str(Path(sys.executable).parent / "lrs-server")
REDIS_URL = os.environ.get("LRS_TEST_REDIS_URL", "")
START_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    stderr: Path
    stdout: str = ""  # what it printed after it was stopped

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def channel(self) -> grpc.Channel:
        """A channel with a connection of its own (not shared with other channels to the target)."""
        return grpc.insecure_channel(self.target, options=[("grpc.use_local_subchannel_pool", 1)])

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return {
            int(pid)
            for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()  # not the resource tracker
        }

    def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.stdout += out or ""
        return int(self.process.returncode)


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            return process.stdout.readline()
        if process.poll() is not None:
            return ""
    return ""


@contextmanager
def serving(db_url: str, folder: Path, *options: str) -> Iterator[Served]:
    """``lrs-server serve`` on a free loopback port until the block ends (then SIGTERM)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    stderr = folder / f"serve-{port}.err"
    command = [LRS_SERVER, "serve", "--db", db_url, "--listen", f"127.0.0.1:{port}", *options]
    with stderr.open("w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    served = Served(process, port, stderr)
    try:
        line = _first_line(process, START_SECONDS)
        assert "listening" in line, f"{line!r}\n{stderr.read_text()}"
        yield served
    finally:
        served.stop()


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample at http://127.0.0.1:PORT/metrics: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels`` (0 when none)."""
    wanted = set(labels.items())
    return sum(value for (n, got), value in samples.items() if n == name and wanted <= got)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def scratch_cluster() -> ScratchCluster:
    """A PostgreSQL cluster of this test's own (bench/scratch_postgres.py, fsync off), initdb'd but
    not started; the test is skipped where PostgreSQL's server binaries are not installed."""
    try:
        return ScratchCluster({"fsync": "off"})
    except NoPostgresBinaries as missing:
        pytest.skip(str(missing))
