"""Run the synthetic registration stream through the real matcher and report how it did.

    python -m matching.evaluate --n 100000 --seed 1

The blocking index is an in-memory dict (key -> learner ids) holding exactly the keys the database
would. A NEW registration creates a learner (indexed, counted for term frequencies); a MATCHED one
links to its match; a POSSIBLE_MATCH goes to a (simulated, always right) human reviewer.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from matching.matcher import ProbabilisticMatcher, default_matcher
from matching.synthetic import LOOKALIKE_KINDS, VARIATIONS, Registration, SyntheticStream
from matching.types import Candidate, Outcome, PersonRecord, ScoredCandidate

T = TypeVar("T", int, float)


class CountingFrequencies:
    """The FrequencyLookup the server keeps: learners per (field, normalised value)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.learners = 0

    def add(self, terms: Iterable[tuple[str, str]]) -> None:
        self.learners += 1
        self.counts.update(terms)

    def count(self, field: str, value: str) -> int:
        return self.counts[(field, value)]

    def total(self) -> int:
        return self.learners


@dataclass
class Tally:
    registrations: int = 0
    missed: int = 0
    review: int = 0
    false_merges: int = 0
    blocking_misses: int = 0

    def rate(self, count: int) -> float:
        return count / self.registrations if self.registrations else 0.0


@dataclass
class EvaluationResult:
    registrations: int = 0
    duplicates: int = 0  # re-registrations of a person who already has a learner
    false_merges: int = 0
    missed: int = 0
    review: int = 0
    blocking_retrieved: int = 0
    per_variation: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # A look-alike merged into its own family (twin into twin, child into parent): the failure the
    # look-alike rows exist to catch.
    lookalike_merges: Counter[str] = field(default_factory=Counter)
    # A look-alike merged into an unrelated learner who happens to share name and birth date: a false
    # merge like a new person's (counted in false_merges too), reported apart so that the two are not
    # mistaken for each other.
    lookalike_stranger_merges: Counter[str] = field(default_factory=Counter)
    lookalike_reviews: Counter[str] = field(default_factory=Counter)
    lookalike_counts: Counter[str] = field(default_factory=Counter)
    pair_true_positive: int = 0
    pair_predicted: int = 0
    pair_actual: int = 0
    decide_seconds: list[float] = field(default_factory=list)
    candidate_counts: list[int] = field(default_factory=list)
    largest_block: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.pair_true_positive / self.pair_predicted if self.pair_predicted else 1.0

    @property
    def recall(self) -> float:
        return self.pair_true_positive / self.pair_actual if self.pair_actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def blocking_recall(self) -> float:
        return self.blocking_retrieved / self.duplicates if self.duplicates else 1.0


def _pairs(sizes: Iterable[int]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes)


def _describe(record: PersonRecord) -> str:
    return (
        f"{record.given_name}|{record.middle_names}|{record.family_name}|{record.previous_family_names}|"
        f"{record.date_of_birth}|{record.postcode}|{record.gender.value}|"
        f"{record.address_line1}/{record.address_line2}/{record.town}|{record.upn}"
    )


def _levels(scored: ScoredCandidate) -> str:
    """Each field's level and weight: ``given_name=nickname(+4.6)``."""
    return " ".join(f"{c.field}={c.level}({c.weight:+.1f})" for c in scored.comparisons)


