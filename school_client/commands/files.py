"""The file forms of register, find and verify: ``lrs-school register FILE --out RESULTS.csv``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from school_client import batch, bulk
from school_client.connection import Client
from school_client.files import LookupResult, LookupRow


def add_file_arguments(parser: argparse.ArgumentParser, what: str, resumable: bool = False) -> None:
    parser.add_argument("file", nargs="?", type=Path, help=what)
    parser.add_argument("--out", type=Path, help="results CSV (required with FILE)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    if resumable:
        parser.add_argument(
            "--restart", action="store_true", help="ignore an existing results file instead of resuming it"
        )


def _out(args: argparse.Namespace) -> Path:
    if args.out is None:
        raise SystemExit("--out RESULTS.csv is required with a FILE")
    out: Path = args.out
    return out


def register(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    summary = batch.register_file(
        client, args.file, _out(args), restart=args.restart, show_progress=args.progress
    )
    return summary.as_dict()


def lookup(
    client: Client, args: argparse.Namespace, call: Callable[[Client, LookupRow], LookupResult]
) -> dict[str, Any]:
    return bulk.lookup_file(client, args.file, _out(args), call).as_dict()
