"""A plain HTTP client on lrs-web (no browser), for the security tests: forms, cookies, headers."""

from __future__ import annotations

import re

import httpx

from tests.web.journeys import BORN

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in_form(uln: str, code: str, csrf: str, born: tuple[str, str, str] = BORN) -> dict[str, str]:
    day, month, year = born
    return {
        "csrf_token": csrf,
        "uln": uln,
        "dob-day": day,
        "dob-month": month,
        "dob-year": year,
        "code": code,
    }


def sign_in(client: httpx.Client, uln: str, code: str) -> httpx.Response:
    csrf = csrf_of(client.get("/").text)
    return client.post("/sign-in", data=sign_in_form(uln, code, csrf))
