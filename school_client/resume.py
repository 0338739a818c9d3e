"""Resuming an interrupted run from its results file.

A results file is written in input order and flushed in whole rows, so its complete rows are a
prefix of the answers. A run that died leaves that prefix (and perhaps half a row): the next run
keeps the complete rows, cuts the rest, and carries on from the first unanswered input row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path


class _CountingLines:
    """Feeds lines to csv.reader and counts the bytes consumed, so each record's end is known."""

    def __init__(self, raw: bytes) -> None:
        self._lines = iter(raw.splitlines(keepends=True))
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.consumed += len(line)
            yield line.decode("utf-8")


def completed_rows(path: Path, columns: Sequence[str]) -> int:
    """How many complete result rows ``path`` holds, cutting a torn last row off in place.

    Returns -1 when there is no such file or it is not a results file of this kind (start afresh).
    """
    if not path.exists():
        return -1
    raw = path.read_bytes()
    lines = _CountingLines(raw)
    count, keep = -1, 0
    try:
        for record in csv.reader(iter(lines)):
            if count == -1 and record != list(columns):
                return -1
            if len(record) != len(columns) or not raw[: lines.consumed].endswith((b"\n", b"\r")):
                break
            count, keep = count + 1, lines.consumed
    except (UnicodeDecodeError, csv.Error):
        pass
    if count == -1:
        return -1
    if keep < len(raw):
        with path.open("r+b") as stream:
            stream.truncate(keep)
    return count
