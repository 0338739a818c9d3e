"""Review operator pages at /review, signed in with an admin organisation's token: the queue of possible
matches, one item side by side with its candidates and the decision, and undoing merges. Learner ULNs
travel only in form bodies (POST), never in URLs; outcomes are shown once from the session."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs_web import forms, review_presenters
from lrs_web.errors import ServerError
from lrs_web.forms import Checked, FieldError
from lrs_web.sessions import Flash, Lookup, Role, Session
from lrs_web.web import (
    client_address,
    csrf_ok,
    find_session,
    form_data,
    posted_form,
    redirect,
    refused,
    render,
    services,
    session_for_form,
    set_cookie,
)

QUEUE_PAGE = 20
SIGN_IN_REFUSED = (
    "This token is not an administrator's token, or it has been revoked. Check it and try again."
)


def _operator(request: Request) -> Session | Response:
    found = find_session(request)
    if found.status is Lookup.ACTIVE and found.session and found.session.role is Role.OPERATOR:
        return found.session
    if found.status is Lookup.EXPIRED:
        return redirect("/review/session-expired")
    return redirect("/review/sign-in")


def _errors(checked: Checked) -> dict[str, Any]:
    return {
        "errors": [{"text": e.text, "href": f"#{e.href}"} for e in checked.errors],
        "messages": {e.field: e.text for e in checked.errors},
    }


def _where(request: Request) -> tuple[str, str]:
    """The queue page and school filter the operator is on (page tokens are digits)."""
    page = request.query_params.get("page", "")
    school = request.query_params.get("school", "").strip()[:64]
    return (page if page.isdigit() else ""), school


def _query(page: str, school: str) -> str:
    pairs = [(k, v) for k, v in (("page", page), ("school", school)) if v]
    return f"?{urlencode(pairs)}" if pairs else ""


async def sign_in_page(request: Request) -> Response:
    session, new = session_for_form(request)
    if session.role is Role.OPERATOR:
        return redirect("/review")
    return render(request, "review/sign_in.html", {"messages": {}}, session=session, new_cookie=new)


async def sign_in(request: Request) -> Response:
    s = services(request)
    found = find_session(request)
    session = found.session if found.status is Lookup.ACTIVE else None
    form = await form_data(request)
    if session is None or not csrf_ok(session, form):
        return refused(request)
    checked = forms.operator_sign_in(form)
    if checked.ok and s.address_attempts.blocked(client_address(request)):
        checked = Checked({}, (FieldError("token", "token", "Too many tries from here. Wait 15 minutes."),))
    if checked.ok:
        s.address_attempts.hit(client_address(request))
        try:
            await s.gateway.review_items(checked.values["token"], 1, "")
        except ServerError as error:
            if error.failure.unavailable:
                raise
            checked = Checked({}, (FieldError("token", "token", SIGN_IN_REFUSED),))
    if not checked.ok:
        return render(request, "review/sign_in.html", _errors(checked), session=session, status=400)
    s.sessions.drop(session.id)
    signed_in = s.sessions.create(Role.OPERATOR, checked.values["token"])
    response = redirect("/review")
    set_cookie(request, response, signed_in)
    return response


async def queue(request: Request) -> Response:
    session = _operator(request)
    if isinstance(session, Response):
        return session
    page_token, school = _where(request)
    page = await services(request).gateway.review_items(session.token, QUEUE_PAGE, page_token, school)
    context = {
        "rows": [review_presenters.queue_row(i) for i in page.items],
        "total": page.total_size,
        "school": school,
        "here": _query(page_token, school),
        "next_url": f"/review{_query(page.next_page_token, school)}" if page.next_page_token else "",
        "first_url": f"/review{_query('', school)}" if page_token else "",
        "flash": services(request).sessions.take_flash(session.id),
    }
    return render(request, "review/queue.html", context, session=session)


async def _find_item(request: Request, session: Session, item_id: int) -> admin_pb.ReviewItem | None:
    """The item as the queue page the operator came from lists it (None: decided since, or gone)."""
    page_token, school = _where(request)
    page = await services(request).gateway.review_items(session.token, QUEUE_PAGE, page_token, school)
    return next((i for i in page.items if i.id == item_id), None)


async def _item_page(
    request: Request, session: Session, item_id: int, checked: Checked | None = None, status: int = 200
) -> Response:
    item = await _find_item(request, session, item_id)
    if item is None:
        return _gone(request, session)
    page_token, school = _where(request)
    context = {
        "item": review_presenters.item_page(item),
        "back_url": f"/review{_query(page_token, school)}",
        "action": f"/review/items/{item_id}{_query(page_token, school)}",
        "values": checked.values if checked else {},
        **(_errors(checked) if checked else {"messages": {}}),
    }
    return render(request, "review/item.html", context, session=session, status=status)


def _gone(request: Request, session: Session) -> Response:
    context = {
        "heading": "This registration is no longer waiting",
        "lines": ["Someone may have decided it already. Go back to the queue to see what is left."],
        "home_url": "/review",
        "service_name": "Review possible matches",
    }
    return render(request, "errors/error.html", context, session=session, status=404)


async def item(request: Request) -> Response:
    session = _operator(request)
    if isinstance(session, Response):
        return session
    return await _item_page(request, session, int(request.path_params["item_id"]))


async def decide(request: Request) -> Response:
    posted = await posted_form(request, _operator)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    item_id = int(request.path_params["item_id"])
    link = forms.clean_uln(form.get("link_uln", ""))
    checked = Checked({}) if link else forms.reason(form)
    if not checked.ok:
        return await _item_page(request, session, item_id, checked, status=400)
    gateway = services(request).gateway
    try:
        if link:
            outcome = await gateway.resolve(session.token, item_id, link_uln=link)
        else:
            outcome = await gateway.resolve(session.token, item_id, new_reason=checked.values["reason"])
    except ServerError as error:
        if error.failure.code in ("NOT_FOUND", "FAILED_PRECONDITION"):
            return _gone(request, session)
        raise
    if outcome.issued:
        flash = Flash(f"New ULN {outcome.uln} issued", (f"Registration {item_id} is a new learner.",))
    else:
        flash = Flash(f"Linked to ULN {outcome.uln}", (f"Registration {item_id} is this learner.",))
    services(request).sessions.flash(session.id, flash)
    page_token, school = _where(request)
    return redirect(f"/review{_query(page_token, school)}")


async def merges(request: Request) -> Response:
    session = _operator(request)
    if isinstance(session, Response):
        return session
    flash = services(request).sessions.take_flash(session.id)
    return render(request, "review/merges.html", {"messages": {}, "flash": flash}, session=session)


async def search_links(request: Request) -> Response:
    posted = await posted_form(request, _operator)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    checked = forms.uln_search(form)
    context: dict[str, Any] = {"values": checked.values, "searched": checked.ok, **_errors(checked)}
    if checked.ok:
        try:
            found = await services(request).gateway.links(session.token, checked.values["uln"])
        except ServerError as error:
            if error.failure.code != "NOT_FOUND":
                raise
            missing = Checked(checked.values, (FieldError("uln", "uln", "No learner holds this ULN"),))
            context = {"values": checked.values, **_errors(missing)}
        else:
            context["learner"] = found.learner
            context["links"] = review_presenters.link_rows(found)
    status = 400 if context.get("errors") else 200
    return render(request, "review/merges.html", context, session=session, status=status)


async def undo_merge(request: Request) -> Response:
    posted = await posted_form(request, _operator)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    linked = forms.clean_uln(form.get("linked_uln", ""))
    checked = forms.reason(form)
    if not checked.ok:
        context = {"values": {"uln": linked}, "undo": linked, **_errors(checked)}
        return render(request, "review/merges.html", context, session=session, status=400)
    try:
        done = await services(request).gateway.unmerge(session.token, linked, checked.values["reason"])
    except ServerError as error:
        if error.failure.code not in ("FAILED_PRECONDITION", "NOT_FOUND"):
            raise
        done = None
    if done is None:
        flash = Flash("That merge was already undone", ("Nothing has been changed.",))
    else:
        flash = Flash(
            "Merge undone",
            (f"ULN {done.linked_uln} stands alone again; it was linked to {done.master_uln}.",),
        )
    services(request).sessions.flash(session.id, flash)
    return redirect("/review/merges")


async def sign_out(request: Request) -> Response:
    found = find_session(request)
    session = found.session if found.status is Lookup.ACTIVE else None
    if not csrf_ok(session, await form_data(request)):
        return refused(request, session)
    if session is not None:
        services(request).sessions.drop(session.id)
    context = {"heading": "You have signed out", "lines": [], "home_url": "/review/sign-in"}
    return render(request, "review/ended.html", context)


async def session_expired(request: Request) -> Response:
    minutes = round(services(request).settings.idle_timeout / 60)
    context = {
        "heading": "You have been signed out",
        "lines": [f"For security, you were signed out after {minutes} minutes without using the pages."],
        "home_url": "/review/sign-in",
    }
    return render(request, "review/ended.html", context)


routes = [
    Route("/review/sign-in", sign_in_page, methods=["GET"]),
    Route("/review/sign-in", sign_in, methods=["POST"]),
    Route("/review", queue, methods=["GET"]),
    Route("/review/items/{item_id:int}", item, methods=["GET"]),
    Route("/review/items/{item_id:int}", decide, methods=["POST"]),
    Route("/review/merges", merges, methods=["GET"]),
    Route("/review/merges", search_links, methods=["POST"]),
    Route("/review/merges/undo", undo_merge, methods=["POST"]),
    Route("/review/sign-out", sign_out, methods=["POST"]),
    Route("/review/session-expired", session_expired, methods=["GET"]),
]
