"""How halls prove who they are to each other: the signed identity document and signed requests.

Every hall has one SM2 identity key (:mod:`hall_server.services.hall_key`); its "station" is the
hall's name among its partners (:data:`models.catalog.HALL_NAME`), so its key id is
``NAME-<SM3 of the public key>`` and a certificate the hall seals binds to that name.

- ``GET /hall/identity?nonce=N`` answers :func:`identity_document`: the name, key, proof of
  possession, issuer code, the caller's nonce and the time, signed — so whoever adds the hall as
  a partner learns that the URL is a hall holding the private half of the key it was given.
- Every hall-to-hall request carries ``X-Hall-From``, ``X-Hall-Time`` and ``X-Hall-Signature``:
  an SM2 signature over :func:`request_message` (method, path, sender, receiver, time and the
  SM3 of the body). The receiver checks it with the key it has on file for the sender
  (:func:`check_request`), never with a key the request brings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hall_server.errors import ApiError
from models.catalog import HALL_NAME
from models.seal import KeyPair, PublicKey, check_published_key, sm3_hex

IDENTITY_PREFIX = "ZZHALLID1"
REQUEST_PREFIX = "ZZHALL1"
MAX_SKEW = dt.timedelta(minutes=15)  # a request older (or newer) than this is refused
FROM, TIME, SIGNATURE = "X-Hall-From", "X-Hall-Time", "X-Hall-Signature"


@dataclass(frozen=True)
class HallIdentity:
    """This hall's identity: its signing key (``key.station`` is the hall's name) and the
    统一社会信用代码 of the authority in whose name it issues certificates ('' when unset)."""

    key: KeyPair
    issuer_code: str = ""

    @property
    def name(self) -> str:
        """The hall's name among its partners."""
        return self.key.station

    def public_json(self) -> dict[str, str]:
        """What a partner needs (``hall-server key show --json``): name, key, proof, issuer."""
        return {
            "name": self.name,
            "key_id": self.key.key_id,
            "station": self.key.station,
            "public_key": self.key.public_hex,
            "proof": self.key.proof(),
            "issuer_code": self.issuer_code,
        }


def _identity_message(fields: Mapping[str, Any]) -> bytes:
    parts = [IDENTITY_PREFIX] + [str(fields[k]) for k in ("name", "key_id", "public_key", "issuer_code")]
    return "|".join([*parts, str(fields["nonce"]), str(fields["at"])]).encode()


def identity_document(identity: HallIdentity, nonce: str, now: dt.datetime) -> dict[str, str]:
    """The signed answer of ``GET /hall/identity``."""
    fields = {**identity.public_json(), "nonce": nonce, "at": now.astimezone(dt.UTC).isoformat()}
    return {**fields, "signature": identity.key.sign(_identity_message(fields)).hex()}


class IdentityMismatch(Exception):
    """A hall's identity document does not prove what it should (message in English)."""


def check_identity(document: Any, name: str, nonce: str, expected: Mapping[str, Any]) -> PublicKey:
    """The partner's key when ``document`` is a hall named ``name`` holding the ``expected`` key
    (its ``public_key`` and, when given, ``key_id``) and signed over our ``nonce``."""
    if not isinstance(document, Mapping) or not all(
        isinstance(document.get(k), str)
        for k in ("name", "key_id", "public_key", "proof", "issuer_code", "nonce", "at", "signature")
    ):
        raise IdentityMismatch("the URL did not answer with a hall's identity document")
    if document["name"] != name:
        raise IdentityMismatch(f"the hall at that URL is named {document['name']!r}, not {name!r}")
    if document["public_key"] != expected.get("public_key") or document["key_id"] != expected.get(
        "key_id", document["key_id"]
    ):
        raise IdentityMismatch(
            f"the hall at that URL signs with key {document['key_id']}, not the key in the file"
        )
    key = check_published_key(document["key_id"], name, document["public_key"], document["proof"])
    if key is None:
        raise IdentityMismatch("the hall's key id does not match its key, or its proof does not verify")
    try:
        signature = bytes.fromhex(document["signature"])
    except ValueError:
        signature = b""
    if document["nonce"] != nonce or not key.verify(signature, _identity_message(document)):
        raise IdentityMismatch("the identity document is not signed by that key for this request")
    return key


def request_message(method: str, path: str, sender: str, receiver: str, at: str, body: bytes) -> bytes:
    """What a hall signs for one request to a partner."""
    return f"{REQUEST_PREFIX}|{method}|{path}|{sender}|{receiver}|{at}|{sm3_hex(body)}".encode()


def sign_request(
    identity: HallIdentity, method: str, path: str, receiver: str, body: bytes
) -> dict[str, str]:
    """The headers that sign a request from this hall to ``receiver``."""
    at = dt.datetime.now(dt.UTC).isoformat()
    signature = identity.key.sign(request_message(method, path, identity.name, receiver, at, body))
    return {FROM: identity.name, TIME: at, SIGNATURE: signature.hex()}


def sender_of(headers: Mapping[str, str]) -> str:
    """The partner a request claims to come from (403 when it names none); checked later."""
    sender = headers.get(FROM.lower()) or ""
    if not HALL_NAME.match(sender):
        raise ApiError(401, "partner.unsigned")
    return sender


def check_request(
    headers: Mapping[str, str],
    key: PublicKey,
    method: str,
    path: str,
    receiver: str,
    body: bytes,
    now: dt.datetime,
) -> None:
    """Raise 401 ``partner.signature`` unless the request is signed by ``key`` for us, now."""
    sender, at = headers.get(FROM.lower()) or "", headers.get(TIME.lower()) or ""
    try:
        signature = bytes.fromhex(headers.get(SIGNATURE.lower()) or "")
        moment = dt.datetime.fromisoformat(at)
    except ValueError:
        raise ApiError(401, "partner.signature", partner=sender) from None
    if moment.tzinfo is None or abs(now - moment) > MAX_SKEW:
        raise ApiError(401, "partner.signature", partner=sender)
    if not key.verify(signature, request_message(method, path, sender, receiver, at, body)):
        raise ApiError(401, "partner.signature", partner=sender)
