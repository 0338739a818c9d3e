"""Reading the rich error details (google.rpc.Status) a failed call carries."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True, slots=True)
class CallError:
    code: str
    message: str
    reason: str = ""
    field_violations: tuple[dict[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "field_violations": list(self.field_violations),
        }

    def human(self) -> str:
        lines = [f"error: {self.code}{f' ({self.reason})' if self.reason else ''}: {self.message}"]
        lines += [f"  {v['field']}: {v['description']} [{v['reason']}]" for v in self.field_violations]
        return "\n".join(lines)


def call_error(error: grpc.RpcError) -> CallError:
    code = error.code().name if hasattr(error, "code") and error.code() is not None else "UNKNOWN"
    message = error.details() if hasattr(error, "details") else str(error)
    status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    reason = ""
    violations: list[dict[str, str]] = []
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            bad = error_details_pb2.BadRequest()
            if detail.Is(info.DESCRIPTOR):
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(bad.DESCRIPTOR):
                detail.Unpack(bad)
                violations += [
                    {"field": v.field, "reason": v.reason, "description": v.description}
                    for v in bad.field_violations
                ]
    return CallError(code, message or "", reason, tuple(violations))
