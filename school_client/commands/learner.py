"""Learner self-service: ``lrs-school learner activate|sharing|access-log|notices|digest|export|sign-out``
(and the grant commands of ``grants.py``).

A learner activates with the code their school gave them (no token needed) and then uses the
learner token printed once (``--token`` or ``$LRS_TOKEN``) for everything else.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from lrs.v1 import learner_service_pb2 as self_pb
from school_client import messages
from school_client.commands import common, grants
from school_client.commands.common import subcommand
from school_client.commands.records import ORG_KINDS, achievement_dict, sharing_dict
from school_client.connection import Client
from school_client.retry import call_with_retry

OPT_OUT_CHOICES = ("all", "none", *ORG_KINDS)
ACCESS_LOG_PAGE = 1000


def access_dict(entry: self_pb.AccessLogEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "organisation_name": entry.organisation_name,
        "organisation_ref": entry.organisation_ref,
        "accessor_kind": entry.accessor_kind,
        "rpc": entry.rpc,
        "fields": list(entry.fields),
        "uln": entry.uln,
    }


def activate(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = self_pb.ActivateLearnerRequest(uln=args.uln, date_of_birth=args.date_of_birth, code=args.code)
    # No bearer token (the learner has none yet), and no retry: a failed attempt counts towards the lock.
    response = client.learner.ActivateLearner(request)
    return {"uln": args.uln, "token": response.token}


def withheld_kinds(opt_out: list[str]) -> list[self_pb.OrganisationKind.ValueType]:
    """``all`` / ``none`` / kinds -> the kinds to withhold from (``all`` and ``none`` stand alone)."""
    chosen = set(opt_out)
    if chosen & {"all", "none"} and len(chosen) > 1:
        raise SystemExit("error: --opt-out takes 'all', 'none' or kinds of organisation, not a mixture")
    if chosen == {"none"}:
        return []
    if chosen == {"all"}:
        return sorted(ORG_KINDS.values())
    return sorted(ORG_KINDS[k] for k in chosen)


def sharing(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    if args.opt_out is None:
        current = call_with_retry(
            lambda: client.learner.GetSharingPreferences(
                self_pb.GetSharingPreferencesRequest(), metadata=client.metadata
            )
        )
        return {"sharing": sharing_dict(current.preferences)}
    request = self_pb.SetSharingPreferencesRequest(withheld_from=withheld_kinds(args.opt_out))
    # Setting the same choice twice leaves the same choice in force, so a retry is harmless.
    changed = call_with_retry(lambda: client.learner.SetSharingPreferences(request, metadata=client.metadata))
    return {"sharing": sharing_dict(changed.preferences)}


def _log_page(client: Client, token: str) -> self_pb.ListMyAccessLogResponse:
    request = self_pb.ListMyAccessLogRequest(page_size=ACCESS_LOG_PAGE, page_token=token)
    page: self_pb.ListMyAccessLogResponse = call_with_retry(
        lambda: client.learner.ListMyAccessLog(request, metadata=client.metadata)
    )
    return page


def access_log(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Every entry, following page tokens to the last page."""
    entries: list[dict[str, Any]] = []
    page = _log_page(client, "")
    entries += [access_dict(e) for e in page.entries]
    while page.next_page_token:
        page = _log_page(client, page.next_page_token)
        entries += [access_dict(e) for e in page.entries]
    return {"access_log": entries}


def notice_dict(notice: self_pb.Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "at": notice.at,
        "organisation_name": notice.organisation_name,
        "organisation_ref": notice.organisation_ref,
        "organisation_kind": notice.organisation_kind,
        "kind": self_pb.NoticeKind.Name(notice.kind).removeprefix("NOTICE_KIND_").lower(),
        "summary": notice.summary,
        "given": list(notice.given),
        "uln": notice.uln,
        "new": notice.new,
    }


