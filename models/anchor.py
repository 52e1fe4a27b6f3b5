"""Audit anchors: a station's audit chain head, sealed with its SM2 key and kept by the hall.

The station's chain (:mod:`offline_cache.audit`) is unkeyed, and its signing key lives in the
same store: whoever holds the file can rewrite the trail and recompute it. The anchor makes the
hall a witness: with every push the station sends ``(seq, hash)`` of its head, and its hashes at
the last head the hall accepted and at heads sent since (the links). The hall keeps each one; a
later head that goes back, or names another hash at a sequence the hall already holds, is an
alarm. The seal says
which station key vouched for the head, so a stolen staff token alone cannot plant heads.

Both sides build the sealed message with :func:`anchor_message`; nothing else is signed with it
(its prefix differs from every other message a station key signs).
"""

from __future__ import annotations

from collections.abc import Sequence

from models.seal import KeyPair, PublicKey, key_id_for
from models.sync import AuditAnchor, AuditLink

ANCHOR_PREFIX = "ZZAUDIT1"


def anchor_message(station: str, seq: int, digest: str, links: Sequence[AuditLink], key_id: str) -> bytes:
    """The bytes an anchor's seal signs."""
    linked = ",".join(f"{link.seq}:{link.hash}" for link in links)
    return f"{ANCHOR_PREFIX}|{station}|{seq}|{digest}|{linked}|{key_id}".encode("ascii")


def seal_anchor(key: KeyPair, seq: int, digest: str, links: Sequence[AuditLink] = ()) -> AuditAnchor:
    """The station's head ``(seq, digest)`` sealed with ``key``."""
    signature = key.sign(anchor_message(key.station, seq, digest, links, key.key_id))
    return AuditAnchor(
        seq=seq,
        hash=digest,
        links=list(links),
        key_id=key.key_id,
        public_key=key.public_hex,
        seal=signature.hex(),
    )


def seal_holds(station: str, anchor: AuditAnchor) -> bool:
    """Whether ``anchor`` is sealed by the key it names, and that key is one of ``station``'s."""
    if anchor.key_id != key_id_for(station, anchor.public_key):
        return False
    try:
        key = PublicKey(anchor.key_id, station, anchor.public_key)
    except ValueError:
        return False
    message = anchor_message(station, anchor.seq, anchor.hash, anchor.links, anchor.key_id)
    return key.verify(bytes.fromhex(anchor.seal), message)
