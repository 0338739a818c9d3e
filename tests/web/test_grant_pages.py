"""A learner who chose not to share with colleges lets one college see their results until a date,
through the "Organisations you allow" pages, then stops it: the college's reads follow each step, the
other college never sees the results, the forms' errors are summarised and linked to their fields, and
every page passes axe-core."""

from __future__ import annotations

from playwright.sync_api import expect

from lrs_server.domain.model import OrgKind
from lrs_server.storage.organisations import OrganisationStore
from tests.records.conftest import bearer, record
from tests.service.conftest import Api
from tests.web.conftest import Visit, Web
from tests.web.journeys import school_registers_with_result
from tests.web.test_learner_journey import sign_in


def test_let_one_college_see_the_results_until_a_date_then_stop(api: Api, web: Web, visit: Visit) -> None:
    orgs = OrganisationStore(api.engine)
    chosen = bearer(orgs.add(OrgKind.POST16, "30000001", "Riverside College", town="Leeds").token)
    other = bearer(orgs.add(OrgKind.POST16, "30000002", "Hillside College", town="Leeds").token)
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    page = visit.page
    page.get_by_role("link", name="Sharing").click()
    page.get_by_label("Colleges, sixth forms and training providers").check()
    page.get_by_role("button", name="Save my choice").click()
    assert record(api, chosen, learner.uln).achievements_withheld

    page.get_by_role("link", name="Organisations you allow").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations you let see your results")
    expect(page.get_by_text("You have not let any organisation see your results")).to_be_visible()
    visit.check("grants-none")

    page.get_by_role("button", name="Let an organisation see your results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find the organisation")
    visit.check("grant-find")
    page.get_by_role("button", name="Search").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the organisation\u2019s name or its town")
    expect(page).to_have_title("Error: Find the organisation – Your learner record")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Name, or part of it")).to_be_focused()
    visit.check("grant-find-error")

    page.get_by_label("Name, or part of it").fill("riverside")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 organisation found")).to_be_visible()
    expect(page.get_by_text("College, sixth form or training provider, Leeds")).to_be_visible()
    visit.check("grant-find-results")
    page.get_by_role("link", name="Riverside College").click()

    question = "Until when can Riverside College see your results?"
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    visit.check("grant-until")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("1")
    page.get_by_label("Year").fill("2020")
    page.get_by_role("button", name="Let them see my results").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The date must be today or later")
    expect(page.get_by_label("Year")).to_have_value("2020")  # the form is kept
    page.locator(".govuk-error-summary").get_by_role("link").click()
    expect(page.get_by_label("Day")).to_be_focused()
    visit.check("grant-until-error")
    page.get_by_label("Day").fill("31")
    page.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Let them see my results").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside College can now see your results")
    expect(page.get_by_text("Until the end of 31 January 2027")).to_be_visible()
    visit.check("grant-granted")
    seen = record(api, chosen, learner.uln)
    assert not seen.achievements_withheld and [a.subject for a in seen.achievements] == ["Mathematics"]
    assert record(api, other, learner.uln).achievements_withheld

    page.get_by_role("link", name="See the organisations you let see your results").click()
    row = page.get_by_role("row").filter(has_text="Riverside College")
    expect(row).to_contain_text("31 January 2027")
    visit.check("grants-one")
    row.get_by_role("link", name="Stop letting Riverside College see your results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stop letting Riverside College see your results?"
    )
    visit.check("grant-stop")
    page.get_by_role("button", name="Stop sharing with Riverside College").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You have stopped sharing with Riverside College"
    )
    visit.check("grant-stopped")
    after = record(api, chosen, learner.uln)
    assert after.achievements_withheld and not after.achievements

    page.get_by_role("link", name="Who has looked").click()
    expect(
        page.get_by_role("row").filter(has_text="Riverside College").filter(has_text="results you let")
    ).to_have_count(1)


def test_the_grant_pages_need_a_sign_in_and_a_known_organisation(api: Api, web: Web, visit: Visit) -> None:
    page = visit.page
    for path in ("/grants", "/grants/find", "/grants/until?org=30000001"):
        page.goto(f"{web.url}{path}")
        expect(page).to_have_url(f"{web.url}/")
    learner = school_registers_with_result(api)
    sign_in(visit, web, learner.uln, learner.code)
    page.goto(f"{web.url}/grants/until?org=ADMIN001")  # an administrator is never offered
    expect(page).to_have_url(f"{web.url}/grants/find")
    page.goto(f"{web.url}/grants/find?search=1&name=nothing+like+it")
    expect(page.get_by_role("heading", name="0 organisations found")).to_be_visible()
    visit.check("grant-find-none")
