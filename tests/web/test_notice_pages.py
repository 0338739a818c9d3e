"""The learner's notices on the web pages (new since you last looked, GOV.UK patterns) and the
daily email's pages (ask, confirm with the emailed code, stop) against a local SMTP sink. Each page
passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.clock import Clock
from lrs_server.domain.model import OrgKind
from lrs_server.mail import SmtpMailer, SmtpSettings
from lrs_server.server import LrsServer, ServerConfig
from tests.conftest import TODAY
from tests.notices.conftest import Sink, body
from tests.notices.conftest import smtp_sink as smtp_sink_fixture
from tests.service.conftest import Api
from tests.service.factories import identity
from tests.web import http as web_http
from tests.web.conftest import Visit, Web, open_visit, start_web
from tests.web.journeys import college_reads, school_registers_with_result
from tests.web.test_learner_journey import sign_in

smtp_sink = smtp_sink_fixture  # the fixture, re-exported under its own name


def college_looks(api: Api, uln: str) -> None:
    college = api.auth(OrgKind.POST16)
    api.registration.FindLearnerByDemographics(
        reg_pb.FindLearnerByDemographicsRequest(identity=identity()), metadata=college
    )
    api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=uln, given_name="Amara", family_name="Okafor"), metadata=college
    )
    college_reads(api, uln)


def test_notices_show_new_since_you_last_looked(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    college_looks(api, learner.uln)
    sign_in(visit, web, learner.uln, learner.code)
    page = visit.page
    # The learner withholds results from colleges; the college's next read is refused them.
    page.get_by_role("link", name="Sharing").click()
    page.get_by_label("Colleges, sixth forms and training providers").check()
    page.get_by_role("button", name="Save my choice").click()
    college_reads(api, learner.uln)

    page.get_by_role("link", name="My record").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("new notices since you last looked")
    visit.check("record-new-notices")
    banner.get_by_role("link", name="See your notices").click()
    expect(page).to_have_url(f"{web.url}/notices")
    expect(page.locator("#new-count")).to_contain_text("new since you last looked")
    rows = page.locator("tbody tr")
    college = rows.filter(has_text="Test post16")
    expect(college).to_have_count(4)
    expect(college.nth(0)).to_contain_text("your sharing choice withheld your results")
    expect(college.nth(0)).to_contain_text("Your results were not shown")
    expect(college.nth(1)).to_contain_text("Read your learner record")
    expect(college.nth(1)).to_contain_text("Your details and your results")
    expect(college.nth(2)).to_contain_text("Checked that a ULN and details belong to you")
    expect(college.nth(3)).to_contain_text("Searched for you by name, date of birth and postcode")
    expect(page.locator("tbody .govuk-tag", has_text="New")).to_have_count(rows.count())
    visit.check("notices-new")

    # Having looked, nothing is new; the next look is.
    page.reload()
    expect(page.locator("#new-count")).to_contain_text("Nothing new since you last looked on")
    expect(page.locator("tbody .govuk-tag")).to_have_count(0)
    page.get_by_role("link", name="My record").click()
    expect(page.locator(".govuk-notification-banner")).to_have_count(0)
    college_reads(api, learner.uln)
    page.reload()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 new notice since you last looked")
    page.get_by_role("link", name="Notices", exact=True).click()
    expect(page.locator("tbody .govuk-tag", has_text="New")).to_have_count(1)
    expect(rows.first).to_contain_text("Test post16")
    visit.check("notices-one-new")


@pytest.fixture
def mailing_web(api: Api, smtp_sink: Sink) -> Iterator[Web]:
    """lrs-web in front of a second server on the same database that can send email."""
    settings = SmtpSettings.parse(smtp_sink.address, "lrs@example.org", starttls=False)
    server = LrsServer(
        api.engine,
        ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0),
        clock=Clock(fixed=TODAY),
        mailer=SmtpMailer(settings),
    )
    server.start()
    running = start_web(server.port)
    yield running
    running.stop()
    server.stop(grace=1)


def test_email_pages_ask_confirm_and_stop(api: Api, mailing_web: Web, browser: Any, smtp_sink: Sink) -> None:
    learner = school_registers_with_result(api)
    visits = open_visit(browser, mailing_web)
    visit = next(visits)
    sign_in(visit, mailing_web, learner.uln, learner.code)
    page = visit.page
    page.get_by_role("link", name="Notices", exact=True).click()
    page.get_by_role("link", name="Get a daily email when organisations look at your record").click()
    expect(page.locator("#digest-status")).to_have_text("We do not email you.")
    visit.check("notice-email")

    # Nothing given, then not an address: an error summary linked to the field, the value kept.
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    page.get_by_label("Email address").fill("amara at example")
    page.get_by_role("button", name="Send me a code").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter an email address in the correct format")
    expect(page.get_by_label("Email address")).to_have_value("amara at example")
    visit.check("notice-email-error")
    summary.get_by_role("link").click()
    expect(page.locator("#email")).to_be_focused()
    assert smtp_sink.messages == []

    page.get_by_label("Email address").fill("amara@example.org")
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(f"{mailing_web.url}/notices/email/confirm")
    found = re.search(r"confirmation code is: (\w+)", body(smtp_sink.wait_for(1)[0]))
    assert found is not None
    page.get_by_label("Code").fill("WRONGONE")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right")
    visit.check("notice-email-confirm-error")
    page.get_by_label("Code").fill(found.group(1))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page).to_have_url(f"{mailing_web.url}/notices/email")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your email address is confirmed")
    expect(page.locator("#digest-status")).to_contain_text("amara@example.org")
    visit.check("notice-email-confirmed")

    page.get_by_role("button", name="Stop these emails").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Emails stopped")
    expect(page.locator("#digest-status")).to_have_text("We do not email you.")
    next(visits, None)


def test_without_a_mail_server_the_page_says_so(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    page = visit.page
    page.goto(f"{web.url}/notices/email")
    page.get_by_label("Email address").fill("amara@example.org")
    with page.expect_response(f"{web.url}/notices/email") as answer:
        page.get_by_role("button", name="Send me a code").click()
    assert answer.value.status == 503
    expect(page.locator(".govuk-error-summary")).to_contain_text("cannot send emails")
    expect(page.get_by_label("Email address")).to_have_value("amara@example.org")


def test_notice_pages_need_a_signed_in_learner(web: Web, visit: Visit) -> None:
    for path in ("/notices", "/notices/email", "/notices/email/confirm"):
        visit.page.goto(f"{web.url}{path}")
        expect(visit.page).to_have_url(f"{web.url}/")


def test_notice_forms_without_the_token_change_nothing(api: Api, mailing_web: Web, smtp_sink: Sink) -> None:
    learner = school_registers_with_result(api)
    with httpx.Client(base_url=mailing_web.url, follow_redirects=False) as client:
        assert web_http.sign_in(client, learner.uln, learner.code).status_code == 303
        for path, form in (
            ("/notices/email", {"email": "amara@example.org"}),
            ("/notices/email/confirm", {"code": "ABCDEFGH"}),
            ("/notices/email/stop", {}),
        ):
            assert client.post(path, data=form).status_code == 403, path
            assert client.post(path, data={**form, "csrf_token": "not-the-token"}).status_code == 403, path
        assert smtp_sink.messages == []
        assert "We do not email you." in client.get("/notices/email").text
        # With the token the same form goes through.
        csrf = web_http.csrf_of(client.get("/notices/email").text)
        sent = client.post("/notices/email", data={"email": "amara@example.org", "csrf_token": csrf})
        assert sent.status_code == 303 and sent.headers["location"] == "/notices/email/confirm"
        assert len(smtp_sink.wait_for(1)) == 1
