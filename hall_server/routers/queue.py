"""``GET /queue/board`` and ``GET /queue/report``: the stations' queues (排队叫号) as the hall
holds them (what each station has pushed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep, PrincipalDep
from models.sync.queue import QueueBoardDocument, QueueReportDocument

router = APIRouter(tags=["queue"])

DayQuery = Annotated[
    dt.date | None, Query(description="the queue's day, YYYY-MM-DD (default: today in China)")
]


@router.get("/queue/board", response_model=QueueBoardDocument, responses=error_responses(401, 422, 500))
def queue_board(service: HallDep, caller: PrincipalDep, day: DayQuery = None) -> QueueBoardDocument:
    """The caller's station's calling board: each window's ticket or pause, the waiting counts."""
    return service.queue_board(caller, day)


@router.get(
    "/queue/report", response_model=QueueReportDocument, responses=error_responses(401, 403, 422, 500)
)
def queue_report(
    service: HallDep,
    caller: PrincipalDep,
    day: DayQuery = None,
    station: Annotated[
        str | None, Query(max_length=32, description="another station (admins only; none: every station)")
    ] = None,
) -> QueueReportDocument:
    """The day's figures per station, window and category: tickets, served, skipped, mean and p90
    wait, mean service time. Staff see their own station; an admin any or all."""
    return service.queue_report(caller, day, station)
