"""End-to-end batch registration throughput: ``lrs-school register FILE`` against ``lrs-server serve``.

    .venv/bin/python -m bench.batch_throughput [--learners 1000000] [--rows 20000] [--no-resubmit]
    .venv/bin/python -m bench.batch_throughput --postgres postgresql+psycopg://postgres@127.0.0.1/lrs_bench_1m

(PostgreSQL: preload the named database once with bench.preload; each run copies it as a template.)

1. A database preloaded with ``--learners`` synthetic learners (bench/preload.py), cached as
   ``bench/out/lrs-<n>.sqlite3`` (built if missing) and copied to a scratch file per run, so every
   run starts from the same state.
2. The raw gRPC bidi-streaming rate on this machine (bench/grpc_baseline.py), measured first.
3. ``lrs-server serve`` on the copy; a new school (``lrs-server org add``).
4. A ``--rows``-row LRB file of new learners (school_client.files.generate), registered with
   ``lrs-school register FILE --out RESULTS.csv --json``: rows/s for new rows; then the same file
   again into another results file (every row MATCHED by its MIS identifier): rows/s resubmitted.
5. Server peak RSS (VmHWM from /proc/PID/status) and CPU seconds, client peak RSS (wait4 rusage).

Prints a table, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bench import grpc_baseline
from school_client.files.generate import write_synthetic_lrb

BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "out"
SCHOOL_REF = "BENCH-BATCH"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("LRS_SERVER", "LRS_TOKEN")}


def _proc_status(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmHWM = peak RSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def cached_database(learners: int) -> Path:
    """bench/out/lrs-<n>.sqlite3, preloaded with ``learners`` learners (built once)."""
    name = {1_000_000: "1m", 100_000: "100k", 10_000: "10k"}.get(learners, str(learners))
    path = OUT / f"lrs-{name}.sqlite3"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"preloading {learners:,} learners into {path} (once) ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "bench.preload", "--db", f"sqlite:///{path}", "--learners", str(learners)],
            check=True,
        )
    return path


@contextmanager
def postgres_copy(template: str) -> Iterator[str]:
    """A scratch PostgreSQL database made from ``template`` (a preloaded one), dropped afterwards."""
    url = make_url(template)
    name = f"{url.database}_run"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def scratch_postgres(server_url: str, prefix: str = "lrs_bench") -> Iterator[str]:
    """A new, migrated database ``PREFIX_<random>`` under a PostgreSQL server URL (its database part
    is ignored); dropped afterwards."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        db = url.set(database=name).render_as_string(hide_password=False)
        subprocess.run(
            [str(BIN / "lrs-server"), "migrate", "--db", db], check=True, env=_env(), capture_output=True
        )
        yield db
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def scratch_copy(source: Path, directory: Path) -> Path:
    """A copy of ``source`` (a preloaded registry), on disk before it is used: a copy of a 1M registry
    is over a gigabyte of dirty pages, whose writeback would otherwise land in the measured run (as
    system time of whichever process the kernel throttles, more the larger the registry)."""
    target = directory / "lrs.sqlite3"
    for suffix in ("", "-wal"):  # a database left with a WAL needs it too
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            with open(f"{target}{suffix}", "rb") as copied:
                os.fsync(copied.fileno())
    return target


def add_school(db: str, ref: str = SCHOOL_REF, name: str = "Benchmark School") -> str:
    """A new school (``lrs-server org add``, as an operator adds one); its bearer token."""
    command = [str(BIN / "lrs-server"), "org", "add", "--kind", "school", "--ref", ref]
    added = subprocess.run(
        [*command, "--name", name, "--json", "--db", db],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    return str(json.loads(added.stdout)["token"])


def _register(address: str, token: str, source: Path, results: Path) -> dict[str, Any]:
    """Run ``lrs-school register`` to the end; its JSON summary plus wall time and peak RSS."""
    command = [str(BIN / "lrs-school"), "register", str(source), "--out", str(results), "--json"]
    command += ["--server", address, "--token", token, "--restart"]
    output = results.with_suffix(".out")
    with output.open("wb") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, env=_env())
        _, status, usage = os.wait4(process.pid, 0)  # reaped here, so its rusage is its own
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"lrs-school failed ({process.returncode}): {output.read_text()}")
    summary: dict[str, Any] = json.loads(output.read_text())
    summary["wall_seconds"] = round(seconds, 3)
    summary["wall_rows_per_second"] = round(summary["rows"] / seconds, 1)
    summary["client_peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    summary["client_cpu_ms_per_row"] = round((usage.ru_utime + usage.ru_stime) * 1000 / summary["rows"], 3)
    return summary


def _profile(pid: int, output: str, gil: bool = False, rate: int = 100) -> subprocess.Popen[bytes]:
    """py-spy sampling the server ``rate`` times a second (raw collapsed stacks, or an SVG flame
    graph for ``.svg``); ``gil``: only the thread holding the GIL (Python's CPU, not threads
    waiting on I/O)."""
    form = "flamegraph" if output.endswith(".svg") else "raw"
    command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "-o", output, "-f", form, "--nonblocking"]
    command += ["--rate", str(rate), *(["--gil"] if gil else [])]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached
    return profiler


