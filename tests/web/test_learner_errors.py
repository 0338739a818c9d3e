"""The sign-in form's error pages (wrong code, blank fields, too many tries, server down) keep what was
typed except the code, link each error to its field and pass axe-core; a missing page too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.service.conftest import Api
from tests.web.conftest import Visit, Web, free_port, open_visit, start_web
from tests.web.journeys import school_registers_with_result
from tests.web.test_learner_journey import sign_in


def _kept(visit: Visit, uln: str) -> None:
    page = visit.page
    expect(page.get_by_label("Unique Learner Number (ULN)")).to_have_value(uln)
    expect(page.get_by_label("Day")).to_have_value("14")
    expect(page.get_by_label("Month")).to_have_value("3")
    expect(page.get_by_label("Year")).to_have_value("2011")
    expect(page.get_by_label("Code from your school")).to_have_value("")


def test_wrong_code_says_what_to_do_and_keeps_the_form(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, "WRONGCODE234")
    summary = visit.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("We could not sign you in with these details")
    expect(summary).to_contain_text("ask your school for a new one")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#code")
    expect(visit.page).to_have_title("Error: Sign in – Your learner record")
    _kept(visit, learner.uln)
    visit.check("sign-in-wrong-code")


def test_blank_form_names_every_field(web: Web, visit: Visit) -> None:
    page = visit.page
    page.goto(f"{web.url}/")
    page.get_by_role("button", name="Sign in").click()
    links = page.locator(".govuk-error-summary a")
    expect(links).to_have_count(3)
    assert [links.nth(i).get_attribute("href") for i in range(3)] == ["#uln", "#dob-day", "#code"]
    expect(page.locator("#uln-error")).to_contain_text("Enter your ULN")
    links.nth(0).click()
    expect(page.locator("#uln")).to_be_focused()
    visit.check("sign-in-blank")


def test_too_many_tries_locks_the_uln_but_keeps_the_form(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    for _ in range(5):
        sign_in(visit, web, learner.uln, "WRONGCODE234")
    sign_in(visit, web, learner.uln, learner.code)  # even the right code, now
    expect(visit.page.locator(".govuk-error-summary")).to_contain_text("too many tries")
    expect(visit.page).not_to_have_url(f"{web.url}/record")
    _kept(visit, learner.uln)
    visit.check("sign-in-too-many-tries")


@pytest.fixture
def web_without_server(browser: Any) -> Iterator[tuple[Web, Iterator[Visit]]]:
    running = start_web(free_port())  # nothing listens there
    yield running, open_visit(browser, running)
    running.stop()


def test_server_down_says_so_and_keeps_the_form(web_without_server: tuple[Web, Iterator[Visit]]) -> None:
    web, visits = web_without_server
    visit = next(visits)
    sign_in(visit, web, "9999999999", "ABCDEFGHJKLM")
    expect(visit.page.locator(".govuk-error-summary")).to_contain_text("not working at the moment")
    expect(visit.page.get_by_label("Unique Learner Number (ULN)")).to_have_value("9999999999")
    expect(visit.page.get_by_label("Code from your school")).to_have_value("")
    visit.check("sign-in-server-down")
    with pytest.raises(StopIteration):
        next(visits)  # closes the context and checks no page asked another host


def test_a_missing_page(web: Web, visit: Visit) -> None:
    response = visit.page.goto(f"{web.url}/no-such-page")
    assert response is not None and response.status == 404
    expect(visit.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    visit.check("not-found")
