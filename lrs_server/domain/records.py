"""Achievements: submitting results per ULN, and reading a learner record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, ErrorKind, Reason, not_found
from lrs_server.domain.lookup import (
    LookupService,
    VerificationOutcome,
    VerificationQuery,
    names_match,
)
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import Learner, Principal
from lrs_server.domain.record_ports import (
    AchievementData,
    AchievementKind,
    AchievementStatus,
    RecordStore,
    RecordTransaction,
    SubmitOutcome,
)
from lrs_server.domain.sharing import in_force_for, own_learner
from lrs_server.domain.validation import Violations, parse_iso_date, parse_name, parse_text, parse_uln
from lrs_server.privacy import Disclosure, RecordView

LIMITS = {
    "qualification_ref": 64,
    "subject": 100,
    "component": 64,
    "level": 20,
    "grade": 20,
    "awarding_organisation": 100,
}
REQUIRED = frozenset({"qualification_ref", "subject", "grade"})


@dataclass(frozen=True, slots=True)
class RawAchievement:
    kind: AchievementKind | None = None
    qualification_ref: str = ""
    subject: str = ""
    component: str = ""
    level: str = ""
    grade: str = ""
    award_date: str = ""
    status: AchievementStatus | None = None
    awarding_organisation: str = ""


@dataclass(frozen=True, slots=True)
class SubmitRow:
    uln: str
    given_name: str
    family_name: str
    achievement: RawAchievement


@dataclass(frozen=True, slots=True)
class RecordResult:
    record: RecordView
    master_substituted: bool


def validate_achievement(raw: RawAchievement, today: date, found: Violations) -> AchievementData:
    """Check every field of an achievement, adding violations (prefix ``achievement.``) to ``found``."""
    if raw.kind is None:
        found.add("achievement.kind", Reason.ACHIEVEMENT_KIND_INVALID, "give the kind of achievement")
    if raw.status is None:
        found.add("achievement.status", Reason.ACHIEVEMENT_STATUS_INVALID, "give provisional or final")
    texts: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = found.check(f"achievement.{name}", partial(parse_text, getattr(raw, name)), None)
        if value is None:  # refused already (control characters)
            value = ""
        elif name in REQUIRED and not value:
            found.add(f"achievement.{name}", Reason.FIELD_REQUIRED, "is required")
        elif len(value) > limit:
            found.add(f"achievement.{name}", Reason.FIELD_TOO_LONG, f"at most {limit} characters")
        texts[name] = value
    awarded: date | None = None
    if raw.award_date.strip():
        awarded = found.check(
            "achievement.award_date",
            lambda: parse_iso_date(raw.award_date.strip(), Reason.AWARD_DATE_INVALID),
            None,
        )
        if awarded is not None and not date(1900, 1, 1) <= awarded <= today:
            found.add("achievement.award_date", Reason.AWARD_DATE_INVALID, "must be from 1900-01-01 to today")
            awarded = None
    return AchievementData(
        kind=raw.kind or AchievementKind.OTHER,
        status=raw.status or AchievementStatus.FINAL,
        award_date=awarded,
        **texts,
    )


class RecordService:
    def __init__(
        self, store: RecordStore, lookup: LookupService, clock: Clock, disclosure: Disclosure
    ) -> None:
        self._store = store
        self._lookup = lookup
        self._clock = clock
        self._disclosure = disclosure

    def submit(
        self, principal: Principal, rows: Iterable[SubmitRow], rpc: str
    ) -> Iterator[SubmitOutcome | DomainError]:
        """Apply each row in its own transaction; a bad row is answered with its error, the rest go on."""
        for row in rows:
            try:
                yield self._submit_one(principal, row, rpc)
            except DomainError as error:
                yield error

    def _submit_one(self, principal: Principal, row: SubmitRow, rpc: str) -> SubmitOutcome:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(row.uln), "")
        found.check("given_name", lambda: parse_name(row.given_name, required=True), "")
        found.check("family_name", lambda: parse_name(row.family_name, required=True), "")
        data = validate_achievement(row.achievement, self._clock.today(), found)
        found.raise_if_any()
        # The same name agreement as VerifyLearner (and the verification is logged as a read).
        verified = self._lookup.verify(
            principal, VerificationQuery(uln, row.given_name, row.family_name), rpc
        )
        if verified.outcome is VerificationOutcome.NOT_FOUND:
            raise not_found(Reason.LEARNER_NOT_FOUND, "no learner holds this ULN")
        if verified.outcome is VerificationOutcome.MISMATCH:
            raise DomainError(
                ErrorKind.FAILED_PRECONDITION,
                Reason.LEARNER_NOT_VERIFIED,
                "the names do not match the learner holding this ULN",
                metadata={"mismatched": ",".join(f.value for f in verified.mismatched)},
            )
        with self._store.write((f"achievements:{uln}",)) as tx:
            learner = tx.learner_by_uln(uln)
            if learner is None:  # pragma: no cover - verified a moment ago; learners are never deleted
                raise not_found(Reason.LEARNER_NOT_FOUND, "no learner holds this ULN")
            return tx.upsert_achievement(learner.id, principal.org_id, data, self._clock.now())

    def get_record(
        self, principal: Principal, uln: str, given_name: str, family_name: str, rpc: str
    ) -> RecordResult:
        if principal.is_learner:
            return self._own_record(principal, uln, rpc)
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(uln), "")
        given = found.check("given_name", lambda: parse_name(given_name, required=True), "")
        family = found.check("family_name", lambda: parse_name(family_name, required=True), "")
        found.raise_if_any()
        with self._store.write(()) as tx:
            quoted = tx.learner_by_uln(uln)
            learner = resolve_master(tx, quoted)
            if learner is None or not names_match(learner, given, family):
                raise not_found(Reason.LEARNER_NOT_FOUND, "no learner with this ULN and these names")
            substituted = quoted is not None and quoted.id != learner.id
            return RecordResult(self._release(tx, principal, learner, rpc), substituted)

    def _own_record(self, principal: Principal, uln: str, rpc: str) -> RecordResult:
        with self._store.write(()) as tx:
            learner = own_learner(tx, principal)
            substituted = False
            if uln.strip():
                found = Violations()
                quoted_uln = found.check("uln", lambda: parse_uln(uln), "")
                found.raise_if_any()
                quoted = tx.learner_by_uln(quoted_uln)
                if (
                    quoted is None
                    or (master := resolve_master(tx, quoted)) is None
                    or master.id != learner.id
                ):
                    raise DomainError(
                        ErrorKind.PERMISSION_DENIED,
                        Reason.NOT_OWN_RECORD,
                        "a learner may read only their own record",
                    )
                substituted = quoted.id != learner.id
            return RecordResult(self._release(tx, principal, learner, rpc), substituted)

    def _release(self, tx: RecordTransaction, principal: Principal, learner: Learner, rpc: str) -> RecordView:
        linked = tx.linked_learners(learner.id)
        now = self._clock.now()
        return self._disclosure.release_record(
            tx,
            principal,
            rpc,
            learner,
            tx.achievements([learner.id, *(lr.id for lr in linked)]),
            in_force_for(tx, principal, learner, linked, now),
            now,
        )
