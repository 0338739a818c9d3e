"""Raw gRPC rates on this machine: the ceilings for batch registration and for single calls.

    .venv/bin/python -m bench.grpc_baseline [--messages 100000] [--size 200]
    .venv/bin/python -m bench.grpc_baseline --serve 127.0.0.1:PORT      # until SIGTERM

A tiny servicer echoes bytes (identity serialisers: no protobuf, no database) on a thread pool of
the same size as ``lrs-server serve``'s (16 threads): ``/bench.Echo/Stream`` each message of a bidi
stream, ``/bench.Echo/Unary`` one message per call. By default the client streams ``--messages``
messages of ``--size`` bytes over one loopback channel, as ``lrs-school register`` streams rows, and
counts the answers (messages/s). ``--serve`` runs the servicer as a process of its own (sharing the
port with others, as ``serve --workers`` does), for bench/replicas.py to measure the unary rate with
its own clients, under the same load and topology as the real servers.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures

import grpc

from lrs_server.server import ServerConfig

_METHOD = "/bench.Echo/Stream"
UNARY_METHOD = "/bench.Echo/Unary"


def _echo(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
    yield from requests


def _echo_one(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def _identity(message: bytes) -> bytes:
    return message


def echo_server(listen: str, workers: int | None = None) -> tuple[grpc.Server, int]:
    """The echo servicer (Stream and Unary) started on ``listen``; the server and its port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers or ServerConfig().threads))
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo",
        {
            "Stream": grpc.stream_stream_rpc_method_handler(
                _echo, request_deserializer=_identity, response_serializer=_identity
            ),
            "Unary": grpc.unary_unary_rpc_method_handler(
                _echo_one, request_deserializer=_identity, response_serializer=_identity
            ),
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(listen)
    server.start()
    return server, port


def serve(listen: str) -> None:
    """Serve the echo servicer on ``listen`` until SIGTERM or SIGINT; print "listening" when up."""
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    server, port = echo_server(listen)
    print(f"listening on {port}", flush=True)
    stopped.wait()
    server.stop(grace=None)


def measure(messages: int = 100_000, size: int = 200, workers: int | None = None) -> float:
    """Stream ``messages`` messages of ``size`` bytes through an echo servicer; return messages/s."""
    server, port = echo_server("127.0.0.1:0", workers)
    payload = b"x" * size
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stream = channel.stream_stream(
                _METHOD, request_serializer=_identity, response_deserializer=_identity
            )
            grpc.channel_ready_future(channel).result(timeout=10)
            received = 0
            started = time.perf_counter()
            for _ in stream(payload for _ in range(messages)):
                received += 1
            seconds = time.perf_counter() - started
    finally:
        server.stop(grace=None)
    assert received == messages, (received, messages)
    return messages / seconds


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=200, help="bytes per message (an LRB row is ~150)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", metavar="HOST:PORT", help="only serve the echo servicer, until SIGTERM")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return
    measure(min(args.messages, 5_000), args.size)  # warm up
    rate = measure(args.messages, args.size)
    if args.json:
        print(json.dumps({"messages": args.messages, "size": args.size, "messages_per_second": round(rate)}))
    else:
        print(f"raw gRPC bidi stream: {rate:,.0f} messages/s ({args.messages:,} x {args.size} bytes)")


if __name__ == "__main__":
    main()
