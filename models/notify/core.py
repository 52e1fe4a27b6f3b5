"""The notification, its idempotency key, the ``[notify]`` configuration and the sender interface."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

LOG_FILE = "notifications.jsonl"  # the log sender's file, in the data directory
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
RECIPIENT_PHONE = "phone"  # an applicant's mobile number (the station's rules)
RECIPIENT_STAFF = "staff"  # a staff number (the hall's rules: the gateway knows their phone)


class Rule(StrEnum):
    """Why a notification is sent."""

    SUPPLEMENT_DUE = "supplement_due"  # 补正 due tomorrow (station → applicant)
    PICKUP_READY = "pickup_ready"  # certificate issued, not handed over (station → applicant)
    RECTIFICATION_DUE = "rectification_due"  # 差评 整改 step due (hall → assignee)


RULE_ZH = {
    Rule.SUPPLEMENT_DUE.value: "补正到期提醒",
    Rule.PICKUP_READY.value: "领取结果提醒",
    Rule.RECTIFICATION_DUE.value: "差评整改到期提醒",
}


class Status(StrEnum):
    """Where a notification stands in its outbox."""

    PENDING = "pending"  # generated, not sent yet
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; tried again at the next run


STATUS_ZH = {
    Status.PENDING.value: "待发送",
    Status.SENT.value: "已发送",
    Status.FAILED.value: "发送失败，待重试",
}


def notification_key(rule: str, case_no: str, due_on: str) -> str:
    """The idempotency key: one notification per rule, case and due day."""
    return f"{rule}:{case_no}:{due_on}"


@dataclass(frozen=True, slots=True)
class Notification:
    """One reminder to send (the text is what the recipient reads, in Chinese)."""

    key: str
    rule: str
    case_no: str
    recipient: str
    recipient_kind: str  # RECIPIENT_PHONE or RECIPIENT_STAFF
    text: str
    due_on: str  # the day the reminder is about (ISO date)

    def message(self) -> dict[str, Any]:
        """What a sender passes on (the log line's and the gateway request's fields)."""
        return {
            "key": self.key,
            "rule": self.rule,
            "case_no": self.case_no,
            "to": self.recipient,
            "to_kind": self.recipient_kind,
            "text": self.text,
            "due_on": self.due_on,
        }


class NotifyConfigError(ValueError):
    """A ``[notify]`` setting that cannot be used; ``str()`` in English, :attr:`zh` in Chinese."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh


class SendError(Exception):
    """One notification could not be sent now (kept and tried again at the next run)."""


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """The resolved ``[notify]`` table."""

    sender: str  # "log" or "http"
    log_path: Path
    url: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def describe(self) -> str:
        """``log (PATH)`` or ``http (URL)``."""
        return f"log ({self.log_path})" if self.sender == "log" else f"http ({self.url})"


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise NotifyConfigError(
            'sender = "http" needs url = "http(s)://..." in [notify]',
            '短信网关未配置：[notify] 中 sender = "http" 时须填写 url = "http(s)://..."',
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = url.strip()[:80]
        raise NotifyConfigError(
            f"the SMS gateway URL must be http:// or https:// with a host, not {shown!r}",
            f"短信网关地址须以 http:// 或 https:// 开头并含主机名，而不是“{shown}”",
        )
    return url.strip()


def parse_config(raw: Any, home: Path) -> SenderConfig:
    """The ``[notify]`` table (None: the defaults), checked; raises :class:`NotifyConfigError`."""
    table: Mapping[str, Any] = {} if raw is None else raw
    if not isinstance(table, Mapping):
        raise NotifyConfigError("[notify] must be a table", "配置项 [notify] 须为一个表")
    sender = table.get("sender", "log")
    if sender not in ("log", "http"):
        shown = str(sender)[:40]
        raise NotifyConfigError(
            f'unknown notification sender {shown!r}: use "log" or "http"',
            f"未知的提醒发送方式“{shown}”：只能是 log（写入日志文件）或 http（短信网关）",
        )
    timeout = table.get("timeout_seconds", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or not 0.1 <= timeout <= MAX_TIMEOUT
    ):
        raise NotifyConfigError(
            f"[notify] timeout_seconds must be a number from 0.1 to {MAX_TIMEOUT:.0f}",
            f"[notify] timeout_seconds 须为 0.1 到 {MAX_TIMEOUT:.0f} 之间的数",
        )
    url = _check_url(table.get("url")) if sender == "http" else None
    return SenderConfig(str(sender), home / LOG_FILE, url, float(timeout))


class Sender(Protocol):
    """Sends notifications; used as a context manager around one run's deliveries."""

    name: str

    def __enter__(self) -> Sender: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def deliver(self, notification: Notification) -> str:
        """Send one notification; returns a receipt (kept with it), or raises :class:`SendError`."""
        ...
