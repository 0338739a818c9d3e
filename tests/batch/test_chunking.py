"""The server's chunking of a batch stream: messages of rows in, chunks of at most N rows out."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs_server.api.chunking import Chunker


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(), max_size=9), max_size=12), st.integers(1, 7))
def test_chunks_keep_every_row_in_order_and_stay_under_the_limit(
    messages: list[list[int]], limit: int
) -> None:
    chunks = list(Chunker(iter(messages), limit))
    assert [row for chunk in chunks for row in chunk] == [row for message in messages for row in message]
    assert all(0 < len(chunk) <= limit for chunk in chunks)


def test_rows_that_have_arrived_are_decided_without_waiting_for_more() -> None:
    """A client that sends one message and waits for its answer gets it: the chunk does not wait
    to fill up."""
    sent = threading.Event()

    def messages() -> Iterator[list[int]]:
        yield [1, 2]
        sent.wait(timeout=10)  # the next message only once the first chunk was handed out
        yield [3]

    chunks = iter(Chunker(messages(), 100))
    assert next(chunks) == [1, 2]
    sent.set()
    assert next(chunks) == [3]
    assert next(chunks, None) is None


def test_a_failing_stream_raises_after_the_rows_before_it() -> None:
    def messages() -> Iterator[list[int]]:
        yield [1, 2, 3]
        raise ConnectionError("stream reset")

    chunks = Chunker(messages(), 2)
    received: list[list[int]] = []
    with pytest.raises(ConnectionError):
        for chunk in chunks:
            received.append(chunk)
    assert received[0] == [1, 2]


def test_a_consumer_that_stops_early_lets_the_reader_thread_go() -> None:
    """An aborted call stops reading its chunks; the thread reading its messages must not stay
    blocked on a full queue (holding the messages) for the life of the server."""
    endless = ([n] for n in iter(int, 1))  # a client that never stops sending
    chunker = Chunker(endless, 1, read_ahead=2)
    chunks = iter(chunker)
    assert next(chunks) == [0]
    chunks.close()  # what a generator abandoned by an aborted RPC gets
    chunker._thread.join(timeout=5)
    assert not chunker._thread.is_alive()
