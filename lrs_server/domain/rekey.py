"""Re-keying: recompute every learner's blocking keys and the term counts after the matcher's
definitions changed.

The server stores each learner's keys, and counts its terms (names, postcode district, town), when
the learner is written, so a new key or term definition reaches existing learners only through this
pass (``lrs-server rekey``, with the service stopped). It reads the registry in pages of ``page``
learners, one transaction each, so it never holds the learners in memory and can be stopped and run
again: re-keying a learner twice gives the same keys. The counts are tallied in memory (one entry per
distinct value) and replace the stored ones in the last transaction, so a pass stopped part way
leaves the old counts whole.
"""

from __future__ import annotations

from collections import Counter
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
    """Replace every learner's stored blocking keys with ``matcher.blocking_keys``, and the term
    counts with those of ``matcher.frequency_terms``; returns the number of learners."""
    done, after = 0, 0
    counts: Counter[tuple[str, str]] = Counter()
    while True:
        with store.write(()) as tx:
            learners = tx.learners_after(after, page)
            if not learners:
                counts[("*", "*")] = done
                tx.replace_term_counts(counts)
                return done
            records = {lr.id: learner_record(lr) for lr in learners}
            tx.replace_blocking_keys({i: matcher.blocking_keys(r) for i, r in records.items()})
            for record in records.values():
                counts.update(matcher.frequency_terms(record).items())
        done += len(learners)
        after = learners[-1].id
        if progress is not None:
            progress(done)
