"""What the hall checks of a pushed ``rating.record`` before it keeps it (trust no claim it can check).

- The station is the session's: only the station that accepted the case records its rating
  (the back office does not rate on an applicant's behalf); the case must be known to the hall.
- The rating itself passes :func:`models.rating.check_rating` (a level from 1 to 5, the standard
  reasons for a 差评 and none otherwise, printable text within the limit), or is a plain 未评价.
- Its day is not before the case was accepted nor after the hall's own day (China time).
- One rating per case and channel: a second (in the database or earlier in the batch) is
  refused ``rating.exists``; the op id's exactly-once rule answers a repeat of the same one.

The window, clerk and item stored with it are the hall's own facts of the case (its accept
operation), not the rating's. A 差评 opens a rectification record (:mod:`models.rectification`)
with its deadlines counted on the hall's holiday data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from hall_server.domain import reference
from hall_server.domain.auth import Principal
from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from hall_server.domain.vetting import CHINA
from hall_server.storage import CaseRecord
from hall_server.storage import ratings as rows
from hall_server.storage.sql import dumps
from models.problems import DomainError
from models.rating import CHANNEL_ZH, DECLINED_ZH, LEVEL_ZH, RatingChannel, RatingInput, check_rating, is_bad
from models.rectification import RectificationState, due_dates
from models.sync import OperationKind

_CHANNELS = frozenset(channel.value for channel in RatingChannel)
_RATING = OperationKind.RATING_RECORD


def _field(name: str) -> Refusal:
    return Refusal("op.invalid", field=name)


def _rating_of(payload: Mapping[str, Any]) -> RatingInput:
    """The rating a payload carries, checked with the counter's own rule."""
    level, reasons, text = payload.get("level"), payload.get("reasons"), payload.get("text")
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise _field("reasons")
    if text is not None and not isinstance(text, str):
        raise _field("text")
    if level is None:
        if reasons or text:
            raise Refusal("rating.reasons_unexpected", level=DECLINED_ZH)
        return RatingInput(None)
    try:
        return check_rating(level, reasons, text)
    except DomainError as exc:
        raise Refusal(exc.problem.code, **exc.problem.params) from None


