from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matching import names, synthetic
from matching.evaluate import evaluate, report
from matching.matcher import ProbabilisticMatcher
from matching.synthetic import (
    LOOKALIKE_KINDS,
    ORIGINAL_LOOKALIKE_KINDS,
    ORIGINAL_VARIATIONS,
    Registration,
    SyntheticStream,
)
from matching.types import Candidate, FrequencyLookup, Gender, MatchDecision, Outcome, PersonRecord


def test_synthetic_stream_is_deterministic_and_labelled() -> None:
    first = list(SyntheticStream(seed=5).registrations(500))
    again = list(SyntheticStream(seed=5).registrations(500))
    assert first == again
    kinds = {r.kind for r in first}
    assert {"new", "reregistration", *LOOKALIKE_KINDS} <= kinds
    assert sum(r.kind == "reregistration" for r in first) >= 0.3 * len(first) - 20


def test_small_evaluation_has_no_false_or_lookalike_merges() -> None:
    """On the cases the matcher was written against. The later ones (twin_similar_name, a wholly
    wrong birth date, ...) are reported by ``python -m matching.evaluate`` and not yet held to this."""
    stream = SyntheticStream(
        seed=11, variations=ORIGINAL_VARIATIONS, lookalike_kinds=ORIGINAL_LOOKALIKE_KINDS
    )
    result = evaluate(stream.registrations(3000))
    assert result.registrations == 3000
    assert result.duplicates >= 900
    assert result.false_merges == 0, report(result)
    assert sum(result.lookalike_merges.values()) == 0
    assert result.missed <= 0.04 * result.duplicates, report(result)
    assert result.review <= 0.07 * result.registrations, report(result)
    assert result.blocking_recall >= 0.97
    assert "false merges" in report(result)


def test_generator_variants_do_not_follow_the_matchers_list() -> None:
    """The generator reads its own frozen copy: growing the matcher's list must not change the stream."""
    assert synthetic.given_name_variants() is not names.given_name_variants()
    assert not synthetic.given_name_variants().are_variants("connor", "conor")


class _LinksEveryone(ProbabilisticMatcher):
    """Matches every registration to its first candidate: a matcher that merges look-alikes."""

    def decide(
        self, query: PersonRecord, candidates: Sequence[Candidate], frequencies: FrequencyLookup | None = None
    ) -> MatchDecision:
        scored = self.score(query, candidates, frequencies)
        if not scored:
            return MatchDecision(Outcome.NEW, None, ())
        first = min(scored, key=lambda s: s.candidate_id)
        return MatchDecision(Outcome.MATCHED, first.candidate_id, (first,))


def test_lookalike_merges_into_the_family_and_into_a_stranger_are_told_apart() -> None:
    born = date(2010, 5, 1)
    stranger = PersonRecord("Jerome", "Brown", born, Gender.MALE, "LS1 4AP")
    child = PersonRecord("Amy", "Okafor", born, Gender.FEMALE, "M4 7RH")
    twin = PersonRecord("Beth", "Okafor", born, Gender.FEMALE, "M4 7RH")
    # A sibling of someone else entirely, who shares name and birth date with the stranger.
    sibling = PersonRecord("Jerome", "Brown", born, Gender.MALE, "B1 1AA")
    stream = [
        Registration(stranger, 0, "new"),
        Registration(child, 1, "new"),
        Registration(twin, 2, "twin", (), 1),
        Registration(sibling, 3, "sibling", (), 1),
    ]
    result = evaluate(stream, _LinksEveryone())
    assert result.lookalike_merges["twin"] == 1
    assert result.lookalike_stranger_merges["twin"] == 0
    assert result.lookalike_stranger_merges["sibling"] == 1
    assert result.lookalike_merges["sibling"] == 0
    assert result.false_merges == 2
    assert "merged into own family" in report(result)
