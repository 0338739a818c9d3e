"""Adaptive chunking of a request stream: take what has arrived, up to a limit, without waiting.

A client that streams a whole file gets its rows decided many to a transaction; a client that sends
one row and waits for its answer gets that row decided at once. The stream is read on its own thread
so that reading the next rows overlaps deciding the current ones.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Chunker(Generic[T]):
    def __init__(self, source: Iterator[T], max_chunk: int, read_ahead: int = 4) -> None:
        self._source = source
        self._max_chunk = max_chunk
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_chunk * read_ahead)
        self._thread = threading.Thread(target=self._read, name="lrs-stream-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._source:
                self._queue.put(item)
        except BaseException as error:
            self._queue.put(_Failure(error))
            return
        self._queue.put(_END)

    def __iter__(self) -> Iterator[list[T]]:
        finished = False
        while not finished:
            chunk: list[T] = []
            item = self._queue.get()  # wait for at least one
            while True:
                if item is _END:
                    finished = True
                    break
                if isinstance(item, _Failure):
                    raise item.error
                chunk.append(item)  # type: ignore[arg-type]
                if len(chunk) >= self._max_chunk:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if chunk:
                yield chunk
