"""The ASGI app: routes of both page sets, static files, security headers, and the pages shown when
lrs-server is down or ends a session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from lrs_web import grant_pages, learner_pages, notice_pages, review_pages
from lrs_web.config import WebSettings
from lrs_web.errors import ServerError
from lrs_web.gateway import Gateway
from lrs_web.ratelimit import SlidingWindow
from lrs_web.security import SecurityHeaders
from lrs_web.sessions import SessionStore
from lrs_web.web import Services, clear_cookie, find_session, make_templates, render, services

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"


def _error(request: Request, status: int, heading: str, *lines: str) -> Response:
    home = "/review" if request.url.path.startswith("/review") else "/"
    context = {"heading": heading, "lines": list(lines), "home_url": home}
    return render(request, "errors/error.html", context, status=status)


async def on_server_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServerError)
    failure = exc.failure
    if failure.unavailable:
        return _error(
            request,
            503,
            "Sorry, the service is unavailable",
            "Nothing has been changed. Try again in a few minutes.",
        )
    if failure.code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        # The credential behind the session was ended (signed out everywhere, revoked, expired).
        found = find_session(request)
        if found.session is not None:
            services(request).sessions.drop(found.session.id)
        response = _error(
            request, 401, "You have been signed out", "Your sign-in has ended. Sign in again to carry on."
        )
        clear_cookie(request, response)
        return response
    return _error(request, 500, "Sorry, there is a problem with the service", "Try again later.")


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(request, 404, "Page not found", "Check the web address is correct.")
    if exc.status_code == 405:
        return _error(request, 405, "Page not found", "Check the web address is correct.")
    return _error(request, exc.status_code, "Sorry, there is a problem with the service", "Try again later.")


def create_app(settings: WebSettings) -> Starlette:
    if not (VENDOR / "govuk-frontend.min.css").exists():
        raise SystemExit("GOV.UK Frontend is not vendored: run `python scripts/vendor_govuk.py` first")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.services.gateway.close()

    app = Starlette(
        routes=[
            *learner_pages.routes,
            *grant_pages.routes,
            *notice_pages.routes,
            *review_pages.routes,
            Mount("/assets", StaticFiles(directory=VENDOR / "assets"), name="assets"),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={ServerError: on_server_error, HTTPException: on_http_error},
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings,
        sessions=SessionStore(settings.idle_timeout, settings.absolute_timeout),
        gateway=Gateway(settings),
        uln_failures=SlidingWindow(settings.uln_failures, settings.limit_window),
        address_attempts=SlidingWindow(settings.address_attempts, settings.limit_window),
        templates=make_templates(),
    )
    return app
