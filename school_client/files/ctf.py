"""Common Transfer File (CTF) XML from school MIS systems, read as a stream.

The parser is expat (the engine under ElementTree.iterparse) driven directly, because iterparse cannot tell
the line an element starts on, and the results file must point schools at the line of each <Pupil>. One
<Pupil> subtree at a time is built with an ElementTree TreeBuilder and dropped once converted, so memory stays
flat whatever the number of pupils.

Liberal in what it reads: any element the reader does not use is skipped and counted in ``skipped`` (keyed by
its parent and name, e.g. ``'Pupil/Attendance'``), so the caller can report what was ignored instead of
rejecting the file. Element names are matched without any namespace prefix; pupil fields case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import IO
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from .normalise import normalise_date, normalise_gender
from .rows import AchievementRow, FileFormatError, LearnerRow

StrPath = str | os.PathLike[str]
_CHUNK = 1 << 16


def accepted_ctf_versions(today: dt.date | None = None) -> tuple[str, ...]:
    """CTF versions accepted on ``today``: the current academic year's and the two before, newest first.

    The version is the last two digits of the year the academic year ends in, plus '.0'; an academic year
    starts on 1 September. On 2026-11-28 (academic year 2026/27) that is 27.0, 26.0 and 25.0: a school whose
    MIS has not yet been upgraded for the new year still exports the previous version for some months.
    """
    today = today or dt.date.today()
    ends = today.year + 1 if today.month >= 9 else today.year
    return tuple(f"{(ends - back) % 100:02d}.0" for back in range(3))


@dataclass(frozen=True, slots=True)
class CtfHeader:
    ctf_version: str
    document_name: str = ""
    date_time: str = ""
    document_qualifier: str = ""
    supplier_id: str = ""
    source_lea: str = ""
    source_estab: str = ""
    source_urn: str = ""
    source_school_name: str = ""
    source_academic_year: str = ""
    dest_lea: str = ""
    dest_estab: str = ""
    dest_urn: str = ""


@dataclass(frozen=True, slots=True)
class CtfPupil:
    learner: LearnerRow
    achievements: tuple[AchievementRow, ...]


_HEADER_FIELDS = {
    "CTFversion": "ctf_version",
    "DocumentName": "document_name",
    "DateTime": "date_time",
    "DocumentQualifier": "document_qualifier",
    "SupplierID": "supplier_id",
    "SourceSchool/LEA": "source_lea",
    "SourceSchool/Estab": "source_estab",
    "SourceSchool/URN": "source_urn",
    "SourceSchool/SchoolName": "source_school_name",
    "SourceSchool/AcademicYear": "source_academic_year",
    "DestSchool/LEA": "dest_lea",
    "DestSchool/Estab": "dest_estab",
    "DestSchool/URN": "dest_urn",
}
# Header children that are expected (DataDescriptor is expected but unused); others count as skipped.
_HEADER_KNOWN = {k.split("/")[0] for k in _HEADER_FIELDS} | {"DataDescriptor"}
_VERSION = re.compile(r"(\d{1,2})(?:\.0+)?")

# Pupil children the reader uses (lower case); anything else is counted as skipped.
_PUPIL_USED = {
    "upn",
    "uniquelearnernumber",
    "uln",
    "surname",
    "forename",
    "preferredsurname",
    "preferredforename",
    "formersurname",
    "middlenames",
    "dob",
    "sex",
    "gender",
    "address",
    "email",
    "emails",
    "nationality",
    "nationalities",
    "birthplace",
    "placeofbirth",
    "stageassessments",
}
_ASSESSMENT_FIELDS = (
    "Locale",
    "Year",
    "Subject",
    "Method",
    "Component",
    "ResultStatus",
    "ResultQualifier",
    "Result",
)


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _child(elem: Element, *names: str) -> Element | None:
    wanted = {n.lower() for n in names}
    for child in elem:
        if child.tag.lower() in wanted:
            return child
    return None


def _text(elem: Element | None, *names: str) -> str:
    """Stripped text of the first child of ``elem`` with one of ``names`` (any case); '' if absent."""
    if elem is None:
        return ""
    child = _child(elem, *names)
    return (child.text or "").strip() if child is not None else ""


class CtfFile:
    """A CTF being read. Construction parses up to the end of <Header> and checks it (FileFormatError)."""

    def __init__(self, path: StrPath, *, today: dt.date | None = None) -> None:
        self.path = path
        self.accepted_versions = accepted_ctf_versions(today)
        self.skipped: Counter[str] = Counter()
        self.header: CtfHeader | None = None
        try:
            self._stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed when the pupils are exhausted
        except OSError as exc:
            raise FileFormatError(f"cannot open {os.fspath(path)!r}: {exc.strerror}") from exc
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._data
        self._path: list[str] = []
        self._header_values: dict[str, str] = {}
        self._text: list[str] = []
        self._builder: TreeBuilder | None = None
        self._lines: dict[int, int] = {}
        self._ready: deque[CtfPupil] = deque()
        self._done = False
        self._version_line = 0
        while self.header is None and not self._done:
            self._feed()
        if self.header is None:
            self.close()
            raise FileFormatError("the file has no CTF <Header>", None)

    # -- driving expat ------------------------------------------------------------------------------------
    def _feed(self) -> None:
        chunk = self._stream.read(_CHUNK)
        try:
            self._parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            self.close()
            reason = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
            if not chunk or reason == "no element found":
                reason = f"{reason}: the XML ends before the document is complete (truncated file?)"
            raise FileFormatError(f"ill-formed XML ({reason}, column {exc.offset})", exc.lineno) from None
        except FileFormatError:
            self.close()
            raise
        if not chunk:
            self._done = True
            self.close()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CtfFile:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # -- expat handlers -----------------------------------------------------------------------------------
    def _start(self, raw: str, attrs: dict[str, str]) -> None:
        name, path, line = _local(raw), self._path, self._parser.CurrentLineNumber
        if self._builder is not None:
            self._lines[id(self._builder.start(name, {}))] = line
        elif not path:
            if name != "CTfile":
                raise FileFormatError(f"the root element is <{name}>, not <CTfile>: this is not a CTF", line)
        elif len(path) == 1:
            if name == "CTFpupilData" and self.header is None:
                raise FileFormatError("<CTFpupilData> comes before a complete <Header>", line)
            if name not in ("Header", "CTFpupilData"):
                self.skipped[f"CTfile/{name}"] += 1
        elif path[1] == "Header":
            self._text = []
            if len(path) == 2 and name == "CTFversion":
                self._version_line = line
            if len(path) == 2 and name not in _HEADER_KNOWN:
                self.skipped[f"Header/{name}"] += 1
        elif path[1] == "CTFpupilData" and len(path) == 2:
            if name == "Pupil":
                self._builder = TreeBuilder()
                self._lines[id(self._builder.start(name, {}))] = line
            else:
                self.skipped[f"CTFpupilData/{name}"] += 1
        path.append(name)

    def _end(self, raw: str) -> None:
        name, path = _local(raw), self._path
        path.pop()
        if self._builder is not None:
            self._builder.end(name)
            if len(path) == 2:
                pupil = self._builder.close()
                self._builder = None
                self._ready.append(self._convert(pupil))
                self._lines.clear()
        elif len(path) >= 2 and path[1] == "Header":
            key = "/".join([*path[2:], name])
            if key in _HEADER_FIELDS:
                self._header_values[_HEADER_FIELDS[key]] = "".join(self._text).strip()
        elif len(path) == 1 and name == "Header":
            self._check_header()

    def _data(self, data: str) -> None:
        if self._builder is not None:
            self._builder.data(data)
        elif len(self._path) > 2 and self._path[1] == "Header":
            self._text.append(data)

    def _check_header(self) -> None:
        line = self._version_line or self._parser.CurrentLineNumber
        version = self._header_values.get("ctf_version", "")
        m = _VERSION.fullmatch(version)
        normalised = f"{int(m[1]):02d}.0" if m else version
        if normalised not in self.accepted_versions:
            raise FileFormatError(
                f"CTFversion {version!r} is not accepted; expected {' or '.join(self.accepted_versions)}",
                line,
            )
        self.header = CtfHeader(**{**self._header_values, "ctf_version": normalised})

    # -- conversion ---------------------------------------------------------------------------------------
    def _convert(self, pupil: Element) -> CtfPupil:
        for child in pupil:
            if child.tag.lower() not in _PUPIL_USED:
                self.skipped[f"Pupil/{child.tag}"] += 1
        upn = _text(pupil, "UPN")
        surname, preferred_surname = _text(pupil, "Surname"), _text(pupil, "PreferredSurname")
        line1, line2, town, county, postcode = self._address(_child(pupil, "Address"))
        learner = LearnerRow(
            line_number=self._lines[id(pupil)],
            mis_identifier=upn,
            upn=upn,
            uln=_text(pupil, "UniqueLearnerNumber", "ULN"),
            given_name=_text(pupil, "Forename"),
            preferred_given_name=_text(pupil, "PreferredForename"),
            middle_names=_text(pupil, "MiddleNames"),
            family_name=surname,
            previous_family_name=_text(pupil, "FormerSurname"),
            date_of_birth=normalise_date(_text(pupil, "DOB")),
            gender=normalise_gender(_text(pupil, "Sex") or _text(pupil, "Gender")),
            address_line1=line1,
            address_line2=line2,
            town=town,
            county=county,
            postcode=postcode,
            email=self._email(pupil),
            nationality=_text(pupil, "Nationality") or _text(_child(pupil, "Nationalities"), "Nationality"),
            place_of_birth=_text(pupil, "PlaceOfBirth", "BirthPlace"),
            notes=f"Preferred surname: {preferred_surname}"
            if preferred_surname and preferred_surname != surname
            else "",
        )
        return CtfPupil(learner, tuple(self._assessments(pupil, learner)))

    def _address(self, address: Element | None) -> tuple[str, str, str, str, str]:
        if address is None:
            return "", "", "", "", ""
        postcode = _text(address, "PostCode", "Postcode")
        bs = _child(address, "BS7666Address")
        if bs is not None:
            line1 = " ".join(p for p in (_text(bs, "SAON"), _text(bs, "PAON"), _text(bs, "Street")) if p)
            town = _text(bs, "Town") or _text(bs, "PostTown")
            county = _text(bs, "AdministrativeArea", "County")
            return line1, _text(bs, "Locality"), town, county, postcode
        lines = _child(address, "AddressLines")
        parts = [_text(lines, f"AddressLine{i}") for i in range(1, 6)]
        return parts[0], parts[1], parts[2], ", ".join(p for p in parts[3:] if p), postcode

    def _email(self, pupil: Element) -> str:
        for container in (c for c in pupil if c.tag.lower() in ("email", "emails")):
            for elem in container.iter():
                if elem.tag.lower() in ("email", "emailaddress") and (elem.text or "").strip():
                    return (elem.text or "").strip()
        return ""

    def _assessments(self, pupil: Element, learner: LearnerRow) -> Iterator[AchievementRow]:
        for stages in (c for c in pupil if c.tag.lower() == "stageassessments"):
            for key_stage in stages:
                if key_stage.tag != "KeyStage":
                    self.skipped[f"StageAssessments/{key_stage.tag}"] += 1
                    continue
                stage = _text(key_stage, "Stage")
                for sa in key_stage:
                    if sa.tag == "Stage":
                        continue
                    if sa.tag != "StageAssessment":
                        self.skipped[f"KeyStage/{sa.tag}"] += 1
                        continue
                    v = {f: _text(sa, f) for f in _ASSESSMENT_FIELDS}
                    yield AchievementRow(
                        line_number=self._lines[id(sa)],
                        uln=learner.uln,
                        given_name=learner.given_name,
                        family_name=learner.family_name,
                        qualification_type=stage,
                        subject=v["Subject"],
                        grade=v["Result"],
                        mis_identifier=learner.upn,
                        upn=learner.upn,
                        stage=stage,
                        year=v["Year"],
                        method=v["Method"],
                        component=v["Component"],
                        result_status=v["ResultStatus"],
                        result_qualifier=v["ResultQualifier"],
                        locale=v["Locale"],
                    )

    # -- streaming ----------------------------------------------------------------------------------------
    def pupils(self) -> Iterator[CtfPupil]:
        """Yield each pupil with its key stage results, in file order."""
        while True:
            while self._ready:
                yield self._ready.popleft()
            if self._done:
                return
            self._feed()

    def learners(self) -> Iterator[LearnerRow]:
        return (p.learner for p in self.pupils())

    def achievements(self) -> Iterator[AchievementRow]:
        return (a for p in self.pupils() for a in p.achievements)


def open_ctf(path: StrPath, *, today: dt.date | None = None) -> CtfFile:
    """Open a CTF and check its header (FileFormatError); then stream ``pupils()``/``learners()``."""
    return CtfFile(path, today=today)


def read_ctf_learners(path: StrPath, *, today: dt.date | None = None) -> Iterator[LearnerRow]:
    return open_ctf(path, today=today).learners()


def read_ctf_achievements(path: StrPath, *, today: dt.date | None = None) -> Iterator[AchievementRow]:
    return open_ctf(path, today=today).achievements()
