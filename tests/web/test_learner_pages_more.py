"""The rest of the learner's pages and their failures: the access log's pages, the server going away
while signed in, a credential ended by a newer sign-in elsewhere, a form whose token does not match,
and signing in with the keyboard alone. Each page passes axe-core."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.service.conftest import Api
from tests.web.conftest import Visit, Web, open_visit
from tests.web.journeys import college_reads, new_code, school_registers_with_result
from tests.web.test_learner_journey import sign_in


def test_access_log_pages_newest_first(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    for _ in range(25):
        college_reads(api, learner.uln)
    sign_in(visit, web, learner.uln, learner.code)
    page = visit.page
    page.get_by_role("link", name="Who has looked").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("You")  # reading the record page was the newest access
    page.get_by_role("link", name="Older").click()
    expect(rows.first).to_contain_text("Test post16")
    expect(page.get_by_role("link", name="First page")).to_be_visible()
    visit.check("access-log-page-2")
    assert "uln" not in page.url.lower() and learner.uln not in page.url


def test_server_going_away_while_signed_in(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    expect(visit.page).to_have_url(f"{web.url}/record")
    api.server.stop(grace=0)
    response = visit.page.goto(f"{web.url}/sharing")
    assert response is not None and response.status == 503
    expect(visit.page.get_by_role("heading", level=1)).to_have_text("Sorry, the service is unavailable")
    visit.check("service-unavailable")


def test_a_newer_sign_in_elsewhere_ends_this_one(api: Api, web: Web, visit: Visit, browser: Any) -> None:
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    expect(visit.page).to_have_url(f"{web.url}/record")
    elsewhere = open_visit(browser, web)
    other = next(elsewhere)
    sign_in(other, web, learner.uln, new_code(api, learner.uln))  # activating again ends older credentials
    expect(other.page).to_have_url(f"{web.url}/record")
    next(elsewhere, None)
    response = visit.page.goto(f"{web.url}/record")
    assert response is not None and response.status == 401
    expect(visit.page.get_by_role("heading", level=1)).to_have_text("You have been signed out")
    visit.check("credential-ended")
    visit.page.goto(f"{web.url}/record")
    expect(visit.page).to_have_url(f"{web.url}/")  # the session is gone too


def test_a_form_with_the_wrong_token_is_refused_in_the_browser(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    page = visit.page
    page.get_by_role("link", name="Sharing").click()
    page.locator("form[action='/sharing'] input[name=csrf_token]").evaluate(
        "input => { input.value = 'forged'; }"
    )
    page.get_by_label("Schools").check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your form was not sent")
    visit.check("form-refused")
    page.goto(f"{web.url}/sharing")
    expect(page.get_by_label("Schools")).not_to_be_checked()


def test_sign_in_with_the_keyboard_alone(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    page = visit.page
    page.goto(f"{web.url}/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#uln").focus()
    page.keyboard.type(learner.uln)
    for value in ("14", "3", "2011", learner.code):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{web.url}/record")
