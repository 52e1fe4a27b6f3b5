"""The day close (日结) per window: what each window accepted, issued and handed over on a day,
what waits, the 红黄绿 ledger and the operations not yet pushed.

Each query reads one day's cases (ix_cases_accepted_on), the open cases (state index ranges),
the day's certificates (ix_certificates_issued, ix_certificate_handovers_on) or the outbox
operations not yet pushed (ix_outbox_status): never every case of the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from offline_cache.case_queries import OPEN_DEADLINES, deadline_ranges

_DAY_WINDOW_NONE = ""  # operations and certificates that belong to no case of this station


def day_acceptance_by_window(conn: Connection, station: str, day: dt.date) -> dict[str, tuple[int, int, int]]:
    """window -> (accepted normally, accepted with tolerance, not accepted) on ``day``, by the
    decision taken at the counter (a case accepted and finished the same day still counts)."""
    rows = conn.exec_driver_sql(
        "SELECT window,"
        " SUM(CASE WHEN state != 'not_accepted' AND verdict = 'complete' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN state != 'not_accepted' AND verdict = 'tolerable' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN state = 'not_accepted' THEN 1 ELSE 0 END)"
        " FROM cases WHERE accepted_on = ? AND station = ? GROUP BY window",
        (day.isoformat(), station),
    )
    return {str(w): (int(a or 0), int(t or 0), int(n or 0)) for w, a, t, n in rows}


def certificates_by_window(conn: Connection, station: str, day: dt.date) -> dict[str, tuple[int, int]]:
    """window -> (certificates issued on ``day``, certificates handed over on ``day``); a
    certificate of several cases (一件事) counts once for each window it came from."""
    issued = conn.exec_driver_sql(
        "SELECT COALESCE(c.window, ''), COUNT(DISTINCT cert.identifier) FROM certificates cert"
        " LEFT JOIN certificate_cases cc ON cc.identifier = cert.identifier"
        " LEFT JOIN cases c ON c.case_no = cc.case_no"
        " WHERE cert.station = ? AND cert.issued_on = ? GROUP BY 1",
        (station, day.isoformat()),
    )
    found: dict[str, list[int]] = {}
    for window, n in issued:
        found.setdefault(str(window), [0, 0])[0] = int(n)
    handed = conn.exec_driver_sql(
        "SELECT COALESCE(c.window, ''), COUNT(DISTINCT h.identifier) FROM certificate_handovers h"
        " JOIN certificates cert ON cert.identifier = h.identifier"
        " LEFT JOIN certificate_cases cc ON cc.identifier = h.identifier"
        " LEFT JOIN cases c ON c.case_no = cc.case_no"
        " WHERE h.handed_over_on = ? AND cert.station = ? GROUP BY 1",
        (day.isoformat(), station),
    )
    for window, n in handed:
        found.setdefault(str(window), [0, 0])[1] = int(n)
    return {w: (v[0], v[1]) for w, v in found.items()}


def certificate_totals(conn: Connection, station: str, day: dt.date) -> tuple[int, int]:
    """(certificates issued on ``day``, handed over on ``day``) at ``station``, each once."""
    issued = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificates WHERE station = ? AND issued_on = ?", (station, day.isoformat())
    ).scalar_one()
    handed = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificate_handovers h JOIN certificates cert"
        " ON cert.identifier = h.identifier WHERE h.handed_over_on = ? AND cert.station = ?",
        (day.isoformat(), station),
    ).scalar_one()
    return int(issued), int(handed)


def waiting_by_window(conn: Connection, station: str, states: Sequence[str]) -> dict[str, int]:
    """window -> cases of ``station`` now in one of ``states`` (e.g. results awaiting 领取)."""
    marks = ", ".join("?" * len(states))
    rows = conn.exec_driver_sql(
        f"SELECT window, COUNT(*) FROM cases WHERE state IN ({marks}) AND station = ? GROUP BY window",
        (*states, station),
    )
    return {str(w): int(n) for w, n in rows}


def open_flags_by_window(
    conn: Connection, station: str, today: dt.date, yellow_until: dt.date
) -> dict[str, tuple[int, int, int]]:
    """window -> (red, yellow, green) over the open deadlines of ``station`` (see
    :func:`offline_cache.case_queries.flag_counts`)."""
    found: dict[str, list[int]] = {}
    for states, column in OPEN_DEADLINES:
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        params: dict[str, Any] = {"today": today.isoformat(), "yellow": yellow_until.isoformat()}
        params.update({f"s{i}": state for i, state in enumerate(states)})
        params["station"] = station
        ranges = deadline_ranges(column)
        rows = conn.exec_driver_sql(
            f"SELECT window, SUM(CASE WHEN {ranges['red']} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {ranges['yellow']} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {ranges['green']} THEN 1 ELSE 0 END)"
            f" FROM cases WHERE state IN ({marks}) AND station = :station AND {column} IS NOT NULL"
            " GROUP BY window",
            params,
        )
        for window, red, yellow, green in rows:
            counts = found.setdefault(str(window), [0, 0, 0])
            counts[0] += int(red or 0)
            counts[1] += int(yellow or 0)
            counts[2] += int(green or 0)
    return {w: (v[0], v[1], v[2]) for w, v in found.items()}


def unsynced_by_window(conn: Connection, station: str) -> dict[str, int]:
    """window -> outbox operations not yet pushed (pending), by the window of their case;
    operations of no case of this station (e.g. a calendar import) under ``""``."""
    rows = conn.exec_driver_sql(
        # INDEXED BY: with mostly acknowledged operations, ANALYZE's statistics (two statuses)
        # lead the planner to scan all of ix_outbox_case instead of the pending range.
        "SELECT CASE WHEN c.station = ? THEN c.window ELSE '' END, COUNT(*)"
        " FROM outbox o INDEXED BY ix_outbox_status"
        " LEFT JOIN cases c ON c.case_no = o.case_no WHERE o.status = 'pending' GROUP BY 1",
        (station,),
    )
    return {str(w or _DAY_WINDOW_NONE): int(n) for w, n in rows}
