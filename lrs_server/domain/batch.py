"""Batch registration: each row decided on its own; a bad row is reported and the rest go on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from lrs_server.domain.errors import DomainError, ErrorKind, Reason, invalid
from lrs_server.domain.model import Principal
from lrs_server.domain.registration import RegistrationCommand, RegistrationResult, RegistrationService

T = TypeVar("T")
DEFAULT_MAX_ROWS = 100_000


class BatchRegistration:
    def __init__(self, registration: RegistrationService, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self._registration = registration
        self._max_rows = max_rows

    def _too_large(self) -> DomainError:
        return DomainError(
            ErrorKind.RESOURCE_EXHAUSTED,
            Reason.BATCH_TOO_LARGE,
            f"a batch stream takes at most {self._max_rows} rows; send the rest in another stream",
        )

    def register_all(
        self, principal: Principal, chunks: Iterable[Sequence[tuple[T, RegistrationCommand]]], rpc: str
    ) -> Iterator[list[tuple[T, RegistrationResult | DomainError]]]:
        """Register rows chunk by chunk (one transaction each); yields each chunk's (row, result or
        refusal) pairs, in order.

        Rows are keyed by (organisation, MIS identifier), so re-sending a batch is safe: a known
        identifier returns its ULN (updating changed details) and nothing new is created.
        """
        count = 0
        for whole in chunks:
            # Rows up to the limit are decided and answered before the refusal, so a client can
            # reopen the stream at its first unanswered row whatever size the chunks came in.
            chunk = whole[: self._max_rows - count]
            count += len(chunk)
            missing = invalid("mis_identifier", Reason.FIELD_REQUIRED, "is required in a batch")
            keyed = [(row, command) for row, command in chunk if command.mis_identifier.strip()]
            results = iter(self._registration.register_many(principal, [c for _, c in keyed], rpc))
            yield [
                (row, next(results) if command.mis_identifier.strip() else missing) for row, command in chunk
            ]
            if len(chunk) < len(whole):
                raise self._too_large()
