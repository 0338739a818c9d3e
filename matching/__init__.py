"""Identity matching: normalise, block, compare, weigh, decide.

This package knows nothing of gRPC or SQL. The server hands it the candidates that the
storage layer fetched through the blocking keys this package computes.

Entry point: ``default_matcher()`` returns the probabilistic matcher; its ``decide`` finds a learner
for a registration and its ``compare`` verifies a claimed identity with the same weights.
"""

from matching.config import MatcherConfig
from matching.matcher import ProbabilisticMatcher, default_matcher
from matching.types import (
    Candidate,
    FieldComparison,
    FrequencyLookup,
    Gender,
    MatchDecision,
    Matcher,
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
    "MatcherConfig",
    "Outcome",
    "PersonRecord",
    "ProbabilisticMatcher",
    "ScoredCandidate",
    "default_matcher",
]
