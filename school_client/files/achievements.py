"""Achievements (results) CSV: one learning event per row, streamed as AchievementRow | RowProblem."""

from __future__ import annotations

from collections.abc import Iterator

from .csvcore import CsvRecord, CsvSchema, CsvTable, StrPath
from .normalise import normalise_date
from .rows import AchievementRow, RowProblem

COLUMNS = (
    "ULN",
    "GivenName",
    "FamilyName",
    "QualificationType",
    "QualificationRef",
    "Subject",
    "Level",
    "Grade",
    "AwardDate",
    "Status",
)
OPTIONAL_COLUMNS = ("AwardingOrganisation",)
SCHEMA = CsvSchema("achievements", (COLUMNS, COLUMNS + OPTIONAL_COLUMNS), key_column="ULN")


def read_achievements(path: StrPath, *, encoding: str = "utf-8") -> Iterator[AchievementRow | RowProblem]:
    """Check the header now (FileFormatError on line 1) and return a generator over the rows."""
    return CsvTable(path, SCHEMA, encoding).rows(_achievement)


def _achievement(record: CsvRecord) -> AchievementRow:
    v = record.values
    return AchievementRow(
        line_number=record.line_number,
        uln=v["ULN"],
        given_name=v["GivenName"],
        family_name=v["FamilyName"],
        qualification_type=v["QualificationType"],
        qualification_ref=v["QualificationRef"],
        subject=v["Subject"],
        level=v["Level"],
        grade=v["Grade"],
        award_date=normalise_date(v["AwardDate"]),
        status=v["Status"],
        awarding_organisation=v.get("AwardingOrganisation", ""),
    )
