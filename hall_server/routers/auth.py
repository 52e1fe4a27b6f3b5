"""``POST /auth/token``: sign in and get a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep
from models.sync import TokenRequest, TokenResponse

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 403, 413, 422, 429, 500),
)
def token(body: TokenRequest, service: HallDep, request: Request) -> TokenResponse:
    """Check the staff number and password for the station; a token with its expiry.

    After repeated failures the account (or the caller's address) is locked for a while:
    429 ``auth.locked`` / ``auth.throttled`` with ``Retry-After``, even for the right password.
    """
    address = request.client.host if request.client else "unknown"
    return service.issue_token(body, address)
