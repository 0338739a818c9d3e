"""Argument groups and output shared by every subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from school_client import messages


def subcommand(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    """A subcommand with the connection options (--server, --token, --tls, --ca-file, --json)."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    add_connection(parser)
    return parser


def add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="HOST:PORT (default $LRS_SERVER or 127.0.0.1:50051)")
    p.add_argument("--token", help="bearer token (default $LRS_TOKEN)")
    p.add_argument("--tls", action="store_true", help="use TLS (system roots unless --ca-file)")
    p.add_argument("--ca-file", help="PEM CA bundle to trust (implies --tls)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_identity(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--given-name", required=required)
    p.add_argument("--family-name", required=required)
    p.add_argument("--date-of-birth", required=required, help="YYYY-MM-DD")
    p.add_argument("--gender", choices=sorted(messages.GENDERS), required=required)
    p.add_argument("--postcode", required=required, help="UK postcode, or 'ZZ99 3CZ' when not known")
    p.add_argument("--middle-names")
    p.add_argument("--previous-family-name")


# Readable forms added by command modules: each returns None for a result that is not its own.
HUMAN_FORMATTERS: list[Callable[[dict[str, Any]], str | None]] = []


def human(result: dict[str, Any]) -> str:
    for formatter in HUMAN_FORMATTERS:
        text = formatter(result)
        if text is not None:
            return text
    if "outcomes" in result:  # a file run's summary
        counts = ", ".join(f"{name} {count}" for name, count in result["outcomes"].items()) or "none"
        resumed = f" (resumed after row {result['resumed_from']})" if result.get("resumed_from") else ""
        lines = [f"{result['rows']} rows{resumed}: {counts}; results in {result['results_file']}"]
        if result.get("columns_read_as_empty"):
            lines.append(
                "columns not in the file, read as empty: " + ", ".join(result["columns_read_as_empty"])
            )
        if result.get("columns_ignored"):
            lines.append("columns that are not LRB ones, not read: " + ", ".join(result["columns_ignored"]))
        return "\n".join(lines)
    lines = [f"outcome: {result.get('outcome')}"]
    if result.get("uln"):
        lines.append(f"ULN: {result['uln']}")
    if result.get("mismatched_fields"):
        lines.append("mismatched: " + ", ".join(result["mismatched_fields"]))
    for c in result.get("candidates", []):
        probability = f" (match probability {c['match_probability']:.3f})" if "match_probability" in c else ""
        lines.append(
            f"  {c['uln']}  {c.get('given_name', '')} {c.get('family_name', '')}  "
            f"born {c.get('date_of_birth', '?')}{probability}"
        )
    return "\n".join(lines)
