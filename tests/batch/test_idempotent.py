"""Re-sending a file is safe: rows are keyed by (school, MIS identifier), so nothing is registered twice.

These run ``school_client.batch.register_file`` against the in-process ``api`` server (both backends).
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine, text

from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from lrs_server.storage.organisations import OrganisationStore
from school_client.batch import BatchSummary, register_file, row_request
from school_client.connection import Client, ConnectionSettings
from school_client.files import LearnerRow, write_lrb
from school_client.files.generate import generate_learners
from tests.batch.conftest import SCHOOL, check_results, clean_env, learner_count, read_results
from tests.service import factories
from tests.service.conftest import Api, failure, start_server

ROWS = 300


def write_file(path: Path, rows: Sequence[LearnerRow]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_lrb(stream, rows, file_name=path.name, ukprn="10000001", record_count=len(rows))
    return path


@pytest.fixture
def school(api: Api) -> Iterator[Client]:
    with Client(ConnectionSettings(f"127.0.0.1:{api.server.port}", api.tokens[OrgKind.SCHOOL])) as client:
        yield client


def register(client: Client, source: Path, results: Path) -> BatchSummary:
    return register_file(client, source, results, show_progress=False)


def ulns(results: Path) -> dict[str, str]:
    return {row["MISIdentifier"]: row["ULN"] for row in read_results(results)}


def test_same_file_twice_gives_the_same_ulns_and_creates_nothing(
    api: Api, school: Client, tmp_path: Path
) -> None:
    source = write_file(tmp_path / "in.csv", list(generate_learners(ROWS, seed=3)))
    first = register(school, source, tmp_path / "first.csv")
    learners = learner_count(api.engine)
    assert first.outcomes["NEW"] == learners > ROWS * 0.9
    second = register(school, source, tmp_path / "second.csv")
    assert learner_count(api.engine) == learners
    before, after = (
        check_results(source, tmp_path / "first.csv"),
        check_results(source, tmp_path / "second.csv"),
    )
    for old, new in zip(before, after, strict=True):
        if old["Outcome"] in ("NEW", "MATCHED"):
            assert (new["Outcome"], new["ULN"]) == ("MATCHED", old["ULN"])
        else:  # a possible match created no learner and stays for review
            assert new["Outcome"] == old["Outcome"]
    assert second.outcomes.get("NEW", 0) == 0


def test_two_clients_sending_one_file_at_once_agree(api: Api, tmp_path: Path) -> None:
    source = write_file(tmp_path / "in.csv", list(generate_learners(ROWS, seed=4)))
    settings = ConnectionSettings(f"127.0.0.1:{api.server.port}", api.tokens[OrgKind.SCHOOL])
    errors: list[BaseException] = []

    def send(name: str) -> None:
        try:
            with Client(settings) as client:
                register(client, source, tmp_path / name)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(name,)) for name in ("a.csv", "b.csv")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    a, b = check_results(source, tmp_path / "a.csv"), check_results(source, tmp_path / "b.csv")
    given = {row["MISIdentifier"]: row["ULN"] for row in a + b if row["ULN"]}
    assert ulns(tmp_path / "a.csv") == ulns(tmp_path / "b.csv")
    assert learner_count(api.engine) == len(set(given.values()))
    outcomes = Counter(row["Outcome"] for row in a + b)
    assert outcomes["NEW"] == len(set(given.values()))  # each learner was NEW to exactly one client


def test_changed_details_update_the_learner_and_keep_the_uln(
    api: Api, school: Client, tmp_path: Path
) -> None:
    rows = list(generate_learners(20, seed=5))
    source = write_file(tmp_path / "in.csv", rows)
    register(school, source, tmp_path / "first.csv")
    first = ulns(tmp_path / "first.csv")
    moved = dataclasses.replace(rows[3], postcode="SW1A 1AA")
    renamed = dataclasses.replace(rows[7], family_name="Okonkwo-Barnes")
    # A new family name and a new address in one row (adopted, and moved): still the same pupil.
    both = dataclasses.replace(
        rows[9], family_name="Adeyemi-Clarke", postcode="LS1 4AP", address_line1="2 Park Row"
    )
    changed = write_file(
        tmp_path / "changed.csv", [*rows[:3], moved, *rows[4:7], renamed, rows[8], both, *rows[10:]]
    )
    summary = register(school, changed, tmp_path / "second.csv")
    assert ulns(tmp_path / "second.csv") == first
    assert summary.outcomes.get("NEW", 0) == 0
    assert learner_count(api.engine) == len(set(first.values()) - {""})
    with api.engine.connect() as c:
        postcode = c.execute(
            text("SELECT postcode FROM learner WHERE uln = :uln"), {"uln": first[rows[3].mis_identifier]}
        ).scalar_one()
        family, previous = c.execute(
            text(
                "SELECT l.family_name, h.family_name FROM learner l "
                "JOIN learner_family_name h ON h.learner_id = l.id WHERE l.uln = :uln"
            ),
            {"uln": first[rows[7].mis_identifier]},
        ).one()
        both_now = c.execute(
            text("SELECT family_name, postcode FROM learner WHERE uln = :uln"),
            {"uln": first[rows[9].mis_identifier]},
        ).one()
    assert postcode == "SW1A 1AA"
    assert (family, previous) == ("Okonkwo-Barnes", rows[7].family_name)
    assert tuple(both_now) == ("Adeyemi-Clarke", "LS1 4AP")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({}, id="identical"),
        pytest.param({"postcode": "SW1A 1AA", "address_line1": "1 Other Road"}, id="moved"),
        pytest.param({"given_name": "Sofie"}, id="typo"),
    ],
)
def test_one_pupil_under_two_mis_identifiers_is_never_two_new_learners(
    api: Api, school: Client, tmp_path: Path, change: dict[str, str]
) -> None:
    rows = list(generate_learners(30, seed=6))
    pupil = dataclasses.replace(rows[0], given_name="Sophie", gender="female")
    twin = dataclasses.replace(pupil, mis_identifier="MIS-DUPLICATE", **change)
    source = write_file(tmp_path / "in.csv", [pupil, *rows[1:15], twin, *rows[15:]])
    register(school, source, tmp_path / "out.csv")
    by_mis = {row["MISIdentifier"]: row for row in check_results(source, tmp_path / "out.csv")}
    first, second = by_mis[pupil.mis_identifier], by_mis["MIS-DUPLICATE"]
    assert first["Outcome"] == "NEW"
    if second["Outcome"] == "POSSIBLE_MATCH":
        assert first["ULN"] in second["CandidateULNs"].split(";")
    else:
        assert (second["Outcome"], second["ULN"]) == ("MATCHED", first["ULN"])


def test_bad_rows_are_rejected_with_a_reason_and_good_rows_registered(
    api: Api, school: Client, tmp_path: Path
) -> None:
    rows = list(generate_learners(10, seed=8))
    bad = {
        rows[1].mis_identifier: dataclasses.replace(rows[1], postcode="NOT A POSTCODE"),
        rows[4].mis_identifier: dataclasses.replace(rows[4], family_name=""),
        rows[6].mis_identifier: dataclasses.replace(rows[6], date_of_birth="2020-01-01"),
        rows[8].mis_identifier: dataclasses.replace(rows[8], date_of_birth="31/02/2011"),
    }
    source = write_file(tmp_path / "in.csv", [bad.get(row.mis_identifier, row) for row in rows])
    summary = register(school, source, tmp_path / "out.csv")
    results = check_results(source, tmp_path / "out.csv")
    for row in results:
        if row["MISIdentifier"] in bad:
            assert row["Outcome"] == "REJECTED" and row["Reason"] and row["Message"], row
        else:
            assert row["Outcome"] == "NEW", row
    assert summary.outcomes == Counter({"NEW": 6, "REJECTED": 4})
    assert learner_count(api.engine) == 6


def test_a_file_over_the_servers_stream_limit_is_split_by_the_client(engine: Engine, tmp_path: Path) -> None:
    token = OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "School").token
    server = start_server(engine, max_batch_rows=50)
    try:
        source = write_file(tmp_path / "in.csv", list(generate_learners(180, seed=9)))
        with Client(ConnectionSettings(f"127.0.0.1:{server.port}", token)) as client:
            summary = register(client, source, tmp_path / "out.csv")
    finally:
        server.stop(grace=1)
    results = check_results(source, tmp_path / "out.csv")
    assert summary.rows == len(results) == 180
    assert learner_count(engine) == len({row["ULN"] for row in results if row["ULN"]})


def test_a_file_with_a_wrong_header_exits_2_and_sends_nothing(api: Api, tmp_path: Path) -> None:
    bad = Path(__file__).parents[1] / "data" / "bad_lrb_header.csv"
    address, token = f"127.0.0.1:{api.server.port}", api.tokens[OrgKind.SCHOOL]
    command = [SCHOOL, "register", str(bad), "--out", str(tmp_path / "out.csv"), "--json"]
    done = subprocess.run(
        [*command, "--server", address, "--token", token],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert '"FILE_REJECTED"' in done.stdout
    assert learner_count(api.engine) == 0
    assert not (tmp_path / "out.csv").exists()


def test_re_sending_an_unchanged_file_keeps_corrections_made_since(
    api: Api, school: Client, tmp_path: Path
) -> None:
    """A row updates its learner when the school's row changed, not whenever the two differ: another
    school's correction made after the first submission survives the school sending its
    unchanged file again, and a row the school did change still updates the learner."""
    rows = list(generate_learners(10, seed=8))
    source = write_file(tmp_path / "in.csv", rows)
    register(school, source, tmp_path / "first.csv")
    corrected, changed = rows[2], rows[5]
    uln = ulns(tmp_path / "first.csv")[corrected.mis_identifier]
    moved_to = api.add_school("MOVED-TO")  # the pupil's new school: registers them, then corrects
    joined = api.registration.RegisterLearner(
        reg_pb.RegisterLearnerRequest(identity=row_request(1, corrected).identity), metadata=moved_to
    )
    assert (joined.outcome, joined.learner.uln) == (reg_pb.REGISTRATION_OUTCOME_MATCHED, uln)
    correction = row_request(1, dataclasses.replace(corrected, postcode="M1 1AE")).identity
    api.registration.UpdateLearner(
        reg_pb.UpdateLearnerRequest(uln=uln, identity=correction), metadata=moved_to
    )
    register(school, source, tmp_path / "again.csv")
    assert postcode_of(api, uln) == "M1 1AE"  # not reverted by the unchanged row
    moved = dataclasses.replace(changed, postcode="SW1A 1AA")
    edited = write_file(tmp_path / "edited.csv", [*rows[:5], moved, *rows[6:]])
    register(school, edited, tmp_path / "edited-results.csv")
    assert postcode_of(api, ulns(tmp_path / "first.csv")[changed.mis_identifier]) == "SW1A 1AA"
    assert postcode_of(api, uln) == "M1 1AE"


def postcode_of(api: Api, uln: str) -> str:
    with api.engine.connect() as c:
        return str(
            c.execute(text("SELECT postcode FROM learner WHERE uln = :uln"), {"uln": uln}).scalar_one()
        )


def test_an_mis_identifier_re_used_for_another_pupil_is_refused_not_merged(
    api: Api, school: Client, tmp_path: Path
) -> None:
    """A changed row updates its learner only while it still describes that learner: a row that now
    describes someone else (an identifier re-used, or rows swapped in the MIS) must not hand the
    learner's ULN and record to another child. It is rejected, changes nothing, and stays rejected."""
    rows = list(generate_learners(10, seed=12))
    source = write_file(tmp_path / "in.csv", rows)
    register(school, source, tmp_path / "first.csv")
    first = ulns(tmp_path / "first.csv")
    held = rows[4]
    stranger = dataclasses.replace(
        held,
        given_name="Oliver",
        family_name="Pemberton",
        gender="male" if held.gender == "female" else "female",
        date_of_birth="2011-01-17" if held.date_of_birth != "2011-01-17" else "2011-06-02",
        postcode="TR1 1AA",
        address_line1="9 Quay Street",
    )
    reused = write_file(tmp_path / "reused.csv", [*rows[:4], stranger, *rows[5:]])
    learners = learner_count(api.engine)
    for attempt in ("second.csv", "third.csv"):
        summary = register(school, reused, tmp_path / attempt)
        by_mis = {row["MISIdentifier"]: row for row in check_results(reused, tmp_path / attempt)}
        refused = by_mis[held.mis_identifier]
        assert (refused["Outcome"], refused["Reason"], refused["ULN"]) == (
            "REJECTED",
            "MIS_IDENTIFIER_CONFLICT",
            "",
        )
        assert "own MIS identifier" in refused["Message"]
        assert summary.outcomes == Counter({"MATCHED": len(rows) - 1, "REJECTED": 1})
    assert learner_count(api.engine) == learners
    with api.engine.connect() as c:
        given, family = c.execute(
            text("SELECT given_name, family_name FROM learner WHERE uln = :uln"),
            {"uln": first[held.mis_identifier]},
        ).one()
    assert (given, family) == (held.given_name, held.family_name)
    register(school, source, tmp_path / "original.csv")  # the school's own row for the pupil still works
    assert ulns(tmp_path / "original.csv") == first


