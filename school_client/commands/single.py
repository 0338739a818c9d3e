"""Single-learner commands: register, update, find and verify one learner from the command line."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from lrs.v1 import learner_pb2
from lrs.v1 import registration_service_pb2 as reg_pb
from school_client import bulk, messages
from school_client.commands import files
from school_client.commands.common import add_identity, subcommand
from school_client.connection import Client
from school_client.retry import call_with_retry


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
    if args.file:
        return files.register(client, args)
    request = reg_pb.RegisterLearnerRequest(
        request_id=args.request_id or str(uuid.uuid4()),
        identity=_identity(args),
        mis_identifier=args.mis_id or "",
        post14_qualification=args.post14_qualification,
        ability_to_share=messages.sharing_choice(args.ability_to_share or ""),
    )
    if args.confirm_uln:
        request.confirmation.confirm_uln = args.confirm_uln
    elif args.confirm_new:
        request.confirmation.confirm_new_reason = args.confirm_new
    # The request id makes the retry safe: a second attempt never issues a second ULN.
    response = call_with_retry(lambda: client.registration.RegisterLearner(request, metadata=client.metadata))
    return messages.registration_dict(response)


def update_one(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = reg_pb.UpdateLearnerRequest(uln=args.uln, identity=_identity(args), etag=args.etag or "")
    # Safe to retry: the same identity replaces the same learner's.
    response = call_with_retry(lambda: client.registration.UpdateLearner(request, metadata=client.metadata))
    return {"outcome": "UPDATED", **messages.learner_dict(response.learner), "etag": response.learner.etag}


def find_one(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    if args.file:
        return files.lookup(client, args, bulk.find_row)
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
    if args.file:
        return files.lookup(client, args, bulk.verify_row)
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reg = subcommand(commands, "register", "register a learner (or a file of learners)")
    files.add_file_arguments(reg, "an LRB batch CSV (2A) or a CTF XML file", resumable=True)
    add_identity(reg, required=False)
    reg.add_argument("--mis-id", help="your MIS identifier for the pupil")
    reg.add_argument("--post14-qualification", action="store_true", help="under 14, taking a post-14 course")
    reg.add_argument(
        "--ability-to-share",
        choices=sorted(messages.SHARING_CHOICES),
        help="the learner's choice, recorded on their behalf (their own later choice wins)",
    )
    reg.add_argument("--request-id", help="idempotency key (default: a new UUID, reused on retries)")
    reg.add_argument("--confirm-uln", help="after POSSIBLE_MATCH: the learner is this candidate")
    reg.add_argument("--confirm-new", metavar="REASON", help="after POSSIBLE_MATCH: none of them; why")
    reg.set_defaults(handler=register_one)

    update = subcommand(
        commands,
        "update",
        "correct a learner's details (one your school registered); the whole identity is replaced",
    )
    update.add_argument("--uln", required=True)
    add_identity(update, required=True)
    update.add_argument("--etag", help="refuse if the learner changed since you read this version")
    update.set_defaults(handler=update_one)

    find = subcommand(commands, "find", "find a learner's ULN from demographics (or check a ULN)")
    files.add_file_arguments(find, "a lookup CSV: Reference, ULN, GivenName, FamilyName, DateOfBirth, ...")
    add_identity(find, required=False)
    find.add_argument("--uln", help="look up this ULN (with --given-name and --family-name)")
    find.set_defaults(handler=find_one)

    verify = subcommand(commands, "verify", "verify a ULN a learner gave you (or a file of them)")
    files.add_file_arguments(verify, "a lookup CSV: Reference, ULN, GivenName, FamilyName, DateOfBirth, ...")
    verify.add_argument("--uln")
    verify.add_argument("--given-name")
    verify.add_argument("--family-name")
    verify.add_argument("--date-of-birth")
    verify.add_argument("--gender", choices=sorted(messages.GENDERS))
    verify.set_defaults(handler=verify_one)
