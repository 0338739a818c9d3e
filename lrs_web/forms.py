"""The forms' fields, read and checked before anything is sent: typed values or errors per field
(each error names the input it belongs to, for the error summary's link)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

ULN = re.compile(r"^\d{10}$")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # the name of the form field
    href: str  # the id of the input the summary links to
    text: str


@dataclass(frozen=True, slots=True)
class Checked:
    values: dict[str, str]
    errors: tuple[FieldError, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    def message(self, name: str) -> str:
        return next((e.text for e in self.errors if e.field == name), "")


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def clean_uln(raw: str) -> str:
    return re.sub(r"\s+", "", raw)


def _date(day: str, month: str, year: str) -> str | None:
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return None
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def sign_in(form: dict[str, str]) -> Checked:
    """ULN, date of birth (three boxes) and code. The code is never echoed back."""
    values = {n: _text(form, n) for n in ("uln", "dob-day", "dob-month", "dob-year")}
    values["uln"] = clean_uln(values["uln"])
    code = re.sub(r"[\s-]+", "", _text(form, "code")).upper()
    errors: list[FieldError] = []
    if not values["uln"]:
        errors.append(FieldError("uln", "uln", "Enter your ULN"))
    elif not ULN.match(values["uln"]):
        errors.append(FieldError("uln", "uln", "Enter your ULN as 10 digits, like 1234567890"))
    parts = (values["dob-day"], values["dob-month"], values["dob-year"])
    born = _date(*parts)
    if not any(parts):
        errors.append(FieldError("dob", "dob-day", "Enter your date of birth"))
    elif born is None:
        errors.append(FieldError("dob", "dob-day", "Date of birth must be a real date, like 14 3 2011"))
    if not code:
        errors.append(FieldError("code", "code", "Enter the code your school gave you"))
    return Checked({**values, "dob": born or "", "code": code}, tuple(errors))


def operator_sign_in(form: dict[str, str]) -> Checked:
    token = _text(form, "token")
    errors = () if token else (FieldError("token", "token", "Enter your organisation's token"),)
    return Checked({"token": token}, errors)


def reason(form: dict[str, str], name: str = "reason") -> Checked:
    text = _text(form, name)
    errors: tuple[FieldError, ...] = ()
    if not text:
        errors = (FieldError(name, name, "Enter the reason for your decision"),)
    elif len(text) > MAX_REASON:
        errors = (FieldError(name, name, f"Reason must be {MAX_REASON} characters or fewer"),)
    return Checked({name: text}, errors)


def uln_search(form: dict[str, str]) -> Checked:
    uln = clean_uln(_text(form, "uln"))
    errors: tuple[FieldError, ...] = ()
    if not ULN.match(uln):
        errors = (FieldError("uln", "uln", "Enter a ULN as 10 digits"),)
    return Checked({"uln": uln}, errors)


def grant_search(query: dict[str, str]) -> Checked:
    """An organisation's name or town (at least one)."""
    values = {"name": _text(query, "name"), "town": _text(query, "town")}
    errors: list[FieldError] = []
    if not values["name"] and not values["town"]:
        errors.append(FieldError("name", "name", "Enter the organisation’s name or its town"))
    for name, limit in (("name", 200), ("town", 50)):
        if len(values[name]) > limit:
            errors.append(FieldError(name, name, f"{name.capitalize()} must be {limit} characters or fewer"))
    return Checked(values, tuple(errors))


def grant_until(form: dict[str, str]) -> Checked:
    """The grant's last day (three boxes); whether it is within the allowed range is the server's rule."""
    values = {n: _text(form, n) for n in ("until-day", "until-month", "until-year")}
    parts = (values["until-day"], values["until-month"], values["until-year"])
    last = _date(*parts)
    errors: tuple[FieldError, ...] = ()
    if not any(parts):
        errors = (FieldError("until", "until-day", "Enter the last day they can see your results"),)
    elif last is None:
        errors = (FieldError("until", "until-day", "The date must be a real date, like 31 1 2027"),)
    return Checked({**values, "until": last or ""}, errors)
