"""The station's reminders (短信提醒): its notification outbox, filled by its own rules, sent once.

The station knows its cases and the applicants' phones, so its rules run here (the hall's 差评整改
rule runs at the hall, :mod:`hall_server.services.notify`):

- ``supplement_due`` — a 容缺 case whose 补正 deadline is today or the next working day (so a
  Monday deadline is reminded on Friday): one SMS to the applicant per case and deadline;
- ``pickup_ready`` — a case whose certificate is issued and not handed over: one SMS per case
  and issue day.

Each notification is queued once (its key: rule + case + due day) in one transaction with its
audit event (``notify.queue``); sending goes through the sender of ``[notify]`` in
``config.toml`` (:mod:`models.notify`: the log sender by default, ``notifications.jsonl`` in the
data directory) and each success is marked with its audit event (``notify.sent``). A failure is
kept with its reason and tried again at the next run. The counter runs it in the background
(:mod:`window_client.tui.notify_ticker`), ``window-client notify run`` on demand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from models.catalog import Station
from models.enums import TimeUnit
from models.identity import mask_phone
from models.notify import (
    RECIPIENT_PHONE,
    RULE_ZH,
    STATUS_ZH,
    Notification,
    NotifyRun,
    Post,
    Rule,
    SenderConfig,
    Status,
    Unreachable,
    dispatch,
    notification_key,
    open_sender,
    parse_config,
    run_lock,
)
from models.timelimits import TimeLimit
from offline_cache import Store, notify_repo
from window_client.services.workdays import WorkdayCalendar

LOCK_FILE = "notify.lock"


def httpx_post(timeout: float) -> Post:
    """The gateway POST through httpx (no redirects followed; unreachable → :class:`Unreachable`)."""
    client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        try:
            response = client.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            raise Unreachable(f"the SMS gateway cannot be reached: {exc}") from exc
        return response.status_code, response.text

    return post


class NotifyService:
    """The station's notification outbox (see the module text)."""

    def __init__(
        self,
        store: Store,
        station: Station,
        calendar: WorkdayCalendar,
        home: Path,
        raw_config: Any,
        actor: str = "system",
        post_factory: Callable[[float], Post] = httpx_post,
    ) -> None:
        self.store = store
        self.station = station
        self.calendar = calendar
        self.home = home
        self.raw_config = raw_config
        self.actor = actor
        self.post_factory = post_factory

    def config(self) -> SenderConfig:
        """``[notify]`` checked (raises :class:`models.notify.NotifyConfigError`)."""
        return parse_config(self.raw_config, self.home)

    # ------------------------------------------------------------ the rules

    def due(self, today: dt.date) -> list[Notification]:
        """Every reminder the station's rules ask for on ``today`` (queued or not)."""
        horizon = self.calendar.add(today, TimeLimit(1, TimeUnit.WORKDAY)).date
        with self.store.reading() as conn:
            supplements = notify_repo.supplement_due(conn, today, horizon)
            missing = notify_repo.missing_due(conn, [row[0] for row in supplements])
            pickups = notify_repo.awaiting_pickup(conn)
        found = [self._supplement(row, missing) for row in supplements]
        found += [self._pickup(row) for row in pickups]
        return found

    def _supplement(self, row: tuple[Any, ...], missing: dict[tuple[str, str], list[str]]) -> Notification:
        case_no, item, name, phone, due = row
        materials = "、".join(missing.get((case_no, str(due)), [])) or "容缺材料"
        text = (
            f"【{self.station.name}】{name}您好：您办理的“{item}”（办件编号{case_no}）尚缺{materials}，"
            f"补正期限为{due}，请按时提交，逾期将终止办理。"
        )
        key = notification_key(Rule.SUPPLEMENT_DUE, case_no, str(due))
        return Notification(key, Rule.SUPPLEMENT_DUE, case_no, phone, RECIPIENT_PHONE, text, str(due))

    def _pickup(self, row: tuple[Any, ...]) -> Notification:
        case_no, item, name, phone, issued_on = row
        text = (
            f"【{self.station.name}】{name}您好：您办理的“{item}”（办件编号{case_no}）已办结出证，"
            "请携带身份证件到统一出件窗口领取。"
        )
        key = notification_key(Rule.PICKUP_READY, case_no, str(issued_on))
        return Notification(key, Rule.PICKUP_READY, case_no, phone, RECIPIENT_PHONE, text, str(issued_on))

    def generate(self, today: dt.date) -> list[Notification]:
        """Queue the reminders due that are not queued yet, each with its audit event."""
        due = self.due(today)
        with self.store.transaction(self.actor) as unit:
            known = notify_repo.existing_keys(unit.conn, [n.key for n in due])
            new = [n for n in due if n.key not in known]
            notify_repo.insert(unit, [{**_fields(n), "created_at": unit.now} for n in new])
            for n in new:
                unit.audit("notify.queue", n.case_no, {"key": n.key, "rule": n.rule, "due_on": n.due_on})
        return new

    # ------------------------------------------------------------ sending

    def pending(self) -> list[Notification]:
        """Queued and not sent (failed ones included), oldest first."""
        with self.store.reading() as conn:
            rows = notify_repo.listing(conn, {Status.PENDING.value, Status.FAILED.value})
        return [_notification(row) for row in rows]

    def run(self, today: dt.date, dry_run: bool = False) -> NotifyRun:
        """Queue what the rules ask for, then send everything pending.

        Raises :class:`models.notify.NotifyConfigError` (before anything is written) for an
        unusable ``[notify]``, :class:`models.notify.RunBusy` while another run is going.
        """
        config = self.config()
        report = NotifyRun(config.sender, today, dry_run)
        if dry_run:
            with self.store.reading() as conn:
                due = self.due(today)
                known = notify_repo.existing_keys(conn, [n.key for n in due])
            report.generated = [_brief(n) for n in due if n.key not in known]
            report.pending = len(self.pending()) + len(report.generated)
            return report
        with run_lock(self.home / LOCK_FILE):
            report.generated = [_brief(n) for n in self.generate(today)]
            sender = open_sender(config, self.post_factory)
            outcome = dispatch(
                self.pending(), sender, self.marker(config.sender, True), self.marker(config.sender, False)
            )
        report.sent = [{"key": key, "receipt": receipt} for key, receipt in outcome.sent]
        report.failed = [{"key": key, "error": error} for key, error in outcome.failed]
        report.pending = len(self.pending())
        return report

    def marker(self, sender: str, sent: bool) -> Callable[[Notification, str], None]:
        """The outbox's mark after one delivery (``sent``) or failed attempt, with its audit event."""

        def mark(notification: Notification, outcome: str) -> None:
            with self.store.transaction(self.actor) as unit:
                if sent:
                    notify_repo.mark(unit, notification.key, Status.SENT.value, sender, outcome, None)
                    detail = {"key": notification.key, "sender": sender, "receipt": outcome}
                    unit.audit("notify.sent", notification.case_no, detail)
                else:
                    notify_repo.mark(unit, notification.key, Status.FAILED.value, sender, None, outcome)

        return mark

    # ------------------------------------------------------------ reading

    def listing(self, case_no: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The outbox (oldest first) as ``notify list --json`` prints it (phones masked)."""
        with self.store.reading() as conn:
            rows = notify_repo.listing(conn, {status} if status else None, case_no)
        return [reminder_view(row) for row in rows]

    def hall_view(self, case_no: str) -> dict[str, Any] | None:
        """The hall's 红黄绿, due date and 首办负责人 of a case, as last pulled (None: not yet)."""
        with self.store.reading() as conn:
            return notify_repo.hall_timeliness(conn, [case_no]).get(case_no)

    def hall_flags(self, case_nos: list[str]) -> dict[str, dict[str, Any]]:
        """:meth:`hall_view` of many cases at once (the ledger's page)."""
        with self.store.reading() as conn:
            return notify_repo.hall_timeliness(conn, case_nos)


def reminder_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A notification as the CLI and the case detail show it (the phone masked)."""
    to = row["recipient"]
    return {
        "key": row["key"],
        "rule": row["rule"],
        "rule_zh": RULE_ZH.get(row["rule"], row["rule"]),
        "case_no": row["case_no"],
        "to_masked": mask_phone(to) if row["recipient_kind"] == RECIPIENT_PHONE else to,
        "text": row["text"],
        "due_on": str(row["due_on"]),
        "status": row["status"],
        "status_zh": STATUS_ZH.get(row["status"], row["status"]),
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "sender": row["sender"],
        "created_at": row["created_at"],
        "sent_at": row["sent_at"],
    }


def _fields(n: Notification) -> dict[str, Any]:
    return {
        "key": n.key,
        "rule": n.rule,
        "case_no": n.case_no,
        "recipient": n.recipient,
        "recipient_kind": n.recipient_kind,
        "text": n.text,
        "due_on": n.due_on,
    }


def _notification(row: Mapping[str, Any]) -> Notification:
    return Notification(
        row["key"], row["rule"], row["case_no"], row["recipient"], row["recipient_kind"], row["text"],
        str(row["due_on"]),
    )  # fmt: skip


def _brief(n: Notification) -> dict[str, Any]:
    to = mask_phone(n.recipient) if n.recipient_kind == RECIPIENT_PHONE else n.recipient
    return {"key": n.key, "rule": n.rule, "case_no": n.case_no, "to_masked": to, "due_on": n.due_on}
