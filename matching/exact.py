"""A deliberately simple matcher: normalised exact name + date of birth (+ postcode when known).

It is the baseline the probabilistic matcher is evaluated against, and a safe fallback: it can
miss duplicates but never merges people whose names or birthdays differ.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from matching.types import (
    Candidate,
    FieldComparison,
    FrequencyLookup,
    MatchDecision,
    Outcome,
    PersonRecord,
    ScoredCandidate,
)

_NOT_KNOWN_POSTCODE = "ZZ993CZ"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _postcode(text: str) -> str:
    folded = "".join(text.split()).upper()
    return "" if folded == _NOT_KNOWN_POSTCODE else folded


class ExactMatcher:
    def blocking_keys(self, record: PersonRecord) -> frozenset[str]:
        return frozenset({f"x:{_fold(record.family_name)}:{record.date_of_birth.isoformat()}"})

    def frequency_terms(self, record: PersonRecord) -> Mapping[str, str]:
        return {}

    def frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        return frozenset()

    def candidate_frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        return frozenset()

    def _compare(self, query: PersonRecord, other: PersonRecord) -> tuple[FieldComparison, ...]:
        def level(same: bool) -> FieldComparison:
            return FieldComparison("", "exact" if same else "else", 1.0 if same else 0.0)

        pairs = {
            "given_name": _fold(query.given_name) == _fold(other.given_name),
            "family_name": _fold(query.family_name) == _fold(other.family_name),
            "date_of_birth": query.date_of_birth == other.date_of_birth,
        }
        q_pc, o_pc = _postcode(query.postcode), _postcode(other.postcode)
        comparisons = [
            FieldComparison(f, c.level, c.weight) for f, c in ((f, level(s)) for f, s in pairs.items())
        ]
        if q_pc and o_pc:
            same = q_pc == o_pc
            comparisons.append(FieldComparison("postcode", "exact" if same else "else", 1.0 if same else 0.0))
        else:
            comparisons.append(FieldComparison("postcode", "null", 0.0))
        return tuple(comparisons)

    def score(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> tuple[ScoredCandidate, ...]:
        scored = []
        for candidate in candidates:
            comparisons = self._compare(query, candidate.record)
            agreed = all(c.level in ("exact", "null") for c in comparisons)
            weight = sum(c.weight for c in comparisons)
            scored.append(ScoredCandidate(candidate.id, weight, 1.0 if agreed else 0.0, comparisons))
        return tuple(sorted(scored, key=lambda s: -s.match_weight))

    def decide(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> MatchDecision:
        matches = tuple(s for s in self.score(query, candidates) if s.probability == 1.0)
        if len(matches) == 1:
            return MatchDecision(Outcome.MATCHED, matches[0].candidate_id, matches)
        if matches:
            return MatchDecision(Outcome.POSSIBLE_MATCH, None, matches)
        return MatchDecision(Outcome.NEW, None, ())
