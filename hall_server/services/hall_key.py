"""The hall's own SM2 key: its identity among partner halls, the seal of its archive packages
and of the certificates it issues for cases received from partners.

The key is kept in a ``0600`` JSON file in ``$HALL_SERVER_HOME`` (:func:`default_path`:
``hall-key.json``; a hall whose key was made by ``archive export`` before it became the
identity keeps using ``archive-key.json``). ``hall-server key init NAME`` makes it with the
hall's name (the key's "station"); ``archive export`` makes one named ``HALL`` when there is
none yet, as it always did.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from hall_server.domain.partner_auth import HallIdentity
from models.catalog import HALL_NAME
from models.seal import KeyPair, generate_key_pair

FILE_NAME = "hall-key.json"
LEGACY_FILE_NAME = "archive-key.json"  # made by `archive export` before the key became the identity
DEFAULT_NAME = "HALL"
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class HallKeyError(Exception):
    """The key file cannot be used or made (message in English)."""


def default_path(home: Path) -> Path:
    """``hall-key.json`` in ``home``, or the legacy ``archive-key.json`` when only that exists."""
    path, legacy = home / FILE_NAME, home / LEGACY_FILE_NAME
    return legacy if legacy.exists() and not path.exists() else path


def _check_name(name: str) -> None:
    if not HALL_NAME.match(name):
        raise HallKeyError(
            f"a hall's name is 2-16 characters A-Z and 0-9 starting with a letter, not {name!r}"
        )


def _check_issuer(issuer_code: str) -> None:
    if issuer_code and (len(issuer_code) != 18 or any(ch not in _USCC for ch in issuer_code)):
        raise HallKeyError(f"the issuer code is an 18-character 统一社会信用代码, not {issuer_code!r}")


def create(path: Path, name: str = DEFAULT_NAME, issuer_code: str = "") -> HallIdentity:
    """Make the hall's key in ``path`` (``0600``); refused when the file exists."""
    _check_name(name)
    _check_issuer(issuer_code)
    pair = generate_key_pair(name)
    record = {
        "key_id": pair.key_id,
        "station": pair.station,
        "public_key": pair.public_hex,
        "private_key": pair.private_hex,
        "issuer_code": issuer_code,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise HallKeyError(f"the hall already has a key in {path}: it is kept (partners know it)") from None
    except OSError as exc:
        raise HallKeyError(f"cannot create the hall's key {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(json.dumps(record).encode())
    return HallIdentity(pair, issuer_code)


def load(path: Path) -> HallIdentity | None:
    """The hall's key from ``path`` (``None`` when there is none).

    :class:`HallKeyError` when the file is unreadable, not a key, or readable by others."""
    if not path.exists():
        return None
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise HallKeyError(f"the hall's key {path} may be read by others: chmod 600 it")
        value = json.loads(path.read_bytes())
        pair = KeyPair(value["key_id"], value["station"], value["private_key"], value["public_key"])
        issuer_code = str(value.get("issuer_code") or "")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HallKeyError(f"cannot read the hall's key {path}: {exc}") from None
    return HallIdentity(pair, issuer_code)


def load_or_create(path: Path) -> HallIdentity:
    """The hall's key, made (named ``HALL``) when there is none (what ``archive export`` does)."""
    found = load(path)
    if found is not None:
        return found
    try:
        return create(path)
    except HallKeyError:
        again = load(path)  # made meanwhile by another command
        if again is None:
            raise
        return again
