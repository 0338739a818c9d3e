"""A review operator signs in with an admin token, reads the queue (counts, pages, a school filter), decides
one item "same learner" and one "a different learner", and undoes a merge; every page passes axe-core. A
learner's session cannot reach /review."""

from __future__ import annotations

from playwright.sync_api import expect

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin
from tests.service.conftest import Api
from tests.service.factories import SOMEONE_ELSE, register_new
from tests.web.conftest import Visit, Web
from tests.web.journeys import merge, queue_possible_matches, school_registers_with_result
from tests.web.test_learner_journey import sign_in as learner_sign_in


def operator_signs_in(visit: Visit, web: Web, token: str) -> None:
    visit.page.goto(f"{web.url}/review")
    expect(visit.page).to_have_url(f"{web.url}/review/sign-in")
    visit.page.get_by_label("Administrator token").fill(token)
    visit.page.get_by_role("button", name="Sign in").click()


def _open_items(api: Api) -> int:
    request = admin_pb.ListReviewItemsRequest()
    return int(admin(api).ListReviewItems(request, metadata=api.auth(OrgKind.ADMIN)).total_size)


def test_operator_resolves_items_both_ways(api: Api, web: Web, visit: Visit) -> None:
    first = queue_possible_matches(api, 21)
    page = visit.page
    page.goto(f"{web.url}/review/sign-in")
    visit.check("review-sign-in")
    page.get_by_label("Administrator token").fill(api.tokens[OrgKind.SCHOOL])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("not an administrator's token")
    expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#token")
    visit.check("review-sign-in-refused")

    page.get_by_label("Administrator token").fill(api.tokens[OrgKind.ADMIN])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web.url}/review")
    expect(page.locator(".app-count")).to_have_text("21 waiting, oldest first.")
    expect(page.locator("tbody tr")).to_have_count(20)
    visit.check("review-queue")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="First page").click()
    page.get_by_label("Show one school only").fill("NO-SUCH-SCHOOL")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".app-count")).to_have_text("0 waiting from school NO-SUCH-SCHOOL, oldest first.")
    page.get_by_label("Show one school only").fill("REVIEW-SCHOOL")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".app-count")).to_have_text("21 waiting from school REVIEW-SCHOOL, oldest first.")

    page.locator("tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is Amara Okafur one of these learners?")
    table = page.locator("table.app-compare")
    family = table.get_by_role("row").filter(has_text="Family name")
    expect(family).to_contain_text("Okafur")  # sent
    expect(family).to_contain_text("Okafor")  # the candidate
    given = table.get_by_role("row").filter(has_text="Given name")
    expect(given).to_contain_text("Agree")
    expect(given).to_contain_text("exact, weight +")
    expect(family).to_contain_text("Close")
    expect(table.get_by_role("row").filter(has_text="Address")).to_contain_text("Differs")
    visit.check("review-item")

    page.get_by_role("button", name="A different learner (issue a new ULN)").click()
    expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#reason")
    visit.check("review-item-no-reason")
    page.get_by_role("button", name=f"Same learner as Amara Okafor (ULN {first})").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Linked to ULN {first}")
    expect(page.locator(".app-count")).to_have_text("20 waiting from school REVIEW-SCHOOL, oldest first.")
    visit.check("review-decided")

    page.locator("tbody tr").first.get_by_role("link").click()
    page.get_by_label("If this is a different learner, say why").fill(
        "different parents on the school's file"
    )
    page.get_by_role("button", name="A different learner (issue a new ULN)").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("New ULN")
    expect(banner).to_contain_text("is a new learner")
    assert _open_items(api) == 19


def test_operator_undoes_a_merge(api: Api, web: Web, visit: Visit) -> None:
    master = register_new(api).uln
    linked = register_new(api, **SOMEONE_ELSE).uln
    merge(api, master, linked)
    operator_signs_in(visit, web, api.tokens[OrgKind.ADMIN])
    page = visit.page
    page.get_by_role("link", name="Merges").click()
    visit.check("review-merges")
    page.get_by_label("ULN").fill(master)
    page.get_by_role("button", name="Find links").click()
    expect(page.get_by_role("heading", name=f"ULN {linked} is linked to {master}")).to_be_visible()
    visit.check("review-merges-found")
    page.get_by_role("button", name=f"Undo the merge of {linked}").click()
    expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#reason")
    page.get_by_label(f"Why undo the merge of {linked}?").fill("two different pupils")
    page.get_by_role("button", name=f"Undo the merge of {linked}").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"ULN {linked} stands alone again")
    visit.check("review-merge-undone")
    page.get_by_label("ULN").fill(master)
    page.get_by_role("button", name="Find links").click()
    expect(page.get_by_text("This ULN is not linked to any other.")).to_be_visible()


def test_a_learner_session_cannot_reach_review(api: Api, web: Web, visit: Visit) -> None:
    learner = school_registers_with_result(api)
    learner_sign_in(visit, web, learner.uln, learner.code)
    expect(visit.page).to_have_url(f"{web.url}/record")
    for path in ("/review", "/review/merges", "/review/items/1"):
        visit.page.goto(f"{web.url}{path}")
        expect(visit.page).to_have_url(f"{web.url}/review/sign-in")
    # And the learner's session still works for the learner's own pages.
    visit.page.goto(f"{web.url}/record")
    expect(visit.page).to_have_url(f"{web.url}/record")


def test_operator_clears_a_queue_of_twenty(api: Api, web: Web, visit: Visit) -> None:
    first = queue_possible_matches(api, 20, school_ref="CLEAR-SCHOOL")
    operator_signs_in(visit, web, api.tokens[OrgKind.ADMIN])
    page = visit.page
    for left in range(20, 0, -1):
        expect(page.locator(".app-count")).to_have_text(f"{left} waiting, oldest first.")
        page.locator("tbody tr").first.get_by_role("link").click()
        if left % 2:
            page.get_by_label("If this is a different learner, say why").fill("not the same pupil")
            page.get_by_role("button", name="A different learner (issue a new ULN)").click()
        else:
            page.get_by_role("button", name=f"Same learner as Amara Okafor (ULN {first})").click()
    expect(page.locator(".app-count")).to_have_text("0 waiting, oldest first.")
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    visit.check("review-queue-empty")
    assert _open_items(api) == 0
