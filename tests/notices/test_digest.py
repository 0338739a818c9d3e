"""The email digest: an address confirmed by an emailed code, then a digest of new notices through a
real SMTP server (aiosmtpd on loopback), never carrying record content."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import learner_service_pb2_grpc
from lrs_server import app
from lrs_server.domain.clock import Clock
from lrs_server.mail import SmtpMailer, SmtpSettings
from lrs_server.server import LrsServer, ServerConfig
from tests.conftest import TODAY
from tests.notices.conftest import Sink, body, signed_in_learner
from tests.notices.test_notices import look_in_every_way
from tests.records.conftest import selfservice
from tests.service.conftest import Api, failure
from tests.service.operations import serving

ADDRESS = "amara@example.org"


@pytest.fixture
def mailing(api: Api, smtp_sink: Sink) -> Iterator[Api]:
    """The same database served by a second server that has a mail server configured."""
    settings = SmtpSettings.parse(smtp_sink.address, "lrs@example.org", starttls=False)
    server = LrsServer(
        api.engine,
        ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0),
        clock=Clock(fixed=TODAY),
        mailer=SmtpMailer(settings),
    )
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Api(channel, api.tokens, server, api.engine)
    channel.close()
    server.stop(grace=1)


def confirmation_code(message_body: str) -> str:
    found = re.search(r"confirmation code is: (\w+)", message_body)
    assert found is not None, message_body
    return found.group(1)


def send_digests(db_url: str, sink: Sink) -> int:
    return app.main(
        ["send-digests", "--db", db_url, "--smtp-server", sink.address, "--smtp-from", "lrs@example.org"]
    )


def test_the_digest_reaches_the_mailbox_without_any_achievement(
    mailing: Api, smtp_sink: Sink, db_url: str, engine: Engine
) -> None:
    learner = signed_in_learner(mailing)
    started = selfservice(mailing).StartNoticeDigest(
        self_pb.StartNoticeDigestRequest(email=ADDRESS), metadata=learner.md
    )
    assert (started.digest.pending_email, started.digest.email) == (ADDRESS, "")
    (confirm,) = smtp_sink.wait_for(1)
    assert confirm["To"] == ADDRESS and "Confirm" in confirm["Subject"]
    code = confirmation_code(body(confirm))
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(mailing).ConfirmNoticeDigest(
            self_pb.ConfirmNoticeDigestRequest(code="WRONGONE"), metadata=learner.md
        )
    assert failure(caught.value).reason == "DIGEST_CONFIRMATION_FAILED"
    # Nothing goes to an unconfirmed address.
    assert send_digests(db_url, smtp_sink) == 0 and len(smtp_sink.messages) == 1
    confirmed = selfservice(mailing).ConfirmNoticeDigest(
        self_pb.ConfirmNoticeDigestRequest(code=code.lower()), metadata=learner.md
    )
    assert (confirmed.digest.email, confirmed.digest.pending_email) == (ADDRESS, "")

    look_in_every_way(mailing, learner)
    assert send_digests(db_url, smtp_sink) == 0
    digest = smtp_sink.wait_for(2)[1]
    assert digest["To"] == ADDRESS
    text = body(digest)
    assert "Test post16" in text and "read your learner record" in text and "withheld" in text
    assert "Test school" not in text  # its looks came before the address was confirmed
    # No record content: no result, no grade, no qualification, no ULN, no name, no field list.
    for secret in (
        "Mathematics",
        "601/4502/5",
        "GCSE",
        "grade",
        " 7",
        learner.uln,
        "Amara",
        "Okafor",
        "given_name",
        "date_of_birth",
    ):
        assert secret not in text and secret not in digest["Subject"], secret
    # A second run the same day has nothing new to tell, and sends nothing.
    assert send_digests(db_url, smtp_sink) == 0 and len(smtp_sink.messages) == 2
    # The address is held about the learner, so it is in their export.
    exported = selfservice(mailing).ExportMyData(self_pb.ExportMyDataRequest(), metadata=learner.md)
    assert exported.notice_digest.email == ADDRESS and exported.notice_digest.last_sent_at
    stopped = selfservice(mailing).StopNoticeDigest(self_pb.StopNoticeDigestRequest(), metadata=learner.md)
    assert stopped.digest.email == ""
    assert (
        selfservice(mailing).GetNoticeDigest(self_pb.GetNoticeDigestRequest(), metadata=learner.md).digest
        == self_pb.NoticeDigest()
    )


def test_five_wrong_codes_end_the_confirmation(mailing: Api, smtp_sink: Sink) -> None:
    learner = signed_in_learner(mailing)
    selfservice(mailing).StartNoticeDigest(
        self_pb.StartNoticeDigestRequest(email=ADDRESS), metadata=learner.md
    )
    code = confirmation_code(body(smtp_sink.wait_for(1)[0]))
    for _ in range(5):
        with pytest.raises(grpc.RpcError):
            selfservice(mailing).ConfirmNoticeDigest(
                self_pb.ConfirmNoticeDigestRequest(code="AAAAAAAA"), metadata=learner.md
            )
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(mailing).ConfirmNoticeDigest(
            self_pb.ConfirmNoticeDigestRequest(code=code), metadata=learner.md
        )
    assert failure(caught.value).reason == "DIGEST_CONFIRMATION_FAILED"
    got = selfservice(mailing).GetNoticeDigest(self_pb.GetNoticeDigestRequest(), metadata=learner.md)
    assert got.digest == self_pb.NoticeDigest()


@pytest.mark.parametrize(
    ("email", "reason"),
    [("", "FIELD_REQUIRED"), ("not an address", "EMAIL_INVALID"), ("a@b\x00.org", "TEXT_INVALID")],
)
def test_a_bad_address_is_refused_and_nothing_is_sent(
    mailing: Api, smtp_sink: Sink, email: str, reason: str
) -> None:
    learner = signed_in_learner(mailing)
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(mailing).StartNoticeDigest(
            self_pb.StartNoticeDigestRequest(email=email), metadata=learner.md
        )
    f = failure(caught.value)
    assert (f.code, f.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"email": reason})
    assert smtp_sink.messages == []


def test_no_mail_server_no_digest(api: Api) -> None:
    learner = signed_in_learner(api)
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(api).StartNoticeDigest(
            self_pb.StartNoticeDigestRequest(email=ADDRESS), metadata=learner.md
        )
    f = failure(caught.value)
    assert (f.code, f.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DIGEST_UNAVAILABLE")


def test_a_mail_server_that_is_down_is_said_so(api: Api, engine: Engine) -> None:
    from tests.notices.conftest import free_port

    settings = SmtpSettings.parse(f"127.0.0.1:{free_port()}", "lrs@example.org", starttls=False)
    server = LrsServer(
        engine,
        ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0),
        clock=Clock(fixed=TODAY),
        mailer=SmtpMailer(settings),
    )
    server.start()
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        down = Api(channel, api.tokens, server, engine)
        learner = signed_in_learner(down)
        with pytest.raises(grpc.RpcError) as caught:
            selfservice(down).StartNoticeDigest(
                self_pb.StartNoticeDigestRequest(email=ADDRESS), metadata=learner.md
            )
        f = failure(caught.value)
        assert (f.code, f.reason) == (grpc.StatusCode.UNAVAILABLE, "EMAIL_NOT_SENT")
        channel.close()
    finally:
        server.stop(grace=1)


def test_send_digests_needs_its_mail_server(db_url: str, engine: Engine) -> None:
    with pytest.raises(SystemExit):
        app.main(["send-digests", "--db", db_url])
    with pytest.raises(SystemExit, match="HOST:PORT"):
        app.main(["send-digests", "--db", db_url, "--smtp-server", "nohost", "--smtp-from", "a@b.org"])


def test_serve_with_a_mail_server_emails_the_code_from_its_workers(
    api: Api, db_url: str, smtp_sink: Sink, tmp_path: Path
) -> None:
    """``lrs-server serve --workers 2 --smtp-server ...``: the option reaches the spawned workers."""
    learner = signed_in_learner(api)
    options = ("--workers", "2", "--smtp-server", smtp_sink.address, "--smtp-from", "lrs@example.org")
    with serving(db_url, tmp_path / "served", *options) as served:
        channel = served.channel()
        stub = learner_service_pb2_grpc.LearnerSelfServiceStub(channel)
        stub.StartNoticeDigest(
            self_pb.StartNoticeDigestRequest(email=ADDRESS), metadata=learner.md, timeout=30
        )
        (message,) = smtp_sink.wait_for(1)
        assert message["To"] == ADDRESS and message["From"] == "lrs@example.org"
        assert confirmation_code(body(message))
        channel.close()
