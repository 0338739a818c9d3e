"""``lrs-school``: register, find and verify learners from a school's or college's desk."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import grpc

from school_client.batch import ResultsMismatch
from school_client.commands import common, learner, records, single
from school_client.connection import Client, ConnectionSettings
from school_client.errors import call_error
from school_client.files import FileFormatError

Handler = Callable[[Client, argparse.Namespace], dict[str, Any]]
# Each module adds its subcommands; a handler returns one JSON-able dict (printed as JSON with
# --json, else as readable text) and may set "exit_status".
COMMAND_MODULES = (single, records, learner)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="lrs-school", description="Client of the Learner Registration Service."
    )
    commands = root.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = ConnectionSettings.from_env(args.server, args.token, args.ca_file, args.tls)
    handler: Handler = args.handler
    with Client(settings) as client:
        try:
            result = handler(client, args)
        except ResultsMismatch as error:
            print(
                json.dumps({"error": {"code": "RESULTS_MISMATCH", "message": str(error)}})
                if args.json
                else f"error: {error}",
                file=sys.stdout if args.json else sys.stderr,
            )
            return 2
        except FileFormatError as error:
            if args.json:
                print(
                    json.dumps(
                        {
                            "error": {
                                "code": "FILE_REJECTED",
                                "reason": "FILE_FORMAT",
                                "message": str(error),
                                "line": error.line,
                                "field_violations": [],
                            }
                        }
                    )
                )
            else:
                print(f"error: {args.file}: {error}", file=sys.stderr)
            return 2
        except grpc.RpcError as error:
            failure = call_error(error)
            if args.json:
                print(json.dumps({"error": failure.as_dict()}))
            else:
                print(failure.human(), file=sys.stderr)
            return 1
    print(json.dumps(result) if args.json else common.human(result))
    return int(result.get("exit_status", 0))


if __name__ == "__main__":
    raise SystemExit(main())
