"""Time RegistrationService.register against registries of 10k, 100k and 1M preloaded learners.

    .venv/bin/python -m bench.registration_scale                       # 10k, 100k, 1M; 2,000 each
    .venv/bin/python -m bench.registration_scale --sizes 10000 --registrations 500
    .venv/bin/python -m bench.registration_scale --sizes 10000 1000000 --rounds 6   # 10k, 1M, 1M, 10k, ...
    .venv/bin/python -m bench.registration_scale --sizes 10000 1000000 --interleave 100 --rounds 6
    .venv/bin/python -m bench.registration_scale --postgres postgresql+psycopg://postgres@127.0.0.1/lrs_bench_1m

Each size's registry is preloaded once (bench/out/lrs-<size>.sqlite3, reused when present) and copied
to a scratch file for the run, so every run starts from the same registry. With ``--postgres``, the
registry is a scratch copy of that preloaded PostgreSQL database (bench/preload.py --db URL), as
bench.batch_throughput does. The service is built as
lrs_server/server.py builds it (SqlLearnerStore, default_matcher(), Clock(), Disclosure()) and called
in-process for a school. Half the registrations are new people, half re-registrations of preloaded
learners with the synthetic generator's variations (typos, nicknames, new address, ...). The
latency is the whole register() call: validation, candidate fetch, frequency reads, decision,
inserts, the access log and the commit.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from bench.batch_throughput import postgres_copy
from bench.preload import PRELOAD_ORG_REF, birth_years, organisation_id, preload
from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError
from lrs_server.domain.model import OrgKind, Principal, RawIdentity, learner_record
from lrs_server.domain.registration import RegistrationCommand, RegistrationResult, RegistrationService
from lrs_server.privacy import Disclosure
from lrs_server.server import tune_garbage_collector
from lrs_server.storage import migrate
from lrs_server.storage.engine import WalCheckpointer, make_engine
from lrs_server.storage.learners import LEARNER, SqlLearnerStore
from matching import default_matcher
from matching.matcher import ProbabilisticMatcher
from matching.synthetic import SyntheticStream
from matching.types import Candidate, FrequencyLookup, MatchDecision, Outcome, PersonRecord

OUT = Path("bench/out")
NOT_KNOWN_POSTCODE = "ZZ99 3CZ"


class CountingMatcher(ProbabilisticMatcher):
    """The default matcher, remembering how many candidates each decision weighed."""

    def __init__(self) -> None:
        super().__init__(default_matcher().config)
        self.sizes: list[int] = []
        self.last: MatchDecision | None = None

    def decide(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> MatchDecision:
        self.sizes.append(len(candidates))
        self.last = super().decide(query, candidates, frequencies)
        return self.last


@dataclass(frozen=True, slots=True)
class Case:
    record: PersonRecord
    learner_id: int | None  # the preloaded learner re-registered, or None for a new person
    variations: tuple[str, ...] = ()


def _raw(record: PersonRecord) -> RawIdentity:
    return RawIdentity(
        given_name=record.given_name,
        family_name=record.family_name,
        date_of_birth=record.date_of_birth.isoformat(),
        gender=record.gender,
        postcode=record.postcode.strip() or NOT_KNOWN_POSTCODE,
        middle_names=record.middle_names,
        preferred_given_name=record.preferred_given_name,
        previous_family_name=record.previous_family_names[0] if record.previous_family_names else "",
        address_line1=record.address_line1,
        address_line2=record.address_line2,
        town=record.town,
        upn=record.upn,
    )


def _registry(size: int, seed: int) -> Path:
    """The pristine preloaded database for ``size`` learners (built if missing)."""
    label = f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"
    path = OUT / f"lrs-{label}.sqlite3"
    if path.exists():
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            held = connection.execute(select(func.count()).select_from(LEARNER)).scalar_one()
        engine.dispose()
        if held == size:
            return path
        print(f"{path} holds {held} learners, not {size}: rebuilding", file=sys.stderr)
        for stale in OUT.glob(f"{path.name}*"):
            stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    preload(engine, size, seed)
    engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"preloaded {size:,} learners in {elapsed:.1f} s ({size / elapsed:,.0f}/s)", flush=True)
    return path


def _cases(engine: Engine, count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    with engine.connect() as connection:
        highest = connection.execute(select(func.max(LEARNER.c.id))).scalar_one()
    with SqlLearnerStore(engine).read() as tx:
        learners = tx.learners_by_ids(rng.sample(range(1, highest + 1), count // 2))
    variations = SyntheticStream(seed + 1)
    cases = []
    for learner in learners:
        record, applied = variations.vary(learner_record(learner))
        cases.append(Case(record, learner.id, applied))
    fresh = SyntheticStream(seed + 2, birth_years=birth_years())
    cases.extend(Case(person, None) for person in fresh.new_people(count - len(cases)))
    rng.shuffle(cases)
    return cases


@dataclass(slots=True)
class Figures:
    size: int
    latencies: list[float]
    candidates: list[int]
    outcomes: Counter[str]
    refused: int

    def line(self) -> str:
        times = sorted(self.latencies)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        return (
            f"{self.size:>9,}  {len(times):>5}  {statistics.median(times) * 1e3:7.2f}  {p99 * 1e3:7.2f}"
            f"  {statistics.fmean(self.candidates):6.1f}  {max(self.candidates):5}"
        )


def _print_false_merge(case: Case, decision: MatchDecision | None) -> None:
    """A new person MATCHED to an existing learner: show why (field levels and weights)."""
    r = case.record
    print(f"  FALSE MERGE: {r.given_name} {r.family_name} {r.date_of_birth} {r.gender} {r.postcode}")
    if decision is None or not decision.candidates:
        return
    best = decision.candidates[0]
    fields = ", ".join(f"{c.field}={c.level} {c.weight:+.1f}" for c in best.comparisons)
    print(f"    weight {best.match_weight:.1f}: {fields}", flush=True)


@contextmanager
def _scratch_registry(size: int, seed: int, postgres: str) -> Iterator[str]:
    """The URL of a scratch copy of the preloaded registry, removed afterwards."""
    if postgres:
        with postgres_copy(postgres) as url:
            yield url
        return
    pristine = _registry(size, seed)
    scratch = pristine.with_name(pristine.stem + ".run.sqlite3")
    for stale in OUT.glob(f"{scratch.name}*"):
        stale.unlink()
    shutil.copyfile(pristine, scratch)
    with open(scratch, "rb") as copied:
        # On disk before it is used: the copy's writeback (a gigabyte at 1M learners) would otherwise
        # land in the measured registrations' commits, as it did in bench.batch_throughput.
        os.fsync(copied.fileno())
    try:
        yield f"sqlite:///{scratch}"
    finally:
        for stale in OUT.glob(f"{scratch.name}*"):
            stale.unlink()


class Sitting:
    """One registry under measurement: its service, its cases, and what registering them gave.

    ``step`` registers the next case; several sittings can be stepped in turn (``--interleave``),
    so that whatever the machine is doing meanwhile falls on every size alike."""

    def __init__(self, engine: Engine, size: int, registrations: int, seed: int) -> None:
        migrate.upgrade(engine)  # a registry preloaded under an older schema, as lrs-server serve would
        self._engine = engine
        self._size = size
        self._checkpointer = WalCheckpointer.for_engine(engine)  # as lrs_server/server.py runs one
        if self._checkpointer is not None:
            self._checkpointer.start()
        school = organisation_id(engine, "BENCH-SCHOOL", OrgKind.SCHOOL.value, "Benchmark School")
        assert school != organisation_id(engine, PRELOAD_ORG_REF)
        self._principal = Principal(school, OrgKind.SCHOOL, "BENCH-SCHOOL", "Benchmark School")
        self._matcher = CountingMatcher()
        self._service = RegistrationService(SqlLearnerStore(engine), self._matcher, Clock(), Disclosure())
        self._cases = _cases(engine, registrations, seed + 10)
        with SqlLearnerStore(engine).read() as tx:
            wanted = [c.learner_id for c in self._cases if c.learner_id is not None]
            self._ulns = {lr.id: lr.uln for lr in tx.learners_by_ids(wanted)}
        for person in SyntheticStream(seed + 3, birth_years=birth_years()).new_people(50):
            self._register(Case(person, None))  # warm-up, not measured
        self._warmup = len(self._matcher.sizes)
        self._next = 0
        self._latencies: list[float] = []
        self._outcomes: Counter[str] = Counter()
        self._refused = 0

    @property
    def remaining(self) -> int:
        return len(self._cases) - self._next

    def _register(self, case: Case) -> tuple[RegistrationResult | None, float]:
        command = RegistrationCommand(identity=_raw(case.record), post14_qualification=True)
        started = time.perf_counter()
        try:
            result = self._service.register(self._principal, command, "RegisterLearner")
        except DomainError:
            return None, 0.0
        return result, time.perf_counter() - started

    def step(self) -> None:
        case = self._cases[self._next]
        self._next += 1
        result, elapsed = self._register(case)
        if result is None:
            self._refused += 1
            return
        self._latencies.append(elapsed)
        kind = "new person" if case.learner_id is None else "re-registration"
        outcome = result.outcome.name
        if case.learner_id is not None and result.outcome is Outcome.MATCHED:
            assert result.learner is not None
            if result.learner.uln != self._ulns[case.learner_id]:
                outcome = "MATCHED_WRONG_LEARNER"
        if case.learner_id is None and result.outcome is Outcome.MATCHED:
            _print_false_merge(case, self._matcher.last)
        self._outcomes[f"{kind}: {outcome}"] += 1

    def close(self) -> Figures:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._engine.dispose()
        sizes = self._matcher.sizes[self._warmup :]
        return Figures(self._size, self._latencies, sizes, self._outcomes, self._refused)


def run(size: int, registrations: int, seed: int, postgres: str = "") -> Figures:
    """One size on its own."""
    tune_garbage_collector()  # as lrs-server serve does
    with _scratch_registry(size, seed, postgres) as url:
        sitting = Sitting(make_engine(url), size, registrations, seed)
        while sitting.remaining:
            sitting.step()
        return sitting.close()


def run_interleaved(sizes: Sequence[int], registrations: int, seed: int, block: int) -> list[Figures]:
    """Every size's registry open at once, ``block`` registrations of each in turn (the order of the
    sizes reversed every other turn): one run in which the machine's drift falls on every size."""
    tune_garbage_collector()
    with ExitStack() as stack:
        urls = [stack.enter_context(_scratch_registry(size, seed, "")) for size in sizes]
        sittings = [
            Sitting(make_engine(url), size, registrations, seed)
            for url, size in zip(urls, sizes, strict=True)
        ]
        turn = 0
        while any(s.remaining for s in sittings):
            for sitting in sittings if turn % 2 == 0 else reversed(sittings):
                for _ in range(min(block, sitting.remaining)):
                    sitting.step()
            turn += 1
        return [s.close() for s in sittings]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every size this many times, the order reversed each round (ABBA), and give the median "
        "of the rounds' largest/smallest ratios: a machine whose speed drifts moves both sizes of a round",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="BLOCK",
        help="open every size's registry at once and register BLOCK cases of each in turn (a round is "
        "one such run): the machine's drift then falls on every size alike",
    )
    parser.add_argument("--postgres", default="", help="a preloaded PostgreSQL database (its size only)")
    args = parser.parse_args()
    if args.interleave and args.postgres:
        parser.error("--interleave is for the SQLite preloads")
    if args.postgres:
        engine = make_engine(args.postgres)
        with engine.connect() as connection:
            args.sizes = [connection.execute(select(func.count()).select_from(LEARNER)).scalar_one()]
        engine.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()} "
        f"sqlite {sqlite3.sqlite_version}; command: {' '.join(sys.argv)}"
    )
    rounds: list[list[Figures]] = []
    for number in range(args.rounds):
        sizes = args.sizes if number % 2 == 0 else list(reversed(args.sizes))
        if args.interleave:
            measured = run_interleaved(sizes, args.registrations, args.seed, args.interleave)
        else:
            measured = [run(size, args.registrations, args.seed, args.postgres) for size in sizes]
        for figures in measured:
            outcomes = dict(sorted(figures.outcomes.items()))
            print(f"  {figures.size:,}: {outcomes}; refused {figures.refused}", flush=True)
        results = {figures.size: figures for figures in measured}
        rounds.append([results[size] for size in args.sizes])
    print("registry  regs  median ms  p99 ms  mean cands  max cands")
    for measured in rounds:
        for figures in measured:
            print(figures.line())
    if len(args.sizes) > 1:
        ratios = [_ratio(measured) for measured in rounds]
        smallest, largest = args.sizes[0], args.sizes[-1]
        listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(f"median ratio {largest:,} / {smallest:,}: {statistics.median(ratios):.2f} (rounds: {listed})")


def _ratio(results: Sequence[Figures]) -> float:
    """The largest registry's median latency over the smallest's."""
    return statistics.median(results[-1].latencies) / statistics.median(results[0].latencies)


if __name__ == "__main__":
    main()
