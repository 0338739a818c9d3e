"""LRB batch CSV (file version 2A): a streaming reader and a streaming writer.

Before the first row is yielded the whole file is checked in a fast pass that keeps nothing in memory: the
encoding of every line, unbalanced quotes, the file-header fields and LearnerRecordCount. A school would
rather have a wrong file rejected before anything is registered than half-registered.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import TextIO

from .csvcore import CsvRecord, CsvSchema, CsvTable, StrPath
from .normalise import (
    ability_to_share_code,
    gender_code,
    normalise_ability_to_share,
    normalise_date,
    normalise_gender,
)
from .rows import FileFormatError, LearnerRow, RowProblem

FILE_VERSION = "2A"
FILE_HEADER_COLUMNS = ("FileVersion", "FileName", "UKPRN", "LearnerRecordCount")


def _same(value: str) -> str:
    return value


# (LRB column, LearnerRow field, reading conversion, writing conversion); '' field = column not kept.
_COLUMNS: tuple[tuple[str, str, Callable[[str], str], Callable[[str], str]], ...] = (
    ("ULN", "uln", _same, _same),
    ("MISIdentifier", "mis_identifier", _same, _same),
    ("Title", "title", _same, _same),
    ("GivenName", "given_name", _same, _same),
    ("PreferredGivenName", "preferred_given_name", _same, _same),
    ("MiddleOtherName", "middle_names", _same, _same),
    ("FamilyName", "family_name", _same, _same),
    ("PreviousFamilyName", "previous_family_name", _same, _same),
    ("FamilyNameAt16", "family_name_at_16", _same, _same),
    ("SchoolAtAge16", "school_at_16", _same, _same),
    ("LastKnownAddressLine1", "address_line1", _same, _same),
    ("LastKnownAddressLine2", "address_line2", _same, _same),
    ("LastKnownAddressTown", "town", _same, _same),
    ("LastKnownAddressCountyorCity", "county", _same, _same),
    ("LastKnownPostCode", "postcode", _same, _same),
    ("DateOfAddressCapture", "date_of_address_capture", normalise_date, _same),
    ("DateOfBirth", "date_of_birth", normalise_date, _same),
    ("PlaceOfBirth", "place_of_birth", _same, _same),
    ("EmailAddress", "email", _same, _same),
    ("Gender", "gender", normalise_gender, gender_code),
    ("Nationality", "nationality", _same, _same),
    ("ScottishCandidateNumber", "", _same, _same),
    ("AbilityToShare", "ability_to_share", normalise_ability_to_share, ability_to_share_code),
    ("VerificationType", "", _same, _same),
    ("OtherVerificationDescription", "", _same, _same),
    ("Notes", "notes", _same, _same),
)
LEARNER_COLUMNS = tuple(c[0] for c in _COLUMNS)
ALL_COLUMNS = FILE_HEADER_COLUMNS + LEARNER_COLUMNS
KEPT_COLUMNS = tuple((column, field, read) for column, field, read, _ in _COLUMNS if field)
_LEARNER_FIELDS = tuple(f.name for f in fields(LearnerRow))
assert {k[1] for k in KEPT_COLUMNS} <= set(_LEARNER_FIELDS)

# What the LRS needs to register a learner (domain: given name, family name, date of birth, gender and
# last known postcode). A file with these may leave other columns out, order them as it likes, and
# carry columns of its own: schools' files pass through spreadsheets.
REQUIRED_COLUMNS = ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")
SCHEMA = CsvSchema(
    "LRB 2A", (ALL_COLUMNS, LEARNER_COLUMNS), key_column="MISIdentifier", required=REQUIRED_COLUMNS
)


@dataclass(frozen=True, slots=True)
class LrbFileInfo:
    """What the file says about itself. The file-header fields are '' / None when the columns are absent."""

    has_file_header: bool
    file_version: str
    file_name: str
    ukprn: str
    declared_count: int | None
    record_count: int  # non-blank data records, malformed ones included
    absent_columns: tuple[str, ...] = ()  # LRB columns the file leaves out: read as empty
    ignored_columns: tuple[str, ...] = ()  # the file's columns that are not LRB ones: not read


def learner_from_record(record: CsvRecord) -> LearnerRow:
    values = record.values
    return LearnerRow(
        record.line_number, **{field: read(values[column]) for column, field, read in KEPT_COLUMNS}
    )


class LrbFile:
    """An LRB CSV, checked as a whole on construction; iterate it to stream LearnerRow | RowProblem."""

    def __init__(self, path: StrPath, *, encoding: str = "utf-8") -> None:
        self._table = CsvTable(path, SCHEMA, encoding)
        self.info = self._check()

    def _check(self) -> LrbFileInfo:
        count = self._table.count_records()  # also proves every line decodes and quotes balance
        table = self._table
        left_out = tuple(c for c in table.absent if c not in FILE_HEADER_COLUMNS)
        columns = {"absent_columns": left_out, "ignored_columns": table.ignored}
        header_columns = [c for c in FILE_HEADER_COLUMNS if c in table.columns]
        if not header_columns:
            return LrbFileInfo(False, "", "", "", None, count, **columns)
        if len(header_columns) != len(FILE_HEADER_COLUMNS):
            missing = ", ".join(c for c in FILE_HEADER_COLUMNS if c not in header_columns)
            raise FileFormatError(f"the file-header columns come together: {missing} missing", 1)
        records = self._table.records()
        try:
            first = next(records, None)
        finally:
            records.close()
        if first is None:
            raise FileFormatError("no learner records: the first data row must carry FileVersion", 2)
        if isinstance(first, RowProblem):
            raise FileFormatError(
                f"the first data row carries the file header and cannot be read: {first.message}",
                first.line_number,
            )
        values, line = first.values, first.line_number
        version = values["FileVersion"]
        if version.upper() != FILE_VERSION:
            raise FileFormatError(f"FileVersion is {version!r}; only {FILE_VERSION!r} is supported", line)
        declared_text = values["LearnerRecordCount"]
        if not declared_text.isdigit():
            raise FileFormatError(f"LearnerRecordCount {declared_text!r} is not a whole number", line)
        declared = int(declared_text)
        if declared != count:
            raise FileFormatError(
                f"LearnerRecordCount says {declared} but the file has {count} learner records"
                " (truncated or edited file?)",
                line,
            )
        return LrbFileInfo(
            True, version.upper(), values["FileName"], values["UKPRN"], declared, count, **columns
        )

    def __iter__(self) -> Iterator[LearnerRow | RowProblem]:
        return self._table.rows(learner_from_record)


def open_lrb(path: StrPath, *, encoding: str = "utf-8") -> LrbFile:
    """Check an LRB CSV (raises FileFormatError) and return it ready to stream."""
    return LrbFile(path, encoding=encoding)


def write_lrb(
    stream: TextIO,
    rows: Iterable[LearnerRow],
    *,
    file_name: str = "",
    ukprn: str = "",
    record_count: int | None = None,
) -> int:
    """Write LearnerRows as an LRB 2A CSV, streaming; return the number of rows written.

    With ``record_count`` the four file-header columns are written (filled on the first row only), and the
    count must then equal the rows given. ``stream`` must be opened with ``newline=''``.
    """
    writer = csv.writer(stream, lineterminator="\r\n")
    with_header = record_count is not None
    writer.writerow(ALL_COLUMNS if with_header else LEARNER_COLUMNS)
    written = 0
    for row in rows:
        cells = [write(getattr(row, field)) if field else "" for _, field, _, write in _COLUMNS]
        if with_header:
            head = [FILE_VERSION, file_name, ukprn, str(record_count)] if written == 0 else ["", "", "", ""]
            cells = head + cells
        writer.writerow(cells)
        written += 1
    if with_header and written != record_count:
        raise ValueError(f"record_count was {record_count} but {written} rows were written")
    return written
