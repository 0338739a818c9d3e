"""A failed call to lrs-server as a plain value: status code, ErrorInfo reason, field violations."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from school_client.errors import call_error

UNAVAILABLE_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    reason: str
    message: str
    fields: tuple[str, ...] = ()

    @property
    def unavailable(self) -> bool:
        return self.code in UNAVAILABLE_CODES


class ServerError(Exception):
    """lrs-server refused a call, or could not be reached."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.code} {failure.reason}")
        self.failure = failure


def server_error(error: grpc.RpcError) -> ServerError:
    parsed = call_error(error)
    fields = tuple(v["field"] for v in parsed.field_violations)
    return ServerError(Failure(parsed.code, parsed.reason, parsed.message, fields))
