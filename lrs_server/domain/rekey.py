"""Re-keying: recompute every learner's blocking keys after the matcher's key set changed.

The server stores each learner's keys when the learner is written, so a new key definition reaches
existing learners only through this pass (``lrs-server rekey``). It reads the registry in pages
of ``page`` learners, one transaction each, so it never holds the whole registry in memory and can
be stopped and run again: re-keying a learner twice gives the same keys.
"""

from __future__ import annotations

from collections.abc import Callable

from lrs_server.domain.model import learner_record
from lrs_server.domain.ports import LearnerStore
from matching.types import Matcher

DEFAULT_PAGE = 5_000


def rekey_all(
    store: LearnerStore,
    matcher: Matcher,
    page: int = DEFAULT_PAGE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replace every learner's stored blocking keys with ``matcher.blocking_keys``; returns the count."""
    done, after = 0, 0
    while True:
        with store.write(()) as tx:
            learners = tx.learners_after(after, page)
            if not learners:
                return done
            tx.replace_blocking_keys({lr.id: matcher.blocking_keys(learner_record(lr)) for lr in learners})
        done += len(learners)
        after = learners[-1].id
        if progress is not None:
            progress(done)
