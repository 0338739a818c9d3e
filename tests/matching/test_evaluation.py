from __future__ import annotations

from matching import names, synthetic
from matching.evaluate import evaluate, report
from matching.synthetic import LOOKALIKE_KINDS, SyntheticStream


def test_synthetic_stream_is_deterministic_and_labelled() -> None:
    first = list(SyntheticStream(seed=5).registrations(500))
    again = list(SyntheticStream(seed=5).registrations(500))
    assert first == again
    kinds = {r.kind for r in first}
    assert {"new", "reregistration", *LOOKALIKE_KINDS} <= kinds
    assert sum(r.kind == "reregistration" for r in first) >= 0.3 * len(first) - 20


def test_small_evaluation_has_no_false_or_lookalike_merges() -> None:
    result = evaluate(SyntheticStream(seed=11).registrations(3000))
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
