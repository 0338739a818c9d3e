"""Learner pages for notices (/notices: every look by an organisation, new ones marked) and the
daily email of them (/notices/email: ask, confirm with the emailed code, stop).

Showing the notices page is the learner looking: once it is rendered, the notices on it are marked
seen, so the next visit marks only later looks as new (docs/DECISIONS.md)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.v1 import learner_service_pb2 as self_pb
from lrs_web.errors import ServerError
from lrs_web.learner_pages import learner_session
from lrs_web.presenters import ACCESSOR_KINDS, date_time, what_was_seen
from lrs_web.sessions import Flash, Session
from lrs_web.web import posted_form, redirect, render, services

NOTICES_PAGE = 20
EMAIL_PROBLEMS = {
    "FIELD_REQUIRED": "Enter your email address",
    "EMAIL_INVALID": "Enter an email address in the correct format, like name@example.com",
    "TEXT_INVALID": "Enter an email address in the correct format, like name@example.com",
}
NO_EMAIL = "Sorry, this service cannot send emails at the moment. You can still see your notices here."
WRONG_CODE = (
    "The code is not right, or it has run out. Check the latest email we sent you. After 5 wrong"
    " codes, or after an hour, ask for a new one."
)


@dataclass(frozen=True, slots=True)
class NoticeRow:
    when: str
    who: str
    kind: str
    what: str
    given: str
    new: bool


def notice_row(n: self_pb.Notice) -> NoticeRow:
    return NoticeRow(
        when=date_time(n.at),
        who=n.organisation_name or n.organisation_ref,
        kind=ACCESSOR_KINDS.get(n.organisation_kind, n.organisation_kind),
        what=n.summary[:1].upper() + n.summary[1:],
        given=what_was_seen(list(n.given)),
        new=n.new,
    )


async def notices(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    token = request.query_params.get("page", "")
    if token and not token.isdigit():
        token = ""
    gateway = services(request).gateway
    page = await gateway.notices(session.token, NOTICES_PAGE, token)
    context = {
        "rows": [notice_row(n) for n in page.notices],
        "new_count": page.new_count,
        "last_seen": date_time(page.last_seen_at) if page.last_seen_at else "",
        "next_url": f"/notices?page={page.next_page_token}" if page.next_page_token else "",
        "first_url": "/notices" if token else "",
    }
    response = render(request, "learner/notices.html", context, session=session)
    if not token and page.notices and page.new_count:
        await gateway.mark_notices_seen(session.token, page.notices[0].id)
    return response


def _email_page(
    request: Request,
    session: Session,
    digest: self_pb.NoticeDigest,
    template: str = "learner/notice_email.html",
    status: int = 200,
    problem: tuple[str, str] | None = None,
    email: str = "",
) -> Response:
    """The digest page (or its confirm page); ``problem`` is (field id, message) for the error summary."""
    context = {
        "digest": digest,
        "flash": services(request).sessions.take_flash(session.id),
        "expires": date_time(digest.pending_expires_at) if digest.pending_expires_at else "",
        "errors": [{"text": problem[1], "href": f"#{problem[0]}"}] if problem else [],
        "messages": {problem[0]: problem[1]} if problem else {},
        "email": email,
    }
    return render(request, template, context, session=session, status=status)


async def email(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    return _email_page(request, session, await services(request).gateway.digest(session.token))


async def start_email(request: Request) -> Response:
    posted = await posted_form(request, learner_session)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    gateway = services(request).gateway
    address = form.get("email", "").strip()
    problem: tuple[str, str] | None = None
    if not address:
        problem = ("email", EMAIL_PROBLEMS["FIELD_REQUIRED"])
    else:
        try:
            await gateway.start_digest(session.token, address)
        except ServerError as error:
            f = error.failure
            if f.code == "INVALID_ARGUMENT" and "email" in f.fields:
                problem = ("email", EMAIL_PROBLEMS.get(f.reason, EMAIL_PROBLEMS["EMAIL_INVALID"]))
            elif f.reason == "DIGEST_UNAVAILABLE":
                problem = ("email", NO_EMAIL)
            else:
                raise
    if problem is not None:
        digest = await gateway.digest(session.token)
        status = 503 if problem[1] == NO_EMAIL else 400
        return _email_page(request, session, digest, status=status, problem=problem, email=address)
    return redirect("/notices/email/confirm")


async def confirm_page(request: Request) -> Response:
    session = learner_session(request)
    if isinstance(session, Response):
        return session
    digest = await services(request).gateway.digest(session.token)
    if not digest.pending_email:
        return redirect("/notices/email")
    return _email_page(request, session, digest, "learner/notice_email_confirm.html")


async def confirm(request: Request) -> Response:
    posted = await posted_form(request, learner_session)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    gateway = services(request).gateway
    code = form.get("code", "").strip()
    problem = ("code", "Enter the code from the email") if not code else None
    if problem is None:
        try:
            await gateway.confirm_digest(session.token, code)
        except ServerError as error:
            if error.failure.reason not in ("DIGEST_CONFIRMATION_FAILED", "DIGEST_CODE_INVALID"):
                raise
            problem = ("code", WRONG_CODE)
    if problem is not None:
        digest = await gateway.digest(session.token)
        if not digest.pending_email:  # too many wrong codes: start again
            services(request).sessions.flash(session.id, Flash("Ask for a new code", (WRONG_CODE,)))
            return redirect("/notices/email")
        template = "learner/notice_email_confirm.html"
        return _email_page(request, session, digest, template, status=400, problem=problem)
    lines = ("We will email you once a day when organisations have looked at your record.",)
    services(request).sessions.flash(session.id, Flash("Your email address is confirmed", lines))
    return redirect("/notices/email")


async def stop(request: Request) -> Response:
    posted = await posted_form(request, learner_session)
    if isinstance(posted, Response):
        return posted
    session, _ = posted
    await services(request).gateway.stop_digest(session.token)
    lines = ("We will not email you about notices, and have deleted your email address.",)
    services(request).sessions.flash(session.id, Flash("Emails stopped", lines))
    return redirect("/notices/email")


routes = [
    Route("/notices", notices, methods=["GET"]),
    Route("/notices/email", email, methods=["GET"]),
    Route("/notices/email", start_email, methods=["POST"]),
    Route("/notices/email/confirm", confirm_page, methods=["GET"]),
    Route("/notices/email/confirm", confirm, methods=["POST"]),
    Route("/notices/email/stop", stop, methods=["POST"]),
]
