"""``lrs-web serve --server HOST:PORT [--listen 127.0.0.1:8080] [--tls --ca-file F]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from lrs_web.app import create_app
from lrs_web.config import WebSettings


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("give HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lrs-web", description="Web pages for learners and review operators.")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web pages (a gRPC client of lrs-server)")
    serve.add_argument("--server", required=True, help="lrs-server's gRPC address, HOST:PORT")
    serve.add_argument("--listen", default="127.0.0.1:8080", type=_host_port, help="HOST:PORT to serve on")
    serve.add_argument("--tls", action="store_true", help="speak TLS to lrs-server")
    serve.add_argument(
        "--ca-file", type=Path, help="CA certificate(s) to trust for lrs-server (implies --tls)"
    )
    serve.add_argument(
        "--secure-cookies",
        action="store_true",
        help="mark the session cookie Secure even over plain HTTP (behind a TLS-terminating proxy)",
    )
    serve.add_argument(
        "--forwarded-allow-ips", default=None, help="proxies trusted for X-Forwarded-For/-Proto"
    )
    serve.add_argument("--idle-minutes", type=float, default=20.0, help="sign out after this long unused")
    serve.add_argument("--max-session-hours", type=float, default=8.0, help="sign out after this long")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    host, port = args.listen
    settings = WebSettings(
        server=args.server,
        tls=args.tls or args.ca_file is not None,
        ca_file=args.ca_file,
        idle_timeout=args.idle_minutes * 60,
        absolute_timeout=args.max_session_hours * 3600,
        secure_cookies=args.secure_cookies,
    )
    app = create_app(settings)
    print(f"lrs-web: serving http://{host}:{port}/ (learners) and /review (operators)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # request lines would carry page tokens and client addresses: not logged
        proxy_headers=args.forwarded_allow_ips is not None,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
