"""Protobuf ⇄ domain for the record, self-service and admin services (convert.py covers registration)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.internal.containers import RepeatedScalarFieldContainer

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_pb2
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs_server.convert import SCHOOL_CHOICE_FROM_PB, candidate_to_pb, identity_to_pb, learner_to_pb
from lrs_server.domain.errors import DomainError
from lrs_server.domain.grant_ports import GrantEntry, OrganisationEntry
from lrs_server.domain.grants import GrantPage, OrganisationPage, last_day
from lrs_server.domain.learner_access import AccessPage, Export
from lrs_server.domain.merges import Links
from lrs_server.domain.model import OrgKind
from lrs_server.domain.record_ports import (
    AccessView,
    AchievementKind,
    AchievementStatus,
    SharingEntry,
    SharingSource,
    StoredAchievement,
    SubmitOutcome,
)
from lrs_server.domain.records import RawAchievement, RecordResult, SubmitRow
from lrs_server.domain.review import ReviewPage

KIND_FROM_PB: dict[rec_pb.AchievementKind.ValueType, AchievementKind] = {
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2: AchievementKind.KEY_STAGE_2,
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_3: AchievementKind.KEY_STAGE_3,
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_4: AchievementKind.KEY_STAGE_4,
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_5: AchievementKind.KEY_STAGE_5,
    rec_pb.ACHIEVEMENT_KIND_GCSE: AchievementKind.GCSE,
    rec_pb.ACHIEVEMENT_KIND_AS_LEVEL: AchievementKind.AS_LEVEL,
    rec_pb.ACHIEVEMENT_KIND_A_LEVEL: AchievementKind.A_LEVEL,
    rec_pb.ACHIEVEMENT_KIND_VOCATIONAL: AchievementKind.VOCATIONAL,
    rec_pb.ACHIEVEMENT_KIND_OTHER: AchievementKind.OTHER,
}
KIND_TO_PB = {v: k for k, v in KIND_FROM_PB.items()}
STATUS_FROM_PB: dict[rec_pb.AchievementStatus.ValueType, AchievementStatus] = {
    rec_pb.ACHIEVEMENT_STATUS_PROVISIONAL: AchievementStatus.PROVISIONAL,
    rec_pb.ACHIEVEMENT_STATUS_FINAL: AchievementStatus.FINAL,
}
STATUS_TO_PB = {v: k for k, v in STATUS_FROM_PB.items()}
OUTCOME_TO_PB = {
    SubmitOutcome.CREATED: rec_pb.SUBMIT_OUTCOME_CREATED,
    SubmitOutcome.UPDATED: rec_pb.SUBMIT_OUTCOME_UPDATED,
    SubmitOutcome.UNCHANGED: rec_pb.SUBMIT_OUTCOME_UNCHANGED,
}
SCHOOL_CHOICE_TO_PB = {v: k for k, v in SCHOOL_CHOICE_FROM_PB.items()}
ORG_KIND_FROM_PB: dict[self_pb.OrganisationKind.ValueType, OrgKind] = {
    self_pb.ORGANISATION_KIND_SCHOOL: OrgKind.SCHOOL,
    self_pb.ORGANISATION_KIND_POST16: OrgKind.POST16,
    self_pb.ORGANISATION_KIND_AWARDING_BODY: OrgKind.AWARDING_BODY,
}
ORG_KIND_TO_PB = {v: k for k, v in ORG_KIND_FROM_PB.items()}
SOURCE_TO_PB = {
    SharingSource.LEARNER: self_pb.SHARING_SOURCE_LEARNER,
    SharingSource.SCHOOL: self_pb.SHARING_SOURCE_SCHOOL,
    SharingSource.MERGE: self_pb.SHARING_SOURCE_MERGE,
}


def _time(at: datetime | None) -> str:
    return at.isoformat() if at is not None else ""


def submit_row(request: rec_pb.SubmitAchievementsRequest) -> SubmitRow:
    a = request.achievement
    return SubmitRow(
        uln=request.uln,
        given_name=request.given_name,
        family_name=request.family_name,
        achievement=RawAchievement(
            kind=KIND_FROM_PB.get(a.kind),
            qualification_ref=a.qualification_ref,
            subject=a.subject,
            component=a.component,
            level=a.level,
            grade=a.grade,
            award_date=a.award_date,
            status=STATUS_FROM_PB.get(a.status),
            awarding_organisation=a.awarding_organisation,
        ),
    )


def submit_result_to_pb(
    request: rec_pb.SubmitAchievementsRequest, result: SubmitOutcome | DomainError
) -> rec_pb.SubmitAchievementsResponse:
    if isinstance(result, DomainError):
        return rec_pb.SubmitAchievementsResponse(
            row_number=request.row_number,
            rejection_reason=str(result.reason),
            rejection_message=result.message,
            rejected_fields=[v.field for v in result.violations],
        )
    return rec_pb.SubmitAchievementsResponse(row_number=request.row_number, outcome=OUTCOME_TO_PB[result])


def achievement_to_pb(a: StoredAchievement) -> rec_pb.Achievement:
    d = a.data
    return rec_pb.Achievement(
        kind=KIND_TO_PB[d.kind],
        qualification_ref=d.qualification_ref,
        subject=d.subject,
        component=d.component,
        level=d.level,
        grade=d.grade,
        award_date=d.award_date.isoformat() if d.award_date else "",
        status=STATUS_TO_PB[d.status],
        awarding_organisation=d.awarding_organisation,
        submitted_by_ref=a.submitted_by_ref,
        submitted_by_name=a.submitted_by_name,
        updated_at=_time(a.updated_at),
        uln=a.uln,
    )


WITHHELD_MESSAGE = (
    "The learner has not agreed to share achievement data with this kind of organisation: achievements are "
    "withheld at the learner's request (results you submitted yourself are shown)."
)


def record_to_pb(result: RecordResult) -> rec_pb.GetLearnerRecordResponse:
    record = result.record
    return rec_pb.GetLearnerRecordResponse(
        learner=learner_to_pb(record.learner),
        master_substituted=result.master_substituted,
        achievements=[achievement_to_pb(a) for a in record.achievements],
        achievements_withheld=record.withheld,
        withheld_message=WITHHELD_MESSAGE if record.withheld else "",
    )


def org_kinds(
    values: RepeatedScalarFieldContainer[self_pb.OrganisationKind.ValueType],
) -> list[OrgKind | None]:
    return [ORG_KIND_FROM_PB.get(v) for v in values]


def sharing_to_pb(entry: SharingEntry | None) -> self_pb.SharingPreferences:
    if entry is None:
        return self_pb.SharingPreferences()
    return self_pb.SharingPreferences(
        withheld_from=sorted(ORG_KIND_TO_PB[k] for k in entry.withheld_from),
        source=SOURCE_TO_PB[entry.source],
        recorded_by_ref=entry.recorded_by_ref,
        recorded_at=_time(entry.at),
        school_choice=(
            SCHOOL_CHOICE_TO_PB[entry.school_choice]
            if entry.school_choice
            else learner_pb2.SHARING_CHOICE_UNSPECIFIED
        ),
    )


def access_to_pb(view: AccessView) -> self_pb.AccessLogEntry:
    return self_pb.AccessLogEntry(
        at=_time(view.at),
        organisation_ref=view.organisation_ref,
        organisation_name=view.organisation_name,
        accessor_kind=view.accessor_kind,
        rpc=view.rpc,
        fields=list(view.fields),
        uln=view.uln,
    )


def access_page_to_pb(page: AccessPage) -> self_pb.ListMyAccessLogResponse:
    return self_pb.ListMyAccessLogResponse(
        entries=[access_to_pb(e) for e in page.entries], next_page_token=page.next_page_token
    )


def export_to_pb(export: Export) -> self_pb.ExportMyDataResponse:
    return self_pb.ExportMyDataResponse(
        learner=learner_to_pb(export.learner),
        family_name_history=[
            self_pb.FamilyNameChange(family_name=name, replaced_at=_time(at))
            for name, at in export.family_name_history
        ],
        linked_ulns=list(export.linked_ulns),
        achievements=[achievement_to_pb(a) for a in export.achievements],
        sharing=sharing_to_pb(export.sharing),
        sharing_history=[sharing_to_pb(e) for e in export.sharing_history],
        access_log=[access_to_pb(e) for e in export.access_log],
        registered_at=_time(export.registered_at),
        grants=[grant_to_pb(g) for g in export.grants],
    )


def org_kind(value: self_pb.OrganisationKind.ValueType) -> OrgKind | None:
    """A kind asked for; None for UNSPECIFIED (any kind)."""
    return ORG_KIND_FROM_PB.get(value)


def organisation_to_pb(o: OrganisationEntry) -> self_pb.Organisation:
    return self_pb.Organisation(
        ref=o.ref,
        name=o.name,
        kind=ORG_KIND_TO_PB.get(o.kind, self_pb.ORGANISATION_KIND_UNSPECIFIED),
        town=o.town,
    )


def organisation_page_to_pb(page: OrganisationPage) -> self_pb.SearchOrganisationsResponse:
    return self_pb.SearchOrganisationsResponse(
        organisations=[organisation_to_pb(o) for o in page.organisations],
        next_page_token=page.next_page_token,
    )


def grant_to_pb(grant: GrantEntry) -> self_pb.Grant:
    return self_pb.Grant(
        organisation=organisation_to_pb(grant.organisation),
        granted_at=_time(grant.created_at),
        expires_on=last_day(grant).isoformat(),
    )


def grant_page_to_pb(page: GrantPage) -> self_pb.ListGrantsResponse:
    return self_pb.ListGrantsResponse(
        grants=[grant_to_pb(g) for g in page.grants], next_page_token=page.next_page_token
    )


def review_page_to_pb(page: ReviewPage) -> admin_pb.ListReviewItemsResponse:
    return admin_pb.ListReviewItemsResponse(
        items=[
            admin_pb.ReviewItem(
                id=item.entry.id,
                identity=identity_to_pb(item.entry.identity),
                submitted_by_ref=item.entry.organisation_ref,
                created_at=_time(item.entry.created_at),
                candidates=[learner_to_pb(v) for v in item.candidates],
                mis_identifier=item.entry.mis_identifier,
                matches=[candidate_to_pb(m) for m in item.matches],
            )
            for item in page.items
        ],
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )


def links_to_pb(found: Links) -> admin_pb.ListLearnerLinksResponse:
    return admin_pb.ListLearnerLinksResponse(
        learner=learner_to_pb(found.learner),
        links=[
            admin_pb.LearnerLink(
                linked_uln=link.linked_uln,
                master_uln=link.master_uln,
                merged_at=_time(link.merged_at),
            )
            for link in found.links
        ],
    )
