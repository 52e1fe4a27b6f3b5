"""首办负责人 and 承诺时限 supervision at the hall: who answers for each open case, how many 工作日
it has left (:mod:`models.timeliness`, on the hall's own catalogue and holiday data), the overdue
list, the per-department and per-handler report, and the ``case.timeliness`` changes stations pull.

**Who handles a case** (``handler_source``): the newest assignment (``hall-server cases assign``,
kept with who and when), else the default of its item (or 一件事 package), else the default of
its department (a package's is its first item's); a default naming a staff member who is no
longer active is not in force. Assigning needs an active admin, or an active supervisor of the
case's station (issue 10's roles, :data:`hall_server.domain.approvals.SUPERVISOR_ROLES`);
setting a default applies to every station's cases, so it needs an admin. The assignee must be
an active staff member.

**Publishing.** :meth:`TimelinessDesk.publish` compares each open case's due date, flag, pause
and handler with what the hall last told its station (``case_timeliness``) and appends a
``case.timeliness`` change for each case where one moved, and a last one (``flag`` null) for a
case that left the open states. A case waiting for 补正 is published without a due date (its
clock stands; counted from today, the date would move every day). The server runs it in the background
(:mod:`hall_server.services.sweeper`); the CLI runs it with every assignment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain import reference
from hall_server.domain.vetting import CHINA
from hall_server.storage import read_transaction, write_transaction
from hall_server.storage import supervision as rows
from hall_server.storage.feed import NewChange, append_changes
from hall_server.storage.sql import iso
from models.catalog import Catalog, Package
from models.enums import Role
from models.state_machine import CaseEvent
from models.sync import ChangeKind
from models.timeliness import OPEN_STATES, case_timeliness
from models.workdays import WorkdayCalendar

SOURCE_ZH = {"assigned": "指定", "item": "事项默认", "department": "部门默认", None: "未指定"}


class SupervisionError(Exception):
    """An assignment or default that cannot be made; ``exit_code``: 1 refused, 2 bad input."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Context:
    """What the views of a set of cases are computed from (read in one transaction)."""

    catalog: Catalog
    calendar: WorkdayCalendar
    supplemented: dict[str, str]
    assigned: dict[str, dict[str, str]]
    defaults: dict[tuple[str, str], str]
    staff: dict[str, tuple[str, bool]]


