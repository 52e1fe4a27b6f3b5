"""The certificate API's requests and answers (``/certificates/...``), shared by the
:class:`~hall_server.services.certificates.CertificateAuthority`, its router and the CLI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from models.text import REASON_LIMIT  # the one limit, the station's too

MAX_QR_CHARS = 4000


class KeyRegistration(BaseModel):
    """A station's public key, as ``window-client`` publishes it."""

    key_id: str = Field(min_length=3, max_length=64)
    station: str = Field(min_length=1, max_length=32)
    public_key: str = Field(min_length=128, max_length=128)
    proof: str = Field(min_length=128, max_length=128)
    created_at: str = Field(default="", max_length=64)
    approval: dict[str, Any] | None = None  # a supervisor's signed approval (models.approval)


class KeyAnswer(BaseModel):
    """The outcome of a registration or revocation: ``registered``, ``known`` or ``revoked``."""

    key_id: str
    status: str


class PublishedKey(BaseModel):
    """A registered key as the hall publishes it."""

    key_id: str
    station: str
    public_key: str
    proof: str
    created_at: str
    revoked_at: str | None = None
    revoked_reason: str | None = None


class KeyList(BaseModel):
    """Every registered key."""

    keys: list[PublishedKey]


class RevocationRequest(BaseModel):
    """Revoke a certificate (or, for a key, ``reason`` and ``approval`` are read).

    ``revoked_by`` and ``revoked_at`` are accepted from older stations and ignored: who revoked
    and when come from the proof (the caller's token, or the signed ``approval``).
    """

    identifier: str = Field(default="", max_length=128)
    reason: str = Field(min_length=1, max_length=REASON_LIMIT)
    revoked_at: str | None = Field(default=None, max_length=64)
    revoked_by: str | None = Field(default=None, max_length=32)
    approval: dict[str, Any] | None = None  # a supervisor's signed approval (models.approval)


class RevocationAnswer(BaseModel):
    """The outcome of a revocation: ``revoked`` now, or ``known`` (revoked before)."""

    identifier: str
    status: str
    revoked_at: str


class RevocationEntry(BaseModel):
    """One entry of the revocation list."""

    identifier: str
    reason: str
    revoked_at: str
    revoked_by: str


class RevocationList(BaseModel):
    """The revocation list."""

    revocations: list[RevocationEntry]
