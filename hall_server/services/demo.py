"""Demo staff and stations, so a new user can sign in from a client at once (idempotent).

The accounts at the first hall are the client's demo accounts (C001/C002 clerks, S001 supervisor,
A001 admin, the same passwords); every other station of the catalogue gets one clerk: Y001, Y002,
… at the park stations (驿站) and H001, … at the other halls, password ``demo-1234``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from hall_server import storage
from hall_server.domain.approvals import remember_approval_key
from hall_server.domain.auth import hash_password, verify_password
from hall_server.storage import StaffRow, write_transaction
from models.demo_staff import DEMO_STAFF
from models.enums import Role

MAIN_STAFF = DEMO_STAFF  # one list with the counter's (models/demo_staff.py)
STATION_CLERK_PASSWORD = "demo-1234"
STATION_CLERK_NAMES = ("赵磊", "陈静", "杨帆", "黄丽", "周杰", "吴芳", "徐明", "孙悦")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """One seeded account, with its password (the demo credentials are public)."""

    staff_no: str
    name: str
    role: Role
    station: str
    password: str


def demo_accounts(stations: list[dict[str, Any]]) -> list[DemoAccount]:
    """The demo accounts for the catalogue's ``stations`` (the first one is the main hall)."""
    if not stations:
        return []
    main = stations[0]["code"]
    accounts = [DemoAccount(no, name, role, main, password) for no, name, role, password in MAIN_STAFF]
    counters = {"station": 0, "hall": 0}
    for number, station in enumerate(stations[1:]):
        kind = "station" if station.get("kind") == "station" else "hall"
        counters[kind] += 1
        prefix = "Y" if kind == "station" else "H"
        name = STATION_CLERK_NAMES[number % len(STATION_CLERK_NAMES)]
        accounts.append(
            DemoAccount(
                f"{prefix}{counters[kind]:03d}", name, Role.CLERK, station["code"], STATION_CLERK_PASSWORD
            )
        )
    return accounts


def seed_demo(engine: Engine, catalog: dict[str, Any]) -> tuple[list[DemoAccount], list[dict[str, str]]]:
    """Create the catalogue's stations and the demo accounts; returns (accounts, stations).

    An account whose password already matches is left as it is, so running it again rehashes
    nothing and changes nothing.
    """
    raw_stations = [s for s in catalog.get("stations", []) if isinstance(s, dict) and s.get("code")]
    accounts = demo_accounts(raw_stations)
    with write_transaction(engine) as conn:
        for station in raw_stations:
            name, kind = str(station.get("name") or station["code"]), str(station.get("kind") or "hall")
            storage.upsert_station(conn, station["code"], name, kind)
        for account in accounts:
            existing = storage.get_staff(conn, account.staff_no)
            if (
                existing is not None
                and existing.active
                and existing.role == account.role.value
                and existing.station == account.station
                and existing.name == account.name
                and verify_password(existing.password_hash, account.password)
            ):
                remember_approval_key(conn, existing, account.password, dt.datetime.now(dt.UTC))
                continue
            row = StaffRow(
                staff_no=account.staff_no,
                name=account.name,
                role=account.role.value,
                station=account.station,
                password_hash=hash_password(account.password),
            )
            storage.upsert_staff(conn, row)
            remember_approval_key(conn, row, account.password, dt.datetime.now(dt.UTC))
    stations = [{"code": s["code"], "name": s.get("name", s["code"])} for s in raw_stations]
    return accounts, stations
