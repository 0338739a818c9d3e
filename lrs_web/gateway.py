"""The one way lrs-web reaches lrs-server: gRPC stubs on one channel (TLS optional), a bearer token per
call, blocking calls run off the event loop, failures as ``ServerError``. Never a database."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from starlette.concurrency import run_in_threadpool

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import admin_service_pb2_grpc, learner_service_pb2_grpc, record_service_pb2_grpc
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs_web.config import WebSettings
from lrs_web.errors import server_error

T = TypeVar("T")


def _channel(settings: WebSettings) -> grpc.Channel:
    if settings.tls or settings.ca_file is not None:
        roots = settings.ca_file.read_bytes() if settings.ca_file else None
        return grpc.secure_channel(settings.server, grpc.ssl_channel_credentials(roots))
    return grpc.insecure_channel(settings.server)


class Gateway:
    def __init__(self, settings: WebSettings) -> None:
        self._timeout = settings.call_timeout
        self._channel = _channel(settings)
        self._records = record_service_pb2_grpc.LearnerRecordServiceStub(self._channel)
        self._learner = learner_service_pb2_grpc.LearnerSelfServiceStub(self._channel)
        self._admin = admin_service_pb2_grpc.AdminServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    async def _call(self, method: Callable[..., T], request: object, token: str = "") -> T:
        metadata = (("authorization", f"Bearer {token}"),) if token else ()

        def blocking() -> T:
            try:
                return method(request, metadata=metadata, timeout=self._timeout)
            except grpc.RpcError as error:
                raise server_error(error) from None

        return await run_in_threadpool(blocking)

    # -- learners (no retries: an activation attempt counts towards the lock)
    async def activate(self, uln: str, date_of_birth: str, code: str) -> str:
        request = self_pb.ActivateLearnerRequest(uln=uln, date_of_birth=date_of_birth, code=code)
        response = await self._call(self._learner.ActivateLearner, request)
        return str(response.token)

    async def my_record(self, token: str) -> rec_pb.GetLearnerRecordResponse:
        return await self._call(self._records.GetLearnerRecord, rec_pb.GetLearnerRecordRequest(), token)

    async def access_log(
        self, token: str, page_size: int, page_token: str
    ) -> self_pb.ListMyAccessLogResponse:
        request = self_pb.ListMyAccessLogRequest(page_size=page_size, page_token=page_token)
        return await self._call(self._learner.ListMyAccessLog, request, token)

    async def sharing(self, token: str) -> self_pb.SharingPreferences:
        response = await self._call(
            self._learner.GetSharingPreferences, self_pb.GetSharingPreferencesRequest(), token
        )
        preferences: self_pb.SharingPreferences = response.preferences
        return preferences

    async def set_sharing(
        self, token: str, withheld: list[self_pb.OrganisationKind.ValueType]
    ) -> self_pb.SharingPreferences:
        request = self_pb.SetSharingPreferencesRequest(withheld_from=withheld)
        response = await self._call(self._learner.SetSharingPreferences, request, token)
        preferences: self_pb.SharingPreferences = response.preferences
        return preferences

    async def export(self, token: str) -> self_pb.ExportMyDataResponse:
        return await self._call(self._learner.ExportMyData, self_pb.ExportMyDataRequest(), token)

    async def sign_out_everywhere(self, token: str) -> int:
        response = await self._call(
            self._learner.SignOutEverywhere, self_pb.SignOutEverywhereRequest(), token
        )
        return int(response.credentials_revoked)

    async def search_organisations(
        self, token: str, name: str = "", town: str = "", ref: str = "", page_size: int = 50
    ) -> list[self_pb.Organisation]:
        request = self_pb.SearchOrganisationsRequest(name=name, town=town, ref=ref, page_size=page_size)
        response = await self._call(self._learner.SearchOrganisations, request, token)
        return list(response.organisations)

    async def grants(self, token: str) -> list[self_pb.Grant]:
        """Every live grant (a learner has few; the page lists them all)."""
        found: list[self_pb.Grant] = []
        page_token = ""
        while True:
            request = self_pb.ListGrantsRequest(page_size=1000, page_token=page_token)
            response = await self._call(self._learner.ListGrants, request, token)
            found += response.grants
            page_token = response.next_page_token
            if not page_token:
                return found

    async def create_grant(self, token: str, organisation_ref: str, expires_on: str) -> self_pb.Grant:
        request = self_pb.CreateGrantRequest(organisation_ref=organisation_ref, expires_on=expires_on)
        response = await self._call(self._learner.CreateGrant, request, token)
        grant: self_pb.Grant = response.grant
        return grant

    async def revoke_grant(self, token: str, organisation_ref: str) -> int:
        request = self_pb.DeleteGrantRequest(organisation_ref=organisation_ref)
        response = await self._call(self._learner.DeleteGrant, request, token)
        return int(response.grants_revoked)

    async def notices(self, token: str, page_size: int, page_token: str) -> self_pb.ListNoticesResponse:
        request = self_pb.ListNoticesRequest(page_size=page_size, page_token=page_token)
        return await self._call(self._learner.ListNotices, request, token)

    async def mark_notices_seen(self, token: str, through_id: str) -> int:
        request = self_pb.MarkNoticesSeenRequest(through_notice_id=through_id)
        response = await self._call(self._learner.MarkNoticesSeen, request, token)
        return int(response.new_count)

    async def digest(self, token: str) -> self_pb.NoticeDigest:
        response = await self._call(self._learner.GetNoticeDigest, self_pb.GetNoticeDigestRequest(), token)
        digest: self_pb.NoticeDigest = response.digest
        return digest

    async def start_digest(self, token: str, email: str) -> None:
        await self._call(
            self._learner.StartNoticeDigest, self_pb.StartNoticeDigestRequest(email=email), token
        )

    async def confirm_digest(self, token: str, code: str) -> None:
        await self._call(
            self._learner.ConfirmNoticeDigest, self_pb.ConfirmNoticeDigestRequest(code=code), token
        )

    async def stop_digest(self, token: str) -> None:
        await self._call(self._learner.StopNoticeDigest, self_pb.StopNoticeDigestRequest(), token)

    # -- review operators
    async def review_items(
        self, token: str, page_size: int, page_token: str, school: str = ""
    ) -> admin_pb.ListReviewItemsResponse:
        request = admin_pb.ListReviewItemsRequest(
            page_size=page_size, page_token=page_token, submitted_by_ref=school
        )
        return await self._call(self._admin.ListReviewItems, request, token)

    async def resolve(
        self, token: str, item_id: int, link_uln: str = "", new_reason: str = ""
    ) -> admin_pb.ResolveReviewItemResponse:
        if link_uln:
            request = admin_pb.ResolveReviewItemRequest(id=item_id, link_uln=link_uln)
        else:
            request = admin_pb.ResolveReviewItemRequest(id=item_id, issue_new_reason=new_reason)
        return await self._call(self._admin.ResolveReviewItem, request, token)

    async def links(self, token: str, uln: str) -> admin_pb.ListLearnerLinksResponse:
        request = admin_pb.ListLearnerLinksRequest(uln=uln)
        return await self._call(self._admin.ListLearnerLinks, request, token)

    async def unmerge(self, token: str, linked_uln: str, reason: str) -> admin_pb.UnmergeLearnersResponse:
        request = admin_pb.UnmergeLearnersRequest(linked_uln=linked_uln, reason=reason)
        return await self._call(self._admin.UnmergeLearners, request, token)
