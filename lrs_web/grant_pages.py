"""Grant pages at /grants: the organisations a learner lets see their results whatever their sharing
choice, finding one, choosing until when, and stopping one. One question per page; organisation
references (never learner data) are the only thing in URLs. Thin handlers over the gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs_web import forms
from lrs_web.errors import ServerError
from lrs_web.forms import Checked
from lrs_web.grant_presenters import OrganisationRow, grant_row, organisation_row, suggested_until
from lrs_web.learner_pages import learner_session
from lrs_web.sessions import Session
from lrs_web.web import posted_form, redirect, render, services

REF_MAX = 20
OUT_OF_RANGE = "The date must be today or later, and no more than 2 years from today"


def _ref(value: str) -> str:
    ref = value.strip()
    return ref if 0 < len(ref) <= REF_MAX else ""


async def _organisation(session: Session, request: Request, ref: str) -> OrganisationRow | None:
    if not ref:
        return None
    found = await services(request).gateway.search_organisations(session.token, ref=ref, page_size=1)
    return organisation_row(found[0]) if found else None


def _errors(checked: Checked) -> tuple[list[dict[str, str]], dict[str, str]]:
    return (
        [{"text": e.text, "href": f"#{e.href}"} for e in checked.errors],
        {e.field: e.text for e in checked.errors},
    )


async def grants(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    rows = [grant_row(g) for g in await services(request).gateway.grants(session.token)]
    return render(request, "learner/grants.html", {"grants": rows}, session=session)


async def find(request: Request) -> Response:
    """The search form, and its results once searched (a GET form: nothing changes)."""
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    query = {k: v for k, v in request.query_params.items()}
    context: dict[str, Any] = {"values": {"name": "", "town": ""}, "errors": [], "messages": {}}
    if "search" in query:
        checked = forms.grant_search(query)
        context["values"] = checked.values
        context["errors"], context["messages"] = _errors(checked)
        if checked.ok:
            found = await services(request).gateway.search_organisations(
                session.token, name=checked.values["name"], town=checked.values["town"]
            )
            context["results"] = [organisation_row(o) for o in found]
    status = 400 if context["errors"] else 200
    return render(request, "learner/grant_find.html", context, session=session, status=status)


def _until_page(
    request: Request, session: Session, organisation: OrganisationRow, checked: Checked | None = None
) -> Response:
    suggested = suggested_until(datetime.now(UTC).date())
    values = {"until-day": "", "until-month": "", "until-year": ""}
    errors: list[dict[str, str]] = []
    messages: dict[str, str] = {}
    if checked is not None:
        values = {k: checked.values[k] for k in values}
        errors, messages = _errors(checked)
    context = {
        "organisation": organisation,
        "values": values,
        "errors": errors,
        "messages": messages,
        "example": f"{suggested.day} {suggested.month} {suggested.year}",
    }
    return render(
        request, "learner/grant_until.html", context, session=session, status=400 if errors else 200
    )


async def until(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    organisation = await _organisation(session, request, _ref(request.query_params.get("org", "")))
    if organisation is None:
        return redirect("/grants/find")
    return _until_page(request, session, organisation)


async def create(request: Request) -> Response:
    posted = await posted_form(request, learner_session)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    organisation = await _organisation(session, request, _ref(form.get("org", "")))
    if organisation is None:
        return redirect("/grants/find")
    checked = forms.grant_until(form)
    if checked.ok:
        try:
            await services(request).gateway.create_grant(
                session.token, organisation.ref, checked.values["until"]
            )
        except ServerError as error:
            if "expires_on" not in error.failure.fields:
                raise
            checked = Checked(checked.values, (forms.FieldError("until", "until-day", OUT_OF_RANGE),))
        else:
            return redirect(f"/grants/granted?org={organisation.ref}")
    return _until_page(request, session, organisation, checked)


async def granted(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    ref = _ref(request.query_params.get("org", ""))
    rows = [grant_row(g) for g in await services(request).gateway.grants(session.token)]
    row = next((r for r in rows if r.organisation.ref == ref), None)
    if row is None:
        return redirect("/grants")
    return render(request, "learner/grant_granted.html", {"grant": row}, session=session)


async def stop_page(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    organisation = await _organisation(session, request, _ref(request.query_params.get("org", "")))
    if organisation is None:
        return redirect("/grants")
    return render(request, "learner/grant_stop.html", {"organisation": organisation}, session=session)


async def stop(request: Request) -> Response:
    posted = await posted_form(request, learner_session)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    organisation = await _organisation(session, request, _ref(form.get("org", "")))
    if organisation is None:
        return redirect("/grants")
    await services(request).gateway.revoke_grant(session.token, organisation.ref)
    return redirect(f"/grants/stopped?org={organisation.ref}")


async def stopped(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    organisation = await _organisation(session, request, _ref(request.query_params.get("org", "")))
    if organisation is None:
        return redirect("/grants")
    return render(request, "learner/grant_stopped.html", {"organisation": organisation}, session=session)


routes = [
    Route("/grants", grants, methods=["GET"]),
    Route("/grants/find", find, methods=["GET"]),
    Route("/grants/until", until, methods=["GET"]),
    Route("/grants/until", create, methods=["POST"]),
    Route("/grants/granted", granted, methods=["GET"]),
    Route("/grants/stop", stop_page, methods=["GET"]),
    Route("/grants/stop", stop, methods=["POST"]),
    Route("/grants/stopped", stopped, methods=["GET"]),
]
