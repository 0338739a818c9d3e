"""``lrs-server`` and ``lrs-school`` as a user runs them: subprocesses against a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest

from lrs_server.domain import uln as uln_rules

BIN = Path(sys.executable).parent
SERVER = str(BIN / "lrs-server")
SCHOOL = str(BIN / "lrs-school")
PUPIL = ["--given-name", "Amara", "--family-name", "Okafor", "--gender", "female", "--postcode", "SW1A 1AA"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("LRS_SERVER", "LRS_TOKEN")}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**clean, **(env or {})})


def born_years_ago(years: int) -> str:
    today = date.today()
    return (
        f"{today.year - years}-01-01"
        if (today.month, today.day) > (1, 1)
        else f"{today.year - years - 1}-01-01"
    )


@dataclass
class Service:
    address: str
    token: str
    db: str

    def school(
        self, *args: str, token: str | None = None, as_json: bool = True
    ) -> subprocess.CompletedProcess[str]:
        extra = ["--server", self.address, "--token", token if token is not None else self.token]
        return run([SCHOOL, *args, *extra, *(["--json"] if as_json else [])])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    db = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'lrs.sqlite3'}"
    added = run(
        [SERVER, "org", "add", "--kind", "school", "--ref", "123456", "--name", "X", "--json", "--db", db]
    )
    assert added.returncode == 0, added.stderr
    token = json.loads(added.stdout)["token"]
    port = _free_port()
    process = subprocess.Popen(
        [SERVER, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "listening" in process.stdout.readline()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=15)
        yield Service(f"127.0.0.1:{port}", token, db)
    finally:
        process.terminate()
        process.wait(timeout=30)


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def test_org_add_prints_a_token_once_and_refuses_a_duplicate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lrs.sqlite3'}"
    added = run(
        [SERVER, "org", "add", "--kind", "school", "--ref", "123456", "--name", "X", "--json", "--db", db]
    )
    assert added.returncode == 0
    out = as_json(added)
    assert out["token"].startswith("lrs_") and len(out["token"]) > 30
    assert (out["ref"], out["kind"], out["name"]) == ("123456", "school", "X")
    again = run(
        [SERVER, "org", "add", "--kind", "school", "--ref", "123456", "--name", "X", "--json", "--db", db]
    )
    assert again.returncode == 1
    assert "exists" in again.stderr
    readable = run([SERVER, "org", "add", "--kind", "post16", "--ref", "10000002", "--name", "C", "--db", db])
    assert readable.returncode == 0 and "token" in readable.stdout


def test_org_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lrs.sqlite3'}"
    assert (
        run([SERVER, "org", "add", "--kind", "school", "--ref", "1", "--name", "X", "--db", db]).returncode
        == 0
    )
    revoked = run([SERVER, "org", "revoke", "--ref", "1", "--db", db])
    assert revoked.returncode == 0
    assert "revoked" in revoked.stdout
    assert run([SERVER, "org", "revoke", "--ref", "nope", "--db", db]).returncode == 1
    # A revoked organisation gets no new token.
    assert run([SERVER, "org", "token", "--ref", "1", "--db", db]).returncode == 1


def test_revoked_token_is_refused_by_a_running_server(service: Service) -> None:
    added = run(
        [
            SERVER,
            "org",
            "add",
            "--kind",
            "school",
            "--ref",
            "777777",
            "--name",
            "Gone",
            "--json",
            "--db",
            service.db,
        ]
    )
    token = as_json(added)["token"]
    ok = service.school(
        "verify", "--uln", "1000000043", "--given-name", "A", "--family-name", "B", token=token
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert run([SERVER, "org", "revoke", "--ref", "777777", "--db", service.db]).returncode == 0
    time.sleep(5.5)  # the server caches a token for 5 seconds
    refused = service.school(
        "verify", "--uln", "1000000043", "--given-name", "A", "--family-name", "B", token=token
    )
    assert refused.returncode == 1
    assert as_json(refused)["error"]["code"] == "UNAUTHENTICATED"


def test_register_new_then_matched(service: Service) -> None:
    dob = born_years_ago(15)
    first = service.school("register", *PUPIL, "--date-of-birth", dob)
    assert first.returncode == 0, first.stdout + first.stderr
    out = as_json(first)
    assert out["outcome"] == "NEW"
    assert uln_rules.is_valid(out["uln"])
    again = service.school("register", *PUPIL, "--date-of-birth", dob)
    assert again.returncode == 0
    assert as_json(again)["outcome"] == "MATCHED"
    assert as_json(again)["uln"] == out["uln"]


def test_under_fourteen_is_refused_with_a_json_error(service: Service) -> None:
    done = service.school("register", *PUPIL, "--given-name", "Bea", "--date-of-birth", born_years_ago(13))
    assert done.returncode == 1
    error = as_json(done)["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["reason"] == "UNDER_MINIMUM_AGE"
    assert error["message"]
    assert [v["field"] for v in error["field_violations"]] == ["identity.date_of_birth"]


def test_no_token_is_unauthenticated(service: Service) -> None:
    done = service.school("register", *PUPIL, "--date-of-birth", born_years_ago(15), token="")
    assert done.returncode == 1
    assert as_json(done)["error"]["code"] == "UNAUTHENTICATED"
    assert as_json(done)["error"]["reason"] == "TOKEN_MISSING"


def test_verify_and_find_json_shapes(service: Service) -> None:
    dob = born_years_ago(16)
    pupil = ["--given-name", "Chidi", "--family-name", "Eze", "--gender", "male", "--postcode", "M1 1AE"]
    uln = as_json(service.school("register", *pupil, "--date-of-birth", dob))["uln"]
    verified = as_json(
        service.school("verify", "--uln", uln, "--given-name", "Chidi", "--family-name", "Eze")
    )
    assert verified == {"outcome": "VERIFIED", "uln": uln, "mismatched_fields": []}
    mismatch = as_json(
        service.school(
            "verify", "--uln", uln, "--given-name", "Chidi", "--family-name", "Eze", "--gender", "female"
        )
    )
    assert mismatch == {"outcome": "MISMATCH", "uln": uln, "mismatched_fields": ["gender"]}
    found = as_json(service.school("find", *pupil, "--date-of-birth", dob))
    assert found["outcome"] == "EXACT_MATCH"
    (candidate,) = found["candidates"]
    assert candidate["uln"] == uln
    assert candidate["given_name"] == "Chidi"
    assert candidate["gender"] == "male"
    assert 0 < candidate["match_probability"] <= 1
    assert candidate["comparisons"] and {"field", "level", "weight"} <= set(candidate["comparisons"][0])
    by_uln = as_json(service.school("find", "--uln", uln, "--given-name", "Chidi", "--family-name", "Eze"))
    assert by_uln["outcome"] == "EXACT_MATCH"
    assert by_uln["master_substituted"] is False
    assert [c["uln"] for c in by_uln["candidates"]] == [uln]
    nobody = as_json(
        service.school("find", *pupil, "--given-name", "Zebedee", "--date-of-birth", "1990-05-05")
    )
    assert nobody == {"outcome": "NO_MATCH", "candidates": []}


def test_readable_output_mentions_the_outcome(service: Service) -> None:
    dob = born_years_ago(17)
    pupil = ["--given-name", "Dara", "--family-name", "Flynn", "--gender", "female", "--postcode", "BT1 1AA"]
    done = service.school("register", *pupil, "--date-of-birth", dob, as_json=False)
    assert done.returncode == 0
    assert "outcome: NEW" in done.stdout
    assert "ULN: " in done.stdout
    refused = service.school("register", *pupil, "--date-of-birth", born_years_ago(13), as_json=False)
    assert refused.returncode == 1
    assert "INVALID_ARGUMENT" in refused.stderr and "UNDER_MINIMUM_AGE" in refused.stderr


def test_environment_variables_are_honoured(service: Service) -> None:
    env = {"LRS_SERVER": service.address, "LRS_TOKEN": service.token}
    done = run(
        [SCHOOL, "verify", "--uln", "1000000043", "--given-name", "A", "--family-name", "B", "--json"],
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert as_json(done)["outcome"] == "NOT_FOUND"
    no_token = run(
        [SCHOOL, "verify", "--uln", "1000000043", "--given-name", "A", "--family-name", "B", "--json"],
        env={"LRS_SERVER": service.address},
    )
    assert no_token.returncode == 1
    assert as_json(no_token)["error"]["code"] == "UNAUTHENTICATED"


def test_module_entry_point_works(service: Service) -> None:
    done = run(
        [sys.executable, "-m", "school_client.cli", "verify", "--uln", "1000000043", "--given-name", "A",
         "--family-name", "B", "--json", "--server", service.address, "--token", service.token]
    )  # fmt: skip
    assert done.returncode == 0
    assert as_json(done)["outcome"] == "NOT_FOUND"


def test_a_refused_mis_row_is_corrected_with_update(service: Service) -> None:
    """A data manager whose re-sent row was refused (MIS_IDENTIFIER_CONFLICT: the details no longer
    describe the pupil) corrects the pupil deliberately with `lrs-school update`."""
    pupil = ["--family-name", "Nwosu", "--gender", "female", "--postcode", "LS1 4AP", "--mis-id", "UPD-1"]
    dob = born_years_ago(16)
    first = as_json(service.school("register", "--given-name", "Ngozi", *pupil, "--date-of-birth", dob))
    renamed = service.school("register", "--given-name", "Grace", *pupil, "--date-of-birth", dob)
    assert renamed.returncode == 1
    assert as_json(renamed)["error"]["reason"] == "MIS_IDENTIFIER_CONFLICT"
    correction = ["--uln", first["uln"], "--given-name", "Grace", *pupil[:-2], "--date-of-birth", dob]
    updated = service.school("update", *correction)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    done = as_json(updated)
    assert (done["outcome"], done["uln"], done["given_name"]) == ("UPDATED", first["uln"], "Grace")
    assert done["etag"]
    again = as_json(service.school("register", "--given-name", "Grace", *pupil, "--date-of-birth", dob))
    assert (again["outcome"], again["uln"]) == ("MATCHED", first["uln"])
    stale = service.school("update", *correction, "--etag", 'W/"1"')
    assert as_json(stale)["error"]["reason"] == "VERSION_CONFLICT"


def test_register_a_file_that_left_columns_out(service: Service, tmp_path: Path) -> None:
    """A spreadsheet's LRB: the five columns the LRS needs in its own order, a column of the school's,
    dates as the spreadsheet wrote them. Read, registered, and what was left out or ignored said."""
    source, out = tmp_path / "pupils.csv", tmp_path / "results.csv"
    source.write_text(
        "MISIdentifier,FamilyName,GivenName,DateOfBirth,Gender,LastKnownPostCode,Form\r\n"
        f"L1,Ashworth,Marco,{born_years_ago(15)[8:10]}/01/{born_years_ago(15)[:4]} 00:00,M,ME1 6YL,10B\r\n"
        f"L2,Ashworth,Marco,{born_years_ago(15)},M,ME1 6YL,10B\r\n",
        encoding="utf-8",
    )
    done = service.school("register", str(source), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    summary = as_json(done)
    assert summary["rows"] == 2 and summary["outcomes"] == {"MATCHED": 1, "NEW": 1}
    assert summary["columns_ignored"] == ["Form"]
    assert "LastKnownAddressLine1" in summary["columns_read_as_empty"]
    assert "GivenName" not in summary["columns_read_as_empty"]
    again = service.school("register", str(source), "--out", str(tmp_path / "again.csv"), as_json=False)
    assert "columns that are not LRB ones, not read: Form" in again.stdout, again.stdout + again.stderr
