"""The hall's reminders: its notification outbox, filled by the hall's own rule, sent once.

The hall knows the 差评 rectification records and who handles each, so the rule that runs here is
``rectification_due``: a record with an assignee whose deadline in force (核实, then 整改) is today
or the next working day gets one reminder to the assignee (a staff number: the SMS gateway knows
their phone) per case and due day. The station's rules (补正 due, result ready) run at the
station, which knows the applicants' phones (:mod:`window_client.services.notify`).

Sending goes through :mod:`models.notify` (``[notify]`` of ``$HALL_SERVER_HOME/config.toml``,
or ``--sender``/``--url``): the log sender writes ``$HALL_SERVER_HOME/notifications.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from hall_server.domain import reference
from hall_server.domain.vetting import CHINA
from hall_server.storage import ratings as rating_rows
from hall_server.storage import read_transaction, write_transaction
from hall_server.storage import supervision as rows
from hall_server.storage.sql import iso
from models.notify import (
    RECIPIENT_STAFF,
    RULE_ZH,
    STATUS_ZH,
    Notification,
    NotifyConfigError,
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
from models.rating import LEVEL_ZH
from models.rectification import STEP_ZH, RectificationState, Step, deadline_in_force


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def hall_config(home: Path, sender: str | None = None, url: str | None = None) -> SenderConfig:
    """``[notify]`` of ``home/config.toml`` with the command line's overrides; raises
    :class:`NotifyConfigError`."""
    table: dict[str, Any] = {}
    path = home / "config.toml"
    if path.exists():
        try:
            loaded = tomllib.loads(path.read_text(encoding="utf-8")).get("notify", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise NotifyConfigError(f"cannot read {path}: {exc}", f"无法读取配置文件 {path}：{exc}") from exc
        if not isinstance(loaded, dict):
            raise NotifyConfigError("[notify] must be a table", "配置项 [notify] 须为一个表")
        table.update(loaded)
    if sender is not None:
        table["sender"] = sender
    if url is not None:
        table["url"] = url
    return parse_config(table, home)


class HallNotifier:
    """The hall's notification outbox: generate by the rule, send, list."""

    def __init__(self, engine: Engine, home: Path, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.engine = engine
        self.home = home
        self.clock = clock
        self._sender = ""

    def today(self) -> dt.date:
        """The hall's day (China time)."""
        return self.clock().astimezone(CHINA).date()

    def due(self, today: dt.date) -> list[Notification]:
        """Every reminder the rule asks for on ``today`` (queued or not)."""
        with read_transaction(self.engine) as conn:
            calendar = reference.calendar_in_force(conn)
            records = rating_rows.list_rectifications(conn, None, open_only=True)
        found: dict[str, Notification] = {}
        for record in records:
            assignee = record["assigned_to"]
            state = record["state"]
            deadline = deadline_in_force(
                state,
                dt.date.fromisoformat(record["verify_due"]),
                dt.date.fromisoformat(record["rectify_due"]),
            )
            if not assignee or deadline is None or deadline < today:
                continue
            if calendar.workdays_between(today, deadline) > 1:
                continue
            step = Step.VERIFY if state == RectificationState.ASSIGNED else Step.RECTIFY
            due_on = deadline.isoformat()
            key = notification_key(Rule.RECTIFICATION_DUE, record["case_no"], due_on)
            text = (
                f"【差评整改提醒】办件{record['case_no']}的差评（{LEVEL_ZH[record['level']]}，整改单#{record['id']}）"
                f"须于{due_on}前完成{STEP_ZH[step]}，请及时处理。"
            )
            found.setdefault(
                key,
                Notification(
                    key, Rule.RECTIFICATION_DUE, record["case_no"], assignee, RECIPIENT_STAFF, text, due_on
                ),
            )
        return list(found.values())

    def generate(self, today: dt.date) -> list[Notification]:
        """Queue the reminders due that are not queued yet; returns the new ones."""
        due = self.due(today)
        now = iso(self.clock())
        with write_transaction(self.engine) as conn:
            known = rows.existing_notification_keys(conn, [n.key for n in due])
            new = [n for n in due if n.key not in known]
            rows.insert_notifications(conn, [_row(n, now) for n in new])
        return new

    def pending(self) -> list[Notification]:
        """Queued notifications not sent yet (failed ones included), oldest first."""
        with read_transaction(self.engine) as conn:
            found = rows.notifications(conn, {Status.PENDING, Status.FAILED})
        return [_notification(row) for row in found]

    def run(
        self,
        config: SenderConfig,
        today: dt.date | None = None,
        dry_run: bool = False,
        post_factory: Callable[[float], Post] = httpx_post,
    ) -> NotifyRun:
        """Generate, then send everything pending (one run at a time: ``RunBusy`` otherwise)."""
        day = today or self.today()
        report = NotifyRun(config.sender, day, dry_run)
        if dry_run:
            with read_transaction(self.engine) as conn:
                known = rows.existing_notification_keys(conn, [n.key for n in self.due(day)])
            report.generated = [_brief(n) for n in self.due(day) if n.key not in known]
            report.pending = len(self.pending()) + len(report.generated)
            return report
        self._sender = config.sender
        with run_lock(self.home / "notify.lock"):
            report.generated = [_brief(n) for n in self.generate(day)]
            outcome = dispatch(self.pending(), open_sender(config, post_factory), self._sent, self._failed)
        report.sent = [{"key": key, "receipt": receipt} for key, receipt in outcome.sent]
        report.failed = [{"key": key, "error": error} for key, error in outcome.failed]
        report.pending = len(self.pending())
        return report

    def _sent(self, notification: Notification, receipt: str) -> None:
        values = {
            "status": Status.SENT.value,
            "receipt": receipt,
            "sender": self._sender,
            "sent_at": iso(self.clock()),
            "last_error": None,
        }
        with write_transaction(self.engine) as conn:
            rows.mark_notification(conn, notification.key, values)

    def _failed(self, notification: Notification, error: str) -> None:
        with write_transaction(self.engine) as conn:
            values = {"status": Status.FAILED.value, "sender": self._sender, "last_error": error}
            rows.mark_notification(conn, notification.key, values)

    def listing(self, case_no: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The outbox (oldest first), of one case or status when given."""
        with read_transaction(self.engine) as conn:
            found = rows.notifications(conn, {status} if status else None, case_no)
        return [view(row) for row in found]


def view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A notification row as ``notify list --json`` and ``cases show --json`` print it."""
    return {
        "key": row["key"],
        "rule": row["rule"],
        "rule_zh": RULE_ZH.get(row["rule"], row["rule"]),
        "case_no": row["case_no"],
        "to": row["recipient"],
        "to_kind": row["recipient_kind"],
        "text": row["text"],
        "due_on": row["due_on"],
        "status": row["status"],
        "status_zh": STATUS_ZH.get(row["status"], row["status"]),
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "sender": row["sender"],
        "receipt": row["receipt"],
        "created_at": row["created_at"],
        "sent_at": row["sent_at"],
    }


def _row(n: Notification, now: str) -> dict[str, Any]:
    return {
        "key": n.key,
        "rule": n.rule,
        "case_no": n.case_no,
        "recipient": n.recipient,
        "recipient_kind": n.recipient_kind,
        "text": n.text,
        "due_on": n.due_on,
        "status": Status.PENDING.value,
        "attempts": 0,
        "created_at": now,
    }


def _notification(row: Mapping[str, Any]) -> Notification:
    return Notification(
        row["key"],
        row["rule"],
        row["case_no"],
        row["recipient"],
        row["recipient_kind"],
        row["text"],
        row["due_on"],
    )


def _brief(n: Notification) -> dict[str, Any]:
    return {"key": n.key, "rule": n.rule, "case_no": n.case_no, "to": n.recipient, "due_on": n.due_on}
