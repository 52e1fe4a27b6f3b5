"""SM2 signatures with SM3 (GB/T 32918.2, SM3withSM2) for the seal: OpenSSL 3 in C, gmssl as a fallback.

Why OpenSSL through ctypes (:mod:`models.sm2_openssl`): the system OpenSSL 3 carries SM2 and SM3
in its default provider, and Python's own ``_hashlib`` links it, so it is present wherever the
client or the hall runs; a verify costs well under a millisecond instead of gmssl's ~30 ms of
pure Python. ``cryptography`` does not expose SM2; gmssl-python and pygmssl need the GmSSL C
library, which the target systems do not package; tongsuopy is unmaintained. The binding is the
few EVP calls this module needs, checked at load by a known answer made with gmssl.

Interoperability with the seals made before (gmssl): the same curve, the same default
distinguishing id ``1234567812345678`` in Z_A (gmssl hard-codes it; OpenSSL 3 defaults to an
empty id, so it is set on every operation), and signatures framed as raw ``r || s`` (64 bytes)
here, DER on OpenSSL's side. Nonces come from OpenSSL's CSPRNG (gmssl's fallback: :mod:`secrets`).

gmssl is kept as the fallback when no usable libcrypto is found (logged once) and as the
reference in the tests. Two of its habits are worked around in :class:`GmsslBackend`:
``func.random_hex`` draws from :mod:`random` (nonces come from :mod:`secrets` instead), and
``CryptSM2.__init__`` mangles keys starting with ``04`` (keys are set on the object directly).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from typing import Protocol

from gmssl import func, sm2, sm3

from models import sm2_openssl

log = logging.getLogger(__name__)

# The curve of GB/T 32918.5 (gmssl's default_ecc_table, OpenSSL's "SM2").
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
USER_ID = b"1234567812345678"  # GM/T 0009's default; what gmssl's Z_A always uses
SIGNATURE_BYTES = 64  # r || s
POINT_BYTES = 64  # x || y

Signer = Callable[[bytes], bytes]
"""Signs a message: SM2 over SM3(Z_A || message), returns ``r || s``."""
Verifier = Callable[[bytes, bytes], bool]
"""``(signature r || s, message) -> bool``; never raises."""


class Backend(Protocol):
    """An SM2 implementation: d·G, and signers and verifiers bound to one key."""

    name: str

    def public_point(self, d: int) -> bytes:
        """x || y (64 bytes) of d·G, for a scalar in [1, n-2]."""
        ...

    def signer(self, d: int, public: bytes) -> Signer:
        """Signs with the private scalar ``d`` (``public``, x || y, goes into Z_A)."""
        ...

    def verifier(self, public: bytes) -> Verifier:
        """Verifies with the public point x || y (which must be on the curve)."""
        ...


def on_curve(public: bytes) -> bool:
    """Whether ``public`` (x || y) is a point of the curve (cofactor 1: then also of the group)."""
    if len(public) != POINT_BYTES:
        return False
    x, y = int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big")
    return x < P and y < P and (y * y - (x * x * x + A * x + B)) % P == 0


_N_BYTES = N.to_bytes(32, "big")
_ZERO = bytes(32)


def in_range(signature: bytes) -> bool:
    """Whether ``signature`` is 64 bytes with r and s in [1, n-1]."""
    # Byte strings of one length compare as the big-endian numbers they spell (and fast).
    r, s = signature[:32], signature[32:]
    return len(signature) == SIGNATURE_BYTES and _ZERO < r < _N_BYTES and _ZERO < s < _N_BYTES


def _der_integer(big_endian: bytes) -> bytes:
    body = big_endian.lstrip(b"\0")
    if body[0] & 0x80:  # a positive INTEGER whose top bit is set takes a leading zero byte
        body = b"\0" + body
    return b"\x02" + bytes((len(body),)) + body


def der_from_raw(signature: bytes) -> bytes:
    """``SEQUENCE { INTEGER r, INTEGER s }`` (DER) of a 64-byte ``r || s`` with r, s > 0."""
    body = _der_integer(signature[:32]) + _der_integer(signature[32:])
    return b"\x30" + bytes((len(body),)) + body


def raw_from_der(der: bytes) -> bytes:
    """``r || s`` of a DER signature (as OpenSSL writes them); ``ValueError`` when it is not one."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2 or der[2] != 0x02:
        raise ValueError("not a DER SM2 signature")
    r_end = 4 + der[3]
    if r_end + 2 > len(der) or der[r_end] != 0x02 or r_end + 2 + der[r_end + 1] != len(der):
        raise ValueError("not a DER SM2 signature")
    r, s = int.from_bytes(der[4:r_end], "big"), int.from_bytes(der[r_end + 2 :], "big")
    if not (0 < r < N and 0 < s < N):
        raise ValueError("SM2 signature out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class OpenSslBackend:
    """SM2 in C through OpenSSL 3's libcrypto."""

    def __init__(self, paths: list[str] | None = None) -> None:
        self.crypto = sm2_openssl.load(paths)
        self.name = f"openssl ({self.crypto.path})"

    def public_point(self, d: int) -> bytes:
        """x || y of d·G."""
        return self.crypto.public_point(d)[1:]

    def signer(self, d: int, public: bytes) -> Signer:
        """Signs with OpenSSL; converts its DER to ``r || s``."""
        key = self.crypto.key(b"\x04" + public, USER_ID, d)

        def sign(data: bytes) -> bytes:
            return raw_from_der(key.sign_der(data))

        return sign

    def verifier(self, public: bytes) -> Verifier:
        """Verifies with OpenSSL (a point off the curve verifies nothing)."""
        if not on_curve(public):
            return _verifies_nothing
        key = self.crypto.key(b"\x04" + public, USER_ID)
        verify_der = key.verify_der

        def verify(signature: bytes, data: bytes) -> bool:
            return in_range(signature) and verify_der(der_from_raw(signature), data)

        return verify


def _verifies_nothing(signature: bytes, data: bytes) -> bool:
    return False


class GmsslBackend:
    """SM2 in pure Python (gmssl): the fallback, and the reference the tests compare with."""

    name = "gmssl"

    @staticmethod
    def _crypt(d: int | None, public: bytes) -> sm2.CryptSM2:
        obj = sm2.CryptSM2(private_key=None if d is None else f"{d:064x}", public_key="")
        obj.public_key = public.hex()  # set directly: the constructor mangles keys starting "04"
        return obj

    def public_point(self, d: int) -> bytes:
        """x || y of d·G."""
        return bytes.fromhex(self._crypt(d, b"")._kg(d, sm2.default_ecc_table["g"]))

    def signer(self, d: int, public: bytes) -> Signer:
        """Signs with gmssl and a nonce from :mod:`secrets`."""
        crypt = self._crypt(d, public)

        def sign(data: bytes) -> bytes:
            for _ in range(8):
                nonce = secrets.randbelow(N - 2) + 1
                signature = crypt.sign_with_sm3(data, f"{nonce:064x}")
                if signature:  # None for the rare nonces that give r = 0 or s = 0
                    return bytes.fromhex(signature)
            raise RuntimeError("SM2 signing failed eight times in a row")  # never in practice

        return sign

    def verifier(self, public: bytes) -> Verifier:
        """Verifies with gmssl, which checks neither ranges nor points: done here."""
        if not on_curve(public):
            return _verifies_nothing
        crypt = self._crypt(None, public)

        def verify(signature: bytes, data: bytes) -> bool:
            if not in_range(signature):
                return False
            try:
                return bool(crypt.verify_with_sm3(signature.hex(), data))
            except (ValueError, TypeError, IndexError, ZeroDivisionError):
                return False

        return verify


# A known answer made with gmssl: OpenSSL must reproduce the public key and accept the signature,
# which proves the curve, SM3, Z_A (with the distinguishing id) and the framing all agree.
_KNOWN_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
_KNOWN_PUBLIC = bytes.fromhex(
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
_KNOWN_MESSAGE = b"window-client SM2 known answer"
_KNOWN_SIGNATURE = bytes.fromhex(
    "2e5ab85d3cfbee5310edcdb6b07e94510f89103571c719cbef08bafc1913741f"
    "287de3ab55c4840ea344144afe9f5f11260919adf1a68d3867c9bc1dfac6acc0"
)


def self_test(backend: Backend) -> str | None:
    """Why ``backend`` disagrees with the known answer, or ``None`` when it agrees."""
    if backend.public_point(_KNOWN_D) != _KNOWN_PUBLIC:
        return "d·G differs from the known answer"
    verify = backend.verifier(_KNOWN_PUBLIC)
    if not verify(_KNOWN_SIGNATURE, _KNOWN_MESSAGE) or verify(_KNOWN_SIGNATURE, _KNOWN_MESSAGE + b"!"):
        return "the known signature does not verify (curve, SM3 or distinguishing id differ)"
    if not verify(backend.signer(_KNOWN_D, _KNOWN_PUBLIC)(b"self-test"), b"self-test"):
        return "its own signature does not verify"
    return None


def load_backend(paths: list[str] | None = None) -> Backend:
    """OpenSSL when a libcrypto of ``paths`` (default: found as Python's) does SM2 right, else gmssl.

    Falling back is logged (a warning): verification then costs ~30 ms a certificate.
    """
    try:
        backend = OpenSslBackend(paths)
        problem = self_test(backend)
    except (sm2_openssl.Unavailable, ValueError, RuntimeError) as exc:
        problem = str(exc)
    else:
        if problem is None:
            return backend
    log.warning("SM2 in C (OpenSSL 3) is unavailable, using gmssl (pure Python, slow): %s", problem)
    return GmsslBackend()


_lock = threading.Lock()
_backend: Backend | None = None


def backend() -> Backend:
    """The process's SM2 implementation, chosen once (on first use)."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = load_backend()
    return _backend


def public_key_hex(d: int) -> str:
    """The public key of the scalar ``d`` (in [1, n-2]) as 128 lower-case hex digits (x || y)."""
    if not 0 < d < N - 1:
        raise ValueError("an SM2 private key is a scalar in [1, n-2]")
    return backend().public_point(d).hex()


def _sm3_openssl(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def _sm3_gmssl(data: bytes) -> str:
    return str(sm3.sm3_hash(func.bytes_to_list(data)))


sm3_hex: Callable[[bytes], str] = _sm3_openssl if "sm3" in hashlib.algorithms_available else _sm3_gmssl
"""SM3 digest of some bytes as 64 lower-case hex digits (OpenSSL through hashlib, else gmssl)."""
