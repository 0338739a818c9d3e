"""Identity matching: normalise, block, compare, weigh, decide.

This package knows nothing of gRPC or SQL. The server hands it the candidates that the
storage layer fetched through the blocking keys this package computes.
"""

from matching.types import (
    Candidate,
    FieldComparison,
    FrequencyLookup,
    Gender,
    Matcher,
    MatchDecision,
    Outcome,
    PersonRecord,
    ScoredCandidate,
)

__all__ = [
    "Candidate",
    "FieldComparison",
    "FrequencyLookup",
    "Gender",
    "MatchDecision",
    "Matcher",
    "Outcome",
    "PersonRecord",
    "ScoredCandidate",
]
