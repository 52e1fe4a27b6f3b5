"""This station's SM2 signing keys, each approved by a supervisor before it seals anything.

A key the hall would publish on a clerk's word alone would let any clerk make keys for their
station at will; the hall therefore registers a key only with a supervisor's approval
(``hall_server.certificates``). The counter gets that approval where the key is made — on the
first issue, or ``keys rotate`` — from a supervisor who re-authenticates there (their password
derives their approval key, :mod:`models.approval`), offline too. The signed approval is kept
with the key, so whoever syncs later (a clerk) sends it with the key, and the hall checks it.

A key that carries neither an approval nor the hall's registration does not seal: issuing asks
for a supervisor first (``cert.key_needs_approval``).
"""

from __future__ import annotations

from models.approval import Approval, ApprovalAct, sign_approval
from models.certificates import KeyView
from models.enums import Role
from models.problems import DomainError
from models.seal import KeyPair, generate_key_pair
from offline_cache import Store, UnitOfWork, own_key_repo
from offline_cache import certificate_repo as cert_repo
from window_client.services.key_vault import SEALED_PREFIX, KeyVault, is_sealed
from window_client.services.staff import StaffMember


def may_approve(member: StaffMember, station: str) -> bool:
    """Whether ``member`` can sign approvals for ``station``: an admin, or a supervisor of it, who
    typed their password (it derives the approval key)."""
    if not member.is_supervisor or member.approval_key is None:
        return False
    return member.role is Role.ADMIN or member.station == station


def approval_by(member: StaffMember, act: str, subject: str, station: str, at: str) -> Approval | None:
    """``member``'s signed approval of ``act`` on ``subject`` at ``station``, or ``None`` when they
    may not give it (:func:`may_approve`)."""
    if not may_approve(member, station) or member.approval_key is None:
        return None
    return sign_approval(member.approval_key, act, subject, station, at)


class StationKeys:
    """The signing keys of one station's store."""

    def __init__(self, store: Store, station: str, vault: KeyVault) -> None:
        self.store = store
        self.station = station
        self.vault = vault  # the private halves are stored sealed (window_client.services.key_vault)

    def needs_approval(self) -> bool:
        """Whether issuing now needs a supervisor (no active key, or one nobody approved)."""
        with self.store.reading() as conn:
            row = own_key_repo.active_own_key(conn, self.station)
        return row is None or not row[3]

    def signing_key(self, unit: UnitOfWork, approver: StaffMember | None) -> KeyPair:
        """The approved key that signs now; made and approved by ``approver`` when there is none."""
        row = own_key_repo.active_own_key(unit.conn, self.station)
        if row is not None and row[3]:
            return self._open(row[0], row[1], row[2])
        if approver is None:
            raise DomainError.of("cert.key_needs_approval")
        self._check_approver(approver)
        pair = self._generate(unit) if row is None else self._open(row[0], row[1], row[2])
        self._approve_pending(unit, approver)
        return pair

    def anchor_key(self, unit: UnitOfWork) -> KeyPair:
        """The key that seals audit heads: the station's active key, approved or not (a head's
        seal needs no supervisor: the hall keeps it as evidence, :mod:`hall_server.anchors`);
        generated inside ``unit`` when the station has none yet (a supervisor approves it at the
        first issue, and only then is it sent for registration)."""
        row = own_key_repo.active_own_key(unit.conn, self.station)
        return self._generate(unit) if row is None else self._open(row[0], row[1], row[2])

    def active_key_id(self) -> str | None:
        """The id of the station's active key, if any."""
        with self.store.reading() as conn:
            row = own_key_repo.active_own_key(conn, self.station)
        return None if row is None else row[0]

    def rotate(self, unit: UnitOfWork, approver: StaffMember) -> str:
        """Retire the signing key and start a new one approved by ``approver``; the new key's id."""
        self._check_approver(approver)
        retired = own_key_repo.retire_own_keys(unit, self.station)
        pair = self._generate(unit, "key.rotate", retired)
        self._approve_pending(unit, approver)
        return pair.key_id

    def list(self) -> list[KeyView]:
        """Every key the store knows (own and published)."""
        with self.store.reading() as conn:
            return cert_repo.list_keys(conn)

    def _open(self, key_id: str, stored: str, public: str) -> KeyPair:
        """An own key with its private half opened with the station secret."""
        private = self.vault.open(key_id, self.station, public, stored) if is_sealed(stored) else stored
        return KeyPair(key_id, self.station, private, public)

    def _generate(self, unit: UnitOfWork, action: str = "key.generate", retired: object = None) -> KeyPair:
        """A new key pair, stored sealed. The secret is created only for a store's first sealed
        key; otherwise it must open the keys already sealed (never a second, different one)."""
        sample = own_key_repo.any_sealed_own_key(unit.conn, SEALED_PREFIX)
        if sample is not None:
            self.vault.open(*sample)
        pair = generate_key_pair(self.station)
        stored = self.vault.seal(
            pair.key_id, pair.station, pair.private_hex, pair.public_hex, may_create=sample is None
        )
        own_key_repo.insert_own_key(unit, pair.key_id, pair.station, stored, pair.public_hex, pair.proof())
        detail: dict[str, object] = {"station": pair.station}
        if retired is not None:
            detail["retired"] = retired
        unit.audit(action, pair.key_id, detail)
        return pair

    def _check_approver(self, approver: StaffMember) -> None:
        if not may_approve(approver, self.station):
            raise DomainError.of("cert.not_key_approver", staff_no=approver.staff_no)

    def _approve_pending(self, unit: UnitOfWork, approver: StaffMember) -> None:
        """``approver`` approves every key of this station neither approved nor registered yet
        (the new one, and any made before approvals were needed)."""
        for key_id in own_key_repo.unapproved_own_keys(unit.conn, self.station):
            approval = approval_by(approver, ApprovalAct.REGISTER_KEY, key_id, self.station, unit.now)
            if approval is None:
                raise DomainError.of("cert.not_key_approver", staff_no=approver.staff_no)
            own_key_repo.set_key_approval(unit, key_id, approval.to_dict())
            unit.audit("key.approve", key_id, {"by": approval.by, "station": self.station})
