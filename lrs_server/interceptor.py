"""The one server interceptor: authenticates, authorises, and maps domain errors to gRPC statuses.

Servicers stay thin: they raise ``DomainError`` and read the caller from ``current_principal()``.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from lrs_server.auth import Authoriser, bearer_token, is_public, needs_token
from lrs_server.domain.errors import DomainError, ErrorKind, Reason
from lrs_server.domain.model import Principal
from lrs_server.limits import Admission, RateLimiter, server_busy
from lrs_server.observe import Observer

ERROR_DOMAIN = "lrs.v1"
log = logging.getLogger(__name__)

_CODES: dict[ErrorKind, int] = {
    ErrorKind.INVALID: code_pb2.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: code_pb2.NOT_FOUND,
    ErrorKind.ALREADY_EXISTS: code_pb2.ALREADY_EXISTS,
    ErrorKind.CONFLICT: code_pb2.ABORTED,
    ErrorKind.FAILED_PRECONDITION: code_pb2.FAILED_PRECONDITION,
    ErrorKind.UNAUTHENTICATED: code_pb2.UNAUTHENTICATED,
    ErrorKind.PERMISSION_DENIED: code_pb2.PERMISSION_DENIED,
    ErrorKind.RESOURCE_EXHAUSTED: code_pb2.RESOURCE_EXHAUSTED,
    ErrorKind.UNAVAILABLE: code_pb2.UNAVAILABLE,
}
DATABASE_RETRY_SECONDS = 1.0

_principal: ContextVar[Principal] = ContextVar("principal")


def current_principal() -> Principal:
    """The authenticated caller of the RPC being served (set by the interceptor)."""
    return _principal.get()


def code_name(error: DomainError) -> str:
    return str(code_pb2.Code.Name(_CODES[error.kind]))


def to_status(error: DomainError) -> status_pb2.Status:
    """A google.rpc.Status with an ErrorInfo and, as they apply, a BadRequest (bad fields), a
    QuotaFailure (a rate limit) and a RetryInfo (when to try again)."""
    details: list[Any] = []
    info = error_details_pb2.ErrorInfo(reason=str(error.reason), domain=ERROR_DOMAIN, metadata=error.metadata)
    details.append(info)
    if error.quota_violations:
        details.append(
            error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(subject=v.subject, description=v.description)
                    for v in error.quota_violations
                ]
            )
        )
    if error.retry_after is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromNanoseconds(max(1, int(error.retry_after * 1e9)))
        details.append(retry)
    if error.violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description, reason=str(v.reason)
                    )
                    for v in error.violations
                ]
            )
        )
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    return status_pb2.Status(code=_CODES[error.kind], message=error.message, details=packed)


def _abort(context: grpc.ServicerContext, error: DomainError) -> NoReturn:
    context.abort_with_status(rpc_status.to_status(to_status(error)))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


def _internal(context: grpc.ServicerContext, method: str) -> NoReturn:
    log.exception("unexpected error in %s", method)
    context.abort(grpc.StatusCode.INTERNAL, "internal error; it has been logged")
    raise AssertionError("abort returned")  # pragma: no cover


def _unexpected(context: grpc.ServicerContext, method: str, error: Exception) -> NoReturn:
    """An exception that is not a refusal: re-raised if the call already ended (aborted
    deliberately, or cancelled by the client, whose stream then raises RpcError), else INTERNAL."""
    if context.code() is not None:  # already aborted deliberately
        raise error
    if isinstance(error, grpc.RpcError) and not context.is_active():
        # The client cancelled (or its deadline passed): nothing to answer, and not our fault.
        # grpc recognises its own RpcError and ends the call quietly.
        log.info("%s: the call ended on the client's side before it was answered", method)
        raise error
    _internal(context, method)


_MALFORMED = object()  # what the wrapped deserializer returns for bytes that are not a valid request


class _RefusedMessage(Exception):
    """Raised by the request iterator at a malformed message (or one over the caller's rate limit); a
    distinct type (not a DomainError), so no servicer's per-row error handling can answer it as a
    row and read on."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


def _malformed(message_type: str, position: int | None = None) -> DomainError:
    where = "the request" if position is None else f"message {position} of the request stream"
    metadata = {"message_type": message_type}
    if position is not None:
        metadata["message_index"] = str(position)
    return DomainError(
        ErrorKind.INVALID,
        Reason.REQUEST_MALFORMED,
        f"{where} is not a valid {message_type} message",
        metadata=metadata,
    )


def _message_type(deserializer: Callable[[bytes], Any] | None) -> str:
    """The protobuf type a generated deserializer (``SomeRequest.FromString``) parses."""
    descriptor = getattr(getattr(deserializer, "__self__", None), "DESCRIPTOR", None)
    return str(getattr(descriptor, "full_name", "request"))


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """``deserializer``, returning ``_MALFORMED`` instead of raising. grpc parses each message before
    (or, on a stream, while) the behaviour runs and answers a failure with a bare INTERNAL; this way
    the behaviour meets the bad message and refuses it with INVALID_ARGUMENT and details."""
    if deserializer is None:
        return None
    parse = deserializer

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception:
            return _MALFORMED

    return deserialize


def _checked(
    requests: Iterator[Any], message_type: str, charge: Callable[[int], None] | None = None
) -> Iterator[Any]:
    """The request stream, stopping with ``_RefusedMessage`` at the first malformed message, or at
    the first message whose rows (``charge``) the caller's rate limit refuses."""
    for position, request in enumerate(requests, start=1):
        if request is _MALFORMED:
            raise _RefusedMessage(_malformed(message_type, position))
        if charge is not None:
            try:
                charge(len(getattr(request, "rows", ())))
            except DomainError as refused:
                raise _RefusedMessage(refused) from None
        yield request


def _database_unavailable() -> DomainError:
    return DomainError(
        ErrorKind.UNAVAILABLE,
        Reason.DATABASE_UNAVAILABLE,
        "the database cannot be reached just now; retry shortly",
        retry_after=DATABASE_RETRY_SECONDS,
    )


def _ended_code(context: grpc.ServicerContext) -> str:
    """The status of a call that ended with an unexpected exception (see ``_unexpected``)."""
    return "CANCELLED" if not context.is_active() else "INTERNAL"


class ServiceInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """``admission`` bounds the calls in flight (back-pressure), ``limiter`` applies the
    per-organisation rate limits, ``observer`` is told of every call (metrics), and
    ``unavailable`` tells an exception meaning the database cannot be reached (answered
    UNAVAILABLE, retryable, instead of INTERNAL); each optional."""

    def __init__(
        self,
        authoriser: Authoriser,
        admission: Admission | None = None,
        limiter: RateLimiter | None = None,
        observer: Observer | None = None,
        unavailable: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self._authoriser = authoriser
        self._unavailable = unavailable
        self._admission = admission
        self._limiter = limiter
        self._observer = observer

    def _principal_for(self, method: str, metadata: Any) -> Principal | None:
        """The authorised caller; None for the few RPCs that take no token (auth.UNAUTHENTICATED_RPCS)."""
        if not needs_token(method):
            return None
        principal = self._authoriser.authenticate(bearer_token(dict(metadata or ())))
        self._authoriser.authorise(method, principal)
        return principal

    def _admit(self) -> Callable[[], None] | None:
        """A place among the calls in flight: the function that gives it back, or None when full."""
        if self._admission is None:
            return _nothing
        if not self._admission.try_enter():
            return None
        return self._admission.leave

    def _failed(self, context: grpc.ServicerContext, method: str, error: Exception) -> NoReturn:
        """An exception that is not a DomainError: the database gone (UNAVAILABLE), else as
        ``_unexpected`` says."""
        if (
            self._unavailable is not None
            and self._unavailable(error)
            and context.code() is None
            and context.is_active()
        ):
            log.warning("%s: the database cannot be reached: %s", method, error)
            _abort(context, _database_unavailable())
        _unexpected(context, method, error)

    def _finished(self, method: str, code: str, started: float) -> None:
        if self._observer is not None:
            self._observer.call_finished(method, code, time.perf_counter() - started)

    def intercept_service(self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        method: str = details.method
        if handler is None or is_public(method):
            return handler
        metadata = details.invocation_metadata
        message_type = _message_type(handler.request_deserializer)
        deserializer = _tolerant(handler.request_deserializer)
        # Counted here, when the call arrives (before it waits for a thread), so the bound covers
        # calls queued for the thread pool too. Given back when the behaviour ends, or, for a call
        # cancelled before a thread ran it, when grpc drops the behaviour (weakref.finalize).
        leave = self._admit()
        limit = self._admission.limit if self._admission is not None else 0
        limiter = self._limiter
        observer = self._observer
        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                started, code = time.perf_counter(), "OK"
                try:
                    if leave is None:
                        raise server_busy(limit)
                    principal = self._principal_for(method, metadata)  # authenticate first
                    if request is _MALFORMED:
                        raise _malformed(message_type)
                    if limiter is not None:
                        limiter.charge(method, principal)
                    if principal is None:
                        response = inner_unary(request, context)
                    else:
                        token = _principal.set(principal)
                        try:
                            response = inner_unary(request, context)
                        finally:
                            _principal.reset(token)
                    if observer is not None:
                        observer.responded(method, response)
                    return response
                except DomainError as error:
                    code = code_name(error)
                    _abort(context, error)
                except Exception as error:
                    code = _ended_code(context)
                    if code == "INTERNAL" and self._unavailable is not None and self._unavailable(error):
                        code = "UNAVAILABLE"
                    self._failed(context, method, error)
                finally:
                    release()
                    self._finished(method, code, started)

            release = _release_once(unary, leave)
            return grpc.unary_unary_rpc_method_handler(unary, deserializer, handler.response_serializer)
        if handler.stream_stream is not None:
            inner_stream = handler.stream_stream

            def stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
                started, code = time.perf_counter(), "OK"
                try:
                    if leave is None:
                        raise server_busy(limit)
                    principal = self._principal_for(method, metadata)
                    if principal is None:  # pragma: no cover - no streaming RPC is unauthenticated
                        raise RuntimeError(f"{method} must authenticate")
                    charge = None
                    if limiter is not None:
                        rate_limiter, caller = limiter, principal

                        def charge(rows: int) -> None:
                            rate_limiter.charge(method, caller, rows)

                    token = _principal.set(principal)
                    try:
                        for response in inner_stream(_checked(requests, message_type, charge), context):
                            if observer is not None:
                                observer.responded(method, response)
                            yield response
                    finally:
                        _principal.reset(token)
                except _RefusedMessage as refused:
                    code = code_name(refused.error)
                    _abort(context, refused.error)
                except DomainError as error:
                    code = code_name(error)
                    _abort(context, error)
                except Exception as error:
                    code = _ended_code(context)
                    if code == "INTERNAL" and self._unavailable is not None and self._unavailable(error):
                        code = "UNAVAILABLE"
                    self._failed(context, method, error)
                finally:
                    release()
                    self._finished(method, code, started)

            release = _release_once(stream, leave)
            return grpc.stream_stream_rpc_method_handler(stream, deserializer, handler.response_serializer)
        # No RPC streams one way only. Such a handler is refused (None: UNIMPLEMENTED), not served
        # unauthenticated, until it is wrapped like the two above: authentication fails closed.
        if leave is not None:
            leave()
        log.error("%s is a one-way streaming RPC, which the interceptor does not wrap: refused", method)
        return None


def _nothing() -> None:
    return None


def _release_once(behaviour: Callable[..., Any], leave: Callable[[], None] | None) -> Callable[[], Any]:
    """Calls ``leave`` once: when called, or when ``behaviour`` is garbage (never run)."""
    if leave is None or leave is _nothing:
        return _nothing
    return weakref.finalize(behaviour, leave)