def evaluate(
    registrations: Iterable[Registration], matcher: ProbabilisticMatcher | None = None, keep_examples: int = 0
) -> EvaluationResult:
    matcher = matcher or default_matcher()
    result = EvaluationResult()
    index: dict[str, list[int]] = defaultdict(list)
    learners: list[PersonRecord] = []
    learner_person: list[int] = []
    person_learners: dict[int, list[int]] = defaultdict(list)
    frequencies = CountingFrequencies()
    assigned: list[tuple[int, int]] = []  # (learner, person) per registration
    family: dict[int, int] = {}  # person -> the person their look-alike line started from

    def new_learner(record: PersonRecord, person_id: int, keys: frozenset[str]) -> int:
        learner_id = len(learners)
        learners.append(record)
        learner_person.append(person_id)
        person_learners[person_id].append(learner_id)
        for key in keys:
            index[key].append(learner_id)
        frequencies.add(matcher.frequency_terms(record).items())
        return learner_id

    def note(text: str) -> None:
        if len(result.examples) < keep_examples:
            result.examples.append(text)

    for registration in registrations:
        record, person_id = registration.record, registration.person_id
        result.registrations += 1
        keys = matcher.blocking_keys(record)
        ids: set[int] = set()
        for key in keys:
            block = index.get(key)
            if block:
                ids.update(block)
                result.largest_block = max(result.largest_block, len(block))
        candidates = [Candidate(i, learners[i]) for i in sorted(ids)]
        result.candidate_counts.append(len(candidates))
        started = time.perf_counter()
        decision = matcher.decide(record, candidates, frequencies)
        result.decide_seconds.append(time.perf_counter() - started)

        existing = person_learners.get(person_id, [])
        is_duplicate = bool(existing)
        tally: list[Tally] = []
        if is_duplicate:
            result.duplicates += 1
            tally = [result.per_variation[v] for v in registration.variations] + [
                result.per_variation["(all)"]
            ]
            for t in tally:
                t.registrations += 1
            if ids.intersection(existing):
                result.blocking_retrieved += 1
            else:
                for t in tally:
                    t.blocking_misses += 1
        if registration.kind in LOOKALIKE_KINDS and registration.source_person_id is not None:
            result.lookalike_counts[registration.kind] += 1
            family.setdefault(
                person_id, family.get(registration.source_person_id, registration.source_person_id)
            )

        if decision.outcome is Outcome.MATCHED:
            assert decision.matched_id is not None
            learner_id = decision.matched_id
            if learner_person[learner_id] != person_id:
                result.false_merges += 1
                if registration.kind in LOOKALIKE_KINDS:
                    other = learner_person[learner_id]
                    if family.get(person_id, person_id) == family.get(other, other):
                        result.lookalike_merges[registration.kind] += 1
                    else:
                        result.lookalike_stranger_merges[registration.kind] += 1
                for t in tally:
                    t.false_merges += 1
                wrong = _describe(learners[learner_id])
                merged = decision.candidates[0]
                note(
                    f"FALSE MERGE {registration.kind} {_describe(record)} -> {wrong} "
                    f"w={merged.match_weight:.1f} {_levels(merged)}"
                )
        elif decision.outcome is Outcome.POSSIBLE_MATCH:
            result.review += 1
            for t in tally:
                t.review += 1
            if registration.kind in LOOKALIKE_KINDS:
                result.lookalike_reviews[registration.kind] += 1
            best = decision.candidates[0]
            levels = _levels(best)
            note(
                f"REVIEW {registration.variations or registration.kind} {_describe(record)} -> "
                f"{_describe(learners[best.candidate_id])} w={best.match_weight:.1f} {levels}"
            )
            learner_id = existing[0] if existing else new_learner(record, person_id, keys)
        else:
            if is_duplicate:
                result.missed += 1
                for t in tally:
                    t.missed += 1
                if len(result.examples) < keep_examples:
                    true = matcher.score(
                        record, [Candidate(existing[0], learners[existing[0]])], frequencies
                    )[0]
                    note(
                        f"MISSED {registration.variations} {_describe(record)} ~ "
                        f"{_describe(learners[existing[0]])} w={true.match_weight:.1f} {_levels(true)}"
                    )
            learner_id = new_learner(record, person_id, keys)
        assigned.append((learner_id, person_id))

    result.pair_predicted = _pairs(Counter(learner for learner, _ in assigned).values())
    result.pair_actual = _pairs(Counter(person for _, person in assigned).values())
    result.pair_true_positive = _pairs(Counter(assigned).values())
    return result


def _p99(ordered: list[T]) -> T:
    return ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)]


def report(result: EvaluationResult) -> str:
    n = result.registrations
    times = sorted(result.decide_seconds)
    counts = sorted(result.candidate_counts)
    lines = [
        f"registrations                 {n}",
        f"re-registrations (duplicates) {result.duplicates} ({result.duplicates / n:.1%})",
        f"false merges                  {result.false_merges} ({result.false_merges / n * 1e4:.2f} per 10k)",
        f"missed duplicates             {result.missed} ({result.missed / max(result.duplicates, 1):.2%} of "
        f"duplicates, {result.missed / n:.2%} of registrations)",
        f"sent to review                {result.review} ({result.review / n:.2%})",
        f"pairwise precision/recall/F1  {result.precision:.5f} / {result.recall:.5f} / {result.f1:.5f} "
        f"(reviews resolved correctly)",
        f"blocking recall               {result.blocking_recall:.4%}",
        f"candidates per registration   median {statistics.median(counts)}, p99 {_p99(counts)}, "
        f"max {counts[-1]}; largest block {result.largest_block}",
        f"decide() time                 median {statistics.median(times) * 1e6:.0f} us, "
        f"p99 {_p99(times) * 1e6:.0f} us",
        "",
        "look-alikes                   registrations  merged into own family  into a stranger  reviewed",
    ]
    for kind in LOOKALIKE_KINDS:
        lines.append(
            f"  {kind:<27} {result.lookalike_counts[kind]:>13}  {result.lookalike_merges[kind]:>22}  "
            f"{result.lookalike_stranger_merges[kind]:>15}  {result.lookalike_reviews[kind]:>8}"
        )
    lines += ["", "re-registrations by variation  count  missed  review  false-merge  blocking-miss"]
    # Every variation the stream can make, even one this run never drew (a zero row, not a gap).
    variations = sorted({"(all)", *VARIATIONS, *result.per_variation})
    for variation, t in ((v, result.per_variation.get(v, Tally())) for v in variations):
        lines.append(
            f"  {variation:<27} {t.registrations:>6}  {t.rate(t.missed):>6.2%}  {t.rate(t.review):>6.2%}  "
            f"{t.false_merges:>11}  {t.rate(t.blocking_misses):>13.2%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="number of registrations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=0, help="print this many errors and reviews")
    parser.add_argument(
        "--only",
        choices=("MISSED", "REVIEW", "FALSE"),
        help="print only examples of this kind (MISSED lists the true learner's levels and weights)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = evaluate(SyntheticStream(args.seed).registrations(args.n), keep_examples=args.examples)
    elapsed = time.perf_counter() - started
    print(f"python -m matching.evaluate --n {args.n} --seed {args.seed}  ({elapsed:.0f} s)")
    print(report(result))
    for example in result.examples:
        if args.only is None or example.startswith(args.only):
            print(example)


if __name__ == "__main__":
    main()