def run(
    learners: int,
    rows: int,
    resubmit: bool,
    seed: int,
    grpc_messages: int,
    profile: str = "",
    postgres: str = "",
) -> dict[str, Any]:
    grpc_baseline.measure(2_000)
    raw = grpc_baseline.measure(grpc_messages)
    with tempfile.TemporaryDirectory(prefix="lrs-batch-bench-") as scratch, ExitStack() as stack:
        directory = Path(scratch)
        if postgres:
            db = stack.enter_context(postgres_copy(postgres))
        else:
            db = f"sqlite:///{scratch_copy(cached_database(learners), directory)}"
        token = add_school(db)
        source = directory / "new-learners.csv"
        write_synthetic_lrb(str(source), rows, seed=seed)
        address, server = stack.enter_context(serving(db))
        user_before, system_before = cpu_times(server.pid)
        profiler = _profile(server.pid, profile) if profile else None
        new = _register(address, token, source, directory / "results-new.csv")
        user_after, system_after = cpu_times(server.pid)
        user_new, system_new = user_after - user_before, system_after - system_before
        cpu_new = user_new + system_new
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        again: dict[str, Any] | None = None
        if resubmit:
            cpu_before = _cpu_seconds(server.pid)
            again = _register(address, token, source, directory / "results-again.csv")
            cpu_again = _cpu_seconds(server.pid) - cpu_before
        server_peak = _proc_status(server.pid, "VmHWM")
    report: dict[str, Any] = {
        "learners_preloaded": learners,
        "database": "postgresql" if postgres else "sqlite",
        "rows": rows,
        "raw_grpc_messages_per_second": round(raw),
        "new": new,
        "new_rows_per_second": new["wall_rows_per_second"],
        "new_ratio_to_raw_grpc": round(new["wall_rows_per_second"] / raw, 3),
        "server_cpu_ms_per_new_row": round(cpu_new * 1000 / rows, 3),
        "server_user_ms_per_new_row": round(user_new * 1000 / rows, 3),
        "server_system_ms_per_new_row": round(system_new * 1000 / rows, 3),
        "client_cpu_ms_per_new_row": new["client_cpu_ms_per_row"],
        "server_peak_rss_mb": round(server_peak / 2**20, 1),
        "client_peak_rss_mb": max(new["client_peak_rss_mb"], (again or new)["client_peak_rss_mb"]),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
    }
    if again is not None:
        report["resubmitted"] = again
        report["resubmitted_rows_per_second"] = again["wall_rows_per_second"]
        report["resubmitted_ratio_to_raw_grpc"] = round(again["wall_rows_per_second"] / raw, 3)
        report["server_cpu_ms_per_resubmitted_row"] = round(cpu_again * 1000 / rows, 3)
        report["client_cpu_ms_per_resubmitted_row"] = again["client_cpu_ms_per_row"]
    return report


def start_server(
    db: str, address: str, *options: str, stderr: Any = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """``lrs-server serve --db DB --listen ADDRESS OPTIONS...``, returned once it says it is listening."""
    server = subprocess.Popen(
        [str(BIN / "lrs-server"), "serve", "--db", db, "--listen", address, *options],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=_env(),
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if "listening" not in line:
        server.kill()
        server.wait()
        raise RuntimeError(f"the server did not start: {line!r}")
    return server


@contextmanager
def serving(db: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``lrs-server serve --db DB`` (one worker, whose CPU the benchmarks read) on a free loopback
    port; yields its address and process, and stops it afterwards."""
    address = f"127.0.0.1:{free_port()}"
    server = start_server(db, address, "--workers", "1")
    try:
        yield address, server
    finally:
        server.terminate()
        server.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--grpc-messages", type=int, default=50_000)
    parser.add_argument("--no-resubmit", dest="resubmit", action="store_false")
    parser.add_argument("--profile", default="", help="py-spy the server's new-rows run into this file")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL of a database preloaded with bench.preload (copied per run as a template)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(
        args.learners, args.rows, args.resubmit, args.seed, args.grpc_messages, args.profile, args.postgres
    )
    if args.json:
        print(json.dumps(report))
        return
    print(f"preloaded learners        {report['learners_preloaded']:>12,} ({report['database']})")
    print(f"raw gRPC stream           {report['raw_grpc_messages_per_second']:>12,} messages/s")
    print(f"new rows                  {report['new_rows_per_second']:>12,} rows/s ({report['rows']:,} rows)")
    print(f"  ratio to raw gRPC       {report['new_ratio_to_raw_grpc']:>12}")
    print(f"  server CPU per row      {report['server_cpu_ms_per_new_row']:>12} ms")
    print(f"  client CPU per row      {report['client_cpu_ms_per_new_row']:>12} ms")
    if "resubmitted" in report:
        print(f"resubmitted rows          {report['resubmitted_rows_per_second']:>12,} rows/s")
        print(f"  ratio to raw gRPC       {report['resubmitted_ratio_to_raw_grpc']:>12}")
        print(f"  server CPU per row      {report['server_cpu_ms_per_resubmitted_row']:>12} ms")
        print(f"  client CPU per row      {report['client_cpu_ms_per_resubmitted_row']:>12} ms")
    print(f"server peak RSS           {report['server_peak_rss_mb']:>12} MB")
    print(f"client peak RSS           {report['client_peak_rss_mb']:>12} MB")
    print(f"Python {report['python']}, SQLite {report['sqlite']}, {report['cpus']} CPUs")


if __name__ == "__main__":
    main()
