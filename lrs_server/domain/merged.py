"""Following merges: a linked learner stands for its master."""

from __future__ import annotations

from lrs_server.domain.model import Learner
from lrs_server.domain.ports import LearnerTransaction

# Records one learner's merges may group (the master and every record linked to it, directly or
# through another linked record). A merge that would group more is refused (domain/merges.py), so
# no chain of master links is longer: following one never stops short of the master, and the bound
# also guards against a cycle, which merges never create.
MAX_LINKS = 100


def resolve_master(tx: LearnerTransaction, learner: Learner | None) -> Learner | None:
    """The learner itself, or the master it was merged into (following links)."""
    for _ in range(MAX_LINKS):
        if learner is None or learner.master_id is None:
            return learner
        learner = tx.learner_by_id(learner.master_id)
    return learner
