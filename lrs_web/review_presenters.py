"""What the review pages show: a queue row per item, and one item as the identity sent beside each
candidate, every compared field marked with the matcher's level (agree / close / differs / missing)
and the weight lrs-server returned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_pb2
from lrs_web.presenters import GENDERS, date_time, long_date

AGREE, CLOSE, DIFFERS, MISSING = "agree", "close", "differs", "missing"
TAG_CLASSES = {
    AGREE: "govuk-tag--green",
    CLOSE: "govuk-tag--yellow",
    DIFFERS: "govuk-tag--red",
    MISSING: "govuk-tag--grey",
}


# Levels that mean the two agree outright (the rest that weigh for a match are "close").
_AGREEMENT = frozenset({"exact", "agree", "same", "same_address", "postcode_unit"})


def level_kind(level: str, weight: float) -> str:
    """The matcher's named level as one of four words; its own name is shown beside it. A level
    that weighs against a match (else, conflict, a hard negative, a wholly different date) differs."""
    if level == "null":
        return MISSING
    if level in _AGREEMENT:
        return AGREE
    return DIFFERS if weight < 0 else CLOSE


Getter = Callable[[learner_pb2.LearnerIdentity], str]
# (label, the matcher's field name or "" when it does not compare it, how to read it)
FIELDS: tuple[tuple[str, str, Getter], ...] = (
    ("Given name", "given_name", lambda i: i.given_name),
    ("Middle names", "middle_names", lambda i: i.middle_names),
    ("Family name", "family_name", lambda i: i.family_name),
    ("Previous family name", "", lambda i: i.previous_family_name),
    ("Date of birth", "date_of_birth", lambda i: long_date(i.date_of_birth) if i.date_of_birth else ""),
    ("Gender", "gender", lambda i: GENDERS.get(i.gender, "")),
    # The matcher weighs postcode and address lines as one comparison ("address").
    (
        "Address",
        "address",
        lambda i: ", ".join(p for p in (i.address_line1, i.address_line2, i.town, i.postcode) if p),
    ),
    ("UPN", "upn", lambda i: i.upn),
)


@dataclass(frozen=True, slots=True)
class Cell:
    value: str
    kind: str = ""  # agree / close / differs / missing; "" when the matcher does not compare the field
    level: str = ""
    weight: str = ""

    @property
    def tag_class(self) -> str:
        return TAG_CLASSES.get(self.kind, "")


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    sent: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class CandidateHeading:
    uln: str
    name: str
    probability: str
    weight: str


@dataclass(frozen=True, slots=True)
class ItemPage:
    id: int
    school: str
    mis_identifier: str
    submitted: str
    name: str
    candidates: tuple[CandidateHeading, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    submitted: str
    school: str
    name: str
    born: str
    candidates: int


def _name(identity: learner_pb2.LearnerIdentity) -> str:
    return " ".join(n for n in (identity.given_name, identity.middle_names, identity.family_name) if n)


def queue_row(item: admin_pb.ReviewItem) -> QueueRow:
    return QueueRow(
        id=item.id,
        submitted=date_time(item.created_at),
        school=item.submitted_by_ref,
        name=_name(item.identity),
        born=long_date(item.identity.date_of_birth),
        candidates=len(item.matches) or len(item.candidates),
    )


def _signed(weight: float) -> str:
    return f"{weight:+.1f}"


def item_page(item: admin_pb.ReviewItem) -> ItemPage:
    matches = list(item.matches)
    headings = tuple(
        CandidateHeading(
            m.learner.uln, _name(m.learner.identity), f"{m.match_probability:.0%}", _signed(m.match_weight)
        )
        for m in matches
    )
    compared = [{c.field: c for c in m.comparisons} for m in matches]
    rows = []
    for label, field, read in FIELDS:
        cells = []
        for match, comparisons in zip(matches, compared, strict=True):
            value = read(match.learner.identity)
            found = comparisons.get(field) if field else None
            if found is None:
                cells.append(Cell(value))
            else:
                cells.append(
                    Cell(value, level_kind(found.level, found.weight), found.level, _signed(found.weight))
                )
        sent = read(item.identity)
        if sent or any(c.value for c in cells):
            rows.append(Row(label, sent, tuple(cells)))
    return ItemPage(
        id=item.id,
        school=item.submitted_by_ref,
        mis_identifier=item.mis_identifier,
        submitted=date_time(item.created_at),
        name=_name(item.identity),
        candidates=headings,
        rows=tuple(rows),
    )


@dataclass(frozen=True, slots=True)
class LinkRow:
    linked_uln: str
    master_uln: str
    merged: str


def link_rows(response: admin_pb.ListLearnerLinksResponse) -> tuple[LinkRow, ...]:
    return tuple(
        LinkRow(link.linked_uln, link.master_uln, date_time(link.merged_at) if link.merged_at else "")
        for link in response.links
    )
