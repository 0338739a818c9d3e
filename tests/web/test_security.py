"""Security of the web front end over plain HTTP: CSRF tokens, session cookie flags, response headers,
idle expiry, the per-address sign-in limit, and that sign-in replaces the session id."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from lrs.v1 import learner_service_pb2 as self_pb
from tests.records.conftest import selfservice
from tests.service.conftest import Api
from tests.web.conftest import Visit, Web, open_visit, start_web
from tests.web.http import csrf_of, sign_in, sign_in_form
from tests.web.journeys import school_registers_with_result
from tests.web.test_learner_journey import sign_in as browser_sign_in


@pytest.fixture
def client(web: Web) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.url, follow_redirects=False) as c:
        yield c


def test_sign_in_without_the_csrf_token_is_refused(api: Api, client: httpx.Client) -> None:
    learner = school_registers_with_result(api)
    csrf = csrf_of(client.get("/").text)
    form = sign_in_form(learner.uln, learner.code, csrf)
    del form["csrf_token"]
    refused = client.post("/sign-in", data=form)
    assert refused.status_code == 403 and "Your form was not sent" in refused.text
    wrong = client.post("/sign-in", data={**form, "csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    # Nothing reached the server: the code still works.
    assert client.post("/sign-in", data={**form, "csrf_token": csrf}).headers["location"] == "/record"


def test_a_signed_in_form_without_the_token_changes_nothing(api: Api, client: httpx.Client) -> None:
    learner = school_registers_with_result(api)
    assert sign_in(client, learner.uln, learner.code).status_code == 303
    refused = client.post("/sharing", data={"withhold": "post16"})
    assert refused.status_code == 403
    sharing = client.get("/sharing").text
    assert "Your results are shared with schools" in sharing
    assert client.post("/sign-out-everywhere", data={}).status_code == 403
    assert client.get("/record").status_code == 200  # still signed in


def test_session_cookie_flags_and_no_token_in_it(api: Api, client: httpx.Client) -> None:
    learner = school_registers_with_result(api)
    first = client.get("/")
    anonymous = first.cookies["lrs_session"]
    signed_in = sign_in(client, learner.uln, learner.code)
    header = signed_in.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    assert "Secure" not in header  # plain HTTP here; see the --secure-cookies test
    assert "Max-Age" not in header and "expires" not in header.lower()  # gone when the browser closes
    session_id = signed_in.cookies["lrs_session"]
    assert session_id != anonymous  # a new id on sign-in
    assert learner.uln not in header and len(session_id) >= 40
    # The id seen before signing in is worth nothing now.
    with httpx.Client(base_url=client.base_url, cookies={"lrs_session": anonymous}) as other:
        assert other.get("/record").headers["location"] == "/"


def test_secure_cookies_behind_a_tls_proxy(api: Api) -> None:
    web = start_web(api.server.port, "--secure-cookies")
    try:
        header = httpx.get(f"{web.url}/").headers["set-cookie"]
        assert "Secure" in header and "HttpOnly" in header and "SameSite=strict" in header
    finally:
        web.stop()


def test_security_headers_on_every_page(client: httpx.Client) -> None:
    for path in ("/", "/no-such-page", "/review/sign-in", "/static/app/init.js"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/").headers["cache-control"] == "no-store"
    assert "<script>" not in client.get("/").text  # no inline script at all


def test_sign_in_is_limited_per_client_address(client: httpx.Client) -> None:
    rng = random.Random(12)
    for _ in range(20):
        uln = str(rng.randrange(10**9, 10**10))
        csrf = csrf_of(client.get("/").text)
        assert client.post("/sign-in", data=sign_in_form(uln, "ABCDEFGHJKLM", csrf)).status_code == 401
    csrf = csrf_of(client.get("/").text)
    limited = client.post("/sign-in", data=sign_in_form("1234567890", "ABCDEFGHJKLM", csrf))
    assert limited.status_code == 429 and "too many tries" in limited.text


def test_an_idle_session_signs_the_learner_out(api: Api, browser: object) -> None:
    learner = school_registers_with_result(api)
    web = start_web(api.server.port, "--idle-minutes", "0.1")  # 6 seconds
    visits = open_visit(browser, web)
    visit: Visit = next(visits)
    try:
        browser_sign_in(visit, web, learner.uln, learner.code)
        expect(visit.page).to_have_url(f"{web.url}/record")
        time.sleep(6.5)
        visit.page.goto(f"{web.url}/record")
        expect(visit.page).to_have_url(f"{web.url}/session-expired")
        expect(visit.page.get_by_role("heading", level=1)).to_have_text("You have been signed out")
        visit.check("session-expired")
        visit.page.get_by_role("button", name="Sign in again").click()
        expect(visit.page).to_have_url(f"{web.url}/")
    finally:
        with pytest.raises(StopIteration):
            next(visits)
        web.stop()


def test_signing_out_everywhere_ends_the_credential(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    browser_sign_in(visit, web, learner.uln, learner.code)
    visit.page.get_by_role("link", name="Sign out everywhere").click()
    # The confirmation page, loaded, before axe runs in it (it ran in the page being left, under load).
    expect(visit.page.get_by_role("button", name="Sign out everywhere")).to_be_visible()
    visit.check("sign-out-everywhere")
    visit.page.get_by_role("button", name="Sign out everywhere").click()
    expect(visit.page.get_by_role("heading", level=1)).to_have_text("You have signed out everywhere")
    visit.check("signed-out-everywhere")
    # A new code from the school signs in again.
    code = selfservice(api).IssueActivationCode(
        self_pb.IssueActivationCodeRequest(uln=learner.uln), metadata=api.auth()
    )
    browser_sign_in(visit, web, learner.uln, code.code)
    expect(visit.page).to_have_url(f"{web.url}/record")
