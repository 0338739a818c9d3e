"""The one streaming CSV core behind the LRB, achievements and lookup readers.

It checks the header, decodes strictly (a wrongly encoded file is rejected naming the line rather than read as
mojibake), tracks the physical line each record starts on (quoted fields may span lines), skips blank rows and
turns rows with the wrong number of fields into RowProblems. It never holds more than one record in memory.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple, TypeVar

from .rows import BAD_QUOTING, WRONG_FIELD_COUNT, FileFormatError, RowProblem

StrPath = str | os.PathLike[str]
T = TypeVar("T")

_UNDECODABLE = re.compile("[\udc80-\udcff]")


def canonical(heading: str) -> str:
    """Headings are matched case-insensitively, ignoring whitespace."""
    return "".join(heading.split()).lower()


@dataclass(frozen=True, slots=True)
class CsvSchema:
    """Accepted headings of one kind of file; each variant is an exact sequence (order matters).

    With ``required`` set, a header that is no variant is still read when it holds every required
    column once: its columns in any order, the variants' other columns left out (read as empty),
    columns no variant knows ignored (``CsvTable.absent``, ``CsvTable.ignored`` say which)."""

    kind: str
    variants: tuple[tuple[str, ...], ...]
    key_column: str
    required: tuple[str, ...] = ()


class CsvRecord(NamedTuple):
    line_number: int
    values: dict[str, str]  # keyed by the schema's spelling of the heading, values stripped


class CsvTable:
    """A CSV file checked against a schema. Construction reads only the header line."""

    def __init__(self, path: StrPath, schema: CsvSchema, encoding: str = "utf-8") -> None:
        self.path = path
        self.schema = schema
        # utf-8-sig accepts (and drops) a byte order mark; files without one read the same.
        self.encoding = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
        # The file's columns in its order, by the schema's spelling ('' for a column it ignores).
        self.columns: tuple[str, ...] = ()
        self.absent: tuple[str, ...] = ()  # the schema's columns the file leaves out (read as '')
        self.ignored: tuple[str, ...] = ()  # the file's headings the schema does not know
        self.columns = self._read_header()

    def _open(self) -> IO[str]:
        try:
            return open(self.path, encoding=self.encoding, newline="", errors="strict")
        except OSError as exc:
            raise FileFormatError(f"cannot open {os.fspath(self.path)!r}: {exc.strerror}") from exc

    def _raw_rows(self) -> Generator[tuple[int, list[str], str], None, None]:
        """Yield (line the record starts on, cells, csv error or '') for every record, header included."""
        with self._open() as stream:
            reader = csv.reader(stream, strict=True)
            previous_line = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    line = self._first_undecodable_line()
                    raise FileFormatError(
                        f"not valid {self.encoding.removesuffix('-sig').upper()} text"
                        " (save the file as 'CSV UTF-8')",
                        line,
                    ) from None
                except csv.Error as exc:
                    start = previous_line + 1
                    previous_line = reader.line_num
                    if "unexpected end of data" in str(exc):
                        raise FileFormatError(
                            "a quoted field is never closed: the file is truncated or its quotes unbalanced",
                            start,
                        ) from None
                    yield start, [], str(exc)
                    continue
                start = previous_line + 1
                previous_line = reader.line_num
                yield start, row, ""

    def _first_undecodable_line(self) -> int | None:
        with open(self.path, encoding=self.encoding, newline="", errors="surrogateescape") as stream:
            for number, line in enumerate(stream, start=1):
                if _UNDECODABLE.search(line):
                    return number
        return None

    def _read_header(self) -> tuple[str, ...]:
        rows = self._raw_rows()
        try:
            first = next(rows, None)
        finally:
            rows.close()
        if first is None:
            raise FileFormatError(f"the file is empty: expected the {self.schema.kind} header row", 1)
        line, cells, _ = first
        got = [canonical(c) for c in cells]
        while got and not got[-1]:
            got.pop()
        if line != 1:
            raise FileFormatError(f"the {self.schema.kind} header row must be the first line", 1)
        for variant in self.schema.variants:
            if got == [canonical(c) for c in variant]:
                return variant
        if self.schema.required and (columns := self._loose_header(cells[: len(got)])) is not None:
            return columns
        raise FileFormatError(self._header_message(got), 1)

    def _loose_header(self, cells: list[str]) -> tuple[str, ...] | None:
        """The schema's columns named by ``cells`` when they hold every required one, each column at
        most once (any order); None otherwise."""
        known = {canonical(c): c for variant in self.schema.variants for c in variant}
        columns = tuple(known.get(canonical(c), "") for c in cells)
        present = [c for c in columns if c]
        if len(set(present)) != len(present) or not set(self.schema.required) <= set(present):
            return None
        best = max(self.schema.variants, key=lambda v: (len(set(v) & set(present)), -len(v)))
        self.absent = tuple(c for c in best if c not in present)
        self.ignored = tuple(cell.strip() for cell, column in zip(cells, columns, strict=True) if not column)
        return columns

    def _header_message(self, got: list[str]) -> str:
        def overlap(variant: tuple[str, ...]) -> int:
            return len({canonical(c) for c in variant} & set(got))

        best = max(self.schema.variants, key=lambda v: (overlap(v), -len(v)))
        missing = [c for c in best if canonical(c) not in got]
        known = {canonical(c) for v in self.schema.variants for c in v}
        unexpected = [c for c in got if c not in known]
        parts = [f"the header is not a {self.schema.kind} header"]
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected columns: " + ", ".join(unexpected))
        if not missing and not unexpected:
            parts.append("the columns are not in the expected order")
        parts.append("expected: " + ", ".join(best))
        return "; ".join(parts)

    def records(self) -> Generator[CsvRecord | RowProblem, None, None]:
        """Yield each non-blank data record, or a RowProblem for a record that cannot be split into fields."""
        width = len(self.columns)
        key = self.schema.key_column
        key_index = self.columns.index(key) if key in self.columns else None  # None: no key column
        left_out = dict.fromkeys(self.absent, "")
        rows = self._raw_rows()
        next(rows)  # the header, already checked
        for line, cells, error in rows:
            if error:
                yield RowProblem(line, "", BAD_QUOTING, f"line {line}: badly quoted field ({error})")
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                del cells[width:]
            if len(cells) != width:
                found = cells[key_index].strip() if key_index is not None and key_index < len(cells) else ""
                yield RowProblem(
                    line,
                    found,
                    WRONG_FIELD_COUNT,
                    f"line {line}: expected {width} fields, found {len(cells)}",
                )
                continue
            values = {col: cell.strip() for col, cell in zip(self.columns, cells, strict=True) if col}
            yield CsvRecord(line, {**values, **left_out} if left_out else values)

    def rows(self, build: Callable[[CsvRecord], T]) -> Iterator[T | RowProblem]:
        """Each data record built into a row by ``build``; RowProblems pass through in their place."""
        for record in self.records():
            yield record if isinstance(record, RowProblem) else build(record)

    def count_records(self) -> int:
        """Count non-blank data records in a fast pass that keeps nothing (malformed records count too)."""
        rows = self._raw_rows()
        next(rows)
        return sum(1 for _, cells, error in rows if error or any(c.strip() for c in cells))
