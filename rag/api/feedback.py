"""The feedback endpoints: any client may say a clause governs a question (or does not);
reviewing it needs the admin token.

``POST /feedback`` is open, rate-limited per client address and stored *pending* (a
configured trusted token stores it accepted); ``GET /feedback``, ``POST
/feedback/{id}/accept`` and ``/reject`` and ``DELETE /feedback/{id}`` need
``Authorization: Bearer TOKEN``. Only accepted "governs" feedback changes ranking.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rag.api.errors import ApiError, admin_token_required, responses
from rag.api.routes import current
from rag.api.service import Service
from rag.feedback import Feedback, FeedbackStoreError, NoSuchFeedback
from rag.feedback.desk import FeedbackDesk, RateLimited, UnknownClause
from rag.feedback.store import MAX_CLAUSE_ID_CHARS, MAX_QUESTION_CHARS

_bearer = HTTPBearer(auto_error=False, description="the admin token, or the trusted "
                     "feedback token (POST /feedback only)")
Status = Literal["pending", "accepted", "rejected"]


class FeedbackRequest(BaseModel):
    """``POST /api/v1/feedback``: a reader's verdict on one cited clause."""

    model_config = ConfigDict(extra="forbid")
    question: Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS,
                                               pattern=r"\S")] = Field(
        examples=["内幕交易会被罚多少钱？"])
    clause_id: Annotated[str, StringConstraints(max_length=MAX_CLAUSE_ID_CHARS,
                                                pattern=r"\S")] = Field(
        description="a clause_id an answer cited, or a citation the look-up resolves "
        "(《证券法》第一百九十七条: the version in force)",
        examples=["证券法-2019-12-28#art191"])
    verdict: Literal["governs", "not_relevant"]


class FeedbackRecord(BaseModel):
    id: int
    question: str
    clause_id: str
    verdict: Literal["governs", "not_relevant"]
    status: Status
    client: str
    created: str
    decided_at: str | None
    decided_by: str | None
    source: str

    @classmethod
    def of(cls, record: Feedback) -> FeedbackRecord:
        return cls(**record.to_dict())


class FeedbackList(BaseModel):
    records: list[FeedbackRecord]
    counts: dict[str, int] = Field(description="records by status, in all")
    missing_clauses: list[FeedbackRecord] = Field(
        description="accepted records whose clause the index no longer holds (a rebuilt "
        "corpus dropped or renumbered it): kept, reported here")


def _desk(service: Service) -> FeedbackDesk:
    if service.feedback is None:
        raise ApiError(404, "no feedback here", "this server keeps no feedback")
    return service.feedback


def _unavailable(error: FeedbackStoreError) -> ApiError:
    return ApiError(503, "feedback store unavailable", str(error),
                    headers={"Retry-After": "10"})


def feedback_routes(service: Service) -> APIRouter:
    router = APIRouter()

    def require_admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        admin = service.admin
        if admin is None:
            raise admin_token_required("this server has no admin token; start it with "
                                       "`rag serve --admin-token-file FILE` to review feedback")
        if credentials is None or not admin.check(credentials.credentials):
            raise admin_token_required()

    admin_only = [Depends(require_admin)]

    @router.post("/feedback", status_code=201, response_model=FeedbackRecord,
                 responses={**responses(400, 404, 413, 503),
                            429: {"description": "Too much feedback from this client "
                                  "(Retry-After says when to send more)"}},
                 summary="Say whether a cited clause governs a question (stored pending)")
    def submit(
        body: FeedbackRequest, request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> FeedbackRecord:
        desk = _desk(service)
        client = request.client.host if request.client else "unknown"
        token = credentials.credentials if credentials else None
        try:
            record = desk.submit(body.question, body.clause_id, body.verdict,
                                 index=current(service), client=client, token=token)
        except RateLimited as error:
            raise ApiError(429, "too many requests", str(error),
                           headers={"Retry-After": str(max(1, round(error.seconds)))}) from None
        except UnknownClause as error:
            raise ApiError(404, "unknown clause", str(error)) from None
        except FeedbackStoreError as error:
            raise _unavailable(error) from None
        except ValueError as error:
            raise ApiError(400, "invalid feedback", str(error)) from None
        return FeedbackRecord.of(record)

    @router.get("/feedback", response_model=FeedbackList, responses=responses(400, 401, 503),
                summary="Feedback records (admin), oldest first", dependencies=admin_only)
    def listing(
        status: Annotated[Status | None, Query(description="only these")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> FeedbackList:
        desk = _desk(service)
        try:
            records = desk.store.records(status, limit=limit, offset=offset)
            counts = desk.store.counts()
            missing = desk.missing(current(service))
        except FeedbackStoreError as error:
            raise _unavailable(error) from None
        return FeedbackList(records=[FeedbackRecord.of(r) for r in records], counts=counts,
                            missing_clauses=[FeedbackRecord.of(r) for r in missing])

    def _decide(feedback_id: int, status: str) -> FeedbackRecord:
        desk = _desk(service)
        index = service.live.index if service.live.ready else None
        try:
            if status == "deleted":
                return FeedbackRecord.of(desk.delete(feedback_id, index=index))
            return FeedbackRecord.of(desk.decide(feedback_id, status, by="admin",
                                                 index=index))
        except NoSuchFeedback as error:
            raise ApiError(404, "unknown feedback", f"{error}; GET /api/v1/feedback lists "
                           "them") from None
        except FeedbackStoreError as error:
            raise _unavailable(error) from None

    @router.post("/feedback/{feedback_id}/accept", response_model=FeedbackRecord,
                 responses=responses(401, 404, 503),
                 summary="Accept feedback (admin): a governs verdict joins question memory",
                 dependencies=admin_only)
    def accept(feedback_id: int) -> FeedbackRecord:
        return _decide(feedback_id, "accepted")

    @router.post("/feedback/{feedback_id}/reject", response_model=FeedbackRecord,
                 responses=responses(401, 404, 503), summary="Reject feedback (admin)",
                 dependencies=admin_only)
    def reject(feedback_id: int) -> FeedbackRecord:
        return _decide(feedback_id, "rejected")

    @router.delete("/feedback/{feedback_id}", response_model=FeedbackRecord,
                   responses=responses(401, 404, 503), summary="Delete feedback (admin)",
                   dependencies=admin_only)
    def remove(feedback_id: int) -> FeedbackRecord:
        return _decide(feedback_id, "deleted")

    return router
