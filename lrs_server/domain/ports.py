"""What the domain needs from storage, as protocols (the storage layer implements them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lrs_server.domain.model import Identity, Learner, MatchCandidate, Principal
from matching.types import FrequencyLookup


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A registration answered before under the same (organisation, request_id)."""

    outcome: str
    learner_id: int | None


@dataclass(frozen=True, slots=True)
class MisLink:
    """An organisation's MIS identifier for a learner, and the fingerprint of the details it last
    sent for it (model.identity_fingerprint; '' for links older than the fingerprint)."""

    learner_id: int
    details: str = ""


@dataclass(frozen=True, slots=True)
class NewLearner:
    identity: Identity
    post14_qualification: bool
    blocking_keys: frozenset[str]
    frequency_terms: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One disclosure of a learner's data, for the access log."""

    learner_id: int
    rpc: str
    fields: tuple[str, ...]


class UlnTaken(Exception):
    """The randomly drawn ULN is already held (the caller draws again)."""


class PrefetchingFrequencies(FrequencyLookup, Protocol):
    def prefetch(self, terms: Iterable[tuple[str, str]]) -> None:
        """Load the counts of many terms at once (before deciding a batch)."""
        ...


class LearnerTransaction(Protocol):
    """One database transaction. Reads see a consistent state; writes commit together or not at all."""

    @property
    def frequencies(self) -> PrefetchingFrequencies: ...

    def learner_by_uln(self, uln: str) -> Learner | None: ...

    def learner_by_id(self, learner_id: int) -> Learner | None: ...

    def learners_by_ids(self, learner_ids: Sequence[int]) -> list[Learner]: ...

    def stored_request(self, principal: Principal, request_id: str) -> StoredRequest | None: ...

    def store_request(
        self, principal: Principal, request_id: str, outcome: str, learner_id: int | None
    ) -> None: ...

    def candidates_by_key(self, keys: Iterable[str]) -> dict[str, list[MatchCandidate]]:
        """Unmerged learners stored under each key, as the matcher reads them (one round trip for
        a whole batch)."""
        ...

    def mis_links(self, principal: Principal, mis_identifiers: Iterable[str]) -> dict[str, MisLink]:
        """The organisation's links by MIS identifier."""
        ...

    def learners_after(self, after_id: int, limit: int) -> list[Learner]:
        """Up to ``limit`` learners with ids above ``after_id``, in id order (a page of a full pass)."""
        ...

    def replace_blocking_keys(self, keys: Mapping[int, frozenset[str]]) -> None:
        """Make each learner's stored blocking keys exactly the given set."""
        ...

    def replace_term_counts(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Make the stored term counts (field, value) -> learners exactly these, the total included."""
        ...

    def ulns_taken(self, ulns: Iterable[str]) -> set[str]: ...

    def insert_learners(
        self, principal: Principal, new: Sequence[tuple[str, NewLearner]], now: datetime
    ) -> list[Learner]:
        """Raises UlnTaken when a ULN is held already (the caller draws again)."""
        ...

    def link_mis_many(self, principal: Principal, links: Mapping[str, MisLink]) -> None: ...

    def record_decisions(
        self, principal: Principal, decisions: Sequence[tuple[int | None, str, str]], now: datetime
    ) -> None:
        """(learner id or None, outcome, explanation JSON) per registration, for audit."""
        ...

    def update_learner(
        self,
        learner: Learner,
        identity: Identity,
        blocking_keys: frozenset[str],
        frequency_terms: Mapping[str, str],
        old_frequency_terms: Mapping[str, str],
        now: datetime,
    ) -> Learner: ...

    def log_access(self, principal: Principal, records: Sequence[AccessRecord], now: datetime) -> None: ...


class LearnerStore(Protocol):
    def write(self, lock_keys: Iterable[str]) -> AbstractContextManager[LearnerTransaction, bool | None]:
        """A write transaction serialised against every other writer holding any of ``lock_keys``."""
        ...

    def read(self) -> AbstractContextManager[LearnerTransaction, bool | None]: ...
