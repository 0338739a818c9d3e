"""``lrs-school learner notices`` and ``learner digest`` as a learner uses them, against a real
``lrs-server`` subprocess."""

from __future__ import annotations

from tests.cli.test_cli import born_years_ago
from tests.cli.test_records_cli import COLLEGE_REF, Desk, as_json, error_of
from tests.cli.test_records_cli import desk as desk_fixture

desk = desk_fixture  # the module's served database, re-exported under its own name

NAMES = ("--given-name", "Noor", "--family-name", "Haddad")


def signed_in(desk: Desk, given: str = "Noor", family: str = "Haddad") -> tuple[str, str]:
    born = born_years_ago(17)
    uln = desk.register(given, family, born, postcode="LS1 4AP")
    code = as_json(desk.as_org("school", "learner-code", "--uln", uln))["code"]
    token = as_json(desk.cli("learner", "activate", "--uln", uln, "--date-of-birth", born, "--code", code))
    return uln, str(token["token"])


def test_notices_show_each_look_and_what_is_new_since_last_time(desk: Desk) -> None:
    uln, token = signed_in(desk)
    assert desk.as_org("post16", "verify", "--uln", uln, *NAMES).returncode == 0
    assert desk.as_org("post16", "record", uln, *NAMES).returncode == 0

    shown = desk.cli("learner", "notices", token=token)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    first = as_json(shown)
    college = [n for n in first["notices"] if n["organisation_ref"] == COLLEGE_REF]
    assert [(n["kind"], n["organisation_name"], n["new"]) for n in college] == [
        ("record_read", "Town College", True),
        ("verified", "Town College", True),
    ]
    assert first["new_count"] == len(first["notices"]) and first["last_seen_at"] == ""

    # Looking marked them seen: only the next look is new.
    desk.cli("learner", "sharing", "--opt-out", "post16", token=token)
    assert desk.as_org("post16", "record", uln, *NAMES).returncode == 0
    text = desk.cli("learner", "notices", token=token, as_json=False)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("1 new since you last looked (you last looked on ")
    assert lines[1].startswith("NEW ") and "Town College" in lines[1] and "withheld" in lines[1]
    assert not any(line.startswith("NEW") for line in lines[2:])
    # --keep-new leaves them new.
    assert as_json(desk.cli("learner", "notices", "--keep-new", token=token))["new_count"] == 0


def test_an_organisation_cannot_read_notices_and_the_digest_needs_a_mail_server(desk: Desk) -> None:
    _, token = signed_in(desk, "Tomasz", "Nowakowski")
    assert error_of(desk.as_org("post16", "learner", "notices"))["code"] == "PERMISSION_DENIED"
    # This test server has no mail server configured.
    refused = error_of(desk.cli("learner", "digest", "--email", "noor@example.org", token=token))
    assert (refused["code"], refused["reason"]) == ("FAILED_PRECONDITION", "DIGEST_UNAVAILABLE")
    assert as_json(desk.cli("learner", "digest", token=token))["digest"]["email"] == ""
    off = desk.cli("learner", "digest", token=token, as_json=False)
    assert off.stdout.strip() == "daily email of new notices: off"
