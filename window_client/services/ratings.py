"""好差评 at the station: record a rating (or 未评价), follow a window for its evaluator pad, the
evaluation codes printed on receipts, and the station's report.

Every write is one local transaction with its audit event and a ``rating.record`` outbox
operation (:class:`models.sync.RatingPayload`); the hall refuses what it can check to be wrong
(an unknown case, another station's case, a second rating through the same channel).

The API the counter (its rating modal), the evaluator pad and the CLI share::

    service.record(case_no, level, reasons=(), text=None, channel=RatingChannel.PAD) -> RatingRecord
    service.decline(case_no, channel=RatingChannel.PAD) -> RatingRecord      # 未评价
    service.record_by_code(code, level, reasons=(), text=None) -> RatingRecord
    service.pending_for_window(window, day=None) -> PendingRating | None
    service.code_for(case_no) -> str                                        # for the 受理回执
    service.report(first=None, last=None) -> dict                           # the JSON report

Refusals are :class:`~models.problems.DomainError` with ``case.unknown``, ``rating.exists``,
``rating.code_unknown``, ``rating.level``, ``rating.reasons_required``, ``field.invalid`` …
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from models.problems import DomainError
from models.rating import (
    CHANNEL_ZH,
    LEVEL_ZH,
    REASON_ZH,
    RatedCase,
    RatingChannel,
    RatingFact,
    RatingInput,
    Reason,
    check_rating,
    declined,
    evaluation_code,
    is_bad,
    normalize_code,
    tally,
)
from models.sync import OperationKind, RatingPayload
from offline_cache import Store, rating_repo
from offline_cache.rating_repo import RatableCase, StoredRating

_CHANNEL_EN = {RatingChannel.PAD: "evaluator pad", RatingChannel.CODE: "evaluation code"}


@dataclass(frozen=True, slots=True)
class RatingRecord:
    """A rating as recorded (``level`` None: the applicant declined, 未评价)."""

    case_no: str
    channel: str
    level: int | None
    reasons: tuple[str, ...]
    text: str | None
    rated_on: dt.date
    op_id: str

    @property
    def level_zh(self) -> str:
        """The level in Chinese (未评价 when declined)."""
        return RatingInput(self.level).level_zh

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON."""
        return {
            "case_no": self.case_no,
            "channel": self.channel,
            "level": self.level,
            "level_zh": self.level_zh,
            "reasons": list(self.reasons),
            "reasons_zh": [REASON_ZH[Reason(r)] for r in self.reasons],
            "text": self.text,
            "rated_on": self.rated_on.isoformat(),
            "op_id": self.op_id,
        }


@dataclass(frozen=True, slots=True)
class PendingRating:
    """The case an evaluator pad offers for rating: the window's latest, not yet rated there."""

    case_no: str
    item_name: str
    window: str
    clerk: str
    accepted_on: dt.date


def _record(stored: StoredRating) -> RatingRecord:
    return RatingRecord(
        stored.case_no,
        stored.channel,
        stored.level,
        stored.reasons,
        stored.text,
        stored.rated_on,
        stored.op_id,
    )


