"""The access log as several hash chains (storage/audit.py): disclosures spread over the chains'
heads, every chain verifies, tampering in any chain is found by ``lrs-server audit verify``, and
the learner's access log and notices page across chains by entry id, through a real server."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server import app
from lrs_server.domain.model import OrgKind
from lrs_server.storage import audit
from tests.notices.conftest import Learner, notices, signed_in_learner
from tests.records.conftest import selfservice
from tests.service.conftest import Api

READS = 24  # over two chains, both get entries unless the random draw is 1 in 2**23 unlucky


def keep_chains(engine: Engine, count: int) -> None:
    """Leave only heads 1..count (before anything is logged): a smaller K for a test."""
    with engine.begin() as c:
        assert c.execute(text("SELECT COUNT(*) FROM access_log")).scalar_one() == 0
        c.execute(text("DELETE FROM access_log_head WHERE id > :k"), {"k": count})


def look(api: Api, learner: Learner, times: int) -> None:
    for _ in range(times):
        api.registration.VerifyLearner(
            reg_pb.VerifyLearnerRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
            metadata=api.auth(OrgKind.POST16),
        )


def by_chain(engine: Engine) -> dict[int, int]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT chain, COUNT(*) FROM access_log GROUP BY chain")).all()
    return {int(chain): int(n) for chain, n in rows}


def heads(engine: Engine) -> dict[int, int]:
    with engine.connect() as c:
        return {int(i): int(n) for i, n in c.execute(text("SELECT id, entries FROM access_log_head"))}


def test_a_new_database_has_sixteen_chains_and_an_empty_log_verifies(api: Api, db_url: str) -> None:
    assert heads(api.engine) == dict.fromkeys(range(1, audit.CHAINS + 1), 0)
    assert audit.verify(api.engine) == audit.ChainReport(True, 0)
    assert app.main(["audit", "verify", "--db", db_url]) == 0


def test_disclosures_interleave_over_chains_and_every_chain_verifies(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    keep_chains(api.engine, 2)
    learner = signed_in_learner(api)
    look(api, learner, READS)
    counts = by_chain(api.engine)
    assert set(counts) == {1, 2} and heads(api.engine) == counts
    with api.engine.connect() as c:  # interleaved: consecutive entries (by id) change chain
        chains = list(c.execute(text("SELECT chain FROM access_log ORDER BY id")).scalars())
    assert any(a != b for a, b in itertools.pairwise(chains))
    report = audit.verify(api.engine)
    assert report.ok and report.entries == sum(counts.values())
    assert app.main(["audit", "verify", "--db", db_url]) == 0
    assert f"access log intact: {report.entries} entries" in capsys.readouterr().out


@pytest.mark.parametrize("tamper", ["alter", "delete_first", "delete_newest", "move", "drop_head"])
def test_tampering_in_chain_two_is_detected(
    api: Api, db_url: str, tamper: str, capsys: pytest.CaptureFixture[str]
) -> None:
    keep_chains(api.engine, 2)
    look(api, signed_in_learner(api), READS)
    assert audit.verify(api.engine).ok
    newest = "(SELECT MAX(seq) FROM access_log WHERE chain = 2)"
    statement = {
        "alter": "UPDATE access_log SET fields = 'given_name' WHERE chain = 2 AND seq = 1",
        "delete_first": "DELETE FROM access_log WHERE chain = 2 AND seq = 1",
        # Only the head still knows the newest entry was there.
        "delete_newest": f"DELETE FROM access_log WHERE chain = 2 AND seq = {newest}",
        # Moving an entry into the other chain breaks both.
        "move": f"UPDATE access_log SET chain = 1, seq = 1000 WHERE chain = 2 AND seq = {newest}",
        # Entries whose chain has no head any more cannot be checked: reported, not skipped.
        "drop_head": "DELETE FROM access_log_head WHERE id = 2",
    }[tamper]
    with api.engine.begin() as c:
        c.execute(text(statement))
    report = audit.verify(api.engine)
    chain = 1 if tamper == "move" else 2  # chains are checked in order: the move breaks 1 first
    assert not report.ok and report.chain == chain and report.first_bad_seq is not None
    if tamper == "delete_newest":
        assert "entries were deleted" in report.problem
    if tamper == "drop_head":
        assert "has no head row" in report.problem
    assert app.main(["audit", "verify", "--db", db_url]) == 1
    assert f"access log TAMPERED: chain {chain} " in capsys.readouterr().err


def test_the_access_log_and_notices_page_newest_first_across_chains(api: Api) -> None:
    learner = signed_in_learner(api)
    look(api, learner, READS)
    assert len(by_chain(api.engine)) > 1
    with api.engine.connect() as c:
        expected = [
            str(i)
            for i in c.execute(
                text("SELECT id FROM access_log WHERE organisation_id IS NOT NULL ORDER BY id DESC")
            ).scalars()
        ]
    assert len(expected) >= READS
    seen: list[str] = []
    token = ""
    while True:
        page = notices(api, learner, page_size=5, page_token=token)
        seen += [n.id for n in page.notices]
        token = page.next_page_token
        if not token:
            break
    assert seen == expected  # the notice id is the entry id: every entry once, newest first
    me = selfservice(api)
    log: list[str] = []
    token = ""
    while True:
        entries = me.ListMyAccessLog(
            self_pb.ListMyAccessLogRequest(page_size=7, page_token=token), metadata=learner.md
        )
        log += [e.at for e in entries.entries]
        token = entries.next_page_token
        if not token:
            break
    assert len(log) >= READS and log == sorted(log, reverse=True)
    # Marking the newest notice seen marks them all, whatever chain each is in.
    me.MarkNoticesSeen(self_pb.MarkNoticesSeenRequest(through_notice_id=expected[0]), metadata=learner.md)
    assert notices(api, learner).new_count == 0
    look(api, learner, 1)
    assert notices(api, learner).new_count == 1


def test_many_concurrent_disclosures_lose_no_entry_and_the_chains_verify(
    api: Api, db_url: str, request: pytest.FixtureRequest
) -> None:
    learner = signed_in_learner(api)
    before = sum(by_chain(api.engine).values())
    threads, each = 16, 10
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def disclose() -> None:
        try:
            start.wait()
            look(api, learner, each)
        except BaseException as error:  # reported below
            failures.append(error)

    workers = [threading.Thread(target=disclose) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    counts = by_chain(api.engine)
    assert sum(counts.values()) == before + threads * each and heads(api.engine) == {
        i: counts.get(i, 0) for i in range(1, audit.CHAINS + 1)
    }
    if "postgres" in db_url:  # concurrent appends took different heads
        assert len(counts) > 1
    assert audit.verify(api.engine).ok and app.main(["audit", "verify", "--db", db_url]) == 0


def test_migration_0007_keeps_a_one_chain_log_verifiable_and_notice_markers_both_ways(api: Api) -> None:
    from alembic import command

    from lrs_server.storage import migrate

    keep_chains(api.engine, 1)  # the log as it was before 0007: one chain
    learner = signed_in_learner(api)
    look(api, learner, 4)
    listed = notices(api, learner).notices
    through = listed[1].id  # the second newest: one notice stays new
    selfservice(api).MarkNoticesSeen(
        self_pb.MarkNoticesSeenRequest(through_notice_id=through), metadata=learner.md
    )

    def run(step: str, revision: str) -> None:
        with api.engine.begin() as connection:
            config = migrate._config()
            config.attributes["connection"] = connection
            getattr(command, step)(config, revision)

    def marker(column: str) -> int:
        with api.engine.connect() as c:
            return int(c.execute(text(f"SELECT {column} FROM learner_notice_state")).scalar_one())

    run("downgrade", "0006_learner_notices")
    with api.engine.connect() as c:
        seq = c.execute(text("SELECT seq FROM access_log WHERE id = :id"), {"id": int(through)}).scalar_one()
    assert marker("seen_seq") == seq  # the marker names the same entry by its seq again
    run("upgrade", "head")
    assert marker("seen_id") == int(through)
    with api.engine.begin() as c:
        assert c.execute(text("SELECT COUNT(*) FROM access_log_head")).scalar_one() == audit.CHAINS
        c.execute(text("DELETE FROM access_log_head WHERE id > 1"))  # as keep_chains: chain 1 only
    assert audit.verify(api.engine).ok
    assert notices(api, learner).new_count == 1


def _entry(engine: Engine) -> audit.NewEntry:
    with engine.connect() as c:
        learner = int(c.execute(text("SELECT MIN(id) FROM learner")).scalar_one())
    return audit.NewEntry(learner, None, "learner", "GetMyRecord", "", datetime.now(UTC))


def test_a_transaction_appending_twice_keeps_to_its_chain(api: Api) -> None:
    signed_in_learner(api)
    entry = _entry(api.engine)
    with api.engine.begin() as c:
        chain = audit.append(c, [entry])
        assert chain is not None and audit.append(c, [entry, entry], held=chain) == chain
        assert audit.append(c, [], held=chain) == chain
        seqs = list(
            c.execute(
                text("SELECT seq FROM access_log WHERE chain = :c ORDER BY seq"), {"c": chain}
            ).scalars()
        )
    assert seqs[-3:] == [seqs[-3], seqs[-3] + 1, seqs[-3] + 2] and audit.verify(api.engine).ok


def test_when_every_head_is_held_an_append_waits_for_one_then_appends(api: Api, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: no transaction holds a head while another appends")
    signed_in_learner(api)
    entry = _entry(api.engine)
    waits: list[float] = []
    audit.watch_lock_waits(api.engine, lambda _lock, seconds: waits.append(seconds))
    done = threading.Event()

    def append() -> None:
        with api.engine.begin() as c:
            audit.append(c, [entry])
        done.set()

    with api.engine.begin() as holder:
        holder.execute(text("SELECT id FROM access_log_head FOR UPDATE"))  # every head
        appender = threading.Thread(target=append)
        appender.start()
        assert not done.wait(1.0)  # no head free: it waits rather than skipping them all
    appender.join(10)
    assert done.is_set() and waits and waits[-1] >= 0.9  # measured from just after the thread began
    assert audit.verify(api.engine).ok
