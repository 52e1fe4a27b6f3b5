"""``POST /sync/push`` and ``GET /sync/changes``: the two halves of a sync; ``GET /sync/audit``:
the audit heads the hall holds for the caller's station.

The push body is read straight from its bytes (:func:`hall_server.routers.wire.decode_push`: a fast
typed decoder, with pydantic's :class:`~models.sync.PushRequest` deciding anything it refuses)
rather than through FastAPI's body parameter; its schema is declared in the OpenAPI document by
hand for that reason. Answers are serialised once, as strings (the push's results, the pull's
stored JSON spliced together).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from hall_server.errors import ApiError, describe_errors, error_responses
from hall_server.routers.deps import BearerDep, HallDep
from hall_server.routers.wire import PushBody, decode_push
from models.sync import MAX_PULL_LIMIT, MAX_SEQ, AuditTrail, PullResponse, PushResponse

router = APIRouter(tags=["sync"])

JSON = "application/json"
PUSH_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
    }
}


def parse_push(raw: bytes) -> PushBody:
    """The push, or a 400 (not JSON) / 422 (wrong shape) :class:`ApiError`."""
    try:
        return decode_push(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise ApiError(400, "request.malformed") from None
        raise ApiError(422, "request.invalid", detail=describe_errors(errors)) from None


@router.post(
    "/sync/push",
    response_model=PushResponse,
    responses=error_responses(400, 401, 403, 413, 422, 500),
    openapi_extra=PUSH_BODY,
)
async def push(request: Request, service: HallDep, authorization: BearerDep) -> Response:
    """Apply a batch of outbox operations from the caller's station; one result per operation."""
    # One trip through the thread pool per batch: the token is looked up in the same call as the
    # push, and before the body is parsed. A request without a bearer token is refused before
    # its body is read; one with a token the server does not know costs at most reading the
    # body (BodyLimit caps it), never parsing it or touching the tables.
    raw = await request.body()

    def apply() -> str:
        caller = service.authenticate(authorization)
        body = parse_push(raw)
        return service.push_json(caller, body.station, body.operations, body.audit)

    return Response(await run_in_threadpool(apply), media_type=JSON)


@router.get(
    "/sync/changes",
    response_model=PullResponse,
    responses=error_responses(401, 422, 500),
)
def changes(
    service: HallDep,
    authorization: BearerDep,
    # A cursor is a change's sequence number, a 64-bit database integer: beyond it is a 422, not
    # an overflow in the database driver.
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="the cursor of the last pull (0: from the start)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT, description="at most this many changes")] = 1000,
) -> Response:
    """Changes for the caller's station (or for every station) after ``after``, oldest first."""
    return Response(service.pull_json(service.authenticate(authorization), after, limit), media_type=JSON)


@router.get(
    "/sync/audit",
    response_model=AuditTrail,
    responses=error_responses(401, 500),
)
def audit_trail(service: HallDep, authorization: BearerDep) -> AuditTrail:
    """Every audit head the hall holds for the caller's station (accepted, rejected, resets),
    oldest first: what ``window-client audit verify --against-hall`` compares the store with."""
    return service.audit_trail(service.authenticate(authorization))
