"""Grants: ``lrs-school learner organisations|grant|revoke|grants``.

A learner finds an organisation (only those allowed to read records are listed) and opens their
achievements to it until a date, whatever they chose for its kind, or ends that early. Uses the
learner token, as the other ``learner`` commands do.
"""

from __future__ import annotations

import argparse
from typing import Any

from lrs.v1 import learner_service_pb2 as self_pb
from school_client.commands import common
from school_client.commands.common import subcommand
from school_client.commands.records import ORG_KINDS
from school_client.connection import Client
from school_client.retry import call_with_retry

KIND_NAMES = {v: k for k, v in ORG_KINDS.items()}
SEARCH_PAGE = 100
GRANTS_PAGE = 1000


def organisation_dict(o: self_pb.Organisation) -> dict[str, Any]:
    return {"ref": o.ref, "name": o.name, "kind": KIND_NAMES.get(o.kind, ""), "town": o.town}


def grant_dict(g: self_pb.Grant) -> dict[str, Any]:
    return {
        "organisation": organisation_dict(g.organisation),
        "granted_at": g.granted_at,
        "expires_on": g.expires_on,
    }


def _search_page(client: Client, args: argparse.Namespace, token: str) -> self_pb.SearchOrganisationsResponse:
    request = self_pb.SearchOrganisationsRequest(
        name=args.name or "",
        kind=ORG_KINDS[args.kind] if args.kind else self_pb.ORGANISATION_KIND_UNSPECIFIED,
        town=args.town or "",
        page_size=SEARCH_PAGE,
        page_token=token,
    )
    page: self_pb.SearchOrganisationsResponse = call_with_retry(
        lambda: client.learner.SearchOrganisations(request, metadata=client.metadata)
    )
    return page


def organisations(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Every matching organisation, following page tokens."""
    page = _search_page(client, args, "")
    found = [organisation_dict(o) for o in page.organisations]
    while page.next_page_token:
        page = _search_page(client, args, page.next_page_token)
        found += [organisation_dict(o) for o in page.organisations]
    return {"organisations": found}


def grant(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = self_pb.CreateGrantRequest(organisation_ref=args.org, expires_on=args.until or "")
    # Granting again replaces the grant with the same date: a retry leaves the same grant in force.
    response = call_with_retry(lambda: client.learner.CreateGrant(request, metadata=client.metadata))
    return {"grant": grant_dict(response.grant)}


def revoke(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    request = self_pb.DeleteGrantRequest(organisation_ref=args.org)
    # A retry after a revoke that went through ends nothing more.
    response = call_with_retry(lambda: client.learner.DeleteGrant(request, metadata=client.metadata))
    return {"revoked": args.org, "grants_revoked": response.grants_revoked}


def _grants_page(client: Client, token: str) -> self_pb.ListGrantsResponse:
    request = self_pb.ListGrantsRequest(page_size=GRANTS_PAGE, page_token=token)
    page: self_pb.ListGrantsResponse = call_with_retry(
        lambda: client.learner.ListGrants(request, metadata=client.metadata)
    )
    return page


def grants(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    page = _grants_page(client, "")
    found = [grant_dict(g) for g in page.grants]
    while page.next_page_token:
        page = _grants_page(client, page.next_page_token)
        found += [grant_dict(g) for g in page.grants]
    return {"grants": found}


def _where(o: dict[str, Any]) -> str:
    return f"{o['name']} ({o['ref']}, {o['kind']}{', ' + o['town'] if o['town'] else ''})"


def _human(result: dict[str, Any]) -> str | None:
    if set(result) == {"organisations"}:
        rows = result["organisations"]
        return "\n".join([f"{len(rows)} organisations", *(f"  {_where(o)}" for o in rows)])
    if set(result) == {"grant"}:
        g = result["grant"]
        return (
            f"{_where(g['organisation'])} can see your achievements until the end of {g['expires_on']}, "
            "whatever you chose for its kind; 'lrs-school learner revoke' ends it sooner"
        )
    if set(result) == {"revoked", "grants_revoked"}:
        if result["grants_revoked"]:
            return f"{result['revoked']} can no longer see your achievements through a grant"
        return f"you had no grant to {result['revoked']} in force: nothing changed"
    if set(result) == {"grants"}:
        rows = result["grants"]
        if not rows:
            return "you have no grants in force: your sharing choice alone decides who sees your achievements"
        lines = [f"{len(rows)} grants in force"]
        lines += [f"  {_where(g['organisation'])} until the end of {g['expires_on']}" for g in rows]
        return "\n".join(lines)
    return None


common.HUMAN_FORMATTERS.append(_human)


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the grant commands to ``lrs-school learner``."""
    find = subcommand(actions, "organisations", "find organisations you can grant your achievements to")
    find.add_argument("--name", help="part of the name, any case")
    find.add_argument("--kind", choices=sorted(ORG_KINDS), help="only this kind of organisation")
    find.add_argument("--town", help="the town, any case")
    find.set_defaults(handler=organisations)

    give = subcommand(actions, "grant", "let one organisation see your achievements until a date")
    give.add_argument("--org", required=True, help="the organisation's reference (see 'organisations')")
    give.add_argument(
        "--until", help="the last day, YYYY-MM-DD: today to two years ahead (default: 90 days from today)"
    )
    give.set_defaults(handler=grant)

    end = subcommand(actions, "revoke", "end your grant to an organisation now")
    end.add_argument("--org", required=True, help="the organisation's reference")
    end.set_defaults(handler=revoke)

    listed = subcommand(actions, "grants", "the grants you have in force")
    listed.set_defaults(handler=grants)