def _day(value: Any, name: str) -> dt.date:
    if not isinstance(value, str):
        raise _field(name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _field(name) from None


class RatingChecker:
    """Checks the ratings of one batch and gathers their rows (see the module text).

    ``new_cases`` and ``new_ops`` are the batch's own (shared with
    :class:`~hall_server.services.batch.BatchApplier`): a case accepted earlier in the batch
    may be rated in it.
    """

    def __init__(
        self,
        conn: Connection,
        principal: Principal,
        now: dt.datetime,
        new_cases: Mapping[str, Mapping[str, Any]],
        new_ops: Mapping[str, Incoming],
        received_at: str,
    ) -> None:
        self.conn = conn
        self.principal = principal
        self.today = now.astimezone(CHINA).date()
        self.new_cases = new_cases
        self.new_ops = new_ops
        self.received_at = received_at
        self.taken: dict[tuple[str, str], tuple[int | None, str]] = {}
        self.accepts: dict[str, str] = {}  # stored cases' accept payloads (JSON)
        self.ratings: list[dict[str, Any]] = []
        self.rectifications: list[dict[str, Any]] = []

    def prefetch(self, operations: Sequence[Incoming], stored: set[str]) -> None:
        """Read what the batch's ratings need (two queries, only when it carries ratings)."""
        named = sorted(
            {
                n
                for op in operations
                if op.kind is _RATING and isinstance(n := op.case_no, str) and "\x00" not in n
            }
        )
        if named:
            self.taken = rows.taken_channels(self.conn, named)
            self.accepts = rows.accept_payloads(self.conn, [n for n in named if n in stored])

    def check(self, op: Incoming, case_no: str, case: CaseRecord | None) -> None:
        """Raise :class:`Refusal` unless the rating may be kept; else gather its rows."""
        if self.principal.back_office:
            raise Refusal(
                "auth.forbidden", why="评价只能由受理该办件的站点记录", why_en="ratings come from stations"
            )
        if case is None:
            raise Refusal("case.unknown", case_no=case_no)
        if case.station != self.principal.station:
            raise Refusal(
                "auth.forbidden",
                why=f"办件{case_no}由站点{case.station}受理，只能由该站点记录评价",
                why_en=f"case {case_no} belongs to station {case.station}",
            )
        payload = op.payload
        channel = payload.get("channel")
        if not isinstance(channel, str) or channel not in _CHANNELS:
            raise _field("channel")
        rating = _rating_of(payload)
        accept = self._accept_of(case_no)
        on = self._checked_day(payload.get("on"), accept)
        by = payload.get("by")
        if not isinstance(by, str) or not by.strip():
            raise _field("by")
        if (earlier := self.taken.get((case_no, channel))) is not None:
            level, rated_on = earlier
            what = DECLINED_ZH if level is None else LEVEL_ZH[level]
            raise Refusal(
                "rating.exists",
                case_no=case_no,
                channel=CHANNEL_ZH[channel],
                channel_en=channel,
                what=f"{what}，{rated_on}",
                what_en=f"{'declined' if level is None else f'level {level}'}, {rated_on}",
            )
        self.taken[(case_no, channel)] = (rating.level, on.isoformat())
        self._gather(op, case, channel, rating, on, by, accept)

    def _accept_of(self, case_no: str) -> Mapping[str, Any]:
        new = self.new_cases.get(case_no)
        if new is not None:
            return self.new_ops[new["accept_op_id"]].payload
        loaded = json.loads(self.accepts.get(case_no) or "{}")
        return loaded if isinstance(loaded, dict) else {}

    def _checked_day(self, value: Any, accept: Mapping[str, Any]) -> dt.date:
        on = _day(value, "on")
        accepted = accept.get("accepted_on")
        if on > self.today:
            raise Refusal(
                "rating.date", on=on, why=f"晚于大厅当前日期{self.today}", why_en=f"after {self.today}"
            )
        if isinstance(accepted, str) and on.isoformat() < accepted:
            raise Refusal("rating.date", on=on, why=f"早于受理日期{accepted}", why_en=f"before {accepted}")
        return on

    def _gather(
        self,
        op: Incoming,
        case: CaseRecord,
        channel: str,
        rating: RatingInput,
        on: dt.date,
        by: str,
        accept: Mapping[str, Any],
    ) -> None:
        window, clerk, item = accept.get("window"), accept.get("clerk"), accept.get("item_code")
        self.ratings.append(
            {
                "op_id": op.op_id,
                "case_no": case.case_no,
                "channel": channel,
                "level": rating.level,
                "reasons": dumps([reason.value for reason in rating.reasons]),
                "text": rating.text,
                "rated_on": on.isoformat(),
                "station": case.station,
                "window": window if isinstance(window, str) else "",
                "clerk": clerk if isinstance(clerk, str) else "",
                "item_code": item if isinstance(item, str) else "",
                "recorded_by": by,
                "staff_no": self.principal.staff_no,
                "received_at": self.received_at,
            }
        )
        if is_bad(rating.level):
            assert rating.level is not None
            verify_due, rectify_due, provisional = due_dates(
                reference.calendar_in_force(self.conn), self.today
            )
            self.rectifications.append(
                {
                    "rating_op_id": op.op_id,
                    "case_no": case.case_no,
                    "station": case.station,
                    "level": rating.level,
                    "state": RectificationState.OPEN.value,
                    "created_on": self.today.isoformat(),
                    "verify_due": verify_due.isoformat(),
                    "rectify_due": rectify_due.isoformat(),
                    "provisional": provisional,
                    "updated_at": self.received_at,
                }
            )

    def write(self) -> None:
        """Insert the batch's ratings and rectification records."""
        if self.ratings:
            rows.insert_ratings(self.conn, self.ratings, self.rectifications)
