"""Adaptive chunking of a request stream: take what has arrived, up to a limit, without waiting.

A client that streams a whole file gets its rows decided many to a transaction; a client that sends
one row and waits for its answer gets that row decided at once. The stream is read on its own thread
so that reading the next rows overlaps deciding the current ones; it hands over whole messages (a
few hundred rows each), not single rows, so the hand-over costs little per row.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()
_POLL_SECONDS = 0.1


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Chunker(Generic[T]):
    """Chunks of at most ``max_chunk`` items from a stream of messages of several items each."""

    def __init__(self, source: Iterator[Sequence[T]], max_chunk: int, read_ahead: int = 16) -> None:
        self._source = source
        self._max_chunk = max_chunk
        self._queue: queue.Queue[object] = queue.Queue(maxsize=read_ahead)  # messages
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._read, name="lrs-stream-reader", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        """Queue ``item`` unless the consumer has gone (False): a reader blocked on a full queue
        nobody drains would otherwise live, holding the call's messages, as long as the process."""
        while not self._abandoned.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as error:
            self._put(_Failure(error))
            return
        self._put(_END)

    def __iter__(self) -> Iterator[list[T]]:
        left: list[T] = []  # what did not fit in the last chunk
        finished = False
        try:
            while True:
                chunk, left = left[: self._max_chunk], left[self._max_chunk :]
                if not left and not finished and len(chunk) < self._max_chunk:
                    finished, left = self._fill(chunk, wait=not chunk)
                if chunk:
                    yield chunk
                elif finished:
                    return
        finally:  # finished, failed, or closed by a caller that stopped early (an aborted call)
            self._abandoned.set()

    def _fill(self, chunk: list[T], wait: bool) -> tuple[bool, list[T]]:
        """Add the messages that have arrived to ``chunk``, waiting only for a first one when
        ``wait``; (whether the stream ended, the items of a message that did not fit)."""
        while len(chunk) < self._max_chunk:
            try:
                message = self._queue.get() if wait else self._queue.get_nowait()
            except queue.Empty:
                break
            wait = False
            if message is _END:
                return True, []
            if isinstance(message, _Failure):
                raise message.error
            items: Sequence[T] = message  # type: ignore[assignment]
            room = self._max_chunk - len(chunk)
            chunk.extend(items[:room])
            if len(items) > room:
                return False, list(items[room:])
        return False, []