class TimelinessDesk:
    """The hall's timeliness supervision (see the module text).

    Args:
        engine: the hall's database.
        catalog: the catalogue used before any is published (the server's file).
        clock: UTC now; the hall's day is China time.
        warning_workdays: yellow when due within this many working days (the ledger's default).
    """

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        warning_workdays: int = 1,
    ) -> None:
        self.engine = engine
        self.catalog = catalog or reference.shipped_catalog()
        self.clock = clock
        self.warning_workdays = warning_workdays

    def today(self) -> dt.date:
        """The hall's day (China time)."""
        return self.clock().astimezone(CHINA).date()

    # ------------------------------------------------------------ reading

    def _context(self, conn: Connection, case_nos: Sequence[str]) -> _Context:
        defaults = {(d["scope"], d["code"]): d["staff_no"] for d in rows.handler_defaults(conn)}
        return _Context(
            reference.catalog_in_force(conn, self.catalog),
            reference.calendar_in_force(conn),
            rows.supplement_days(conn, case_nos, CaseEvent.SUPPLEMENT.value),
            rows.assignments(conn, case_nos),
            defaults,
            rows.staff_directory(conn),
        )

    def open_views(self, conn: Connection, case_nos: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The timeliness of every open case (or of those of ``case_nos`` that are open)."""
        cases = rows.cases_in_states(conn, OPEN_STATES, case_nos)
        context = self._context(conn, [c.case_no for c in cases])
        today = self.today()
        views = []
        for case in cases:
            view = self._view(case, context, today)
            if view is not None:
                views.append(view)
        return views

    def _view(self, case: rows.OpenCase, ctx: _Context, today: dt.date) -> dict[str, Any] | None:
        entry = ctx.catalog.get(case.item_code)
        if entry is None:
            return None  # an item no longer in the catalogue: no 承诺时限 to judge it by
        supplemented = ctx.supplemented.get(case.case_no)
        found = case_timeliness(
            ctx.calendar,
            entry.promised,
            case.state,
            dt.date.fromisoformat(case.accepted_on),
            dt.date.fromisoformat(supplemented) if supplemented else None,
            today,
            self.warning_workdays,
        )
        if found is None:
            return None
        department = _department_of(entry)
        handler, source = self._handler(case.case_no, entry.code, department, ctx)
        return {
            "case_no": case.case_no,
            "station": case.station,
            "item_code": case.item_code,
            "item_name": entry.name,
            "department": department,
            "department_name": ctx.catalog.departments.get(department, department),
            "state": case.state,
            "accepted_on": case.accepted_on,
            "due_date": found.due.isoformat(),
            "days_left": found.days_left,
            "flag": found.flag.value,
            "paused": found.paused,
            "provisional": found.provisional,
            "handler": handler,
            "handler_name": ctx.staff.get(handler, ("", False))[0] if handler else None,
            "handler_source": source,
        }

    @staticmethod
    def _handler(case_no: str, item: str, department: str, ctx: _Context) -> tuple[str | None, str | None]:
        assigned = ctx.assigned.get(case_no)
        if assigned is not None:
            return assigned["staff_no"], "assigned"
        for scope, code in (("item", item), ("department", department)):
            staff_no = ctx.defaults.get((scope, code))
            if staff_no is not None and ctx.staff.get(staff_no, ("", False))[1]:
                return staff_no, scope
        return None, None

    def cases(self) -> list[dict[str, Any]]:
        """Every open case's timeliness, most urgent first."""
        with read_transaction(self.engine) as conn:
            views = self.open_views(conn)
        return sorted(views, key=lambda v: (v["days_left"], v["case_no"]))

    def overdue(self) -> list[dict[str, Any]]:
        """The open cases past their due date (红), most overdue first."""
        return [view for view in self.cases() if view["flag"] == "red"]

    def of_case(self, case_no: str) -> dict[str, Any] | None:
        """One case's timeliness (None when it is not open) and its assignment history."""
        with read_transaction(self.engine) as conn:
            views = self.open_views(conn, [case_no])
            history = rows.assignment_history(conn, case_no)
        view = views[0] if views else None
        return {"timeliness": view, "assignments": history}

    def report(self, by: str) -> dict[str, Any]:
        """Counts per department (``dept``) or per handler (``handler``) of the open cases."""
        views = self.cases()
        groups: dict[Any, dict[str, Any]] = {}
        for view in views:
            if by == "dept":
                key, name = view["department"], view["department_name"]
            else:
                key, name = view["handler"], view["handler_name"] or SOURCE_ZH[None]
            group = groups.setdefault(key, _group(key, name))
            _count(group, view)
        total = _group(None, "合计")
        for view in views:
            _count(total, view)
        ordered = sorted(groups.values(), key=lambda g: (-g["red"], -g["yellow"], str(g["key"] or "~")))
        return {
            "today": self.today().isoformat(),
            "by": by,
            "warning_workdays": self.warning_workdays,
            "groups": ordered,
            "total": total,
        }

    # ------------------------------------------------------------ publishing

    def publish(self, conn: Connection, case_nos: Sequence[str] | None = None) -> int:
        """Append the ``case.timeliness`` changes due (see the module text); how many."""
        views = {v["case_no"]: v for v in self.open_views(conn, case_nos)}
        looked_at = list(views) if case_nos is None else list(case_nos)
        before = rows.published(conn, looked_at)
        if case_nos is None:
            before.update(rows.published(conn, None))
        now = self.clock()
        changes: list[NewChange] = []
        saved: list[dict[str, Any]] = []
        for case_no, view in views.items():
            if view["paused"]:
                # The clock stands: the due date is counted from today, so it is not published
                # (it would move every working day); the station shows 补正中.
                view = {**view, "due_date": None, "days_left": None}
            state = rows.Published(view["due_date"], view["flag"], view["paused"], view["handler"])
            if before.get(case_no) != state:
                changes.append(_change(view, self.today()))
                saved.append(_saved(view, now))
        closed = [n for n, p in before.items() if n not in views and p.flag is not None]
        if closed:
            stations = storage.cases_by_no(conn, closed)
            for case_no in closed:
                record = stations.get(case_no)
                view = _closed_view(case_no, record.station if record else "")
                changes.append(_change(view, self.today()))
                saved.append(_saved(view, now))
        if changes:
            append_changes(conn, changes, now)
            known = rows.published(conn, [row["case_no"] for row in saved])
            rows.save_published(conn, saved, known.keys())
        return len(changes)

    def sweep(self, case_nos: Sequence[str] | None = None) -> int:
        """:meth:`publish` in a write transaction of its own."""
        with write_transaction(self.engine) as conn:
            return self.publish(conn, case_nos)

    # ------------------------------------------------------------ assigning

    def assign(self, case_no: str, to: str, by: str) -> dict[str, Any]:
        """Name ``to`` the case's 首办负责人 (by an admin or a supervisor of its station)."""
        with write_transaction(self.engine) as conn:
            case = storage.get_case(conn, case_no)
            if case is None:
                raise SupervisionError(f"no such case on the server: {case_no}", 2)
            if case["state"] not in OPEN_STATES:
                raise SupervisionError(
                    f"case {case_no} is {case['state']}: no decision is pending, nothing to assign", 1
                )
            _check_assigner(conn, by, case["station"])
            _check_assignee(conn, to)
            now = iso(self.clock())
            rows.insert_assignment(
                conn, {"case_no": case_no, "staff_no": to, "assigned_by": by, "assigned_at": now}
            )
            self.publish(conn, [case_no])
        found = self.of_case(case_no)
        assert found is not None and found["timeliness"] is not None
        return dict(found["timeliness"])

    def set_default(self, code: str, staff_no: str, by: str) -> dict[str, Any]:
        """The default 首办负责人 of an item (or package) or a department (an admin sets it)."""
        with write_transaction(self.engine) as conn:
            scope = self._scope_of(conn, code)
            _check_admin(conn, by)
            _check_assignee(conn, staff_no)
            row = {
                "scope": scope,
                "code": code,
                "staff_no": staff_no,
                "set_by": by,
                "set_at": iso(self.clock()),
            }
            rows.set_handler_default(conn, row)
            self.publish(conn)
        return row

    def clear_default(self, code: str, by: str) -> bool:
        """Remove the default of an item or a department; whether there was one."""
        with write_transaction(self.engine) as conn:
            scope = self._scope_of(conn, code)
            _check_admin(conn, by)
            removed = rows.clear_handler_default(conn, scope, code)
            self.publish(conn)
        return removed

    def defaults(self) -> list[dict[str, Any]]:
        """Every default, with the staff member's name."""
        with read_transaction(self.engine) as conn:
            found = rows.handler_defaults(conn)
            staff = rows.staff_directory(conn)
        for row in found:
            row["staff_name"], row["staff_active"] = staff.get(row["staff_no"], (None, False))
        return found

    def _scope_of(self, conn: Connection, code: str) -> str:
        catalog = reference.catalog_in_force(conn, self.catalog)
        if catalog.get(code) is not None:
            return "item"
        if code in catalog.departments:
            return "department"
        raise SupervisionError(f"{code!r} is neither an item, a package nor a department of the catalogue", 2)


def _department_of(entry: Any) -> str:
    if isinstance(entry, Package):
        return entry.items[0].department if entry.items else ""
    return str(entry.department)


def _group(key: Any, name: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "open": 0,
        "green": 0,
        "yellow": 0,
        "red": 0,
        "paused": 0,
        "overdue": [],
    }


def _count(group: dict[str, Any], view: dict[str, Any]) -> None:
    group["open"] += 1
    group[view["flag"]] += 1
    group["paused"] += int(view["paused"])
    if view["flag"] == "red":
        group["overdue"].append(view["case_no"])


def _change(view: dict[str, Any], today: dt.date) -> NewChange:
    keys = ("case_no", "due_date", "days_left", "flag", "paused", "provisional", "handler", "handler_name",
            "handler_source", "department")  # fmt: skip
    payload = {key: view.get(key) for key in keys}
    payload["as_of"] = today.isoformat()
    return NewChange(ChangeKind.CASE_TIMELINESS, view["case_no"], payload, view["station"])


def _saved(view: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {
        "case_no": view["case_no"],
        "station": view["station"],
        "due_date": view["due_date"],
        "flag": view["flag"],
        "paused": view["paused"],
        "handler": view["handler"],
        "published_at": iso(now),
    }


def _closed_view(case_no: str, station: str) -> dict[str, Any]:
    return {"case_no": case_no, "station": station, "due_date": None, "days_left": None, "flag": None,
            "paused": False, "provisional": False, "handler": None, "handler_name": None,
            "handler_source": None, "department": None}  # fmt: skip


def _active(conn: Connection, staff_no: str) -> Any:
    staff = storage.get_staff(conn, staff_no)
    return staff if staff is not None and staff.active else None


def _check_assigner(conn: Connection, by: str, station: str) -> None:
    staff = _active(conn, by)
    if staff is None:
        raise SupervisionError(f"{by} is not an active staff member of the hall", 1)
    if staff.role == Role.ADMIN or (staff.role == Role.SUPERVISOR and staff.station == station):
        return
    raise SupervisionError(
        f"only an admin or a supervisor of station {station} may assign its cases ({by} is a {staff.role}"
        f" of {staff.station})",
        1,
    )


def _check_admin(conn: Connection, by: str) -> None:
    staff = _active(conn, by)
    if staff is None or staff.role != Role.ADMIN:
        raise SupervisionError(f"only an active admin may set a default handler ({by} is not one)", 1)


def _check_assignee(conn: Connection, staff_no: str) -> None:
    if _active(conn, staff_no) is None:
        raise SupervisionError(f"{staff_no} is not an active staff member: choose another handler", 1)
