"""日结: the supervisor's end-of-day figures of a station, per window (DESIGN §3, Day close)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.enums import CaseState, TimeUnit
from models.queue_figures import QueueFigures, figures, times_of
from models.timelimits import TimeLimit
from offline_cache import Store, identity_repo, queue_repo
from offline_cache import dayclose_queries as queries
from window_client.services.workdays import WorkdayCalendar

# Results waiting at the counter for 领取 (a certificate, or a 批复 that is not one).
AWAITING_HANDOVER = (CaseState.APPROVED.value, CaseState.CERTIFICATE_ISSUED.value)


@dataclass(frozen=True, slots=True)
class DayCloseRow:
    """One window's figures in a day close (``window`` is "" for the totals, and for
    operations or certificates that belong to no case of the station)."""

    window: str
    accepted: int = 0
    tolerated: int = 0
    not_accepted: int = 0
    certificates_issued: int = 0
    certificates_handed_over: int = 0
    awaiting_handover: int = 0
    red: int = 0
    yellow: int = 0
    green: int = 0
    unsynced: int = 0
    assisted: int = 0  # 帮办代办 cases accepted that day


@dataclass(frozen=True, slots=True)
class DayClose:
    """A day close (日结): per-window rows and the station's totals."""

    station: str
    day: dt.date
    as_of: dt.date  # the ledger, 领取 queue and unsynced counts are as of this day
    windows: list[DayCloseRow]
    totals: DayCloseRow
    # 排队叫号 of the day per window and category: tickets, served, skipped, mean/p90 wait,
    # mean service time (tickets no window called are under window "").
    queue: tuple[QueueFigures, ...] = ()


def read_day_close(
    store: Store, calendar: WorkdayCalendar, warning_workdays: int, station: str, day: dt.date, today: dt.date
) -> DayClose:
    """The supervisor's 日结 of ``day`` at ``station``, per window: cases accepted,
    tolerated and not accepted that day (and how many were 帮办代办); certificates issued and
    handed over that day; and, as of ``today``, results awaiting 领取, the 红黄绿 ledger and
    operations not yet synced. Read in one snapshot of the store."""
    yellow_until = calendar.add(today, TimeLimit(warning_workdays, TimeUnit.WORKDAY)).date
    with store.reading() as conn:
        accepted = queries.day_acceptance_by_window(conn, station, day)
        certificates = queries.certificates_by_window(conn, station, day)
        issued, handed_over = queries.certificate_totals(conn, station, day)
        waiting = queries.waiting_by_window(conn, station, AWAITING_HANDOVER)
        flags = queries.open_flags_by_window(conn, station, today, yellow_until)
        unsynced = queries.unsynced_by_window(conn, station)
        assisted = identity_repo.assisted_by_window(conn, station, day)
        queue = tuple(figures(times_of(t) for t in queue_repo.tickets_of_day(conn, station, day)))
    names = set(accepted) | set(certificates) | set(waiting) | set(flags) | set(unsynced)
    rows = []
    for window in sorted(names, key=lambda w: (w == "", w)):  # "no window" last
        a, t, n = accepted.get(window, (0, 0, 0))
        i, h = certificates.get(window, (0, 0))
        red, yellow, green = flags.get(window, (0, 0, 0))
        rows.append(
            DayCloseRow(
                window,
                a,
                t,
                n,
                i,
                h,
                waiting.get(window, 0),
                red,
                yellow,
                green,
                unsynced.get(window, 0),
                assisted.get(window, 0),
            )
        )
    totals = DayCloseRow(
        window="",
        accepted=sum(r.accepted for r in rows),
        tolerated=sum(r.tolerated for r in rows),
        not_accepted=sum(r.not_accepted for r in rows),
        certificates_issued=issued,  # a certificate of two windows' cases counts once here
        certificates_handed_over=handed_over,
        awaiting_handover=sum(r.awaiting_handover for r in rows),
        red=sum(r.red for r in rows),
        yellow=sum(r.yellow for r in rows),
        green=sum(r.green for r in rows),
        unsynced=sum(r.unsynced for r in rows),
        assisted=sum(r.assisted for r in rows),
    )
    return DayClose(station, day, today, rows, totals, queue)
