"""``GET /hall/identity`` and ``POST /partners/inbox``: what partner halls ask of each other.

The identity is public (a hall about to be added as a partner proves its key with it); the inbox
takes only requests signed with the key this hall has on file for the sender
(:mod:`hall_server.domain.partner_auth`), and answers each message once
(:mod:`hall_server.services.crosshall_in`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from hall_server.errors import error_responses
from hall_server.routers.deps import HallDep

router = APIRouter(tags=["partners"])


@router.get("/hall/identity", responses=error_responses(404, 422, 500))
def identity(
    service: HallDep,
    nonce: Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")],
) -> dict[str, str]:
    """This hall's name, SM2 key (with its proof of possession) and issuer code, signed over
    the caller's ``nonce``: ``{name, key_id, station, public_key, proof, issuer_code, nonce, at,
    signature}``."""
    return service.identity_document(nonce)


@router.post("/partners/inbox", responses=error_responses(400, 401, 403, 404, 413, 422, 500))
async def inbox(request: Request, service: HallDep) -> dict[str, Any]:
    """A partner hall's messages (``{"to", "messages": [{"id", "kind", "key", "payload"}]}``),
    signed with ``X-Hall-From``, ``X-Hall-Time`` and ``X-Hall-Signature``; one answer per message
    (``{"results": [{"id", "status": applied|duplicate|refused, "code", "reason"}]}``)."""
    raw = await request.body()
    headers = {key.lower(): value for key, value in request.headers.items()}
    return await run_in_threadpool(service.partner_inbox, headers, raw)
