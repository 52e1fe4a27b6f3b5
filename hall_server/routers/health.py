"""``GET /health``: liveness and the protocol version."""

from __future__ import annotations

from fastapi import APIRouter

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep
from models.sync import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=error_responses(500))
def health(service: HallDep) -> Health:
    """The server is up; its clock and protocol version."""
    return Health(server_time=service.clock())
