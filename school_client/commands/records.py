"""The learner record from an organisation's desk: submit a results file, read a record, issue a code.

``lrs-school results submit FILE``, ``lrs-school record ULN --given-name G --family-name F`` and
``lrs-school learner-code --uln U``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lrs.v1 import learner_pb2
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from school_client import achievements, messages
from school_client.commands import common
from school_client.commands.common import subcommand
from school_client.connection import Client
from school_client.retry import call_with_retry

ORG_KINDS: dict[str, self_pb.OrganisationKind.ValueType] = {
    "school": self_pb.ORGANISATION_KIND_SCHOOL,
    "post16": self_pb.ORGANISATION_KIND_POST16,
    "awarding_body": self_pb.ORGANISATION_KIND_AWARDING_BODY,
}
_ORG_KIND_NAMES = {v: k for k, v in ORG_KINDS.items()}


def achievement_dict(a: rec_pb.Achievement) -> dict[str, Any]:
    return {
        "uln": a.uln,
        "kind": messages.enum_name(rec_pb.AchievementKind, a.kind),
        "qualification_ref": a.qualification_ref,
        "subject": a.subject,
        "component": a.component,
        "level": a.level,
        "grade": a.grade,
        "award_date": a.award_date,
        "status": messages.enum_name(rec_pb.AchievementStatus, a.status),
        "awarding_organisation": a.awarding_organisation,
        "submitted_by_ref": a.submitted_by_ref,
        "submitted_by_name": a.submitted_by_name,
        "updated_at": a.updated_at,
    }


def sharing_dict(p: self_pb.SharingPreferences) -> dict[str, Any]:
    source = messages.enum_name(self_pb.SharingSource, p.source)
    return {
        "withheld_from": [_ORG_KIND_NAMES.get(k, str(k)) for k in p.withheld_from],
        "source": "default" if source == "UNSPECIFIED" else source.lower(),
        "recorded_by_ref": p.recorded_by_ref,
        "recorded_at": p.recorded_at,
        "school_choice": (
            messages.enum_name(learner_pb2.SharingChoice, p.school_choice).lower().replace("_", "-")
            if p.school_choice
            else ""
        ),
    }


def record_dict(response: rec_pb.GetLearnerRecordResponse) -> dict[str, Any]:
    return {
        "uln": response.learner.uln,
        "master_substituted": response.master_substituted,
        "learner": messages.learner_dict(response.learner),
        "achievements": [achievement_dict(a) for a in response.achievements],
        "achievements_withheld": response.achievements_withheld,
        "withheld_message": response.withheld_message,
    }


def submit_results(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    source: Path = args.file
    out: Path = args.out or achievements.default_results_path(source)
    if out.exists() and source.exists() and out.resolve() == source.resolve():
        raise SystemExit("error: --out would overwrite the results file being submitted; give another --out")
    summary = achievements.submit_file(client, source, out, resume=args.resume, show_progress=args.progress)
    return summary.as_dict()


def read_record(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = rec_pb.GetLearnerRecordRequest(
        uln=args.uln or "", given_name=args.given_name or "", family_name=args.family_name or ""
    )
    response = call_with_retry(lambda: client.records.GetLearnerRecord(request, metadata=client.metadata))
    return record_dict(response)


def issue_code(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = self_pb.IssueActivationCodeRequest(uln=args.uln)
    # Not retried: a retried call that did reach the server would leave an unused second code.
    response = client.learner.IssueActivationCode(request, metadata=client.metadata)
    return {"uln": args.uln, "code": response.code, "expires_at": response.expires_at}


def _human_submit(result: dict[str, Any]) -> str | None:
    if "outcomes" not in result or "format" not in result:
        return None
    counts = ", ".join(f"{name} {count}" for name, count in result["outcomes"].items()) or "none"
    resumed = f" (resumed after row {result['resumed_from']})" if result.get("resumed_from") else ""
    lines = [f"{result['rows']} results{resumed}: {counts}; per-row results in {result['results_file']}"]
    if result.get("skipped"):
        lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in result["skipped"].items()))
    return "\n".join(lines)


def _human_record(result: dict[str, Any]) -> str | None:
    if "achievements_withheld" not in result or "learner" not in result:
        return None
    learner = result["learner"]
    lines = [
        f"ULN: {result['uln']}"
        + (" (master record: the ULN you gave is linked to it)" if result["master_substituted"] else ""),
        f"name: {learner.get('given_name', '')} {learner.get('family_name', '')}",
    ]
    if learner.get("date_of_birth"):
        lines.append(f"born: {learner['date_of_birth']}")
    if result["achievements_withheld"]:
        lines.append(f"achievements withheld: {result['withheld_message']}")
    lines.append(f"achievements: {len(result['achievements'])}")
    for a in result["achievements"]:
        when = f" {a['award_date']}" if a["award_date"] else ""
        lines.append(
            f"  {a['kind']} {a['qualification_ref']} {a['subject']}"
            f"{' ' + a['component'] if a['component'] else ''}: {a['grade']} ({a['status'].lower()}{when})"
            f" from {a['submitted_by_name'] or a['submitted_by_ref']}"
        )
    return "\n".join(lines)


def _human_code(result: dict[str, Any]) -> str | None:
    if set(result) != {"uln", "code", "expires_at"}:
        return None
    return (
        f"activation code for {result['uln']}: {result['code']}\n"
        f"give it to the learner; it works once and expires {result['expires_at']}"
    )


common.HUMAN_FORMATTERS.extend((_human_submit, _human_record, _human_code))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    results = commands.add_parser("results", help="submit learners' results (achievements)")
    actions = results.add_subparsers(dest="results_command", required=True)
    submit = subcommand(actions, "submit", "submit a results CSV or a CTF with key stage results")
    submit.add_argument(
        "file",
        type=Path,
        help="results CSV (ULN, GivenName, FamilyName, QualificationType, QualificationRef, Subject, "
        "Level, Grade, AwardDate, Status[, AwardingOrganisation]) or CTF XML",
    )
    submit.add_argument("--out", type=Path, help="per-row results CSV (default: FILE.results.csv)")
    submit.add_argument(
        "--resume",
        action="store_true",
        help="carry on from an interrupted results file (default: send the whole file again, which is safe)",
    )
    submit.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    submit.set_defaults(handler=submit_results)

    record = subcommand(
        commands,
        "record",
        "read a learner's record (identity and achievements); a learner reads their own",
    )
    record.add_argument("uln", nargs="?", help="the learner's ULN (optional with a learner token)")
    record.add_argument("--given-name", help="required for organisations")
    record.add_argument("--family-name", help="required for organisations")
    record.set_defaults(handler=read_record)

    code = subcommand(commands, "learner-code", "issue a one-time activation code for a learner")
    code.add_argument("--uln", required=True)
    code.set_defaults(handler=issue_code)
