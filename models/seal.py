"""The electronic seal: SM2 signatures over SM3 (国密, as GB/T 38540 seals use), and verification.

The curve arithmetic is :mod:`models.sm2`'s (OpenSSL 3 in C, gmssl as the fallback); this module
names keys, frames signatures and turns every failure into a precise status. Both the client and
the hall server verify with :func:`verify_qr` / :func:`verify_record`, so the two can never
disagree on what "valid" means.

A good seal is not enough: a station's key may only seal identifiers that station may issue
(:func:`binding_problem`). The serial must start with the key's station, the issuer code must be
that station's issuing authority, and the type must be one of the certificate types of the items
the station may accept — all from the catalogue (:func:`issuing_stations`). Otherwise any station
could seal a certificate carrying another station's identifier with its own, genuine key.

Private keys are drawn from :mod:`secrets`; signing nonces from OpenSSL's CSPRNG (or
:mod:`secrets` with gmssl): a predictable SM2 nonce gives the private key away.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models import sm2
from models.catalog import Catalog, Package
from models.certificates import (
    SIGNATURE_BYTES,
    CertificateBody,
    CompactQr,
    Identifier,
    QrDecodeError,
    QrPayload,
    Verification,
    VerifyStatus,
    decode_compact,
    encode_compact,
    frame_qr,
    type_ref,
    unframe_qr,
)
from models.problems import Problem

_N = sm2.N
_PUBLIC_HEX = re.compile(r"^[0-9a-f]{128}$")
_PRIVATE_HEX = re.compile(r"^[0-9a-f]{64}$")
KEY_PROOF_PREFIX = "ZZKEY1"
_ASCII_DIGITS = frozenset("0123456789")


sm3_hex = sm2.sm3_hex


def _scalar() -> int:
    """A uniformly random scalar in [1, n-2] (an SM2 private key)."""
    return secrets.randbelow(_N - 2) + 1


def key_id_for(station: str, public_hex: str) -> str:
    """A key's id: its station and the first 12 hex digits of the SM3 of the public key.

    Derived from the key itself, so a reinstalled station can never reuse an id for a
    different key, and anyone can check that an id belongs to a key.
    """
    return f"{station}-{sm3_hex(bytes.fromhex(public_hex))[:12].upper()}"


def key_proof_message(key_id: str, station: str, public_hex: str) -> bytes:
    """What a key signs to prove its holder has the private half (proof of possession)."""
    return f"{KEY_PROOF_PREFIX}|{key_id}|{station}|{public_hex}".encode("ascii")


@dataclass(frozen=True)
class KeyPair:
    """A station's signing key (private half included: it never leaves the station's store)."""

    key_id: str
    station: str
    private_hex: str
    public_hex: str
    _signer: sm2.Signer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (_PRIVATE_HEX.match(self.private_hex) and _PUBLIC_HEX.match(self.public_hex)):
            raise ValueError("an SM2 key pair is 64 + 128 lower-case hex digits")
        d = int(self.private_hex, 16)
        if not 0 < d < _N - 1:
            raise ValueError("an SM2 private key is a scalar in [1, n-2]")
        signer = sm2.backend().signer(d, bytes.fromhex(self.public_hex))
        object.__setattr__(self, "_signer", signer)

    def sign(self, data: bytes) -> bytes:
        """SM2 signature (r||s, 64 bytes) of SM3(Z_A || data), with a CSPRNG nonce."""
        return self._signer(data)

    def proof(self) -> str:
        """The proof of possession published with the public key (hex)."""
        return self.sign(key_proof_message(self.key_id, self.station, self.public_hex)).hex()

    def public(self) -> PublicKey:
        """The public half."""
        return PublicKey(self.key_id, self.station, self.public_hex)


def generate_key_pair(station: str) -> KeyPair:
    """A new SM2 key pair for ``station`` (public key = d·G)."""
    d = _scalar()
    private_hex = f"{d:064x}"
    public_hex = sm2.public_key_hex(d)
    return KeyPair(key_id_for(station, public_hex), station, private_hex, public_hex)


@dataclass(frozen=True)
class PublicKey:
    """A published verification key, with its verifier built once (verification is hot)."""

    key_id: str
    station: str
    public_hex: str
    revoked_at: str | None = None
    revoked_reason: str | None = None
    _verifier: sm2.Verifier = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _PUBLIC_HEX.match(self.public_hex):
            raise ValueError("an SM2 public key is 128 lower-case hex digits (x || y)")
        # A point off the curve gets a verifier that accepts nothing.
        object.__setattr__(self, "_verifier", sm2.backend().verifier(bytes.fromhex(self.public_hex)))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` (r||s, 64 bytes, r and s in [1, n-1]) signs ``data``; never raises."""
        return len(signature) == SIGNATURE_BYTES and self._verifier(signature, data)


