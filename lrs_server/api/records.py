"""lrs.v1.LearnerRecordService, lrs.v1.LearnerSelfService and lrs.v1.AdminService: unpack, call, pack."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import admin_service_pb2_grpc as admin_grpc
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import learner_service_pb2_grpc as self_grpc
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import record_service_pb2_grpc as rec_grpc
from lrs_server import convert, convert_notices, convert_records
from lrs_server.domain.clock import Clock
from lrs_server.domain.grants import GrantService
from lrs_server.domain.learner_access import LearnerAccessService
from lrs_server.domain.merges import MergeService
from lrs_server.domain.notices import NoticeService
from lrs_server.domain.records import RecordService
from lrs_server.domain.review import ReviewService
from lrs_server.domain.sharing import SharingService
from lrs_server.interceptor import current_principal

_REC = "lrs.v1.LearnerRecordService"
_SELF = "lrs.v1.LearnerSelfService"
_ADMIN = "lrs.v1.AdminService"


class LearnerRecordServicer(rec_grpc.LearnerRecordServiceServicer):
    def __init__(self, records: RecordService) -> None:
        self._records = records

    def SubmitAchievements(
        self, request_iterator: Iterator[rec_pb.SubmitAchievementsRequest], context: grpc.ServicerContext
    ) -> Iterator[rec_pb.SubmitAchievementsResponse]:
        principal = current_principal()
        for request in request_iterator:
            (result,) = self._records.submit(
                principal, [convert_records.submit_row(request)], f"{_REC}/SubmitAchievements"
            )
            yield convert_records.submit_result_to_pb(request, result)

    def GetLearnerRecord(
        self, request: rec_pb.GetLearnerRecordRequest, context: grpc.ServicerContext
    ) -> rec_pb.GetLearnerRecordResponse:
        result = self._records.get_record(
            current_principal(),
            request.uln,
            request.given_name,
            request.family_name,
            f"{_REC}/GetLearnerRecord",
        )
        return convert_records.record_to_pb(result)


class LearnerSelfServicer(self_grpc.LearnerSelfServiceServicer):
    def __init__(
        self,
        access: LearnerAccessService,
        sharing: SharingService,
        grants: GrantService,
        clock: Clock,
        notices: NoticeService,
    ) -> None:
        self._access = access
        self._sharing = sharing
        self._grants = grants
        self._clock = clock
        self._notices = notices

    def IssueActivationCode(
        self, request: self_pb.IssueActivationCodeRequest, context: grpc.ServicerContext
    ) -> self_pb.IssueActivationCodeResponse:
        issued = self._access.issue_code(current_principal(), request.uln)
        return self_pb.IssueActivationCodeResponse(code=issued.code, expires_at=issued.expires_at.isoformat())

    def ActivateLearner(
        self, request: self_pb.ActivateLearnerRequest, context: grpc.ServicerContext
    ) -> self_pb.ActivateLearnerResponse:
        token = self._access.activate(request.uln, request.date_of_birth, request.code)
        return self_pb.ActivateLearnerResponse(token=token)

    def GetSharingPreferences(
        self, request: self_pb.GetSharingPreferencesRequest, context: grpc.ServicerContext
    ) -> self_pb.GetSharingPreferencesResponse:
        entry = self._sharing.current(current_principal())
        return self_pb.GetSharingPreferencesResponse(preferences=convert_records.sharing_to_pb(entry))

    def SetSharingPreferences(
        self, request: self_pb.SetSharingPreferencesRequest, context: grpc.ServicerContext
    ) -> self_pb.SetSharingPreferencesResponse:
        entry = self._sharing.choose(
            current_principal(), convert_records.org_kinds(request.withheld_from), self._clock.now()
        )
        return self_pb.SetSharingPreferencesResponse(preferences=convert_records.sharing_to_pb(entry))

    def ListMyAccessLog(
        self, request: self_pb.ListMyAccessLogRequest, context: grpc.ServicerContext
    ) -> self_pb.ListMyAccessLogResponse:
        page = self._access.access_log(current_principal(), request.page_size, request.page_token)
        return convert_records.access_page_to_pb(page)

    def ExportMyData(
        self, request: self_pb.ExportMyDataRequest, context: grpc.ServicerContext
    ) -> self_pb.ExportMyDataResponse:
        principal = current_principal()
        response = convert_records.export_to_pb(self._access.export(principal, f"{_SELF}/ExportMyData"))
        response.notice_digest.CopyFrom(convert_notices.digest_to_pb(self._notices.digest(principal)))
        return response

    def SignOutEverywhere(
        self, request: self_pb.SignOutEverywhereRequest, context: grpc.ServicerContext
    ) -> self_pb.SignOutEverywhereResponse:
        revoked = self._access.sign_out_everywhere(current_principal())
        return self_pb.SignOutEverywhereResponse(credentials_revoked=revoked)

    def SearchOrganisations(
        self, request: self_pb.SearchOrganisationsRequest, context: grpc.ServicerContext
    ) -> self_pb.SearchOrganisationsResponse:
        page = self._grants.search(
            current_principal(),
            request.name,
            convert_records.org_kind(request.kind),
            request.town,
            request.page_size,
            request.page_token,
            request.ref,
        )
        return convert_records.organisation_page_to_pb(page)

    def CreateGrant(
        self, request: self_pb.CreateGrantRequest, context: grpc.ServicerContext
    ) -> self_pb.CreateGrantResponse:
        grant = self._grants.create(current_principal(), request.organisation_ref, request.expires_on)
        return self_pb.CreateGrantResponse(grant=convert_records.grant_to_pb(grant))

    def DeleteGrant(
        self, request: self_pb.DeleteGrantRequest, context: grpc.ServicerContext
    ) -> self_pb.DeleteGrantResponse:
        ended = self._grants.revoke(current_principal(), request.organisation_ref)
        return self_pb.DeleteGrantResponse(grants_revoked=ended)

    def ListGrants(
        self, request: self_pb.ListGrantsRequest, context: grpc.ServicerContext
    ) -> self_pb.ListGrantsResponse:
        page = self._grants.live_grants(current_principal(), request.page_size, request.page_token)
        return convert_records.grant_page_to_pb(page)

    def ListNotices(
        self, request: self_pb.ListNoticesRequest, context: grpc.ServicerContext
    ) -> self_pb.ListNoticesResponse:
        page = self._notices.list(current_principal(), request.page_size, request.page_token)
        return convert_notices.notice_page_to_pb(page)

    def MarkNoticesSeen(
        self, request: self_pb.MarkNoticesSeenRequest, context: grpc.ServicerContext
    ) -> self_pb.MarkNoticesSeenResponse:
        still_new = self._notices.mark_seen(current_principal(), request.through_notice_id)
        return self_pb.MarkNoticesSeenResponse(new_count=still_new)

    def GetNoticeDigest(
        self, request: self_pb.GetNoticeDigestRequest, context: grpc.ServicerContext
    ) -> self_pb.GetNoticeDigestResponse:
        state = self._notices.digest(current_principal())
        return self_pb.GetNoticeDigestResponse(digest=convert_notices.digest_to_pb(state))

    def StartNoticeDigest(
        self, request: self_pb.StartNoticeDigestRequest, context: grpc.ServicerContext
    ) -> self_pb.StartNoticeDigestResponse:
        state = self._notices.start_digest(current_principal(), request.email)
        return self_pb.StartNoticeDigestResponse(digest=convert_notices.digest_to_pb(state))

    def ConfirmNoticeDigest(
        self, request: self_pb.ConfirmNoticeDigestRequest, context: grpc.ServicerContext
    ) -> self_pb.ConfirmNoticeDigestResponse:
        state = self._notices.confirm_digest(current_principal(), request.code)
        return self_pb.ConfirmNoticeDigestResponse(digest=convert_notices.digest_to_pb(state))

    def StopNoticeDigest(
        self, request: self_pb.StopNoticeDigestRequest, context: grpc.ServicerContext
    ) -> self_pb.StopNoticeDigestResponse:
        state = self._notices.stop_digest(current_principal())
        return self_pb.StopNoticeDigestResponse(digest=convert_notices.digest_to_pb(state))


class AdminServicer(admin_grpc.AdminServiceServicer):
    def __init__(self, merges: MergeService, review: ReviewService) -> None:
        self._merges = merges
        self._review = review

    def MergeLearners(
        self, request: admin_pb.MergeLearnersRequest, context: grpc.ServicerContext
    ) -> admin_pb.MergeLearnersResponse:
        view = self._merges.merge(
            current_principal(),
            request.master_uln,
            request.linked_uln,
            request.reason,
            f"{_ADMIN}/MergeLearners",
        )
        return admin_pb.MergeLearnersResponse(
            master=convert.learner_to_pb(view), linked_uln=request.linked_uln
        )

    def ListLearnerLinks(
        self, request: admin_pb.ListLearnerLinksRequest, context: grpc.ServicerContext
    ) -> admin_pb.ListLearnerLinksResponse:
        found = self._merges.links(current_principal(), request.uln, f"{_ADMIN}/ListLearnerLinks")
        return convert_records.links_to_pb(found)

    def UnmergeLearners(
        self, request: admin_pb.UnmergeLearnersRequest, context: grpc.ServicerContext
    ) -> admin_pb.UnmergeLearnersResponse:
        master, linked = self._merges.unmerge(current_principal(), request.linked_uln, request.reason)
        return admin_pb.UnmergeLearnersResponse(master_uln=master, linked_uln=linked)

    def ListReviewItems(
        self, request: admin_pb.ListReviewItemsRequest, context: grpc.ServicerContext
    ) -> admin_pb.ListReviewItemsResponse:
        page = self._review.list(
            current_principal(),
            request.page_size,
            request.page_token,
            f"{_ADMIN}/ListReviewItems",
            request.submitted_by_ref,
        )
        return convert_records.review_page_to_pb(page)

    def ResolveReviewItem(
        self, request: admin_pb.ResolveReviewItemRequest, context: grpc.ServicerContext
    ) -> admin_pb.ResolveReviewItemResponse:
        uln, issued = self._review.resolve(
            current_principal(), request.id, request.link_uln, request.issue_new_reason
        )
        return admin_pb.ResolveReviewItemResponse(uln=uln, issued=issued)
