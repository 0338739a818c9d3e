"""What the learner pages show, in plain English, made from what lrs-server returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lrs.v1 import learner_pb2
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb

KIND_NAMES = {
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2: "Key stage 2",
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_3: "Key stage 3",
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_4: "Key stage 4",
    rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_5: "Key stage 5",
    rec_pb.ACHIEVEMENT_KIND_GCSE: "GCSE",
    rec_pb.ACHIEVEMENT_KIND_AS_LEVEL: "AS level",
    rec_pb.ACHIEVEMENT_KIND_A_LEVEL: "A level",
    rec_pb.ACHIEVEMENT_KIND_VOCATIONAL: "Vocational qualification",
    rec_pb.ACHIEVEMENT_KIND_OTHER: "Other qualification",
}
GENDERS = {
    learner_pb2.GENDER_MALE: "Male",
    learner_pb2.GENDER_FEMALE: "Female",
    learner_pb2.GENDER_NOT_KNOWN: "Not known",
    learner_pb2.GENDER_NOT_SPECIFIED: "Not specified",
}
ACCESSOR_KINDS = {
    "school": "School",
    "post16": "College or training provider",
    "awarding_body": "Awarding body",
    "admin": "Service administrator",
    "learner": "You",
}
# The kinds of organisation a learner can withhold results from, in the order the page lists them.
ORG_KINDS: tuple[tuple[str, self_pb.OrganisationKind.ValueType, str, str], ...] = (
    (
        "school",
        self_pb.ORGANISATION_KIND_SCHOOL,
        "Schools",
        "Schools you go to or apply to will not see your results (a school still sees results it"
        " sent itself).",
    ),
    (
        "post16",
        self_pb.ORGANISATION_KIND_POST16,
        "Colleges, sixth forms and training providers",
        "Places you apply to after 16 will not see your results. You may need to show them your"
        " certificates.",
    ),
    (
        "awarding_body",
        self_pb.ORGANISATION_KIND_AWARDING_BODY,
        "Awarding bodies (exam boards)",
        "Exam boards will not see results they did not award themselves.",
    ),
)
KIND_BY_NAME = {name: value for name, value, _, _ in ORG_KINDS}
LABEL_BY_VALUE = {value: label for _, value, label, _ in ORG_KINDS}


def long_date(iso: str) -> str:
    """2026-08-20 -> 20 August 2026 (as GOV.UK writes dates); anything else as it came."""
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def date_time(rfc3339: str) -> str:
    try:
        at = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    except ValueError:
        return rfc3339
    hour = at.hour % 12 or 12
    return f"{at.day} {at:%B %Y} at {hour}:{at:%M}{'am' if at.hour < 12 else 'pm'} (UTC)"


@dataclass(frozen=True, slots=True)
class ResultRow:
    qualification: str
    subject: str
    grade: str
    awarded: str
    awarded_by: str
    provisional: bool


@dataclass(frozen=True, slots=True)
class IdentityRow:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class RecordPage:
    full_name: str
    rows: tuple[IdentityRow, ...]
    results: tuple[ResultRow, ...]


def result_row(a: rec_pb.Achievement) -> ResultRow:
    qualification = KIND_NAMES.get(a.kind, "Qualification")
    if a.level:
        qualification += f" (level {a.level})"
    subject = a.subject + (f": {a.component}" if a.component else "")
    return ResultRow(
        qualification=qualification,
        subject=subject,
        grade=a.grade,
        awarded=long_date(a.award_date) if a.award_date else "Not given",
        awarded_by=a.awarding_organisation or a.submitted_by_name or a.submitted_by_ref,
        provisional=a.status == rec_pb.ACHIEVEMENT_STATUS_PROVISIONAL,
    )


def record_page(response: rec_pb.GetLearnerRecordResponse) -> RecordPage:
    who = response.learner.identity
    names = " ".join(n for n in (who.given_name, who.middle_names, who.family_name) if n)
    rows = [
        IdentityRow("Unique Learner Number (ULN)", response.learner.uln),
        IdentityRow("Name", names),
        IdentityRow("Date of birth", long_date(who.date_of_birth)),
        IdentityRow("Gender", GENDERS.get(who.gender, "Not known")),
    ]
    if who.postcode:
        rows.append(IdentityRow("Postcode", who.postcode))
    if who.school_at_16:
        rows.append(IdentityRow("School at 16", who.school_at_16))
    results = sorted((result_row(a) for a in response.achievements), key=lambda r: (r.awarded, r.subject))
    return RecordPage(names, tuple(rows), tuple(results))


@dataclass(frozen=True, slots=True)
class AccessRow:
    when: str
    who: str
    kind: str
    what: str


RPC_WORDS = {
    "GetLearnerRecord": "Read your record",
    "FindLearnerByUln": "Looked up your ULN",
    "FindLearnerByDemographics": "Searched for you by your details",
    "VerifyLearner": "Checked your ULN matches your details",
    "RegisterLearner": "Registered you",
    "UpdateLearner": "Updated your details",
    "BatchRegisterLearners": "Registered you (from a school's file)",
    "SubmitAchievements": "Checked your details before adding a result",
    "ExportMyData": "Downloaded all your data",
    "ListReviewItems": "Compared you with a new registration",
    "MergeLearners": "Joined two records of yours",
    "UnmergeLearners": "Separated two records",
    "ListLearnerLinks": "Looked up the records joined to yours",
}


def what_was_seen(fields: list[str]) -> str:
    if "achievements_granted" in fields:
        return "Your details and the results you let this organisation see"
    if "achievements_withheld" in fields:
        return "Your details. Your results were not shown: you chose not to share them."
    if "achievements" in fields:
        return "Your details and your results"
    if "export" in fields:
        return "Everything held about you"
    return "Your details"


def access_row(entry: self_pb.AccessLogEntry) -> AccessRow:
    method = entry.rpc.rsplit("/", 1)[-1]
    return AccessRow(
        when=date_time(entry.at),
        who=entry.organisation_name or entry.organisation_ref,
        kind=ACCESSOR_KINDS.get(entry.accessor_kind, entry.accessor_kind),
        what=f"{RPC_WORDS.get(method, method)}. {what_was_seen(list(entry.fields))}",
    )


@dataclass(frozen=True, slots=True)
class SharingChoice:
    name: str
    label: str
    hint: str
    withheld: bool


@dataclass(frozen=True, slots=True)
class SharingPage:
    choices: tuple[SharingChoice, ...]
    summary: str
    who_decided: str


def sharing_page(p: self_pb.SharingPreferences) -> SharingPage:
    withheld = set(p.withheld_from)
    choices = tuple(
        SharingChoice(name, label, hint, value in withheld) for name, value, label, hint in ORG_KINDS
    )
    if not withheld:
        summary = (
            "Your results are shared with schools, colleges and training providers, and awarding bodies."
        )
    else:
        kept = [LABEL_BY_VALUE[v].lower() for _, v, _, _ in ORG_KINDS if v in withheld]
        summary = "Your results are not shared with " + " or ".join(kept) + "."
    who = {
        self_pb.SHARING_SOURCE_LEARNER: f"You made this choice on {long_date(p.recorded_at)}.",
        self_pb.SHARING_SOURCE_SCHOOL: f"Your school recorded this for you on {long_date(p.recorded_at)}."
        " Your own choice replaces it.",
        self_pb.SHARING_SOURCE_MERGE: "Two of your records were joined, so the stricter choice applies"
        " until you choose again.",
    }.get(p.source, "Nobody has made a choice, so your results are shared.")
    return SharingPage(choices, summary, who)