def check_published_key(key_id: str, station: str, public_hex: str, proof_hex: str) -> PublicKey | None:
    """The key when its id matches it and its proof of possession verifies; else ``None``.

    The proof also shows the key is a real curve point: an arbitrary 128-hex string cannot
    verify a signature.
    """
    if not (isinstance(public_hex, str) and _PUBLIC_HEX.match(public_hex)):
        return None
    if key_id != key_id_for(station, public_hex):
        return None
    try:
        proof = bytes.fromhex(proof_hex)
    except (TypeError, ValueError):
        return None
    key = PublicKey(key_id, station, public_hex)
    return key if key.verify(proof, key_proof_message(key_id, station, public_hex)) else None


@dataclass(frozen=True, slots=True)
class Revocation:
    """A revoked certificate."""

    identifier: str
    revoked_at: str
    reason: str
    revoked_by: str


@dataclass(frozen=True, slots=True)
class IssuingStation:
    """What a station may put into the identifiers it seals (from the catalogue)."""

    code: str
    issuer_code: str  # its issuing authority's 统一社会信用代码 (catalogue ``stations[].issuer_uscc``)
    type_codes: frozenset[str]  # GB/T 36904 type codes of the items and packages it may accept
    # The type codes by their ZZ2 reference (derived; a ZZ2 verification looks its type up here).
    types_by_ref: Mapping[int, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found: dict[int, tuple[str, ...]] = {}
        for code in sorted(self.type_codes):
            found[type_ref(code)] = (*found.get(type_ref(code), ()), code)
        object.__setattr__(self, "types_by_ref", found)


def issuing_stations(catalog: Catalog) -> dict[str, IssuingStation]:
    """Every station of ``catalog`` with the issuer code and certificate types it may seal."""
    found: dict[str, IssuingStation] = {}
    for station in catalog.stations.values():
        codes: set[str] = set()
        for entry in catalog.acceptable_at(station):
            items = entry.items if isinstance(entry, Package) else (entry,)
            for item in items:
                kind = catalog.certificate_types.get(item.certificate_type or "")
                if kind is not None:
                    codes.add(kind.type_code)
        found[station.code] = IssuingStation(station.code, station.issuer_uscc, frozenset(codes))
    return found


@dataclass
class TrustStore:
    """What a verifier trusts: published keys (revoked ones marked), revoked certificates, and
    what each station may issue (a verifier without a station's entry trusts none of its seals)."""

    keys: dict[str, PublicKey] = field(default_factory=dict)
    revoked: Mapping[str, Revocation] = field(default_factory=dict)
    type_names: Mapping[str, str] = field(default_factory=dict)  # GB/T 36904 type code -> name
    stations: Mapping[str, IssuingStation] = field(default_factory=dict)


def binding_problem(identifier_text: str, key: PublicKey, trust: TrustStore) -> Problem | None:
    """Why ``key`` could not have sealed ``identifier_text`` legitimately, or ``None``.

    The serial's station part must be the key's station, the issuer code that station's issuing
    authority, and the type one the station may issue.
    """
    return _binding_problem(Identifier.parse(identifier_text), key, trust)


def _binding_problem(identifier: Identifier | None, key: PublicKey, trust: TrustStore) -> Problem | None:
    """:func:`binding_problem` of an identifier already parsed (verification parses it once)."""
    station = key.station
    rights = trust.stations.get(station)
    if rights is None:
        return Problem("cert.verify.station_unknown", {"station": station})
    if identifier is None:
        return Problem("cert.verify.content")
    own = identifier.station_sequence
    if own is None or own[0] != station.upper():
        return Problem("cert.verify.serial_station", {"serial": identifier.serial, "station": station})
    if identifier.issuer_code != rights.issuer_code:
        params = {"issuer_code": identifier.issuer_code, "station": station, "expected": rights.issuer_code}
        return Problem("cert.verify.issuer", params)
    if identifier.type_code not in rights.type_codes:
        return Problem("cert.verify.type", {"station": station, "type_code": identifier.type_code})
    return None


def _judge(
    payload: QrPayload, identifier: Identifier | None, key: PublicKey, trust: TrustStore, today: dt.date
) -> Verification:
    """The status of an authentic payload (``identifier``: its identifier, parsed): revoked,
    expired or valid."""
    details: dict[str, Any] = {"station": key.station}
    if identifier is not None:
        details["type_code"] = identifier.type_code
        details["issuer_code"] = identifier.issuer_code
        name = trust.type_names.get(identifier.type_code)
        if name:
            details["type_name"] = name
    if key.revoked_at is not None:
        details["revoked_at"] = key.revoked_at
        problem = Problem("cert.verify.key_revoked", {"key_id": key.key_id, "at": key.revoked_at})
        return Verification(VerifyStatus.REVOKED, problem, payload, details)
    revocation = trust.revoked.get(payload.identifier)
    if revocation is not None:
        details["revoked_at"] = revocation.revoked_at
        details["revocation_reason"] = revocation.reason
        problem = Problem(
            "cert.verify.revoked", {"at": revocation.revoked_at[:10], "reason": revocation.reason}
        )
        return Verification(VerifyStatus.REVOKED, problem, payload, details)
    if payload.valid_until is not None and payload.valid_until < today:
        problem = Problem("cert.verify.expired", {"valid_until": payload.valid_until.isoformat()})
        return Verification(VerifyStatus.EXPIRED, problem, payload, details)
    return Verification(VerifyStatus.VALID, Problem("cert.verify.valid"), payload, details)


def verify_qr(text: str, trust: TrustStore, today: dt.date) -> Verification:
    """Verify a QR text offline: malformed → unknown key → altered → revoked → expired → valid.

    Either format: ``ZZ2`` digits (:func:`_verify_compact`) or a ``ZZ1:`` text.
    """
    if text.lstrip()[:1] in _ASCII_DIGITS:  # meant as ZZ2 (decoding names any other character)
        return _verify_compact(text, trust, today)
    try:
        content, signature = unframe_qr(text)
    except QrDecodeError as exc:
        return Verification(exc.status, exc.problem)
    try:
        payload = QrPayload.from_content(content)
    except ValueError:  # UnicodeDecodeError is a ValueError
        # The frame is intact but the content is not something any issuer writes.
        return Verification(VerifyStatus.ALTERED, Problem("cert.verify.content"))
    key = trust.keys.get(payload.key_id)
    if key is None:
        return Verification(
            VerifyStatus.UNKNOWN_KEY, Problem("cert.verify.unknown_key", {"key_id": payload.key_id}), payload
        )
    if not key.verify(signature, content):
        return Verification(VerifyStatus.ALTERED, Problem("cert.verify.signature"), payload)
    identifier = Identifier.parse(payload.identifier)
    unbound = _binding_problem(identifier, key, trust)
    if unbound is not None:
        return Verification(VerifyStatus.ALTERED, unbound, payload, {"station": key.station})
    return _judge(payload, identifier, key, trust, today)


def _compact_payloads(compact: CompactQr, trust: TrustStore) -> list[tuple[Identifier, QrPayload]]:
    """The identifiers (and payloads) a ``ZZ2`` text may stand for: the issuer code of its
    station and each of that station's type codes with the text's reference."""
    rights = trust.stations.get(compact.station)
    if rights is None:
        return []
    found = []
    for type_code in rights.types_by_ref.get(compact.type_ref, ()):
        identifier = compact.identifier(type_code, rights.issuer_code)
        found.append((identifier, compact.payload(identifier)))
    return found


def _unissuable_type(compact: CompactQr, trust: TrustStore) -> Verification:
    """No type of the station has the text's reference: named (with the claimed identifier)
    where another station issues one that has it (a failure path: every station is searched)."""
    station = compact.station
    details = {"station": station}
    for rights in trust.stations.values():
        named = rights.types_by_ref.get(compact.type_ref)
        if named:
            issuer_code = trust.stations[station].issuer_code
            claimed = compact.payload(compact.identifier(named[0], issuer_code))
            problem = Problem("cert.verify.type", {"station": station, "type_code": named[0]})
            return Verification(VerifyStatus.ALTERED, problem, claimed, details)
    problem = Problem("cert.verify.type_ref", {"station": station, "ref": f"{compact.type_ref:04X}"})
    return Verification(VerifyStatus.ALTERED, problem, None, details)


def _verify_compact(text: str, trust: TrustStore, today: dt.date) -> Verification:
    """:func:`verify_qr` of a ``ZZ2`` text: the catalogue supplies the codes it refers to, and
    the signature over the full content decides which (if any) the issuer sealed."""
    try:
        compact = decode_compact(text)
    except QrDecodeError as exc:
        return Verification(exc.status, exc.problem)
    candidates = _compact_payloads(compact, trust)
    claimed = candidates[0][1] if candidates else None
    key = trust.keys.get(compact.key_id)
    if key is None:
        problem = Problem("cert.verify.unknown_key", {"key_id": compact.key_id})
        return Verification(VerifyStatus.UNKNOWN_KEY, problem, claimed, {"key_id": compact.key_id})
    if compact.station not in trust.stations:
        return Verification(
            VerifyStatus.ALTERED, Problem("cert.verify.station_unknown", {"station": compact.station})
        )
    if not candidates:  # no type of the station has this reference: none it may issue
        return _unissuable_type(compact, trust)
    for identifier, payload in candidates:
        if key.verify(compact.signature, payload.content()):
            unbound = _binding_problem(identifier, key, trust)
            if unbound is not None:
                return Verification(VerifyStatus.ALTERED, unbound, payload, {"station": key.station})
            return _judge(payload, identifier, key, trust, today)
    return Verification(VerifyStatus.ALTERED, Problem("cert.verify.signature"), claimed)


def _record_problem(body: CertificateBody, identifier: Identifier | None, key: PublicKey) -> Problem | None:
    """A sealed record must also name the key's station and the identifier's issuer."""
    if body.station != key.station:
        return Problem("cert.verify.record_station", {"claimed": body.station, "station": key.station})
    if identifier is None or body.issuer_code != identifier.issuer_code:
        return Problem("cert.verify.content")
    return None


def verify_record(record: Any, trust: TrustStore, today: dt.date) -> Verification:
    """Verify a full certificate record ``{"certificate": {...}, "seal": hex}`` (its seal)."""
    if not isinstance(record, Mapping) or not isinstance(record.get("certificate"), Mapping):
        return Verification(VerifyStatus.MALFORMED, Problem("cert.verify.not_record"))
    seal_hex = record.get("seal")
    try:
        body = CertificateBody.from_dict(record["certificate"])
        seal = bytes.fromhex(seal_hex) if isinstance(seal_hex, str) else b""
    except (ValueError, KeyError, TypeError):
        return Verification(VerifyStatus.ALTERED, Problem("cert.verify.content"))
    payload = body.qr_payload()
    key = trust.keys.get(body.key_id)
    if key is None:
        problem = Problem("cert.verify.unknown_key", {"key_id": body.key_id})
        return Verification(VerifyStatus.UNKNOWN_KEY, problem, payload)
    if not key.verify(seal, body.canonical_bytes()):
        return Verification(VerifyStatus.ALTERED, Problem("cert.verify.signature"), payload)
    identifier = Identifier.parse(body.identifier)
    unbound = _binding_problem(identifier, key, trust) or _record_problem(body, identifier, key)
    if unbound is not None:
        return Verification(VerifyStatus.ALTERED, unbound, payload, {"station": key.station})
    return _judge(payload, identifier, key, trust, today)


def seal_certificate(key: KeyPair, body: CertificateBody) -> tuple[str, str]:
    """(seal hex, QR text) of a certificate body signed with ``key``."""
    if body.key_id != key.key_id:
        raise ValueError("the body names another key")
    seal = key.sign(body.canonical_bytes())
    payload = body.qr_payload()
    content = payload.content()
    signature = key.sign(content)
    return seal.hex(), encode_compact(payload, signature) or frame_qr(content, signature)
