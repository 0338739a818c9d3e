"""Post-16 bulk find / verify CSV: ``Reference, ULN, GivenName, FamilyName, DateOfBirth, Gender,
LastKnownPostCode``. ULN is empty for a find and the learner's quoted ULN for a verify."""

from __future__ import annotations

from collections.abc import Iterator

from .csvcore import CsvRecord, CsvSchema, CsvTable, StrPath
from .normalise import normalise_date, normalise_gender
from .rows import LookupRow, RowProblem

COLUMNS = ("Reference", "ULN", "GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")
SCHEMA = CsvSchema("lookup", (COLUMNS,), key_column="Reference")


def read_lookups(path: StrPath, *, encoding: str = "utf-8") -> Iterator[LookupRow | RowProblem]:
    """Check the header now (FileFormatError on line 1) and return a generator over the rows."""
    return CsvTable(path, SCHEMA, encoding).rows(_lookup)


def _lookup(record: CsvRecord) -> LookupRow:
    v = record.values
    return LookupRow(
        line_number=record.line_number,
        reference=v["Reference"],
        uln=v["ULN"],
        given_name=v["GivenName"],
        family_name=v["FamilyName"],
        date_of_birth=normalise_date(v["DateOfBirth"]),
        gender=normalise_gender(v["Gender"]),
        postcode=v["LastKnownPostCode"],
    )