def notices(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Every notice (following page tokens), then, unless --keep-new, marks them seen: the next
    look shows only what came after this one as new."""

    def page(token: str) -> self_pb.ListNoticesResponse:
        request = self_pb.ListNoticesRequest(page_size=ACCESS_LOG_PAGE, page_token=token)
        response: self_pb.ListNoticesResponse = call_with_retry(
            lambda: client.learner.ListNotices(request, metadata=client.metadata)
        )
        return response

    first = current = page("")
    found = list(first.notices)
    while current.next_page_token:
        current = page(current.next_page_token)
        found += current.notices
    if found and first.new_count and not args.keep_new:
        seen = self_pb.MarkNoticesSeenRequest(through_notice_id=found[0].id)
        # Marking seen again through the same notice changes nothing, so a retry is harmless.
        call_with_retry(lambda: client.learner.MarkNoticesSeen(seen, metadata=client.metadata))
    return {
        "notices": [notice_dict(n) for n in found],
        "new_count": first.new_count,
        "last_seen_at": first.last_seen_at,
    }


def digest_dict(digest: self_pb.NoticeDigest) -> dict[str, Any]:
    return {
        "email": digest.email,
        "pending_email": digest.pending_email,
        "pending_expires_at": digest.pending_expires_at,
        "last_sent_at": digest.last_sent_at,
    }


def digest(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Show the digest; or ask for it (--email), confirm the emailed code (--confirm), or --stop it."""
    learner, md = client.learner, client.metadata
    if args.email is not None:
        # Not retried: each attempt emails a new code, and only the last one works.
        response: Any = learner.StartNoticeDigest(
            self_pb.StartNoticeDigestRequest(email=args.email), metadata=md
        )
    elif args.confirm is not None:
        response = learner.ConfirmNoticeDigest(
            self_pb.ConfirmNoticeDigestRequest(code=args.confirm), metadata=md
        )
    elif args.stop:
        response = call_with_retry(
            lambda: learner.StopNoticeDigest(self_pb.StopNoticeDigestRequest(), metadata=md)
        )
    else:
        response = call_with_retry(
            lambda: learner.GetNoticeDigest(self_pb.GetNoticeDigestRequest(), metadata=md)
        )
    return {"digest": digest_dict(response.digest)}


def export_dict(response: self_pb.ExportMyDataResponse) -> dict[str, Any]:
    return {
        "learner": messages.learner_dict(response.learner),
        "registered_at": response.registered_at,
        "family_name_history": [
            {"family_name": c.family_name, "replaced_at": c.replaced_at} for c in response.family_name_history
        ],
        "linked_ulns": list(response.linked_ulns),
        "achievements": [achievement_dict(a) for a in response.achievements],
        "sharing": sharing_dict(response.sharing),
        "sharing_history": [sharing_dict(s) for s in response.sharing_history],
        "access_log": [access_dict(e) for e in response.access_log],
        "grants": [grants.grant_dict(g) for g in response.grants],
        "notice_digest": digest_dict(response.notice_digest),
    }


def export(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    out: Path = args.out
    response = call_with_retry(
        lambda: client.learner.ExportMyData(self_pb.ExportMyDataRequest(), metadata=client.metadata)
    )
    data = export_dict(response)
    # Everything held about a person: readable by its owner only (on POSIX), written whole or not at all.
    partial = out.with_name(f".{out.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    os.replace(partial, out)
    return {
        "file": str(out),
        "sections": sorted(data),
        "achievements": len(data["achievements"]),
        "access_log_entries": len(data["access_log"]),
    }


def sign_out(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Not retried: after a first call that did sign out, a retry would be refused as signed out."""
    response = client.learner.SignOutEverywhere(self_pb.SignOutEverywhereRequest(), metadata=client.metadata)
    return {"signed_out": True, "credentials_revoked": response.credentials_revoked}


def _human_sharing(result: dict[str, Any]) -> str | None:
    if set(result) != {"sharing"}:
        return None
    s = result["sharing"]
    if not s["withheld_from"]:
        choice = "your achievements are shared with schools, post-16 providers and awarding bodies"
    else:
        choice = "your achievements are withheld from: " + ", ".join(s["withheld_from"])
    who = {
        "default": "nobody has recorded a choice, so the default (share) applies",
        "learner": f"you chose this on {s['recorded_at']}",
        "school": f"your school ({s['recorded_by_ref']}) recorded this for you on {s['recorded_at']}"
        f" ({s['school_choice']}); your own choice would replace it",
        "merge": "two of your records were merged: the stricter choice applies until you choose again",
    }.get(s["source"], s["source"])
    return f"{choice}\n{who}"


def _human_access_log(result: dict[str, Any]) -> str | None:
    if set(result) != {"access_log"}:
        return None
    lines = [f"{len(result['access_log'])} accesses, newest first"]
    for e in result["access_log"]:
        org = e["organisation_name"] + (f" ({e['organisation_ref']})" if e["organisation_ref"] else "")
        lines.append(f"  {e['at']}  {org}  {e['rpc'].rsplit('/', 1)[-1]}: {', '.join(e['fields'])}")
    return "\n".join(lines)


def _human_notices(result: dict[str, Any]) -> str | None:
    if "notices" not in result:
        return None
    since = f" (you last looked on {result['last_seen_at']})" if result["last_seen_at"] else ""
    lines = [f"{result['new_count']} new since you last looked{since}; {len(result['notices'])} in all"]
    for n in result["notices"]:
        mark = "NEW " if n["new"] else "    "
        given = f" (given: {', '.join(n['given'])})" if n["given"] else ""
        lines.append(
            f"{mark}{n['at']}  {n['organisation_name']} ({n['organisation_kind']}) {n['summary']}{given}"
        )
    return "\n".join(lines)


def _human_digest(result: dict[str, Any]) -> str | None:
    if set(result) != {"digest"}:
        return None
    d = result["digest"]
    lines = [f"daily email of new notices: {'to ' + d['email'] if d['email'] else 'off'}"]
    if d["pending_email"]:
        lines.append(
            f"waiting for the code emailed to {d['pending_email']} (until {d['pending_expires_at']}):"
            " give it with --confirm CODE"
        )
    return "\n".join(lines)


def _human_token(result: dict[str, Any]) -> str | None:
    if set(result) != {"uln", "token"}:
        return None
    return f"your learner token (shown once; keep it secret):\n{result['token']}"


def _human_export(result: dict[str, Any]) -> str | None:
    if "sections" not in result:
        return None
    return (
        f"everything held about you is in {result['file']}: {result['achievements']} achievements, "
        f"{result['access_log_entries']} access log entries"
    )


def _human_sign_out(result: dict[str, Any]) -> str | None:
    if "signed_out" not in result:
        return None
    return (
        f"signed out everywhere ({result['credentials_revoked']} learner token(s) ended, this one too); "
        "ask your school for a new activation code to sign in again"
    )


common.HUMAN_FORMATTERS.extend(
    (
        _human_sharing,
        _human_access_log,
        _human_notices,
        _human_digest,
        _human_token,
        _human_export,
        _human_sign_out,
    )
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    learner = commands.add_parser("learner", help="learner self-service (your own record)")
    actions = learner.add_subparsers(dest="learner_command", required=True)

    act = subcommand(actions, "activate", "exchange your school's activation code for a learner token")
    act.add_argument("--uln", required=True)
    act.add_argument("--date-of-birth", required=True, help="YYYY-MM-DD")
    act.add_argument("--code", required=True, help="the code your school gave you")
    act.set_defaults(handler=activate)

    share = subcommand(actions, "sharing", "show, or change, who may see your achievements")
    share.add_argument(
        "--opt-out",
        nargs="+",
        choices=OPT_OUT_CHOICES,
        metavar="all|none|KIND",
        help="withhold achievements from: all, none, or kinds (school, post16, awarding_body)",
    )
    share.set_defaults(handler=sharing)

    log = subcommand(actions, "access-log", "every access to your data: who, when, what")
    log.set_defaults(handler=access_log)

    note = subcommand(
        actions,
        "notices",
        "every time an organisation found, checked or read your record; new ones first marked",
    )
    note.add_argument(
        "--keep-new", action="store_true", help="do not mark the notices seen (they stay new next time)"
    )
    note.set_defaults(handler=notices)

    dig = subcommand(actions, "digest", "a daily email when organisations look at your record")
    choice = dig.add_mutually_exclusive_group()
    choice.add_argument("--email", help="send the digest to this address (a code is emailed to confirm it)")
    choice.add_argument("--confirm", metavar="CODE", help="the code emailed to the address")
    choice.add_argument("--stop", action="store_true", help="stop the digest and forget the address")
    dig.set_defaults(handler=digest)

    exp = subcommand(actions, "export", "write everything held about you to a JSON file")
    exp.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    exp.set_defaults(handler=export)

    out = subcommand(actions, "sign-out", "end every learner token of yours, this one included")
    out.set_defaults(handler=sign_out)

    grants.register(actions)
