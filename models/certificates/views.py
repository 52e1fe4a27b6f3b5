"""Read models of certificates, handovers, revocations and keys for the front ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from models.certificates.body import CertificateBody
from models.identity import mask_id


class HandoverKind(StrEnum):
    """How a certificate left the window: collected by the holder, by an agent, or mailed."""

    HOLDER = "holder"  # 本人领取
    AGENT = "agent"  # 代领
    MAIL = "mail"  # 寄递


HANDOVER_ZH = {HandoverKind.HOLDER: "本人领取", HandoverKind.AGENT: "代领", HandoverKind.MAIL: "寄递"}


@dataclass(frozen=True, slots=True)
class HandoverView:
    """A recorded handover (领取 / 寄递)."""

    kind: HandoverKind
    collector_name: str | None
    collector_id_masked: str | None
    tracking_no: str | None
    handed_over_on: dt.date
    handed_over_by: str
    at: str


@dataclass(frozen=True, slots=True)
class RevocationView:
    """Why and when a certificate was revoked."""

    reason: str
    revoked_at: str
    revoked_by: str
    source: str


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as front ends show it (the holder ID unmasked only in :attr:`body`)."""

    body: CertificateBody
    seal: str
    qr: str
    origin: str
    issued_by: str
    printed: int
    created_at: str
    handover: HandoverView | None
    revocation: RevocationView | None

    @property
    def identifier(self) -> str:
        """The GB/T 36904 identifier."""
        return self.body.identifier

    @property
    def holder_id_masked(self) -> str:
        """The holder's ID for lists."""
        return mask_id(self.body.holder_id)

    def status(self, today: dt.date) -> str:
        """revoked, expired, handed_over or waiting (for handover)."""
        if self.revocation is not None:
            return "revoked"
        if self.body.valid_until is not None and self.body.valid_until < today:
            return "expired"
        return "handed_over" if self.handover is not None else "waiting"

    def to_dict(self, today: dt.date) -> dict[str, Any]:
        """JSON-ready form with the holder ID masked (``cert show --json``)."""
        data = self.body.to_dict()
        data.pop("holder_id")
        data["holder_id_masked"] = self.holder_id_masked
        data.update(
            qr=self.qr,
            origin=self.origin,
            issued_by=self.issued_by,
            printed=self.printed,
            status=self.status(today),
            handover=None,
            revocation=None,
        )
        if self.handover is not None:
            h = self.handover
            data["handover"] = {
                "kind": h.kind.value,
                "collector_name": h.collector_name,
                "collector_id_masked": h.collector_id_masked,
                "tracking_no": h.tracking_no,
                "handed_over_on": h.handed_over_on.isoformat(),
                "handed_over_by": h.handed_over_by,
            }
        if self.revocation is not None:
            r = self.revocation
            data["revocation"] = {"reason": r.reason, "revoked_at": r.revoked_at, "revoked_by": r.revoked_by}
        return data

    def sealed_record(self) -> dict[str, Any]:
        """The full record a verifier checks with :func:`models.seal.verify_record`."""
        return {"certificate": self.body.to_dict(), "seal": self.seal, "qr": self.qr}


@dataclass(frozen=True, slots=True)
class KeyView:
    """A signing key as ``keys list`` shows it."""

    key_id: str
    station: str
    origin: str  # "own" | "published"
    created_at: str
    retired_at: str | None
    revoked_at: str | None
    revoked_reason: str | None
    public_key: str

    @property
    def state(self) -> str:
        """active, retired or revoked."""
        if self.revoked_at:
            return "revoked"
        return "retired" if self.retired_at else "active"
