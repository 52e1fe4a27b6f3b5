"""``/certificates/...``: station keys, the revocation list and public verification
(:class:`~hall_server.services.certificates.CertificateAuthority` does the work; see its module)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep, PrincipalDep
from hall_server.services.certificate_models import (
    MAX_QR_CHARS,
    KeyAnswer,
    KeyList,
    KeyRegistration,
    RevocationAnswer,
    RevocationList,
    RevocationRequest,
)
from hall_server.services.certificates import CertificateAuthority

router = APIRouter(prefix="/certificates", tags=["certificates"])


def authority(service: HallDep) -> CertificateAuthority:
    """The app's certificate authority (built with the :class:`~hall_server.services.hall.Hall`)."""
    return service.certificates


@router.post("/keys", response_model=KeyAnswer, responses=error_responses(401, 403, 422, 500))
async def register_key(key: KeyRegistration, service: HallDep, caller: PrincipalDep) -> KeyAnswer:
    """Register a station's public signing key (supervisor-approved); published to every station."""
    return await run_in_threadpool(authority(service).register_key, caller, key)


@router.get("/keys", response_model=KeyList, responses=error_responses(500))
def list_keys(service: HallDep) -> KeyList:
    """Every registered key, revoked ones marked."""
    return KeyList(keys=authority(service).keys())


@router.post(
    "/keys/{key_id}/revoke", response_model=KeyAnswer, responses=error_responses(401, 403, 404, 422, 500)
)
async def revoke_key(
    key_id: str, body: RevocationRequest, service: HallDep, caller: PrincipalDep
) -> KeyAnswer:
    """Revoke a signing key (its station's supervisor or an admin, or their signed approval)."""
    return await run_in_threadpool(authority(service).revoke_key, caller, key_id, body.reason, body.approval)


@router.post(
    "/revocations", response_model=RevocationAnswer, responses=error_responses(401, 403, 409, 422, 500)
)
async def revoke_certificate(
    body: RevocationRequest, service: HallDep, caller: PrincipalDep
) -> RevocationAnswer:
    """Revoke a certificate (the issuing station's supervisor or an admin, or their signed
    approval); reaches every station on its next pull."""
    return await run_in_threadpool(authority(service).revoke_certificate, caller, body)


@router.get("/revocations", response_model=RevocationList, responses=error_responses(500))
def list_revocations(service: HallDep) -> RevocationList:
    """The revocation list."""
    return RevocationList(revocations=authority(service).revocations())


@router.get("/verify", responses=error_responses(422, 500))
def verify(
    service: HallDep,
    qr: Annotated[str, Query(max_length=MAX_QR_CHARS, description="the QR text (ZZ2 digits, or ZZ1:...)")],
    today: Annotated[dt.date | None, Query(description="judge expiry as of this date")] = None,
) -> dict[str, Any]:
    """Is this certificate valid? ``{"status": valid|altered|unknown_key|revoked|expired|malformed, ...}``."""
    return authority(service).verify(qr, today).to_dict()
