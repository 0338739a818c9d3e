"""Request plumbing shared by the pages: the services a handler reaches, the session behind the
cookie, the CSRF check on every form, and rendering (with the session cookie when it is new)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from lrs_web.config import WebSettings
from lrs_web.gateway import Gateway
from lrs_web.ratelimit import SlidingWindow
from lrs_web.sessions import Found, Lookup, Role, Session, SessionStore

COOKIE = "lrs_session"
CSRF_FIELD = "csrf_token"
TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(TEMPLATES),
            jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.ChainableUndefined)
    return Jinja2Templates(env=env)


@dataclass(frozen=True, slots=True)
class Services:
    settings: WebSettings
    sessions: SessionStore
    gateway: Gateway
    uln_failures: SlidingWindow
    address_attempts: SlidingWindow
    templates: Jinja2Templates


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def find_session(request: Request) -> Found:
    session_id = request.cookies.get(COOKIE, "")
    if not session_id:
        return Found(Lookup.UNKNOWN)
    return services(request).sessions.find(session_id)


def session_for_form(request: Request) -> tuple[Session, bool]:
    """The caller's live session of any role, or a new anonymous one (True: set its cookie)."""
    found = find_session(request)
    if found.status is Lookup.ACTIVE and found.session is not None:
        return found.session, False
    return services(request).sessions.create(Role.ANONYMOUS), True


def set_cookie(request: Request, response: Response, session: Session) -> None:
    secure = services(request).settings.secure_cookies or request.url.scheme == "https"
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", secure=secure, path="/")


def clear_cookie(request: Request, response: Response) -> None:
    secure = services(request).settings.secure_cookies or request.url.scheme == "https"
    response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=secure, path="/")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    session: Session | None = None,
    status: int = 200,
    new_cookie: bool = False,
) -> Response:
    values = {"csrf_field": CSRF_FIELD, "csrf_token": session.csrf if session else "", **(context or {})}
    if session is not None:
        values.setdefault("role", session.role.value)
    response = services(request).templates.TemplateResponse(request, template, values, status_code=status)
    if new_cookie and session is not None:
        set_cookie(request, response, session)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def csrf_ok(session: Session | None, form: dict[str, str]) -> bool:
    sent = form.get(CSRF_FIELD, "")
    return session is not None and bool(sent) and hmac.compare_digest(sent, session.csrf)


def refused(request: Request, session: Session | None = None) -> Response:
    """A form without the token this session was given (or with no live session): nothing is done."""
    return render(request, "errors/form_expired.html", session=session, status=403)


async def posted_form(
    request: Request, signed_in: Callable[[Request], Session | Response]
) -> tuple[Session, dict[str, str]] | Response:
    """The session ``signed_in`` finds (the learner's, or the operator's) and the form it posted with
    its CSRF token checked; or the response to give instead (sign in, or the form refused)."""
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    form = await form_data(request)
    if not csrf_ok(session, form):
        return refused(request, session)
    return session, form
