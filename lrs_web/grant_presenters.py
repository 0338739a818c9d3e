"""What the grant pages show: organisations and grants in plain English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lrs.v1 import learner_service_pb2 as self_pb
from lrs_web.presenters import long_date

DEFAULT_DAYS = 90  # the server's default, shown as the suggested date
KIND = {
    self_pb.ORGANISATION_KIND_SCHOOL: "School",
    self_pb.ORGANISATION_KIND_POST16: "College, sixth form or training provider",
    self_pb.ORGANISATION_KIND_AWARDING_BODY: "Awarding body (exam board)",
}


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    ref: str
    name: str
    kind: str
    town: str


@dataclass(frozen=True, slots=True)
class GrantRow:
    organisation: OrganisationRow
    until: str


def organisation_row(o: self_pb.Organisation) -> OrganisationRow:
    return OrganisationRow(o.ref, o.name, KIND.get(o.kind, "Organisation"), o.town or "Not given")


def grant_row(g: self_pb.Grant) -> GrantRow:
    return GrantRow(organisation_row(g.organisation), long_date(g.expires_on))


def suggested_until(today: date) -> date:
    return today + timedelta(days=DEFAULT_DAYS)
