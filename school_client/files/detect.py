"""Tell an LRB CSV from a CTF XML by content (schools rename files), and open either the same way."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from .csvcore import StrPath
from .ctf import CtfHeader, open_ctf
from .lrb import LrbFileInfo, open_lrb
from .rows import FileFormatError, LearnerRow, RowProblem

FileKind = Literal["lrb", "ctf"]
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def detect_format(path: StrPath) -> FileKind:
    """'ctf' when the first non-space byte (after any byte order mark) is '<', else 'lrb'."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
    except OSError as exc:
        raise FileFormatError(f"cannot open {path!s}: {exc.strerror}") from exc
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    head = head.replace(b"\x00", b"")  # UTF-16 XML: '<' is followed/preceded by NUL bytes
    return "ctf" if head.lstrip().startswith(b"<") else "lrb"


@dataclass(slots=True)
class LearnerFile:
    """Learners from either format. ``skipped`` fills in while a CTF is read (always empty for LRB)."""

    kind: FileKind
    rows: Iterator[LearnerRow | RowProblem]
    lrb_info: LrbFileInfo | None = None
    ctf_header: CtfHeader | None = None
    skipped: Counter[str] = field(default_factory=Counter)
    record_count: int | None = None  # known up front for LRB (the checking pass counts), None for CTF


def open_learner_file(path: StrPath, *, encoding: str = "utf-8", today: dt.date | None = None) -> LearnerFile:
    """Detect the format, check the file as a whole (FileFormatError) and return its learners as a stream."""
    if detect_format(path) == "ctf":
        ctf = open_ctf(path, today=today)
        return LearnerFile("ctf", iter(ctf.learners()), ctf_header=ctf.header, skipped=ctf.skipped)
    lrb = open_lrb(path, encoding=encoding)
    return LearnerFile("lrb", iter(lrb), lrb_info=lrb.info, record_count=lrb.info.record_count)