class RatingService:
    """好差评 at one station, recorded by one staff member (``actor``)."""

    def __init__(
        self, store: Store, station: str, actor: str, today: Callable[[], dt.date] | None = None
    ) -> None:
        self.store = store
        self.station = station
        self.actor = actor
        self.today = today or dt.date.today

    # ------------------------------------------------------------ writing

    def record(
        self,
        case_no: str,
        level: int,
        reasons: Iterable[str] = (),
        text: str | None = None,
        channel: RatingChannel = RatingChannel.PAD,
        on: dt.date | None = None,
    ) -> RatingRecord:
        """Record the applicant's rating of ``case_no`` through ``channel``.

        Checked first (:func:`models.rating.check_rating`), then written with its audit event
        and outbox operation in one transaction; a second rating through the same channel, or
        an unknown case, changes nothing (:class:`DomainError`).
        """
        return self._write(case_no, check_rating(level, reasons, text), RatingChannel(channel), on)

    def decline(
        self, case_no: str, channel: RatingChannel = RatingChannel.PAD, on: dt.date | None = None
    ) -> RatingRecord:
        """Record that the applicant declined to rate (未评价, never counted as 满意)."""
        return self._write(case_no, declined(), RatingChannel(channel), on)

    def record_by_code(
        self,
        code: str,
        level: int,
        reasons: Iterable[str] = (),
        text: str | None = None,
        on: dt.date | None = None,
    ) -> RatingRecord:
        """Record a rating given with the code printed on the 受理回执 (channel ``code``)."""
        checked = check_rating(level, reasons, text)
        return self._write(self.case_of_code(code), checked, RatingChannel.CODE, on)

    def _write(
        self, case_no: str, rating: RatingInput, channel: RatingChannel, on: dt.date | None
    ) -> RatingRecord:
        day = on or self.today()
        with self.store.transaction(self.actor) as unit:
            case = rating_repo.ratable_case(unit.conn, case_no)
            if case is None:
                raise DomainError.of("case.unknown", case_no=case_no)
            existing = rating_repo.rating_of(unit.conn, case_no, channel)
            if existing is not None:
                raise _already(existing)
            if day < case.accepted_on:
                raise DomainError.of(
                    "rating.date",
                    on=day.isoformat(),
                    why=f"早于受理日期{case.accepted_on}",
                    why_en=f"before the case was accepted ({case.accepted_on})",
                )
            reasons = [reason.value for reason in rating.reasons]
            payload = RatingPayload(
                case_no=case_no,
                channel=channel.value,
                level=rating.level,
                reasons=reasons,
                text=rating.text,
                on=day,
                by=self.actor,
            ).to_payload()
            op_id = unit.enqueue(OperationKind.RATING_RECORD.value, case_no, payload)
            stored = StoredRating(
                case_no,
                channel.value,
                rating.level,
                tuple(reasons),
                rating.text,
                day,
                unit.now,
                self.actor,
                op_id,
            )
            rating_repo.insert_rating(unit, stored)
            action = "rating.decline" if rating.level is None else "rating.record"
            detail = {
                "channel": channel.value,
                "level": rating.level,
                "reasons": reasons,
                "text": rating.text,
            }
            unit.audit(action, case_no, detail)
        return _record(stored)

    # ------------------------------------------------------------ the evaluator pad

    def pending_for_window(self, window: str, day: dt.date | None = None) -> PendingRating | None:
        """The case the window's evaluator pad offers now: the window's latest case of the day
        when it has no rating (or 未评价) from the pad yet; None otherwise."""
        with self.store.reading() as conn:
            case = rating_repo.latest_case_at_window(conn, self.station, window, day or self.today())
            if case is None or rating_repo.rating_of(conn, case.case_no, RatingChannel.PAD) is not None:
                return None
        return PendingRating(case.case_no, case.item_name, case.window, case.clerk, case.accepted_on)

    def ratings_of(self, case_no: str) -> list[RatingRecord]:
        """Every rating of a case, one per channel."""
        with self.store.reading() as conn:
            return [_record(r) for r in rating_repo.ratings_of(conn, case_no)]

    # ------------------------------------------------------------ evaluation codes

    def code_for(self, case_no: str) -> str:
        """The evaluation code printed on the case's 受理回执 (:func:`models.rating.evaluation_code`)."""
        with self.store.reading() as conn:
            if rating_repo.ratable_case(conn, case_no) is None:
                raise DomainError.of("case.unknown", case_no=case_no)
            key = rating_repo.code_key(conn)
        return evaluation_code(key, case_no)

    def case_of_code(self, code: str) -> str:
        """The case an evaluation code belongs to (``rating.code_unknown`` when none).

        The index of codes is derived data: cases new since the last look-up get their codes
        added first (no audit event: nothing a staff member did changed).
        """
        normal = normalize_code(code)
        if normal is None:
            raise DomainError.of("rating.code_unknown", code=code[:20])
        with self.store.reading() as conn:
            found = rating_repo.case_of_code(conn, normal)
        if found is None:
            with self.store.transaction(self.actor) as unit:
                key = rating_repo.code_key(unit.conn)
                missing = rating_repo.cases_without_code(unit.conn)
                rating_repo.index_codes(unit.conn, [(evaluation_code(key, c), c) for c in missing])
                found = rating_repo.case_of_code(unit.conn, normal)
        if found is None:
            raise DomainError.of("rating.code_unknown", code=normal)
        return found

    # ------------------------------------------------------------ the report

    def report(self, first: dt.date | None = None, last: dt.date | None = None) -> dict[str, Any]:
        """好差评 of the cases accepted from ``first`` to ``last`` (inclusive; None: no bound).

        The shape of ``window-client ratings report --json`` and of the hall's report: counts
        per level, ``unrated``, ``declined``, ``good_rate`` (:func:`models.rating.good_rate`),
        per station, window, staff member and item, and ``open_rectifications``: this station's
        差评 of the period (the hall tracks their 整改; ``synced`` says whether it has them).
        """
        if first is not None and last is not None and first > last:
            raise DomainError.of("field.invalid", field="from", value=f"{first} > {last}")
        with self.store.reading() as conn:
            cases, ratings, status = rating_repo.report_rows(conn, first, last)
        report: dict[str, Any] = {
            "from": first.isoformat() if first else None,
            "to": last.isoformat() if last else None,
            **tally(
                (_rated_case(c) for c in cases), (RatingFact(r.case_no, r.channel, r.level) for r in ratings)
            ),
        }
        by_no = {c.case_no: c for c in cases}
        report["open_rectifications"] = [
            {
                **_record(r).to_dict(),
                "window": by_no[r.case_no].window,
                "staff": by_no[r.case_no].clerk,
                "item_code": by_no[r.case_no].item_code,
                "synced": status.get(r.op_id) == "acked",
            }
            for r in ratings
            if is_bad(r.level)
        ]
        return report


def _rated_case(case: RatableCase) -> RatedCase:
    return RatedCase(case.case_no, case.station, case.window, case.clerk, case.item_code)


def _already(existing: StoredRating) -> DomainError:
    what = "未评价" if existing.level is None else LEVEL_ZH[existing.level]
    what_en = "declined" if existing.level is None else f"level {existing.level}"
    return DomainError.of(
        "rating.exists",
        case_no=existing.case_no,
        channel=CHANNEL_ZH[existing.channel],
        channel_en=_CHANNEL_EN[RatingChannel(existing.channel)],
        what=f"{what}，{existing.rated_on}",
        what_en=f"{what_en}, {existing.rated_on}",
    )
