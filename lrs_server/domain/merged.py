"""Following merges: a linked learner stands for its master."""

from __future__ import annotations

from lrs_server.domain.model import Learner
from lrs_server.domain.ports import LearnerTransaction

MAX_LINKS = 10  # a guard against a cycle of master links, which merges never create


def resolve_master(tx: LearnerTransaction, learner: Learner | None) -> Learner | None:
    """The learner itself, or the master it was merged into (following links)."""
    for _ in range(MAX_LINKS):
        if learner is None or learner.master_id is None:
            return learner
        learner = tx.learner_by_id(learner.master_id)
    return learner
