"""``GET /catalog`` and ``GET /holidays/{year}``: the reference data the hall publishes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep
from models.sync import CatalogDocument, HolidayDocument

router = APIRouter(tags=["reference"])


@router.get("/catalog", response_model=CatalogDocument, responses=error_responses(500))
def catalog(service: HallDep) -> CatalogDocument:
    """The catalogue in force, with its version and publication revision."""
    return service.catalog()


@router.get("/holidays/{year}", response_model=HolidayDocument, responses=error_responses(404, 422, 500))
def holidays(year: Annotated[int, Path(ge=2000, le=2100)], service: HallDep) -> HolidayDocument:
    """A year's published holiday arrangement (404 when the hall has not published it)."""
    return service.holidays(year)
