"""The station's signing keys at rest: sealed with SM4-GCM under a secret kept outside the store.

The SM2 private half of each own key is stored as ``sm4gcm1$salt$nonce$ciphertext`` (base64
parts). The SM4 key is derived from the *station secret* with argon2id and a random salt per
key; the additional data binds the blob to its key id, station and public key, so a blob moved
to another row does not open. The secret is, in this order:

1. ``WINDOW_CLIENT_STATION_SECRET`` (any passphrase; an office can keep it out of the data
   directory, e.g. set by the service manager or an admin's login script);
2. ``$WINDOW_CLIENT_HOME/station.secret``: 32 random bytes (hex), created ``0600`` the first
   time a key is sealed, and refused when other users may read it.

What an attacker gets:

- a copy of the store file only: public keys and ciphertext; the private keys cost as much as
  the secret (256 random bits for the file; the passphrase's strength through argon2id);
- the whole data directory (store and ``station.secret``): the private keys. Only the
  environment variable keeps them apart, and then only if it is not written to disk there;
- root on the laptop: everything the station can do (read the file or the process's memory).

The secret is never created when the store already holds a sealed key: a missing or wrong
secret is an error (:data:`SECRET_PROBLEMS`), never a silently regenerated key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from models.problems import DomainError
from offline_cache import Store, own_key_repo

# SM4 keys derived in this process, by (SHA-256 of the secret, salt); a handful of keys per store.
_DERIVED: dict[tuple[bytes, bytes], bytes] = {}
_DERIVED_LIMIT = 64
SECRET_ENV = "WINDOW_CLIENT_STATION_SECRET"
SECRET_FILE = "station.secret"
SEALED_PREFIX = "sm4gcm1$"
SECRET_PROBLEMS = frozenset(
    {"key.secret_missing", "key.secret_wrong", "key.secret_unreadable", "key.secret_exposed"}
)
# argon2id as for the staff passwords (RFC 9106 low-memory); once per sealed key and process.
_TIME_COST, _MEMORY_KIB, _PARALLELISM = 3, 65536, 4
_SALT_BYTES, _NONCE_BYTES, _TAG_BYTES, _SM4_KEY_BYTES = 16, 12, 16, 16


def is_sealed(stored: str | None) -> bool:
    """Whether a stored private half is sealed (else it is legacy plaintext hex)."""
    return stored is not None and stored.startswith(SEALED_PREFIX)


class StationSecret:
    """Where the station secret comes from (see the module docstring)."""

    def __init__(self, home: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = home / SECRET_FILE
        env = os.environ if environ is None else environ
        self._from_env = env.get(SECRET_ENV) or None

    @property
    def where(self) -> str:
        """The source, as messages name it."""
        return SECRET_ENV if self._from_env is not None else str(self.path)

    def read(self, may_create: bool) -> bytes:
        """The secret; created (0600) only when ``may_create`` and there is none yet."""
        if self._from_env is not None:
            return self._from_env.encode("utf-8")
        try:
            return self._read_file()
        except FileNotFoundError:
            if not may_create:
                raise DomainError.of("key.secret_missing", where=self.where) from None
        return self._create_file()

    def _read_file(self) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise DomainError.of("key.secret_unreadable", path=str(self.path), reason=exc.strerror) from None
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise DomainError.of("key.secret_exposed", path=str(self.path), mode=f"{mode & 0o777:o}")
            text = fh.read().strip()
        if not text:
            raise DomainError.of("key.secret_unreadable", path=str(self.path), reason="empty file")
        return text

    def _create_file(self) -> bytes:
        text = secrets.token_hex(32).encode("ascii")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read_file()  # another process created it meanwhile
        except OSError as exc:
            raise DomainError.of("key.secret_unreadable", path=str(self.path), reason=exc.strerror) from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(text + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        return text


def _associated(key_id: str, station: str, public_hex: str) -> bytes:
    return f"window-client signing key|{key_id}|{station}|{public_hex}".encode("ascii")


class KeyVault:
    """Seals and opens private halves with the station secret (derived keys cached per salt)."""

    def __init__(self, secret: StationSecret) -> None:
        self.secret = secret
        self._keys: dict[bytes, bytes] = {}

    def _sm4_key(self, salt: bytes, may_create: bool) -> bytes:
        key = self._keys.get(salt)
        if key is None:
            secret = self.secret.read(may_create)
            # The argon2id work is done once per (secret, salt) in a process, whichever vault asks
            # (each CLI command or runtime builds its own): the secret is read every time, so a
            # changed or wrong secret still derives its own key and fails to open.
            memo = (hashlib.sha256(secret).digest(), salt)
            key = _DERIVED.get(memo)
            if key is None:
                key = hash_secret_raw(
                    secret,
                    salt,
                    time_cost=_TIME_COST,
                    memory_cost=_MEMORY_KIB,
                    parallelism=_PARALLELISM,
                    hash_len=_SM4_KEY_BYTES,
                    type=Type.ID,
                )
                if len(_DERIVED) >= _DERIVED_LIMIT:
                    _DERIVED.clear()
                _DERIVED[memo] = key
            self._keys[salt] = key
        return key

    def seal(self, key_id: str, station: str, private_hex: str, public_hex: str, may_create: bool) -> str:
        """The stored form of a private half (``may_create``: no sealed key exists yet)."""
        salt, nonce = secrets.token_bytes(_SALT_BYTES), secrets.token_bytes(_NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self._sm4_key(salt, may_create)), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_associated(key_id, station, public_hex))
        sealed = encryptor.update(bytes.fromhex(private_hex)) + encryptor.finalize() + encryptor.tag
        parts = (base64.b64encode(p).decode("ascii") for p in (salt, nonce, sealed))
        return SEALED_PREFIX + "$".join(parts)

    def open(self, key_id: str, station: str, public_hex: str, stored: str) -> str:
        """The private half (hex) of a stored key; a wrong secret or altered blob is refused."""
        try:
            salt, nonce, sealed = (
                base64.b64decode(p, validate=True) for p in stored.removeprefix(SEALED_PREFIX).split("$")
            )
        except (ValueError, binascii.Error):
            raise DomainError.of("key.secret_wrong", where=self.secret.where) from None
        if len(sealed) <= _TAG_BYTES or len(nonce) != _NONCE_BYTES:
            raise DomainError.of("key.secret_wrong", where=self.secret.where)
        tag = sealed[-_TAG_BYTES:]
        decryptor = Cipher(
            algorithms.SM4(self._sm4_key(salt, may_create=False)), modes.GCM(nonce, tag)
        ).decryptor()
        decryptor.authenticate_additional_data(_associated(key_id, station, public_hex))
        try:
            return (decryptor.update(sealed[:-_TAG_BYTES]) + decryptor.finalize()).hex()
        except InvalidTag:
            raise DomainError.of("key.secret_wrong", where=self.secret.where) from None


def seal_plaintext_keys(store: Store, vault: KeyVault) -> list[str]:
    """Seal own keys a store from before sealing keeps in the clear (on open; ids unchanged).

    Nothing is lost: the private halves are the same keys, so everything they sealed keeps
    verifying. Then the file is scrubbed so the clear text does not linger on disk. Returns
    the ids sealed now (usually none: one cheap query).
    """
    with store.reading() as conn:
        if not own_key_repo.plaintext_own_keys(conn, SEALED_PREFIX):
            return []
    with store.transaction("system") as unit:
        rows = own_key_repo.plaintext_own_keys(unit.conn, SEALED_PREFIX)  # again, under the lock
        sample = own_key_repo.any_sealed_own_key(unit.conn, SEALED_PREFIX)
        if sample is not None:
            vault.open(*sample)  # the secret must be the one that sealed the others
        for key_id, station, public_hex, private_hex in rows:
            stored = vault.seal(key_id, station, private_hex, public_hex, may_create=sample is None)
            own_key_repo.replace_private_key(unit, key_id, stored)
            unit.audit("key.seal", key_id, {"station": station, "where": vault.secret.where})
    store.scrub()
    return [key_id for key_id, *_ in rows]
