"""``/ratings/...``: the hall's 好差评 report (:class:`~hall_server.services.ratings.RatingDesk`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from hall_server.domain.auth import Principal
from hall_server.errors import ApiError, error_responses
from hall_server.routers.deps import HallDep, PrincipalDep
from hall_server.services.ratings import RatingDesk
from models.enums import Role
from models.problems import DomainError

router = APIRouter(prefix="/ratings", tags=["ratings"])


def _station_for(caller: Principal, station: str | None) -> str | None:
    """An admin sees every station (or the one asked for); a supervisor only their own."""
    if caller.role == Role.ADMIN or caller.back_office:
        return station
    if caller.role != Role.SUPERVISOR:
        raise ApiError(
            403, "auth.forbidden", why="好差评报表仅限值班长和管理员", why_en="supervisors and admins only"
        )
    if station is not None and station != caller.station:
        raise ApiError(
            403,
            "auth.forbidden",
            why=f"只能查看本站点（{caller.station}）",
            why_en=f"only station {caller.station}",
        )
    return caller.station


@router.get("/report", responses=error_responses(401, 403, 422, 500))
async def report(
    service: HallDep,
    caller: PrincipalDep,
    first: Annotated[dt.date | None, Query(alias="from", description="First acceptance day.")] = None,
    last: Annotated[dt.date | None, Query(alias="to", description="Last acceptance day.")] = None,
    station: Annotated[str | None, Query(max_length=32, description="Only this station (admins).")] = None,
) -> dict[str, Any]:
    """好差评 of the cases accepted from ``from`` to ``to``: the shape of ``window-client ratings
    report --json`` across stations (a supervisor sees their own station only)."""
    shown = _station_for(caller, station)
    desk = RatingDesk(service.engine, service.clock)
    try:
        return await run_in_threadpool(desk.report, first, last, shown)
    except DomainError as exc:
        raise ApiError(422, exc.problem.code, **exc.problem.params) from None
