"""Learner pages at /: sign in with a school's code, the record, who looked, sharing, download, sign out.
Handlers are thin: read the form, call lrs-server through the gateway, render what presenters made."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs_web import forms, presenters
from lrs_web.errors import ServerError
from lrs_web.forms import Checked
from lrs_web.sessions import Lookup, Role, Session
from lrs_web.web import (
    clear_cookie,
    client_address,
    csrf_ok,
    find_session,
    form_data,
    redirect,
    refused,
    render,
    services,
    session_for_form,
    set_cookie,
)
from school_client.commands.learner import export_dict

ACCESS_PAGE = 20
EMPTY = Checked({"uln": "", "dob-day": "", "dob-month": "", "dob-year": ""})
PROBLEMS = {
    "failed": (
        401,
        "code",
        "We could not sign you in with these details. Check your ULN, date of birth and code. A code"
        " works once and for 14 days: if yours has been used or is older, ask your school for a new one.",
    ),
    "locked": (
        429,
        "uln",
        "There have been too many tries to sign in with this ULN or from this device. Wait 15 minutes,"
        " then try again.",
    ),
    "unavailable": (
        503,
        "uln",
        "Sorry, the service is not working at the moment. Nothing has been changed. Try again in a few"
        " minutes.",
    ),
}


def learner_session(request: Request) -> Session | Response:
    found = find_session(request)
    if found.status is Lookup.ACTIVE and found.session and found.session.role is Role.LEARNER:
        return found.session
    if found.status is Lookup.EXPIRED:
        return redirect("/session-expired")
    return redirect("/")


def _sign_in_page(
    request: Request, session: Session, checked: Checked, problem: str = "", new: bool = False, **extra: Any
) -> Response:
    errors = [{"text": e.text, "href": f"#{e.href}"} for e in checked.errors]
    messages = {e.field: e.text for e in checked.errors}
    status = 400 if errors else 200
    if problem:
        status, field, text = PROBLEMS[problem]
        errors = [{"text": text, "href": f"#{field}"}]
        messages = {field: text}
    values = {k: v for k, v in checked.values.items() if k != "code"}  # the code is never shown again
    context = {"values": values, "messages": messages, "errors": errors, **extra}
    return render(request, "learner/sign_in.html", context, session=session, status=status, new_cookie=new)


async def start(request: Request) -> Response:
    session, new = session_for_form(request)
    if session.role is Role.LEARNER:
        return redirect("/record")
    return _sign_in_page(request, session, EMPTY, new=new)


async def sign_in(request: Request) -> Response:
    s = services(request)
    found = find_session(request)
    session = found.session if found.status is Lookup.ACTIVE else None
    form = await form_data(request)
    if session is None or not csrf_ok(session, form):
        return refused(request)
    checked = forms.sign_in(form)
    if not checked.ok:
        return _sign_in_page(request, session, checked)
    uln, address = checked.values["uln"], client_address(request)
    if s.address_attempts.blocked(address) or s.uln_failures.blocked(uln):
        return _sign_in_page(request, session, checked, "locked")
    s.address_attempts.hit(address)
    try:
        token = await s.gateway.activate(uln, checked.values["dob"], checked.values["code"])
    except ServerError as error:
        failure = error.failure
        if failure.unavailable:
            return _sign_in_page(request, session, checked, "unavailable")
        if failure.code == "RESOURCE_EXHAUSTED":
            return _sign_in_page(request, session, checked, "locked")
        if failure.code in ("UNAUTHENTICATED", "INVALID_ARGUMENT"):
            s.uln_failures.hit(uln)
            return _sign_in_page(request, session, checked, "failed")
        raise
    s.uln_failures.clear(uln)
    s.sessions.drop(session.id)  # a new id once signed in: a session id seen before sign-in is worthless
    signed_in = s.sessions.create(Role.LEARNER, token)
    response = redirect("/record")
    set_cookie(request, response, signed_in)
    return response


async def record(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    gateway = services(request).gateway
    response = await gateway.my_record(session.token)
    new_notices = (await gateway.notices(session.token, 1, "")).new_count
    context = {"record": presenters.record_page(response), "new_notices": new_notices}
    return render(request, "learner/record.html", context, session=session)


async def access_log(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    token = request.query_params.get("page", "")
    if token and not token.isdigit():
        token = ""
    page = await services(request).gateway.access_log(session.token, ACCESS_PAGE, token)
    context = {
        "rows": [presenters.access_row(e) for e in page.entries],
        "next_url": f"/access-log?page={page.next_page_token}" if page.next_page_token else "",
        "first_url": "/access-log" if token else "",
    }
    return render(request, "learner/access_log.html", context, session=session)


async def _sharing_page(request: Request, template: str) -> Response:
    """The learner's current choices, on the sharing page or its confirmation."""
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    preferences = await services(request).gateway.sharing(session.token)
    context = {"sharing": presenters.sharing_page(preferences)}
    return render(request, template, context, session=session)


