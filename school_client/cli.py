"""``lrs-school``: register, find and verify learners from a school's or college's desk."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

import grpc

from lrs.v1 import learner_pb2
from lrs.v1 import registration_service_pb2 as reg_pb
from school_client import messages
from school_client.connection import Client, ConnectionSettings
from school_client.errors import call_error
from school_client.retry import call_with_retry

Handler = Callable[[Client, argparse.Namespace], dict[str, Any]]


def _identity(args: argparse.Namespace) -> Any:
    return messages.identity(
        given_name=args.given_name or "",
        family_name=args.family_name or "",
        date_of_birth=args.date_of_birth or "",
        gender=args.gender or "",
        postcode=args.postcode or "",
        middle_names=args.middle_names or "",
        previous_family_name=args.previous_family_name or "",
    )


def register_one(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = reg_pb.RegisterLearnerRequest(
        request_id=args.request_id or str(uuid.uuid4()),
        identity=_identity(args),
        mis_identifier=args.mis_id or "",
        post14_qualification=args.post14_qualification,
    )
    if args.confirm_uln:
        request.confirmation.confirm_uln = args.confirm_uln
    elif args.confirm_new:
        request.confirmation.confirm_new_reason = args.confirm_new
    # The request id makes the retry safe: a second attempt never issues a second ULN.
    response = call_with_retry(lambda: client.registration.RegisterLearner(request, metadata=client.metadata))
    return messages.registration_dict(response)


def find_one(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    if args.uln:
        by_uln = reg_pb.FindLearnerByUlnRequest(
            uln=args.uln, given_name=args.given_name or "", family_name=args.family_name or ""
        )
        return messages.find_by_uln_dict(
            call_with_retry(lambda: client.registration.FindLearnerByUln(by_uln, metadata=client.metadata))
        )
    request = reg_pb.FindLearnerByDemographicsRequest(identity=_identity(args))
    return messages.find_dict(
        call_with_retry(
            lambda: client.registration.FindLearnerByDemographics(request, metadata=client.metadata)
        )
    )


def verify_one(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = reg_pb.VerifyLearnerRequest(
        uln=args.uln or "",
        given_name=args.given_name or "",
        family_name=args.family_name or "",
        date_of_birth=args.date_of_birth or "",
        gender=messages.GENDERS.get(args.gender or "", learner_pb2.GENDER_UNSPECIFIED),
    )
    return messages.verification_dict(
        call_with_retry(lambda: client.registration.VerifyLearner(request, metadata=client.metadata))
    )


def _human(result: dict[str, Any]) -> str:
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


def _add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="HOST:PORT (default $LRS_SERVER or 127.0.0.1:50051)")
    p.add_argument("--token", help="bearer token (default $LRS_TOKEN)")
    p.add_argument("--tls", action="store_true", help="use TLS (system roots unless --ca-file)")
    p.add_argument("--ca-file", help="PEM CA bundle to trust (implies --tls)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _add_identity(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--given-name", required=required)
    p.add_argument("--family-name", required=required)
    p.add_argument("--date-of-birth", required=required, help="YYYY-MM-DD")
    p.add_argument("--gender", choices=sorted(messages.GENDERS), required=required)
    p.add_argument("--postcode", required=required, help="UK postcode, or 'ZZ99 3CZ' when not known")
    p.add_argument("--middle-names")
    p.add_argument("--previous-family-name")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="lrs-school", description="Client of the Learner Registration Service."
    )
    commands = root.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", help="register a learner (or a file of learners)")
    _add_connection(register)
    _add_identity(register, required=False)
    register.add_argument("--mis-id", help="your MIS identifier for the pupil")
    register.add_argument(
        "--post14-qualification", action="store_true", help="under 14, taking a post-14 course"
    )
    register.add_argument("--request-id", help="idempotency key (default: a new UUID, reused on retries)")
    register.add_argument("--confirm-uln", help="after POSSIBLE_MATCH: the learner is this candidate")
    register.add_argument("--confirm-new", metavar="REASON", help="after POSSIBLE_MATCH: none of them; why")
    register.set_defaults(handler=register_one)

    find = commands.add_parser("find", help="find a learner's ULN from demographics (or check a ULN)")
    _add_connection(find)
    _add_identity(find, required=False)
    find.add_argument("--uln", help="look up this ULN (with --given-name and --family-name)")
    find.set_defaults(handler=find_one)

    verify = commands.add_parser("verify", help="verify a ULN a learner gave you")
    _add_connection(verify)
    verify.add_argument("--uln", required=True)
    verify.add_argument("--given-name", required=True)
    verify.add_argument("--family-name", required=True)
    verify.add_argument("--date-of-birth")
    verify.add_argument("--gender", choices=sorted(messages.GENDERS))
    verify.set_defaults(handler=verify_one)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = ConnectionSettings.from_env(args.server, args.token, args.ca_file, args.tls)
    handler: Handler = args.handler
    with Client(settings) as client:
        try:
            result = handler(client, args)
        except grpc.RpcError as error:
            failure = call_error(error)
            if args.json:
                print(json.dumps({"error": failure.as_dict()}))
            else:
                print(failure.human(), file=sys.stderr)
            return 1
    print(json.dumps(result) if args.json else _human(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
