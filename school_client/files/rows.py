"""Value objects produced by the school-side file readers, and the errors they raise.

Every field is a string, ``''`` when absent, stripped of surrounding whitespace. The readers convert formats
only; business rules (valid names, postcodes, dates of birth, ULN checksums) are the server's job, so a value
that cannot be normalised is passed through raw for the server to reject with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass


class FileFormatError(Exception):
    """The file as a whole cannot be read: nothing in it should be registered.

    ``line`` is the 1-based physical line where the problem was found, or ``None`` when it concerns the whole
    file (for example a missing file).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One malformed row, reported while the rest of the file goes through.

    ``mis_identifier`` is the row's own key as far as it could be read: the MISIdentifier of an LRB row, the
    Reference of a lookup row, the ULN of an achievements row ('' if the row was too short to contain it).
    """

    line_number: int
    mis_identifier: str
    reason: str
    message: str


# Reason codes of RowProblem.
WRONG_FIELD_COUNT = "WRONG_FIELD_COUNT"
BAD_QUOTING = "BAD_QUOTING"


@dataclass(frozen=True, slots=True)
class LearnerRow:
    """One learner to register, from an LRB CSV row or a CTF <Pupil>.

    ``date_of_birth`` and ``date_of_address_capture`` are ISO ``YYYY-MM-DD`` when they were recognisable
    dates, else raw. ``gender`` is one of 'not-known', 'male', 'female', 'not-specified' or raw;
    ``ability_to_share`` one of '', 'not-seen', 'share', 'do-not-share' or raw (see normalise.py).
    """

    line_number: int
    mis_identifier: str = ""
    uln: str = ""
    title: str = ""
    given_name: str = ""
    preferred_given_name: str = ""
    middle_names: str = ""
    family_name: str = ""
    previous_family_name: str = ""
    family_name_at_16: str = ""
    school_at_16: str = ""
    address_line1: str = ""
    address_line2: str = ""
    town: str = ""
    county: str = ""
    postcode: str = ""
    date_of_address_capture: str = ""
    date_of_birth: str = ""
    place_of_birth: str = ""
    email: str = ""
    gender: str = ""
    nationality: str = ""
    upn: str = ""
    ability_to_share: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class AchievementRow:
    """One learning event: a row of an achievements CSV, or one CTF key stage result.

    For a CTF ``StageAssessment``: ``qualification_type`` and ``stage`` hold the key stage (e.g. 'KS2'),
    ``subject`` the CTF Subject, ``grade`` the CTF Result, and the CTF-only fields (year, method, component,
    result_status, result_qualifier, locale) keep their CTF values; ``mis_identifier`` and ``upn`` are the
    pupil's UPN. For a CSV row those CTF-only fields are ''.
    """

    line_number: int
    uln: str = ""
    given_name: str = ""
    family_name: str = ""
    qualification_type: str = ""
    qualification_ref: str = ""
    subject: str = ""
    level: str = ""
    grade: str = ""
    award_date: str = ""
    status: str = ""
    awarding_organisation: str = ""
    mis_identifier: str = ""
    upn: str = ""
    stage: str = ""
    year: str = ""
    method: str = ""
    component: str = ""
    result_status: str = ""
    result_qualifier: str = ""
    locale: str = ""


@dataclass(frozen=True, slots=True)
class LookupRow:
    """One row of a post-16 bulk find (``uln`` empty) or verify (``uln`` quoted by the learner) CSV."""

    line_number: int
    reference: str = ""
    uln: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: str = ""
    gender: str = ""
    postcode: str = ""
