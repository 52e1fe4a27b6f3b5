"""Dependencies shared by the routers: the hall service and the signed-in caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hall_server.domain.auth import Principal
from hall_server.errors import ApiError
from hall_server.services.hall import Hall

_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/token")


async def hall(request: Request) -> Hall:
    """The app's :class:`Hall` (async: no I/O, so no trip through the thread pool)."""
    service: Hall = request.app.state.hall
    return service


def principal(
    service: Annotated[Hall, Depends(hall)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The staff member a bearer token belongs to (401 otherwise)."""
    if credentials is None:
        raise ApiError(401, "auth.missing")
    return service.authenticate(f"{credentials.scheme} {credentials.credentials}")


async def bearer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The ``Authorization`` value, unchecked (401 when there is none).

    For endpoints that check the token themselves in the same worker-thread call as their
    database work (one thread hop per request on the hot sync path); others use
    :data:`PrincipalDep`.
    """
    if credentials is None:
        raise ApiError(401, "auth.missing")
    return f"{credentials.scheme} {credentials.credentials}"


HallDep = Annotated[Hall, Depends(hall)]
PrincipalDep = Annotated[Principal, Depends(principal)]
BearerDep = Annotated[str, Depends(bearer)]
