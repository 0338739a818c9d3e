"""Validation of what callers send. Collects every bad field before refusing, so a caller fixes
all of them at once; produces the validated value objects the rest of the domain works with."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TypeVar

from lrs_server.domain import uln as uln_rules
from lrs_server.domain.errors import FieldViolation, Reason, ValidationError
from lrs_server.domain.model import Identity, RawIdentity
from matching.normalise import normalise_name
from matching.types import Gender

NAME_MAX = 35
# The longest a name may become once the matcher spells it out (NFKD, case folding: "ﬃ" -> "ffi",
# "ß" -> "ss"): name_frequency.value holds it and is String(64) (storage/tables.py; a test checks).
NORMALISED_NAME_MAX = 64
# Row ids and access-log sequence numbers are 32-bit integers on PostgreSQL (storage/tables.py):
# a page token or id beyond this cannot name a row, and would not even fit in a query parameter.
ROW_ID_MAX = 2**31 - 1
POSTCODE_NOT_KNOWN = "ZZ99 3CZ"
EARLIEST_BIRTH = date(1900, 1, 1)
_NAME_PUNCTUATION = frozenset(" -'’.")
# The same rule for ASCII text: letters with the ASCII name punctuation, and at least one letter.
_ASCII_NAME = re.compile(r"[A-Za-z \-'.]*[A-Za-z][A-Za-z \-'.]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_POSTCODE = re.compile(r"^(GIR|[A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_POSTCODE_GIR = "GIR0AA"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_TEXT_LIMITS = {
    "address_line1": 50,
    "address_line2": 50,
    "town": 50,
    "county": 50,
    "email": 254,
    "school_at_16": 255,
    "place_of_birth": 35,
    "title": 35,
}

T = TypeVar("T")


@dataclass
class Violations:
    """Accumulates field violations; ``check`` runs one parser and records its failure."""

    prefix: str = ""
    found: list[FieldViolation] = field(default_factory=list)

    def add(self, name: str, reason: Reason, description: str) -> None:
        self.found.append(FieldViolation(f"{self.prefix}{name}", reason, description))

    def check(self, name: str, parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except _Bad as bad:
            self.add(name, bad.reason, bad.description)
            return fallback

    def raise_if_any(self) -> None:
        if self.found:
            raise ValidationError(self.found)


class _Bad(Exception):
    def __init__(self, reason: Reason, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


def clean_text(value: str) -> str:
    """Trim and collapse runs of white space; NFC so that equal names compare equal."""
    if not value:  # most optional fields of a batch row
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


def parse_name(value: str, *, required: bool) -> str:
    name = clean_text(value)
    if not name:
        if required:
            raise _Bad(Reason.FIELD_REQUIRED, "is required")
        return ""
    if len(name) > NAME_MAX:
        raise _Bad(Reason.FIELD_TOO_LONG, f"must be at most {NAME_MAX} characters")
    if not _is_name(name):
        raise _Bad(
            Reason.NAME_INVALID,
            "may hold only letters, spaces, hyphens, apostrophes and full stops",
        )
    return name


def _is_name(name: str) -> bool:
    """Letters and combining marks of any script with name punctuation, and at least one letter."""
    if name.isascii():  # most names: one regular expression instead of a lookup per character
        return _ASCII_NAME.fullmatch(name) is not None
    allowed = all(unicodedata.category(ch)[0] in "LM" or ch in _NAME_PUNCTUATION for ch in name)
    return allowed and any(unicodedata.category(ch)[0] == "L" for ch in name)


def has_control_characters(text: str) -> bool:
    """Any character of Unicode category Cc (U+0000-U+001F, U+007F-U+009F)."""
    return _CONTROL.search(text) is not None


def plain_text(text: str) -> str:
    """The one rule for free text a caller sends: no control characters (PostgreSQL text cannot hold
    NUL, and none of them has a place in a stored field). ``text`` as given, or refused TEXT_INVALID."""
    if has_control_characters(text):
        raise _Bad(Reason.TEXT_INVALID, "must not hold control characters")
    return text


def parse_text(value: str) -> str:
    """Free text (address lines, achievement details, audit reasons): trimmed, runs of white space
    (tabs and line breaks too) collapsed to one space, NFC; then ``plain_text``."""
    return plain_text(clean_text(value))


def parse_stored_name(value: str, *, required: bool) -> str:
    """A name kept on a learner: ``parse_name``, and short enough once the matcher spells it out."""
    name = parse_name(value, required=required)
    if len(normalise_name(name).joined) > NORMALISED_NAME_MAX:
        raise _Bad(
            Reason.FIELD_TOO_LONG,
            f"is too long once its characters are spelled out (ligatures and similar characters "
            f"count as the letters they stand for: at most {NORMALISED_NAME_MAX} letters)",
        )
    return name


def is_row_id(value: int) -> bool:
    """Whether ``value`` could be a stored row id or access-log sequence number (they start at 1)."""
    return 0 < value <= ROW_ID_MAX


def parse_postcode(value: str) -> str:
    """A UK postcode in canonical form ("SW1A 1AA"), or the not-known pseudo-postcode."""
    compact = "".join(value.split())
    if not compact.isascii():  # before upper(): "ß1 1AA" must not become "SS1 1AA"
        raise _Bad(Reason.POSTCODE_INVALID, f"{_excerpt(value)} is not a UK postcode")
    compact = compact.upper()
    if not compact:
        raise _Bad(Reason.FIELD_REQUIRED, f"is required (use {POSTCODE_NOT_KNOWN} when not known)")
    match = _POSTCODE.match(compact)
    if match is None or (match.group(1) == "GIR" and compact != _POSTCODE_GIR):
        raise _Bad(Reason.POSTCODE_INVALID, f"{_excerpt(value)} is not a UK postcode")
    return f"{match.group(1)} {match.group(2)}"


def _excerpt(value: str, limit: int = 12) -> str:
    """A bad value quoted back, cut short: error details travel in size-limited gRPC trailers."""
    text = value.strip()
    return repr(text if len(text) <= limit else f"{text[:limit]}…")


def parse_iso_date(value: str, reason: Reason) -> date:
    text = value.strip()
    if not _ISO_DATE.match(text):
        raise _Bad(reason, "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(reason, f"{text} is not a calendar date") from None


def parse_date_of_birth(value: str, today: date) -> date:
    if not value.strip():
        raise _Bad(Reason.FIELD_REQUIRED, "is required")
    born = parse_iso_date(value, Reason.DATE_OF_BIRTH_INVALID)
    if born < EARLIEST_BIRTH:
        raise _Bad(Reason.DATE_OF_BIRTH_INVALID, f"must be on or after {EARLIEST_BIRTH.isoformat()}")
    if born > today:
        raise _Bad(Reason.DATE_OF_BIRTH_INVALID, "must not be in the future")
    return born


def upn_is_valid(upn: str) -> bool:
    """The UPN check letter rule (13 characters; a temporary UPN ends in a letter)."""
    if len(upn) != 13 or not upn.isascii() or upn[0] not in _UPN_ALPHABET or not upn[1:12].isdigit():
        return False
    last = upn[12]
    if last.isdigit():
        last_value = int(last)
    elif last in _UPN_ALPHABET:
        last_value = _UPN_ALPHABET.index(last)
    else:
        return False
    total = sum(pos * int(ch) for pos, ch in enumerate(upn[1:12], start=2)) + 13 * last_value
    return _UPN_ALPHABET[total % 23] == upn[0]


def parse_upn(value: str) -> str:
    upn = value.strip().upper()
    if upn and not upn_is_valid(upn):
        raise _Bad(Reason.UPN_INVALID, "is not a valid Unique Pupil Number (check letter)")
    return upn


def parse_email(value: str) -> str:
    email = plain_text(value.strip())
    if email and (len(email) > _TEXT_LIMITS["email"] or not _EMAIL.match(email)):
        raise _Bad(Reason.EMAIL_INVALID, "is not an email address")
    return email


def parse_free_text(name: str, value: str) -> str:
    text = parse_text(value)
    limit = _TEXT_LIMITS[name]
    if len(text) > limit:
        raise _Bad(Reason.FIELD_TOO_LONG, f"must be at most {limit} characters")
    return text


def parse_uln(value: str) -> str:
    uln = value.strip()
    if not uln:
        raise _Bad(Reason.FIELD_REQUIRED, "is required")
    if not uln_rules.is_well_formed(uln):
        raise _Bad(Reason.ULN_FORMAT_INVALID, "must be 10 digits, the first 1-9")
    if not uln_rules.is_valid(uln):
        raise _Bad(Reason.ULN_CHECKSUM_INVALID, "fails the ULN check digit")
    return uln


def validate_uln(value: str, field_name: str = "uln") -> str:
    found = Violations()
    uln = found.check(field_name, lambda: parse_uln(value), "")
    found.raise_if_any()
    return uln


def check_identifier(found: Violations, name: str, value: str, reason: Reason, limit: int = 128) -> str:
    """Caller-chosen keys (request id, MIS identifier): printable, at most ``limit`` characters."""
    text = value.strip()
    if len(text) > limit or not text.isprintable():
        found.add(name, reason, f"must be printable and at most {limit} characters")
    return text


_OPTIONAL_NAMES = ("middle_names", "previous_family_name", "family_name_at_16", "preferred_given_name")
_FREE_TEXTS = ("address_line1", "address_line2", "town", "county", "school_at_16", "place_of_birth", "title")


def validate_identity(raw: RawIdentity, today: date, violations: Violations) -> Identity:
    """Validate every field of ``raw``; violations are recorded, never raised here."""
    v = violations
    fallback_date = date(2000, 1, 1)
    given = v.check("given_name", lambda: parse_stored_name(raw.given_name, required=True), "")
    family = v.check("family_name", lambda: parse_stored_name(raw.family_name, required=True), "")
    # Optional fields are mostly empty in a batch row, and "" is valid: it skips its parser.
    optional_names: dict[str, str] = {}
    for n in _OPTIONAL_NAMES:
        value = getattr(raw, n)
        optional_names[n] = v.check(n, partial(parse_stored_name, value, required=False), "") if value else ""
    born = v.check("date_of_birth", lambda: parse_date_of_birth(raw.date_of_birth, today), fallback_date)
    if raw.gender is None:
        v.add("gender", Reason.FIELD_REQUIRED, "is required (not known, male, female or not specified)")
    postcode = v.check("postcode", lambda: parse_postcode(raw.postcode), POSTCODE_NOT_KNOWN)
    texts: dict[str, str] = {}
    for n in _FREE_TEXTS:
        value = getattr(raw, n)
        texts[n] = v.check(n, partial(parse_free_text, n, value), "") if value else ""
    email = v.check("email", lambda: parse_email(raw.email), "")
    upn = v.check("upn", lambda: parse_upn(raw.upn), "")
    return Identity(
        given_name=given,
        family_name=family,
        date_of_birth=born,
        gender=raw.gender or Gender.NOT_KNOWN,
        postcode=postcode,
        email=email,
        upn=upn,
        **optional_names,
        **texts,
    )


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
