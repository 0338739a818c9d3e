"""Batch registration: each row decided on its own; a bad row is reported and the rest go on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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

    def register_all(
        self, principal: Principal, rows: Iterable[tuple[T, RegistrationCommand]], rpc: str
    ) -> Iterator[tuple[T, RegistrationResult | DomainError]]:
        """Register each row; yields (row, result or the refusal) in order, as each is decided.

        Rows are keyed by (organisation, MIS identifier), so re-sending a batch is safe: a known
        identifier returns its ULN (updating changed details) and nothing new is created.
        """
        for count, (row, command) in enumerate(rows, start=1):
            if count > self._max_rows:
                raise DomainError(
                    ErrorKind.RESOURCE_EXHAUSTED,
                    Reason.BATCH_TOO_LARGE,
                    f"a batch stream takes at most {self._max_rows} rows; send the rest in another stream",
                )
            try:
                if not command.mis_identifier.strip():
                    raise invalid("mis_identifier", Reason.FIELD_REQUIRED, "is required in a batch")
                yield row, self._registration.register(principal, command, rpc)
            except DomainError as error:
                yield row, error