async def sharing(request: Request) -> Response:
    return await _sharing_page(request, "learner/sharing.html")


async def change_sharing(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    form = await request.form()
    if not csrf_ok(session, {k: v for k, v in form.items() if isinstance(v, str)}):
        return refused(request, session)
    chosen = {v for v in form.getlist("withhold") if isinstance(v, str)}
    kinds = sorted(presenters.KIND_BY_NAME[name] for name in chosen & presenters.KIND_BY_NAME.keys())
    await services(request).gateway.set_sharing(session.token, kinds)
    return redirect("/sharing/saved")


async def sharing_saved(request: Request) -> Response:
    return await _sharing_page(request, "learner/sharing_saved.html")


async def download(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    return render(request, "learner/download.html", session=session)


async def download_file(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    export = await services(request).gateway.export(session.token)
    body = json.dumps(export_dict(export), indent=2, ensure_ascii=False) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-learner-record.json"'},
    )


async def sign_out(request: Request) -> Response:
    found = find_session(request)
    session = found.session if found.status is Lookup.ACTIVE else None
    if not csrf_ok(session, await form_data(request)):
        return refused(request, session)
    if session is not None:
        services(request).sessions.drop(session.id)
    response = _ended(request, "You have signed out", ["You have signed out on this device."])
    clear_cookie(request, response)
    return response


async def sign_out_everywhere_page(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    return render(request, "learner/sign_out_everywhere.html", session=session)


async def sign_out_everywhere(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    if not csrf_ok(session, await form_data(request)):
        return refused(request, session)
    await services(request).gateway.sign_out_everywhere(session.token)
    services(request).sessions.drop(session.id)
    lines = [
        "You have been signed out on every device.",
        "To sign in again, ask your school for a new code.",
    ]
    response = _ended(request, "You have signed out everywhere", lines)
    clear_cookie(request, response)
    return response


def _ended(request: Request, heading: str, lines: list[str], status: int = 200) -> Response:
    return render(request, "learner/signed_out.html", {"heading": heading, "lines": lines}, status=status)


async def session_expired(request: Request) -> Response:
    minutes = round(services(request).settings.idle_timeout / 60)
    lines = [
        f"For your security, we signed you out because you had not used the service for {minutes} minutes,"
        " or had been signed in for a long time.",
        "Your code from school has been used, so to sign in again you need a new one.",
    ]
    response = _ended(request, "You have been signed out", lines)
    clear_cookie(request, response)
    return response


routes = [
    Route("/", start, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/record", record, methods=["GET"]),
    Route("/access-log", access_log, methods=["GET"]),
    Route("/sharing", sharing, methods=["GET"]),
    Route("/sharing", change_sharing, methods=["POST"]),
    Route("/sharing/saved", sharing_saved, methods=["GET"]),
    Route("/download", download, methods=["GET"]),
    Route("/download/my-data.json", download_file, methods=["GET"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/sign-out-everywhere", sign_out_everywhere_page, methods=["GET"]),
    Route("/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
    Route("/session-expired", session_expired, methods=["GET"]),
]
