"""The learner record and learner self-service as people use them: ``lrs-school`` subprocesses
against a real ``lrs-server`` (results files, record reads, activation, sharing, access log, export)."""

from __future__ import annotations

import argparse
import csv
import json
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from lrs.v1 import learner_service_pb2 as self_pb
from school_client.commands import learner as learner_commands
from school_client.files import open_ctf
from tests.cli.test_cli import SCHOOL, SERVER, _free_port, as_json, born_years_ago, run

DATA = Path(__file__).parent.parent / "data"
SCHOOL_REF, COLLEGE_REF, BOARD_REF = "123456", "10000002", "10000003"
ORGS = {
    "school": (SCHOOL_REF, "Hill School"),
    "post16": (COLLEGE_REF, "Town College"),
    "awarding_body": (BOARD_REF, "Example Awarding Body"),
}


@dataclass
class Desk:
    """A served database with a school, a college and an awarding body (tokens by kind)."""

    address: str
    tokens: dict[str, str]
    db: str

    def cli(
        self, *args: str, token: str | None = None, as_json: bool = True
    ) -> subprocess.CompletedProcess[str]:
        extra = ["--server", self.address]
        if token:
            extra += ["--token", token]
        return run([SCHOOL, *args, *extra, *(["--json"] if as_json else [])])

    def as_org(self, kind: str, *args: str, as_json: bool = True) -> subprocess.CompletedProcess[str]:
        return self.cli(*args, token=self.tokens[kind], as_json=as_json)

    def register(self, given: str, family: str, born: str, postcode: str = "SW1A 1AA") -> str:
        done = self.as_org(
            "school",
            "register",
            *("--given-name", given, "--family-name", family, "--date-of-birth", born),
            *("--gender", "female", "--postcode", postcode),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        out = as_json(done)
        assert out["outcome"] == "NEW", out
        uln: str = out["uln"]
        return uln


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    db = f"sqlite:///{tmp_path_factory.mktemp('records_cli') / 'lrs.sqlite3'}"
    tokens = {}
    for kind, (ref, name) in ORGS.items():
        added = run(
            [SERVER, "org", "add", "--kind", kind, "--ref", ref, "--name", name, "--json", "--db", db]
        )
        assert added.returncode == 0, added.stderr
        tokens[kind] = as_json(added)["token"]
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
        yield Desk(f"127.0.0.1:{port}", tokens, db)
    finally:
        process.terminate()
        process.wait(timeout=30)


def results_csv(path: Path, uln: str, given: str, family: str) -> Path:
    """tests/data/achievements_sample.csv for one registered learner: rows 1-3 are theirs, row 4 keeps a
    ULN nobody holds (rejected by the server), row 5 is short (rejected by the reader)."""
    with (DATA / "achievements_sample.csv").open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    for row in rows[1:4]:
        row[0:3] = [uln, given, family]
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\r\n").writerows(rows)
    return path


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def error_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 1, done.stdout + done.stderr
    error: dict[str, Any] = as_json(done)["error"]
    return error


def test_the_learner_journey(desk: Desk, tmp_path: Path) -> None:
    born = born_years_ago(16)
    uln = desk.register("Olivia", "Westland", born)
    names = ("--given-name", "Olivia", "--family-name", "Westland")

    # The school submits results; the bad rows are reported and the rest go through.
    source = results_csv(tmp_path / "results.csv", uln, "Olivia", "Westland")
    submitted = desk.as_org("school", "results", "submit", str(source), "--out", str(tmp_path / "out.csv"))
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert as_json(submitted)["outcomes"] == {"CREATED": 3, "REJECTED": 2}

    # A college reads the record: identity and achievements.
    first_read = as_json(desk.as_org("post16", "record", uln, *names))
    assert first_read["uln"] == uln and first_read["achievements_withheld"] is False
    assert sorted(a["subject"] for a in first_read["achievements"]) == [
        "Applied Science",
        "English Language",
        "Mathematics",
    ]
    assert first_read["achievements"][0]["submitted_by_name"] == "Hill School"
    assert "postcode" not in first_read["learner"]  # data minimisation: no address for a college

    # The school issues a code; the learner activates with no token and opts out of post-16 sharing.
    issued = desk.as_org("school", "learner-code", "--uln", uln)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    code = as_json(issued)["code"]
    activated = desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", born, "--code", code)
    assert activated.returncode == 0, activated.stdout + activated.stderr
    token = as_json(activated)["token"]
    assert token
    reused = desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", born, "--code", code)
    assert (error_of(reused)["code"], error_of(reused)["reason"]) == ("UNAUTHENTICATED", "ACTIVATION_FAILED")

    shown = as_json(desk.cli("learner", "sharing", token=token))["sharing"]
    assert shown["withheld_from"] == [] and shown["source"] == "default"
    chosen = desk.cli("learner", "sharing", "--opt-out", "post16", token=token)
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert as_json(chosen)["sharing"]["withheld_from"] == ["post16"]
    now = as_json(desk.cli("learner", "sharing", token=token))["sharing"]
    assert (now["withheld_from"], now["source"]) == (["post16"], "learner")

    # The college reads again: achievements withheld, identity still there.
    second_read = as_json(desk.as_org("post16", "record", uln, *names))
    assert second_read["achievements_withheld"] is True and second_read["achievements"] == []
    assert second_read["withheld_message"]
    assert (second_read["uln"], second_read["learner"]["given_name"]) == (uln, "Olivia")
    # The school is not a kind the learner withheld from.
    assert len(as_json(desk.as_org("school", "record", uln, *names))["achievements"]) == 3

    # The learner reads their own record (no ULN or names needed) and sees everything.
    own = as_json(desk.cli("record", token=token))
    assert own["uln"] == uln and len(own["achievements"]) == 3 and not own["achievements_withheld"]

    # The access log names the college and its two reads, what they got, newest first.
    log = desk.cli("learner", "access-log", token=token)
    assert log.returncode == 0, log.stdout + log.stderr
    entries = as_json(log)["access_log"]
    college = [e for e in entries if e["organisation_ref"] == COLLEGE_REF]
    assert [e["rpc"] for e in college] == ["lrs.v1.LearnerRecordService/GetLearnerRecord"] * 2
    assert all(e["organisation_name"] == "Town College" and e["at"] for e in college)
    assert "achievements_withheld" in college[0]["fields"] and "achievements" in college[1]["fields"]
    assert "postcode" not in college[0]["fields"]
    assert entries == sorted(entries, key=lambda e: e["at"], reverse=True)
    assert any(
        e["organisation_name"] == "Hill School" and e["rpc"].endswith("/RegisterLearner") for e in entries
    )

    # The export holds every section.
    out = tmp_path / "me.json"
    exported = desk.cli("learner", "export", "--out", str(out), token=token)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {
        "learner",
        "registered_at",
        "family_name_history",
        "linked_ulns",
        "achievements",
        "sharing",
        "sharing_history",
        "access_log",
        "grants",
        "notice_digest",
    }
    assert data["learner"]["uln"] == uln and data["learner"]["postcode"] == "SW1A 1AA"
    assert len(data["achievements"]) == 3 and data["registered_at"]
    assert data["sharing"]["withheld_from"] == ["post16"]
    assert [s["source"] for s in data["sharing_history"]] == ["learner"]
    assert {e["organisation_name"] for e in data["access_log"]} >= {"Town College", "Hill School"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: the owner's eyes only

    # A learner token reads no one else and registers no one.
    other = desk.register("Zebedee", "Quartermain", born_years_ago(15))
    denied = desk.cli("record", other, token=token)
    assert (error_of(denied)["code"], error_of(denied)["reason"]) == ("PERMISSION_DENIED", "NOT_OWN_RECORD")
    named = desk.cli("record", other, "--given-name", "Zebedee", "--family-name", "Quartermain", token=token)
    assert error_of(named)["code"] == "PERMISSION_DENIED"
    register = desk.cli(
        "register",
        *("--given-name", "Mallory", "--family-name", "Forger", "--date-of-birth", born_years_ago(15)),
        *("--gender", "male", "--postcode", "M1 1AE"),
        token=token,
    )
    assert error_of(register)["code"] == "PERMISSION_DENIED"
    assert error_of(desk.cli("learner-code", "--uln", uln, token=token))["code"] == "PERMISSION_DENIED"
    # ...and an organisation has no self-service.
    assert error_of(desk.as_org("post16", "learner", "access-log"))["code"] == "PERMISSION_DENIED"

    # Signing out ends the token (refused from then on: tests/records/test_records.py).
    signed_out = desk.cli("learner", "sign-out", token=token)
    assert as_json(signed_out) == {"signed_out": True, "credentials_revoked": 1}
    told = learner_commands._human_sign_out(as_json(signed_out))
    assert told is not None and "1 learner token(s) ended" in told and "new activation code" in told


def test_a_resubmitted_file_updates_and_never_duplicates(desk: Desk, tmp_path: Path) -> None:
    uln = desk.register("Amelie", "Brightwater", born_years_ago(17))
    source = results_csv(tmp_path / "r.csv", uln, "Amelie", "Brightwater")
    out = tmp_path / "r-out.csv"
    first = as_json(desk.as_org("school", "results", "submit", str(source), "--out", str(out)))
    assert first["outcomes"] == {"CREATED": 3, "REJECTED": 2} and first["rows"] == 5
    assert first["format"] == "lrb" and first["results_file"] == str(out)

    # One results row per input row, in input order, with the reason for each rejected row.
    results = read_results(out)
    assert [r["Line"] for r in results] == ["2", "3", "4", "5", "6"]
    assert [r["Outcome"] for r in results] == ["CREATED", "CREATED", "CREATED", "REJECTED", "REJECTED"]
    assert [r["ULN"] for r in results[:3]] == [uln] * 3
    assert results[0]["QualificationRef"] == "601/4502/5" and results[3]["Subject"] == "Design, Technology"
    assert (results[3]["Reason"], results[4]["Reason"]) == ("LEARNER_NOT_FOUND", "WRONG_FIELD_COUNT")

    # The same file again: nothing changes (the results file is rewritten, not appended to).
    again = as_json(desk.as_org("school", "results", "submit", str(source), "--out", str(out)))
    assert again["outcomes"] == {"REJECTED": 2, "UNCHANGED": 3}
    assert [r["Outcome"] for r in read_results(out)][:3] == ["UNCHANGED"] * 3

    # A corrected grade updates the result held.
    text = source.read_text(encoding="utf-8").replace("Mathematics,2,7,", "Mathematics,2,8,")
    source.write_text(text, encoding="utf-8")
    corrected = as_json(desk.as_org("school", "results", "submit", str(source), "--out", str(out)))
    assert corrected["outcomes"] == {"REJECTED": 2, "UNCHANGED": 2, "UPDATED": 1}

    held = as_json(
        desk.as_org("school", "record", uln, "--given-name", "Amelie", "--family-name", "Brightwater")
    )["achievements"]
    assert len(held) == 3
    assert {a["subject"]: a["grade"] for a in held}["Mathematics"] == "8"
    maths = next(a for a in held if a["subject"] == "Mathematics")
    assert (maths["kind"], maths["status"], maths["award_date"]) == ("GCSE", "FINAL", "2026-08-20")
    assert maths["awarding_organisation"] == "Example Awarding Body"

    # Readable output by default; the results file defaults to FILE.results.csv.
    readable = desk.as_org("school", "results", "submit", str(source), as_json=False)
    assert readable.returncode == 0, readable.stderr
    assert "5 results: REJECTED 2, UNCHANGED 3" in readable.stdout
    assert (tmp_path / "r.results.csv").exists()


def test_ctf_key_stage_results(desk: Desk, tmp_path: Path) -> None:
    uln = desk.register("Benedict", "Sampleton", "2010-11-02")
    ctf = tmp_path / "school.xml"
    ctf.write_text(
        (DATA / "ctf_sample_26.xml").read_text(encoding="utf-8").replace("1000002127", uln), encoding="utf-8"
    )
    rows = list(open_ctf(ctf).achievements())
    his = [r for r in rows if r.uln == uln]
    assert his
    out = tmp_path / "ctf-out.csv"
    done = as_json(desk.as_org("school", "results", "submit", str(ctf), "--out", str(out)))
    assert done["format"] == "ctf" and done["rows"] == len(rows)
    assert done["outcomes"] == {"CREATED": len(his), "REJECTED": len(rows) - len(his)}
    results = read_results(out)
    assert [r["Line"] for r in results] == [str(r.line_number) for r in rows]  # input order
    assert {r["Reason"] for r in results if r["ULN"] == ""} == {"FIELD_REQUIRED"}  # pupils with no ULN
    assert all(r["QualificationRef"].startswith("CTF/KS") for r in results)
    held = as_json(
        desk.as_org("school", "record", uln, "--given-name", "Benedict", "--family-name", "Sampleton")
    )
    assert len(held["achievements"]) == len(his)
    assert {a["kind"] for a in held["achievements"]} <= {"KEY_STAGE_2", "KEY_STAGE_4"}
    again = as_json(desk.as_org("school", "results", "submit", str(ctf), "--out", str(out)))
    assert again["outcomes"]["UNCHANGED"] == len(his)


@pytest.mark.parametrize(
    ("family", "content", "line"),
    [("Headerwrong", "ULN,GivenName,Surname\r\n1000000043,A,B\r\n", 1), ("Notutfeight", None, 3)],
)
def test_a_bad_file_fails_before_anything_is_sent(
    desk: Desk, tmp_path: Path, family: str, content: str | None, line: int
) -> None:
    uln = desk.register(f"Cordelia{family}", family, born_years_ago(15 + line), postcode=f"M{line} 1AE")
    source = tmp_path / "results.csv"
    if content is None:  # a good first row, then a line that is not UTF-8
        good = results_csv(tmp_path / "good.csv", uln, f"Cordelia{family}", family)
        lines = good.read_bytes().split(b"\r\n")
        source.write_bytes(
            b"\r\n".join([*lines[:2], lines[2].replace(b"English", b"Engl\xe9sh"), *lines[3:]])
        )
    else:
        source.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    done = desk.as_org("school", "results", "submit", str(source), "--out", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    error = as_json(done)["error"]
    assert (error["code"], error["reason"], error["line"]) == ("FILE_REJECTED", "FILE_FORMAT", line)
    assert not out.exists()
    record = desk.as_org(
        "school", "record", uln, "--given-name", f"Cordelia{family}", "--family-name", family
    )
    assert as_json(record)["achievements"] == []  # not even the good first row was sent
    readable = desk.as_org("school", "results", "submit", str(source), as_json=False)
    assert readable.returncode == 2 and f"line {line}" in readable.stderr


def test_a_truncated_ctf_is_refused_whole(desk: Desk, tmp_path: Path) -> None:
    done = desk.as_org(
        "school", "results", "submit", str(DATA / "bad_ctf_truncated.xml"), "--out", str(tmp_path / "o.csv")
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert as_json(done)["error"]["code"] == "FILE_REJECTED" and as_json(done)["error"]["line"]


def test_a_college_may_not_submit_results(desk: Desk, tmp_path: Path) -> None:
    source = results_csv(tmp_path / "r.csv", "1000000043", "A", "B")
    assert (
        error_of(desk.as_org("post16", "results", "submit", str(source), "--out", str(tmp_path / "o.csv")))[
            "code"
        ]
        == "PERMISSION_DENIED"
    )


def test_sharing_choices_and_readable_output(desk: Desk) -> None:
    born = born_years_ago(15)
    uln = desk.register("Imogen", "Sharewell", born)
    code = as_json(desk.as_org("school", "learner-code", "--uln", uln))["code"]
    token = as_json(desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", born, "--code", code))[
        "token"
    ]
    every = as_json(desk.cli("learner", "sharing", "--opt-out", "all", token=token))["sharing"]
    assert every["withheld_from"] == ["school", "post16", "awarding_body"]
    kinds = as_json(desk.cli("learner", "sharing", "--opt-out", "awarding_body", "school", token=token))[
        "sharing"
    ]
    assert kinds["withheld_from"] == ["school", "awarding_body"]
    readable = desk.cli("learner", "sharing", token=token, as_json=False)
    assert "withheld from: school, awarding_body" in readable.stdout and "you chose this" in readable.stdout
    nothing = as_json(desk.cli("learner", "sharing", "--opt-out", "none", token=token))["sharing"]
    assert nothing["withheld_from"] == [] and nothing["source"] == "learner"
    mixed = desk.cli("learner", "sharing", "--opt-out", "none", "school", token=token)
    assert mixed.returncode != 0 and "not a mixture" in mixed.stderr
    unknown = desk.cli("learner", "sharing", "--opt-out", "admin", token=token)
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    log = desk.cli("learner", "access-log", token=token, as_json=False)
    assert log.returncode == 0 and "Hill School (123456)" in log.stdout and "RegisterLearner" in log.stdout
    record = desk.as_org(
        "post16", "record", uln, "--given-name", "Imogen", "--family-name", "Sharewell", as_json=False
    )
    assert record.returncode == 0 and f"ULN: {uln}" in record.stdout and "achievements: 0" in record.stdout
    code_text = desk.as_org("school", "learner-code", "--uln", uln, as_json=False)
    assert "activation code for" in code_text.stdout and "expires" in code_text.stdout


def test_activation_needs_the_right_date_of_birth(desk: Desk) -> None:
    born = born_years_ago(15)
    uln = desk.register("Tobias", "Wrongdate", born)
    code = as_json(desk.as_org("school", "learner-code", "--uln", uln))["code"]
    wrong = desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", "2000-01-01", "--code", code)
    assert error_of(wrong)["reason"] == "ACTIVATION_FAILED"
    # Only schools (and administrators) issue codes.
    stranger = desk.as_org("awarding_body", "learner-code", "--uln", uln)
    assert error_of(stranger)["code"] == "PERMISSION_DENIED"


class _Pages:
    """A stand-in for the self-service stub: the access log in pages of two entries."""

    def __init__(self, total: int) -> None:
        self.entries = [self_pb.AccessLogEntry(at=f"2026-11-{28 - i:02d}", rpc="x/Y") for i in range(total)]
        self.tokens: list[str] = []

    def ListMyAccessLog(
        self, request: self_pb.ListMyAccessLogRequest, **_: Any
    ) -> self_pb.ListMyAccessLogResponse:
        self.tokens.append(request.page_token)
        start = int(request.page_token or 0)
        more = start + 2 < len(self.entries)
        return self_pb.ListMyAccessLogResponse(
            entries=self.entries[start : start + 2], next_page_token=str(start + 2) if more else ""
        )


def test_access_log_follows_every_page() -> None:
    pages = _Pages(5)
    client: Any = SimpleNamespace(learner=pages, metadata=())
    out = learner_commands.access_log(client, argparse.Namespace())
    assert [e["at"] for e in out["access_log"]] == [e.at for e in pages.entries]
    assert pages.tokens == ["", "2", "4"]


def test_the_results_file_never_overwrites_the_input(desk: Desk, tmp_path: Path) -> None:
    source = results_csv(tmp_path / "r.csv", "1000000043", "A", "B")
    before = source.read_bytes()
    done = desk.as_org("school", "results", "submit", str(source), "--out", str(source))
    assert done.returncode == 1 and "overwrite" in done.stderr
    assert source.read_bytes() == before
