"""A supervisor's approval that the hall can check: an SM2 signature made at the counter.

A claim such as ``approved_by: "S001"`` proves nothing: any clerk can type it. An approval is
therefore signed. The signing key is *derived from the supervisor's password* (argon2id, salted
with the staff number, then reduced to an SM2 scalar), so:

- the counter can sign offline whenever the supervisor re-authenticates there (types the
  password), without any key stored on the station;
- the hall learns the matching public key whenever it sees that password: when the account is
  created or its password set, and at each online sign-in (:func:`approval_public_key`), and
  keeps every public key a staff member has had, so approvals made before a password change
  still verify;
- an attacker with a copy of the station's store gets the cached argon2 hash, and finding the
  key from it costs exactly as much as guessing the password (the same argon2id work per guess).

What is signed binds the approval to one act on one subject at one station
(:func:`approval_message`), so an approval cannot be moved to another case, certificate or
station. The hall checks, besides the signature, that the signer is an active supervisor (or
admin) and, for a supervisor, that the station is theirs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw

from models.seal import KeyPair, PublicKey, sm3_hex
from models.sm2 import N, public_key_hex

APPROVAL_PREFIX = "ZZAPPR1"
# The same work as the password hashes (argon2-cffi's PasswordHasher defaults, RFC 9106 low-memory).
_TIME_COST, _MEMORY_KIB, _PARALLELISM = 3, 65536, 4


class ApprovalAct:
    """What an approval is for (the ``act`` of :func:`approval_message`)."""

    TERMINATE = "case.terminate"  # 终止 a case (not decided by the 容缺 rules)
    TOLERATE = "case.tolerate"  # 容缺受理 beyond policy (the verdict needs a supervisor)
    REVOKE_CERTIFICATE = "cert.revoke"
    REVOKE_KEY = "key.revoke"
    REGISTER_KEY = "key.register"


def _salt(staff_no: str) -> bytes:
    return hashlib.sha256(f"window-client approval key|{staff_no}".encode()).digest()[:16]


def derive_approval_key(staff_no: str, password: str) -> KeyPair:
    """The SM2 key pair a staff member's password stands for (deterministic, ~50 ms of argon2id)."""
    seed = hash_secret_raw(
        password.encode("utf-8"),
        _salt(staff_no),
        time_cost=_TIME_COST,
        memory_cost=_MEMORY_KIB,
        parallelism=_PARALLELISM,
        hash_len=48,  # 384 bits reduced mod n: the bias is below 2**-128
        type=Type.ID,
    )
    d = int.from_bytes(seed, "big") % (N - 2) + 1
    private_hex = f"{d:064x}"
    public_hex = public_key_hex(d)
    return KeyPair(approval_key_id(staff_no, public_hex), staff_no, private_hex, public_hex)


def approval_key_id(staff_no: str, public_hex: str) -> str:
    """The id of a staff member's approval key: ``staff:<no>-<first 12 hex of SM3(public)>``."""
    return f"staff:{staff_no}-{sm3_hex(bytes.fromhex(public_hex))[:12].upper()}"


def approval_public_key(staff_no: str, password: str) -> str:
    """The public half (128 hex digits) the hall records when it sees ``password``."""
    return derive_approval_key(staff_no, password).public_hex


def approval_message(act: str, subject: str, station: str, by: str, at: str) -> bytes:
    """What an approval signs: one act on one subject at one station, by whom and when."""
    for part in (act, subject, station, by, at):
        if "|" in part:
            raise ValueError("an approval field cannot contain '|'")
    return f"{APPROVAL_PREFIX}|{act}|{subject}|{station}|{by}|{at}".encode()


@dataclass(frozen=True, slots=True)
class Approval:
    """A signed approval, as it travels in an operation's payload (``payload["approval"]``)."""

    act: str
    subject: str
    station: str
    by: str
    at: str
    key_id: str
    signature: str  # hex r||s

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {
            "act": self.act,
            "subject": self.subject,
            "station": self.station,
            "by": self.by,
            "at": self.at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Approval | None:
        """The approval in ``data``, or ``None`` when it is not one (never raises)."""
        if not isinstance(data, Mapping):
            return None
        names = ("act", "subject", "station", "by", "at", "key_id", "signature")
        values = [data.get(name) for name in names]
        if not all(isinstance(v, str) and 0 < len(v) <= 256 for v in values):
            return None
        return cls(*values)  # type: ignore[arg-type]


def sign_approval(key: KeyPair, act: str, subject: str, station: str, at: str) -> Approval:
    """``key``'s holder (``key.station`` is the staff number) approves ``act`` on ``subject``."""
    by = key.station
    signature = key.sign(approval_message(act, subject, station, by, at)).hex()
    return Approval(act, subject, station, by, at, key.key_id, signature)


def check_approval(
    approval: Approval, act: str, subject: str, station: str, public_keys: Iterable[str]
) -> bool:
    """Whether ``approval`` is for exactly this act, subject and station, and is signed by one of
    ``public_keys`` (the hex public keys the verifier knows for ``approval.by``)."""
    if (approval.act, approval.subject, approval.station) != (act, subject, station):
        return False
    try:
        message = approval_message(act, subject, station, approval.by, approval.at)
        signature = bytes.fromhex(approval.signature)
    except ValueError:
        return False
    for public_hex in public_keys:
        if approval_key_id(approval.by, public_hex) != approval.key_id:
            continue
        try:
            key = PublicKey(approval.key_id, approval.by, public_hex)
        except ValueError:
            continue
        if key.verify(signature, message):
            return True
    return False
