"""The outcome of a verification (:class:`Verification`), as ``verify --json`` prints it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.certificates.codes import VerifyStatus
from models.certificates.payload import QrPayload
from models.problems import Problem


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verifying a QR text or a sealed record."""

    status: VerifyStatus
    problem: Problem
    payload: QrPayload | None = None  # the claimed content (trusted only when the seal held)
    details: Mapping[str, Any] = field(default_factory=dict)  # extra facts (revocation, type name)

    @property
    def valid(self) -> bool:
        """Only ``valid`` is valid."""
        return self.status is VerifyStatus.VALID

    def to_dict(self) -> dict[str, Any]:
        """The ``verify --json`` object: status, reason, and details where the seal held."""
        out: dict[str, Any] = {
            "status": self.status.value,
            "code": self.problem.code,
            "reason": self.problem.en(),
            "reason_zh": self.problem.zh(),
        }
        sealed = self.status in (VerifyStatus.VALID, VerifyStatus.REVOKED, VerifyStatus.EXPIRED)
        if self.payload is not None:
            if sealed:
                out.update(self.payload.to_dict())
            else:  # unverified claims are labelled as such
                out["claimed_identifier"] = self.payload.identifier
                out["key_id"] = self.payload.key_id
        out.update(self.details)
        return out