def test_registering_one_learner_under_an_mis_identifier_of_another_is_failed_precondition(
    api: Api,
) -> None:
    school = api.auth()
    first = api.registration.RegisterLearner(
        factories.register_request(mis_identifier="MIS-77"), metadata=school
    )
    assert first.outcome == reg_pb.REGISTRATION_OUTCOME_NEW
    other = factories.register_request(mis_identifier="MIS-77", **factories.SOMEONE_ELSE)
    with pytest.raises(grpc.RpcError) as refused:
        api.registration.RegisterLearner(other, metadata=school)
    got = failure(refused.value)
    assert (got.code, got.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MIS_IDENTIFIER_CONFLICT")
    assert got.fields == {"mis_identifier": "MIS_IDENTIFIER_CONFLICT"}
    assert learner_count(api.engine) == 1


def test_a_changed_row_giving_the_name_the_pupil_goes_by_updates_and_a_twins_name_is_refused(
    api: Api, school: Client, tmp_path: Path
) -> None:
    """William -> Billy in the school's own row (forms of one birth name) is the same pupil; Ella ->
    Ellie (two names a letter apart, the twins' signature) is someone else."""
    rows = list(generate_learners(6, seed=21))
    rows[1] = dataclasses.replace(rows[1], given_name="William", gender="male")
    rows[2] = dataclasses.replace(rows[2], given_name="Ella", gender="female")
    source = write_file(tmp_path / "in.csv", rows)
    register(school, source, tmp_path / "first.csv")
    first = ulns(tmp_path / "first.csv")
    billy = dataclasses.replace(rows[1], given_name="Billy")
    ellie = dataclasses.replace(rows[2], given_name="Ellie")
    changed = write_file(tmp_path / "changed.csv", [rows[0], billy, ellie, *rows[3:]])
    register(school, changed, tmp_path / "second.csv")
    by_mis = {row["MISIdentifier"]: row for row in check_results(changed, tmp_path / "second.csv")}
    assert (by_mis[billy.mis_identifier]["Outcome"], by_mis[billy.mis_identifier]["ULN"]) == (
        "MATCHED",
        first[billy.mis_identifier],
    )
    assert (by_mis[ellie.mis_identifier]["Outcome"], by_mis[ellie.mis_identifier]["Reason"]) == (
        "REJECTED",
        "MIS_IDENTIFIER_CONFLICT",
    )
    with api.engine.connect() as c:
        given = c.execute(
            text("SELECT given_name FROM learner WHERE uln = :uln"), {"uln": first[billy.mis_identifier]}
        ).scalar_one()
    assert given == "Billy"
