"""Enumerations of the domain. Values are the stable strings of the public contracts."""

from __future__ import annotations

from enum import StrEnum


class ItemKind(StrEnum):
    """即办件 (finished at the counter) or 承诺件 (finished within a promised time)."""

    INSTANT = "instant"
    PROMISED = "promised"


class TimeUnit(StrEnum):
    """Unit of a time limit: 工作日 or 自然日."""

    WORKDAY = "workday"
    CALENDAR_DAY = "calendar_day"


class Tolerance(StrEnum):
    """Tolerance class of a material requirement."""

    CORE = "core"
    TOLERABLE = "tolerable"
    OPTIONAL = "optional"


class MaterialForm(StrEnum):
    """The form in which a material is submitted."""

    ORIGINAL = "original"
    COPY = "copy"
    ELECTRONIC = "electronic"


class MaterialStatus(StrEnum):
    """What the clerk recorded for one material of the checklist."""

    PRESENTED = "presented"
    E_LICENSE = "e_license"
    MISSING = "missing"


class ApplicantType(StrEnum):
    """A natural person (身份证号) or an organisation (统一社会信用代码)."""

    PERSON = "person"
    ORG = "org"


class Channel(StrEnum):
    """How a case reached the system."""

    WINDOW = "window"
    STATION = "station"
    DELIVERY = "delivery"  # 政务外卖
    BATCH = "batch"


class CaseState(StrEnum):
    """States of a case (办件); transitions live in window_client.services.state_machine."""

    ACCEPTED = "accepted"
    ACCEPTED_TOLERATED = "accepted_tolerated"
    NOT_ACCEPTED = "not_accepted"
    SUPPLEMENTED = "supplemented"
    APPROVED = "approved"
    REFUSED = "refused"
    CERTIFICATE_ISSUED = "certificate_issued"
    DELIVERED = "delivered"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


class VerdictKind(StrEnum):
    """Outcome of the tolerance check (容缺预审)."""

    COMPLETE = "complete"
    TOLERABLE = "tolerable"
    NOT_ACCEPTABLE = "not_acceptable"


class Flag(StrEnum):
    """红黄绿 tag of a deadline."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Role(StrEnum):
    """Staff roles."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class OutboxStatus(StrEnum):
    """Life of an outbox operation."""

    PENDING = "pending"
    ACKED = "acked"
    CONFLICT = "conflict"
