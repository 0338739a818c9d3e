"""Grants as a learner makes them: ``lrs-school learner organisations|grant|revoke|grants`` subprocesses
against a real ``lrs-server`` (and ``lrs-server org add --town`` / ``org town`` to place organisations)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.cli.test_cli import SERVER, as_json, born_years_ago, run
from tests.cli.test_records_cli import Desk, desk, error_of, results_csv  # noqa: F401  (the fixture)

NAMES = ("--given-name", "Priya", "--family-name", "Ashworth")


def test_a_learner_finds_a_college_grants_it_and_revokes(desk: Desk, tmp_path: Path) -> None:  # noqa: F811
    placed = run([SERVER, "org", "town", "--ref", "10000002", "--town", "Leeds", "--db", desk.db])
    assert placed.returncode == 0, placed.stderr
    added = run(
        [
            *(SERVER, "org", "add", "--kind", "post16", "--ref", "10000009"),
            *("--name", "Leeds City College", "--town", "Leeds", "--json", "--db", desk.db),
        ]
    )
    assert added.returncode == 0, added.stderr
    other_college = as_json(added)["token"]
    unknown = run([SERVER, "org", "town", "--ref", "99999999", "--town", "York", "--db", desk.db])
    assert unknown.returncode == 1 and "no organisation" in unknown.stderr

    born = born_years_ago(17)
    uln = desk.register("Priya", "Ashworth", born, postcode="LS1 4AP")
    source = results_csv(tmp_path / "results.csv", uln, "Priya", "Ashworth")
    desk.as_org("school", "results", "submit", str(source), "--out", str(tmp_path / "out.csv"))
    code = as_json(desk.as_org("school", "learner-code", "--uln", uln))["code"]
    token = as_json(desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", born, "--code", code))[
        "token"
    ]
    desk.cli("learner", "sharing", "--opt-out", "post16", token=token)

    found = as_json(desk.cli("learner", "organisations", "--town", "leeds", "--kind", "post16", token=token))
    assert [(o["ref"], o["name"], o["kind"]) for o in found["organisations"]] == [
        ("10000009", "Leeds City College", "post16"),
        ("10000002", "Town College", "post16"),
    ]
    readable = desk.cli("learner", "organisations", "--name", "town", token=token, as_json=False)
    assert "Town College (10000002, post16, Leeds)" in readable.stdout

    until = (date.today() + timedelta(days=30)).isoformat()
    granted = as_json(desk.cli("learner", "grant", "--org", "10000002", "--until", until, token=token))
    assert granted["grant"]["expires_on"] == until
    assert len(as_json(desk.as_org("post16", "record", uln, *NAMES))["achievements"]) == 3
    other = as_json(desk.cli("record", uln, *NAMES, token=other_college))
    assert other["achievements_withheld"] is True and other["achievements"] == []

    listed = desk.cli("learner", "grants", token=token, as_json=False)
    assert f"Town College (10000002, post16, Leeds) until the end of {until}" in listed.stdout

    too_late = (date.today() + timedelta(days=800)).isoformat()
    refused = error_of(desk.cli("learner", "grant", "--org", "10000002", "--until", too_late, token=token))
    assert refused["code"] == "INVALID_ARGUMENT"
    assert [(v["field"], v["reason"]) for v in refused["field_violations"]] == [
        ("expires_on", "GRANT_EXPIRY_INVALID")
    ]
    assert error_of(desk.cli("learner", "grant", "--org", "ADMIN999", token=token))["reason"] == (
        "ORGANISATION_NOT_FOUND"
    )

    revoked = desk.cli("learner", "revoke", "--org", "10000002", token=token, as_json=False)
    assert "can no longer see your achievements" in revoked.stdout
    after = as_json(desk.as_org("post16", "record", uln, *NAMES))
    assert after["achievements_withheld"] is True and after["achievements"] == []
    assert as_json(desk.cli("learner", "grants", token=token)) == {"grants": []}
    again = desk.cli("learner", "revoke", "--org", "10000002", token=token, as_json=False)
    assert "nothing changed" in again.stdout
    # Organisations cannot grant: the commands are the learner's.
    assert error_of(desk.as_org("post16", "learner", "grants"))["code"] == "PERMISSION_DENIED"
