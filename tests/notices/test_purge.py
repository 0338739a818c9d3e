"""Retention: ``lrs-server purge`` removes what is past retention, the access log's hash chain still
verifies afterwards, and an entry altered after the purge is still detected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import Engine, text

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server import app
from lrs_server.domain.clock import Clock
from lrs_server.domain.model import OrgKind
from lrs_server.domain.retention import Cutoffs
from lrs_server.server import LrsServer, ServerConfig
from lrs_server.storage import audit
from lrs_server.storage.purge import purge
from tests.conftest import TODAY
from tests.notices.conftest import Learner, notices, signed_in_learner
from tests.records.conftest import bearer, learner_token, record, selfservice
from tests.records.test_access_log_chains import by_chain, heads, keep_chains
from tests.service.conftest import Api

LATER = TODAY + timedelta(days=3650)  # after any day these tests run on


def days_to_keep() -> int:
    """Retention in days, counted from the real today, that puts the cut-off just after TODAY."""
    return (datetime.now(UTC) - TODAY).days - 1


@pytest.fixture
def later(api: Api) -> Iterator[Api]:
    """The same database served with a clock ten years on: its looks are within any retention."""
    server = LrsServer(
        api.engine, ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0), clock=Clock(LATER)
    )
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Api(channel, api.tokens, server, api.engine)
    channel.close()
    server.stop(grace=1)


def look(on: Api, learner: Learner, times: int = 1) -> None:
    for _ in range(times):
        on.registration.VerifyLearner(
            reg_pb.VerifyLearnerRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
            metadata=on.auth(OrgKind.POST16),
        )


def run_purge(db_url: str) -> int:
    days = str(days_to_keep())
    return app.main(
        [
            "purge",
            "--db",
            db_url,
            "--access-log-days",
            days,
            "--notice-state-days",
            days,
            "--activation-code-days",
            days,
        ]
    )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            name: int(c.execute(text(sql)).scalar_one())
            for name, sql in {
                "purged": "SELECT COUNT(*) FROM access_log WHERE purged",
                "kept": "SELECT COUNT(*) FROM access_log WHERE NOT purged",
                "blank": "SELECT COUNT(*) FROM access_log WHERE purged AND learner_id IS NULL"
                " AND organisation_id IS NULL AND rpc = '' AND fields = '' AND accessor_kind = ''",
                "through": "SELECT SUM(purged_through) FROM access_log_head",
                "codes": "SELECT COUNT(*) FROM activation_code",
                "states": "SELECT COUNT(*) FROM learner_notice_state",
            }.items()
        }


def test_purge_removes_what_is_past_retention_and_the_chain_still_verifies(
    api: Api, later: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    learner = signed_in_learner(api)
    look(api, learner, 3)
    first = notices(api, learner)
    selfservice(api).MarkNoticesSeen(
        self_pb.MarkNoticesSeenRequest(through_notice_id=first.notices[0].id), metadata=learner.md
    )
    look(later, learner, 2)
    record(later, later.auth(OrgKind.POST16), learner.uln)
    before = counts(api.engine)
    assert before["purged"] == 0 and before["codes"] == 1 and before["states"] == 1
    assert run_purge(db_url) == 0
    assert "access-log entries" in capsys.readouterr().out
    after = counts(api.engine)
    # Everything logged on TODAY is purged, a prefix of the chain; the later looks are kept whole.
    assert after["purged"] == after["blank"] == after["through"] == before["kept"] - 3
    assert after["kept"] == 3 and after["codes"] == 0 and after["states"] == 0
    assert audit.verify(api.engine).ok and app.main(["audit", "verify", "--db", db_url]) == 0
    # Notices are the log: the purged looks are gone from them, and the marker with them. (Ten years
    # on, the learner's sign-in has long expired: a new code from the school.)
    learner = Learner(learner.uln, bearer(learner_token(later, learner.uln)))
    remaining = notices(later, learner)
    assert remaining.last_seen_at == ""
    assert [n.kind for n in remaining.notices if n.organisation_kind == "post16"] == [
        self_pb.NOTICE_KIND_RECORD_READ,
        self_pb.NOTICE_KIND_VERIFIED,
        self_pb.NOTICE_KIND_VERIFIED,
    ]
    log = selfservice(later).ListMyAccessLog(self_pb.ListMyAccessLogRequest(), metadata=learner.md)
    assert all(e.at.startswith(str(LATER.year)) for e in log.entries)
    # A second purge has nothing more to do.
    assert run_purge(db_url) == 0 and "purged: 0 access-log entries" in capsys.readouterr().out
    assert counts(api.engine)["through"] == after["through"] and audit.verify(api.engine).ok


@pytest.mark.parametrize(
    "tamper", ["kept_content", "purged_hash", "purged_link", "fake_purge", "delete_purged"]
)
def test_an_entry_altered_after_the_purge_is_detected(api: Api, later: Api, db_url: str, tamper: str) -> None:
    keep_chains(api.engine, 1)  # one chain, so that seq numbers below name known entries
    learner = signed_in_learner(api)
    look(api, learner, 3)
    look(later, learner, 3)
    assert run_purge(db_url) == 0
    assert app.main(["audit", "verify", "--db", db_url]) == 0
    through = counts(api.engine)["through"]
    statement = {
        "kept_content": f"UPDATE access_log SET fields = 'given_name' WHERE seq = {through + 2}",
        "purged_hash": f"UPDATE access_log SET entry_hash = '{'0' * 64}' WHERE seq = 2",
        "purged_link": f"UPDATE access_log SET prev_hash = '{'0' * 64}' WHERE seq = 2",
        # Passing a recent entry off as purged, to hide who looked.
        "fake_purge": "UPDATE access_log SET purged = true, learner_id = NULL, organisation_id = NULL,"
        f" rpc = '', fields = '', accessor_kind = '' WHERE seq = {through + 1}",
        "delete_purged": "DELETE FROM access_log WHERE seq = 1",
    }[tamper]
    with api.engine.begin() as c:
        c.execute(text(statement))
    report = audit.verify(api.engine)
    assert not report.ok and report.first_bad_seq is not None
    assert app.main(["audit", "verify", "--db", db_url]) == 1


def test_purge_while_serving_keeps_one_chain(api: Api, later: Api, engine: Engine) -> None:
    learner = signed_in_learner(api)
    look(api, learner, 10)
    failures: list[BaseException] = []

    def keep_looking() -> None:
        try:
            look(later, learner, 30)
        except BaseException as error:  # reported below
            failures.append(error)

    looking = threading.Thread(target=keep_looking)
    looking.start()
    now = datetime.now(UTC)
    far = now - timedelta(days=3650)
    cut = Cutoffs(TODAY + timedelta(days=1), far, far, far)
    report = purge(engine, cut, now, batch=1)  # one entry a transaction: appends interleave
    looking.join()
    assert failures == []
    assert report.access_log_entries >= 10
    assert audit.verify(engine).ok
    fresh = Learner(learner.uln, bearer(learner_token(later, learner.uln)))
    assert len([n for n in notices(later, fresh).notices if n.organisation_kind == "post16"]) == 30


def test_purge_refuses_a_retention_under_a_day(db_url: str, engine: Engine) -> None:
    with pytest.raises(SystemExit, match="at least 1"):
        app.main(["purge", "--db", db_url, "--access-log-days", "0"])


def test_purge_removes_grants_ended_before_the_cut_off_and_keeps_live_ones(api: Api) -> None:
    from lrs_server.storage.organisations import OrganisationStore
    from tests.records.test_grants import _grant, _opted_out_learner, _revoke

    stores = OrganisationStore(api.engine)
    riverside = stores.add(OrgKind.POST16, "20000001", "Riverside College", town="Leeds")
    hillside = stores.add(OrgKind.POST16, "20000002", "Hillside College", town="Leeds")
    c, d = bearer(riverside.token), bearer(hillside.token)
    uln, token = _opted_out_learner(api)
    _grant(api, token, "20000001")
    _grant(api, token, "20000002")
    assert _revoke(api, token, "20000001") == 1

    def grant_rows() -> set[int]:
        with api.engine.connect() as connection:
            return set(connection.execute(text("SELECT organisation_id FROM learner_grant")).scalars())

    assert len(grant_rows()) == 2
    far = TODAY - timedelta(days=3650)
    report = purge(api.engine, Cutoffs(far, far, far, TODAY + timedelta(days=1)), TODAY)
    assert report.ended_grants == 1
    assert grant_rows() == {hillside.principal.org_id}
    assert not record(api, d, uln).achievements_withheld  # the live grant still opens the record
    assert record(api, c, uln).achievements_withheld
    assert audit.verify(api.engine).ok


def test_purge_goes_chain_by_chain_and_each_head_records_how_far(api: Api, later: Api, db_url: str) -> None:
    keep_chains(api.engine, 3)
    learner = signed_in_learner(api)
    look(api, learner, 30)
    old = by_chain(api.engine)
    look(later, learner, 30)
    assert run_purge(db_url) == 0
    with api.engine.connect() as c:
        purged = dict(
            c.execute(text("SELECT chain, COUNT(*) FROM access_log WHERE purged GROUP BY chain")).all()
        )
        through = dict(c.execute(text("SELECT id, purged_through FROM access_log_head")).all())
        kept_first = dict(
            c.execute(text("SELECT chain, MIN(seq) FROM access_log WHERE NOT purged GROUP BY chain")).all()
        )
    # Each chain's old entries are its prefix: purged, and its head says so; the rest kept whole.
    assert purged == old and through == old == {chain: first - 1 for chain, first in kept_first.items()}
    assert sum(by_chain(api.engine).values()) == sum(heads(api.engine).values())
    assert audit.verify(api.engine).ok and app.main(["audit", "verify", "--db", db_url]) == 0
    # Passing chain 3's oldest kept entry off as purged is still found, in chain 3.
    with api.engine.begin() as c:
        c.execute(
            text(
                "UPDATE access_log SET purged = true, learner_id = NULL, organisation_id = NULL, rpc = '',"
                " fields = '', accessor_kind = '' WHERE chain = 3 AND seq = :seq"
            ),
            {"seq": through[3] + 1},
        )
    report = audit.verify(api.engine)
    assert not report.ok and report.chain == 3 and "purge went only to entry" in report.problem
