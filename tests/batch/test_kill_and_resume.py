"""A 20,000-row file survives the server or the client being killed (SIGKILL) halfway through.

What a data manager would do after either crash is re-run the same command; it must resume from the
results file and finish with one result per input row, in input order, and a consistent database.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.batch.conftest import (
    BIG_FILE_ROWS,
    School,
    check_database,
    check_results,
    wait_for_rows,
)

HALFWAY = 8_000


def _finish(school: School, source: Path, results: Path) -> dict[str, object]:
    """Re-run the command, as the user would, and return its JSON summary."""
    again = school.register(source, results)
    assert again.returncode == 0, again.stdout + again.stderr
    summary: dict[str, object] = json.loads(again.stdout)
    assert summary["rows"] == BIG_FILE_ROWS
    return summary


def test_server_killed_halfway_then_restarted(
    served: School, big_file: Path, tmp_path: Path, db_url: str
) -> None:
    results = tmp_path / "results.csv"
    client = served.start_register(big_file, results)
    try:
        killed_at = wait_for_rows(results, HALFWAY, client)
        served.server.kill()
        served.server.start()  # same database, same port
        # The client retries a dropped link on its own and may finish; or it may give up. Either
        # way the user re-runs the command, which resumes or finds nothing left to do.
        client.communicate(timeout=180)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert killed_at < BIG_FILE_ROWS
    summary = _finish(served, big_file, results)
    assert int(str(summary["resumed_from"])) >= killed_at
    check_database(db_url, check_results(big_file, results))


def test_client_killed_halfway_then_rerun(
    served: School, big_file: Path, tmp_path: Path, db_url: str
) -> None:
    results = tmp_path / "results.csv"
    client = served.start_register(big_file, results)
    try:
        killed_at = wait_for_rows(results, HALFWAY, client)
    finally:
        client.kill()  # SIGKILL: no chance to flush or close the results file
        client.communicate()
    assert killed_at < BIG_FILE_ROWS
    summary = _finish(served, big_file, results)
    resumed_from = int(str(summary["resumed_from"]))
    assert HALFWAY <= resumed_from < BIG_FILE_ROWS
    check_database(db_url, check_results(big_file, results))
