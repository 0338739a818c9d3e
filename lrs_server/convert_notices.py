"""Proto conversion for notices and the notice digest."""

from __future__ import annotations

from lrs.v1 import learner_service_pb2 as self_pb
from lrs_server.convert_records import _time
from lrs_server.domain.notice_ports import NoticeState
from lrs_server.domain.notices import Notice, NoticeKind, NoticePage

KIND_TO_PB = {
    NoticeKind.FOUND_BY_DETAILS: self_pb.NOTICE_KIND_FOUND_BY_DETAILS,
    NoticeKind.FOUND_BY_ULN: self_pb.NOTICE_KIND_FOUND_BY_ULN,
    NoticeKind.VERIFIED: self_pb.NOTICE_KIND_VERIFIED,
    NoticeKind.RECORD_READ: self_pb.NOTICE_KIND_RECORD_READ,
    NoticeKind.RECORD_REFUSED: self_pb.NOTICE_KIND_RECORD_REFUSED,
    NoticeKind.OTHER: self_pb.NOTICE_KIND_OTHER,
}


def notice_to_pb(n: Notice) -> self_pb.Notice:
    a = n.access
    return self_pb.Notice(
        id=str(a.id),
        at=_time(a.at),
        organisation_name=a.organisation_name,
        organisation_ref=a.organisation_ref,
        organisation_kind=a.accessor_kind,
        kind=KIND_TO_PB[n.kind],
        summary=n.summary,
        given=list(a.fields),
        uln=a.uln,
        new=n.new,
    )


def notice_page_to_pb(page: NoticePage) -> self_pb.ListNoticesResponse:
    return self_pb.ListNoticesResponse(
        notices=[notice_to_pb(n) for n in page.notices],
        next_page_token=page.next_page_token,
        new_count=page.new_count,
        last_seen_at=_time(page.last_seen_at),
    )


def digest_to_pb(state: NoticeState) -> self_pb.NoticeDigest:
    return self_pb.NoticeDigest(
        email=state.digest_email,
        pending_email=state.pending_email,
        pending_expires_at=_time(state.pending_expires_at) if state.pending_email else "",
        last_sent_at=_time(state.digest_sent_at) if state.digest_email else "",
    )
