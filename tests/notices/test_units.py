"""The parts of notices with no server: how an access-log entry is classified, the mail server
option's parser, the digest's wording, and the retention policy's bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs_server import app
from lrs_server.domain.digest import MAX_LINES, compose
from lrs_server.domain.notices import NoticeKind, classify
from lrs_server.domain.record_ports import AccessView
from lrs_server.domain.retention import RetentionPolicy
from lrs_server.mail import SmtpSettings

REC = "lrs.v1.LearnerRecordService/GetLearnerRecord"


@pytest.mark.parametrize(
    ("rpc", "fields", "kind"),
    [
        (
            "lrs.v1.LearnerRegistrationService/FindLearnerByDemographics",
            ("given_name",),
            NoticeKind.FOUND_BY_DETAILS,
        ),
        ("lrs.v1.LearnerRegistrationService/FindLearnerByUln", ("given_name",), NoticeKind.FOUND_BY_ULN),
        ("lrs.v1.LearnerRegistrationService/VerifyLearner", ("given_name",), NoticeKind.VERIFIED),
        ("lrs.v1.LearnerRecordService/SubmitAchievements", ("given_name",), NoticeKind.VERIFIED),
        (REC, ("achievements", "given_name"), NoticeKind.RECORD_READ),
        (REC, ("given_name",), NoticeKind.RECORD_READ),
        (REC, ("achievements_withheld", "given_name"), NoticeKind.RECORD_REFUSED),
        # Shown only the results it sent itself, the rest withheld: still a refusal.
        (REC, ("achievements", "achievements_withheld"), NoticeKind.RECORD_REFUSED),
        ("lrs.v1.AdminService/MergeLearners", ("given_name",), NoticeKind.OTHER),
        ("lrs.v1.LearnerRegistrationService/RegisterLearner", (), NoticeKind.OTHER),
    ],
)
def test_each_access_is_classified(rpc: str, fields: tuple[str, ...], kind: NoticeKind) -> None:
    assert classify(rpc, fields) is kind


@given(st.text(), st.lists(st.text()))
def test_classify_never_fails(rpc: str, fields: list[str]) -> None:
    assert isinstance(classify(rpc, tuple(fields)), NoticeKind)


@given(st.text(max_size=40), st.text(max_size=40), st.booleans())
def test_the_mail_server_option_is_host_port_or_refused(address: str, sender: str, starttls: bool) -> None:
    try:
        parsed = SmtpSettings.parse(address, sender, starttls)
    except ValueError as refused:
        assert str(refused)
        return
    host, _, port = address.rpartition(":")
    assert (
        (parsed.host, parsed.port) == (host, int(port)) and 0 < parsed.port < 65536 and "@" in parsed.sender
    )


@pytest.mark.parametrize("address", ["mail.example.org", ":25", "host:0", "host:65536", "host:2x"])
def test_bad_mail_server_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        SmtpSettings.parse(address, "lrs@example.org", False)


def test_the_digest_lists_at_most_its_lines_and_counts_the_rest() -> None:
    at = datetime(2026, 11, 28, 9, 5, tzinfo=UTC)
    look = AccessView(
        7, at, "1234567890", "X1", "Town College", "post16", REC, ("achievements", "given_name")
    )
    text = compose([look] * MAX_LINES, MAX_LINES + 3)
    assert text.count("Town College read your learner record.") == MAX_LINES
    assert "- and 3 more." in text and "28 November 2026 at 09:05 UTC" in text
    assert "1234567890" not in text and "given_name" not in text and "achievements" not in text


@pytest.mark.parametrize("field", ["access_log_days", "notice_state_days", "activation_code_days"])
def test_retention_is_at_least_a_day(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetentionPolicy(**{field: 0})


@pytest.mark.parametrize(
    "options",
    [
        ["--smtp-from", "lrs@example.org"],
        ["--smtp-server", "127.0.0.1:25"],
        ["--smtp-server", "x", "--smtp-from", "a@b"],
    ],
)
def test_serve_refuses_half_a_mail_server(tmp_path: object, options: list[str]) -> None:
    with pytest.raises(SystemExit):
        app.main(
            [
                "serve",
                "--db",
                f"sqlite:///{tmp_path}/lrs.sqlite3",
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "1",
                *options,
            ]
        )
