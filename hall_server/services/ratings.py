"""The hall's 好差评 desk: the ratings stations pushed, the 差评整改 workflow and the report.

Steps of a rectification record (:mod:`models.rectification`): assign, verify (核实, due 1 工作日
after the 差评 reached the hall), rectify (整改, due 15 工作日 after, counted on the hall's
holiday data), call back (回访, which closes it). ``by`` is always a hall account and must be
allowed the step: a supervisor of the record's station or an admin for every step, the
assignee for verify and rectify. Each step is one write transaction that moves the record only
from the state it was read in, so two people acting at once cannot both succeed.

The report has the station's shape (:func:`models.rating.tally`) across every station (or one).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain import reference
from hall_server.domain.vetting import CHINA
from hall_server.storage import ratings as rows
from hall_server.storage import read_transaction, write_transaction
from hall_server.storage.sql import iso
from models.enums import Role
from models.problems import DomainError
from models.rating import LEVEL_ZH, REASON_ZH, RatedCase, RatingFact, Reason, tally
from models.rectification import (
    STATE_ZH,
    STEP_ZH,
    RectificationState,
    Step,
    check_note,
    deadline_in_force,
    flag_of,
    may_act,
    next_state,
)
from models.workdays import WorkdayCalendar

_REASONS = {reason.value for reason in Reason}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reasons(stored: str) -> list[str]:
    loaded = json.loads(stored or "[]")
    return [str(r) for r in loaded] if isinstance(loaded, list) else []


def _view(record: dict[str, Any], today: dt.date, calendar: WorkdayCalendar) -> dict[str, Any]:
    """A record as the CLI and the report show it (dates as ISO text, with its 红黄绿)."""
    verify_due = dt.date.fromisoformat(record["verify_due"])
    rectify_due = dt.date.fromisoformat(record["rectify_due"])
    due = deadline_in_force(record["state"], verify_due, rectify_due)
    flag = flag_of(record["state"], verify_due, rectify_due, today, calendar)
    reasons = _reasons(record.pop("reasons"))
    record.pop("rating_op_id", None)
    return {
        **record,
        "level_zh": LEVEL_ZH[record["level"]],
        "reasons": reasons,
        "reasons_zh": [REASON_ZH[Reason(r)] for r in reasons if r in _REASONS],
        "state_zh": STATE_ZH[record["state"]],
        "due": due.isoformat() if due else None,
        "flag": flag.value if flag else None,
    }


class RatingDesk:
    """好差评 at the hall: ratings, rectification records and the report."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def today(self) -> dt.date:
        """The hall's day (China time)."""
        return self.clock().astimezone(CHINA).date()

    # ------------------------------------------------------------ reading

    def ratings(self, station: str | None = None) -> list[dict[str, Any]]:
        """Every rating (newest first), optionally of one station."""
        with read_transaction(self.engine) as conn:
            found = rows.list_ratings(conn, station)
        for rating in found:
            rating["reasons"] = _reasons(rating["reasons"])
        return found

    def rectifications(self, station: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
        """The rectification records (oldest first) with their deadline in force and 红黄绿."""
        with read_transaction(self.engine) as conn:
            calendar = reference.calendar_in_force(conn)
            found = rows.list_rectifications(conn, station, open_only)
        today = self.today()
        return [_view(record, today, calendar) for record in found]

    def record(self, record_id: int) -> dict[str, Any]:
        """One rectification record (``rectification.unknown`` when there is none)."""
        with read_transaction(self.engine) as conn:
            found = rows.get_rectification(conn, record_id)
            calendar = reference.calendar_in_force(conn)
        if found is None:
            raise DomainError.of("rectification.unknown", id=record_id)
        return _view(found, self.today(), calendar)

    # ------------------------------------------------------------ the steps

    def assign(self, record_id: int, to: str, by: str) -> dict[str, Any]:
        """分派 the record to staff member ``to`` (of its station, or an admin)."""
        return self._step(record_id, Step.ASSIGN, by, {"assigned_to": to}, assignee=to)

    def verify(self, record_id: int, by: str, note: str) -> dict[str, Any]:
        """核实: record what the verification found."""
        return self._step(record_id, Step.VERIFY, by, {"verify_note": check_note(note)})

    def rectify(self, record_id: int, by: str, note: str) -> dict[str, Any]:
        """整改: record what was put right."""
        return self._step(record_id, Step.RECTIFY, by, {"rectify_note": check_note(note)})

    def callback(self, record_id: int, by: str, result: str) -> dict[str, Any]:
        """回访: record the applicant's answer; closes the record."""
        return self._step(record_id, Step.CALLBACK, by, {"callback_result": check_note(result, "result")})

    def _step(
        self, record_id: int, step: Step, by: str, values: dict[str, Any], assignee: str | None = None
    ) -> dict[str, Any]:
        now = iso(self.clock())
        who = {
            Step.ASSIGN: ("assigned_by", "assigned_at"),
            Step.VERIFY: ("verified_by", "verified_at"),
            Step.RECTIFY: ("rectified_by", "rectified_at"),
            Step.CALLBACK: ("callback_by", "callback_at"),
        }[step]
        with write_transaction(self.engine) as conn:
            record = rows.get_rectification(conn, record_id)
            if record is None:
                raise DomainError.of("rectification.unknown", id=record_id)
            _check_actor(conn, record, step, by)
            if assignee is not None:
                _check_assignee(conn, assignee, record["station"])
            after = next_state(record["state"], step)
            if after is None or not rows.update_rectification(
                conn,
                record_id,
                record["state"],
                {**values, who[0]: by, who[1]: now, "state": after.value, "updated_at": now},
            ):
                raise DomainError.of(
                    "rectification.step",
                    id=record_id,
                    state=STATE_ZH[record["state"]],
                    state_en=record["state"],
                    step=STEP_ZH[step],
                    step_en=step.value,
                )
        return self.record(record_id)

    # ------------------------------------------------------------ the report

    def report(
        self, first: dt.date | None = None, last: dt.date | None = None, station: str | None = None
    ) -> dict[str, Any]:
        """好差评 of the cases accepted from ``first`` to ``last`` (inclusive), every station or
        one: the station report's shape, plus every open rectification and counts per state."""
        if first is not None and last is not None and first > last:
            raise DomainError.of("field.invalid", field="from", value=f"{first} > {last}")
        with read_transaction(self.engine) as conn:
            cases, ratings = rows.report_rows(
                conn, first.isoformat() if first else None, last.isoformat() if last else None, station
            )
        rated_cases = []
        for case_no, case_station, item_code, payload in cases:
            accept = json.loads(payload)
            accept = accept if isinstance(accept, dict) else {}
            window, clerk = accept.get("window"), accept.get("clerk")
            rated_cases.append(
                RatedCase(
                    case_no,
                    case_station,
                    window if isinstance(window, str) else "",
                    clerk if isinstance(clerk, str) else "",
                    item_code,
                )
            )
        facts = [RatingFact(case_no, channel, level) for case_no, channel, level, _w, _c in ratings]
        records = self.rectifications(station)
        by_state = {state.value: 0 for state in RectificationState}
        for record in records:
            by_state[record["state"]] += 1
        return {
            "from": first.isoformat() if first else None,
            "to": last.isoformat() if last else None,
            "station": station,
            **tally(rated_cases, facts),
            "rectifications": by_state,
            "open_rectifications": [r for r in records if r["state"] != RectificationState.CLOSED],
        }


def _check_actor(conn: Connection, record: dict[str, Any], step: Step, by: str) -> None:
    staff = storage.get_staff(conn, by)
    if staff is None or not staff.active:
        raise DomainError.of("rectification.staff", staff=by, station=record["station"])
    why = may_act(step, staff.role, staff.station, staff.staff_no, record["station"], record["assigned_to"])
    if why is not None:
        raise DomainError.of(
            "rectification.forbidden",
            staff=by,
            step=STEP_ZH[step],
            step_en=step.value,
            why=why[0],
            why_en=why[1],
        )


def _check_assignee(conn: Connection, staff_no: str, station: str) -> None:
    staff = storage.get_staff(conn, staff_no)
    if staff is None or not staff.active or (staff.station != station and staff.role != Role.ADMIN):
        raise DomainError.of("rectification.staff", staff=staff_no, station=station)
