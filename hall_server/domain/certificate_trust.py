"""Whom the hall believes about certificates: proofs of approval, and what each station may issue.

The hall trusts no claim it can check:

- **Who approved** registering a station key, revoking a key or revoking a certificate is proved,
  never named: by the caller's token (a supervisor of the station concerned, an admin, or the
  back office), or by a supervisor's signed :class:`~models.approval.Approval` of exactly that
  act on exactly that subject at that station (made offline at a counter and pushed later by
  anyone's sync), checked by :func:`hall_server.domain.approvals.approver_of`. The proof is kept
  (``certificate_proofs``, schema version 6) so anyone can check it again later.
- **What a station may seal** comes from the catalogue in force (:class:`StationRights`): its
  issuing authority code and the certificate types of the items it may accept
  (:func:`models.seal.issuing_stations`), the same rule every station applies offline.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from hall_server import storage
from hall_server.domain.approvals import approver_of
from hall_server.domain.auth import Principal
from hall_server.domain.reference import catalog_revision, current_catalog
from hall_server.storage import PROOFS
from models.approval import Approval
from models.catalog import catalog_from_dict
from models.enums import Role
from models.seal import IssuingStation, issuing_stations


@dataclass(frozen=True, slots=True)
class Proof:
    """A checked approval: who, and (for a signed approval) when they signed it."""

    by: str
    signed_at: str | None = None
    approval: Mapping[str, str] | None = None


def _signed_time(text: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return text if moment.tzinfo is not None else None


def prove(
    conn: Connection, principal: Principal, act: str, subject: str, station: str, approval: object
) -> Proof | None:
    """Who approved ``act`` on ``subject`` at ``station``, or ``None`` when nothing proves it.

    A valid signed ``approval`` wins (it names the supervisor who decided, offline maybe);
    otherwise the caller's token must be the back office's, an admin's, or a supervisor's of
    ``station``. A clerk's token proves nothing, whatever the request body names.
    """
    if approval is not None:
        by = approver_of(conn, approval, act, subject, station)
        checked = Approval.from_dict(approval)
        if by is not None and checked is not None:
            return Proof(by, _signed_time(checked.at), checked.to_dict())
    if principal.back_office or principal.role == Role.ADMIN.value:
        return Proof(principal.staff_no)
    if principal.is_supervisor and station and principal.station == station:
        return Proof(principal.staff_no)
    return None


def record_proof(
    conn: Connection, act: str, subject: str, station: str, proof: Proof, caller: Principal, now: dt.datetime
) -> None:
    """Keep the proof of an act the hall carried out (first one wins)."""
    known = conn.execute(select(PROOFS.c.act).where(PROOFS.c.act == act, PROOFS.c.subject == subject)).first()
    if known is not None:
        return
    storage.insert_rows(
        conn,
        PROOFS,
        [
            {
                "act": act,
                "subject": subject,
                "station": station,
                "by_staff": proof.by,
                "approval": json.dumps(dict(proof.approval), sort_keys=True) if proof.approval else None,
                "caller": caller.staff_no,
                "recorded_at": storage.iso(now),
            }
        ],
    )


class StationRights:
    """What each station may issue, from the catalogue in force (re-read when it is republished)."""

    def __init__(self, fallback: Callable[[], dict[str, Any]]) -> None:
        self._fallback = fallback
        self._cached: tuple[int, Mapping[str, IssuingStation]] | None = None

    def of(self, conn: Connection) -> Mapping[str, IssuingStation]:
        """Station code → its issuer code and certificate types (one small query when unchanged)."""
        revision = catalog_revision(conn)
        cached = self._cached
        if cached is None or cached[0] != revision:
            fallback = self._fallback() if revision == 0 else {}
            document = current_catalog(conn, fallback)
            cached = (revision, issuing_stations(catalog_from_dict(document.catalog)))
            self._cached = cached  # one assignment: concurrent readers see the old or the new pair
        return cached[1]
