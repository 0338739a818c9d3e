"""A learner signs in with the code their school issued, reads the result the school submitted, sees the
college that read their record, opts out of sharing with colleges (the college's next read withholds the
results), downloads their data and signs out; each page passes axe-core and is photographed."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.service.conftest import Api
from tests.web.conftest import Visit, Web
from tests.web.journeys import BORN, college_reads, school_registers_with_result


def sign_in(visit: Visit, web: Web, uln: str, code: str, born: tuple[str, str, str] = BORN) -> None:
    page = visit.page
    page.goto(f"{web.url}/")
    page.get_by_label("Unique Learner Number (ULN)").fill(uln)
    page.get_by_label("Day").fill(born[0])
    page.get_by_label("Month").fill(born[1])
    page.get_by_label("Year").fill(born[2])
    page.get_by_label("Code from your school").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_learner_reads_record_sees_the_college_opts_out_and_downloads(
    api: Api, web: Web, visit: Visit, tmp_path: Path
) -> None:
    learner = school_registers_with_result(api)
    assert college_reads(api, learner.uln).achievements  # shared by default

    page = visit.page
    page.goto(f"{web.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to see your learner record")
    visit.check("sign-in")

    sign_in(visit, web, learner.uln, learner.code)
    expect(page).to_have_url(f"{web.url}/record")
    results = page.get_by_role("table")
    expect(results).to_contain_text("GCSE (level 2)")
    expect(results).to_contain_text("Mathematics")
    expect(results).to_contain_text("7")
    expect(results).to_contain_text("20 August 2026")
    expect(results).to_contain_text("AQA")
    expect(page.get_by_text(learner.uln)).to_be_visible()
    visit.check("record")

    page.get_by_role("link", name="Who has looked").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who has looked at your record")
    college_row = page.get_by_role("row").filter(has_text="Test post16")
    expect(college_row).to_contain_text("College or training provider")
    expect(college_row).to_contain_text("Read your record. Your details and your results")
    visit.check("access-log")

    page.get_by_role("link", name="Sharing").click()
    visit.check("sharing")
    page.get_by_label("Colleges, sixth forms and training providers").check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your choice is saved")
    expect(page.get_by_text("not shared with colleges, sixth forms and training providers")).to_be_visible()
    visit.check("sharing-saved")

    withheld = college_reads(api, learner.uln)
    assert withheld.achievements_withheld and not withheld.achievements

    page.get_by_role("link", name="Download my data").first.click()
    visit.check("download")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["learner"]["uln"] == learner.uln
    assert [a["subject"] for a in data["achievements"]] == ["Mathematics"]
    assert data["sharing"]["withheld_from"] == ["post16"]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    visit.check("signed-out")
    page.goto(f"{web.url}/record")
    expect(page).to_have_url(f"{web.url}/")
