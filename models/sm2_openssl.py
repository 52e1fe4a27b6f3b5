"""SM2 in C: a small ctypes binding to OpenSSL 3's libcrypto (EVP API, default provider).

Only what the seal needs: keys built from the raw point and scalar (``EVP_PKEY_fromdata``),
signing and verifying with SM3 and the distinguishing id set on the operation
(``EVP_PKEY_CTX_set1_id``), and d·G for deriving a public key (``EC_POINT_mul``). Everything
about curve points, ranges and signature framing is decided in :mod:`models.sm2`; this module
only talks to the library.

The library is the one Python's own ``_hashlib`` links where it can be found (so the process
never holds two OpenSSL copies), else whatever ``ctypes.util.find_library("crypto")`` names.
Each call makes its own ``EVP_MD_CTX``: one key object may be used from several threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterator
from typing import Any

_VOID_P = ctypes.c_void_p
_INT = ctypes.c_int
_SIZE_T = ctypes.c_size_t
_CHAR_P = ctypes.c_char_p

# openssl/core.h, openssl/keymgmt.h and openssl/ec.h (stable ABI values of OpenSSL 3).
_PARAM_UNSIGNED_INTEGER, _PARAM_UTF8_STRING, _PARAM_OCTET_STRING = 2, 4, 5
_SELECT_PUBLIC_KEY, _SELECT_KEYPAIR = 0x86, 0x87  # EVP_PKEY_PUBLIC_KEY, EVP_PKEY_KEYPAIR
_POINT_UNCOMPRESSED = 4
_MIN_VERSION = 0x30000000
_MAX_DER = 72  # SEQUENCE of two INTEGERs of at most 33 bytes


class Unavailable(RuntimeError):
    """libcrypto cannot be loaded, is older than 3.0, or lacks SM2."""


class _Param(ctypes.Structure):
    """``OSSL_PARAM``."""

    _fields_ = [
        ("key", _CHAR_P),
        ("data_type", ctypes.c_uint),
        ("data", _VOID_P),
        ("data_size", _SIZE_T),
        ("return_size", _SIZE_T),
    ]


def _loaded_libcrypto() -> Iterator[str]:
    """Paths of libcrypto already mapped into this process (by ``_hashlib``), Linux only."""
    try:
        import _hashlib  # noqa: F401  (maps the libcrypto Python was built with)

        with open("/proc/self/maps", encoding="utf-8") as maps:
            lines = maps.read().splitlines()
    except (ImportError, OSError):
        return
    seen: set[str] = set()
    for line in lines:
        path = line.rsplit(" ", 1)[-1]
        name = path.rsplit("/", 1)[-1]
        if name.startswith("libcrypto.so") and path not in seen:
            seen.add(path)
            yield path


def candidates() -> list[str]:
    """Where to look for libcrypto, best first (duplicates removed)."""
    found = [*_loaded_libcrypto(), ctypes.util.find_library("crypto") or "", "libcrypto.so.3"]
    if sys.platform == "darwin":
        found.append("libcrypto.3.dylib")
    return list(dict.fromkeys(p for p in found if p))


class LibCrypto:
    """The functions of one libcrypto, with their C signatures declared."""

    def __init__(self, path: str) -> None:
        try:
            self.lib = lib = ctypes.CDLL(path)
            lib.OpenSSL_version_num.restype = ctypes.c_ulong
            if lib.OpenSSL_version_num() < _MIN_VERSION:
                raise Unavailable(f"{path} is older than OpenSSL 3.0")
            self._declare()
        except (OSError, AttributeError) as exc:
            raise Unavailable(f"{path}: {exc}") from exc
        self.path = path
        self.nid_sm2 = lib.OBJ_sn2nid(b"SM2")
        if self.nid_sm2 <= 0:
            raise Unavailable(f"{path} does not know the SM2 curve")

    def _fn(self, name: str, restype: Any, *argtypes: Any) -> None:
        function = getattr(self.lib, name)
        function.restype = restype
        function.argtypes = list(argtypes)
        setattr(self, name, function)

    def _declare(self) -> None:
        vp, pp = _VOID_P, ctypes.POINTER(_VOID_P)
        self._fn("OBJ_sn2nid", _INT, _CHAR_P)
        self._fn("ERR_clear_error", None)
        self._fn("EVP_PKEY_CTX_new_from_name", vp, vp, _CHAR_P, _CHAR_P)
        self._fn("EVP_PKEY_CTX_free", None, vp)
        self._fn("EVP_PKEY_fromdata_init", _INT, vp)
        self._fn("EVP_PKEY_fromdata", _INT, vp, pp, _INT, ctypes.POINTER(_Param))
        self._fn("EVP_PKEY_free", None, vp)
        self._fn("EVP_PKEY_CTX_set1_id", _INT, vp, _CHAR_P, _INT)
        self._fn("EVP_MD_CTX_new", vp)
        self._fn("EVP_MD_CTX_free", None, vp)
        sig_init = (vp, pp, _CHAR_P, vp, _CHAR_P, vp, vp)
        self._fn("EVP_DigestSignInit_ex", _INT, *sig_init)
        self._fn("EVP_DigestVerifyInit_ex", _INT, *sig_init)
        self._fn("EVP_DigestSign", _INT, vp, _CHAR_P, ctypes.POINTER(_SIZE_T), _CHAR_P, _SIZE_T)
        self._fn("EVP_DigestVerify", _INT, vp, _CHAR_P, _SIZE_T, _CHAR_P, _SIZE_T)
        self._fn("EC_GROUP_new_by_curve_name", vp, _INT)
        self._fn("EC_GROUP_free", None, vp)
        self._fn("EC_POINT_new", vp, vp)
        self._fn("EC_POINT_free", None, vp)
        self._fn("BN_bin2bn", vp, _CHAR_P, _INT, vp)
        self._fn("BN_clear_free", None, vp)
        self._fn("EC_POINT_mul", _INT, vp, vp, vp, vp, vp, vp)
        self._fn("EC_POINT_point2oct", _SIZE_T, vp, vp, _INT, _CHAR_P, _SIZE_T, vp)

    def __getattr__(self, name: str) -> Any:  # the declared functions, for the type checker
        raise AttributeError(name)

    def key(self, public: bytes, user_id: bytes, private: int | None = None) -> EvpKey:
        """An SM2 key from the uncompressed point ``04 || x || y`` (and the private scalar),
        signing and verifying with the distinguishing id ``user_id`` in Z_A."""
        buffers = [b"SM2\0", public]
        params = (_Param * 4)()
        params[0] = _Param(b"group", _PARAM_UTF8_STRING, _addr(buffers[0]), 3, 0)
        params[1] = _Param(b"pub", _PARAM_OCTET_STRING, _addr(public), len(public), 0)
        if private is not None:  # OSSL_PARAM unsigned integers are in native byte order
            buffers.append(private.to_bytes(32, sys.byteorder))
            params[2] = _Param(b"priv", _PARAM_UNSIGNED_INTEGER, _addr(buffers[2]), 32, 0)
        ctx = self.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise Unavailable("no SM2 key management in the default provider")
        pkey = _VOID_P()
        try:
            selection = _SELECT_PUBLIC_KEY if private is None else _SELECT_KEYPAIR
            ok = self.EVP_PKEY_fromdata_init(ctx) == 1 and (
                self.EVP_PKEY_fromdata(ctx, ctypes.byref(pkey), selection, params) == 1
            )
        finally:
            self.EVP_PKEY_CTX_free(ctx)
        if not ok or not pkey.value:
            self.ERR_clear_error()
            raise ValueError("OpenSSL refused the SM2 key")
        return EvpKey(self, pkey.value, user_id)

    def public_point(self, private: int) -> bytes:
        """``04 || x || y`` of private·G (OpenSSL's constant-time ladder)."""
        group = self.EC_GROUP_new_by_curve_name(self.nid_sm2)
        point = self.EC_POINT_new(group) if group else None
        scalar = self.BN_bin2bn(private.to_bytes(32, "big"), 32, None)
        out = ctypes.create_string_buffer(65)
        try:
            ok = bool(point and scalar) and self.EC_POINT_mul(group, point, scalar, None, None, None) == 1
            written = self.EC_POINT_point2oct(group, point, _POINT_UNCOMPRESSED, out, 65, None) if ok else 0
        finally:
            self.BN_clear_free(scalar)
            self.EC_POINT_free(point)
            self.EC_GROUP_free(group)
        if written != 65:
            self.ERR_clear_error()
            raise ValueError("OpenSSL could not compute d·G")
        return out.raw


def _addr(data: bytes) -> int:
    """The address of an immutable bytes object's buffer (kept alive by the caller)."""
    return ctypes.cast(ctypes.c_char_p(data), _VOID_P).value or 0


class EvpKey:
    """One ``EVP_PKEY`` (freed with the object); signs and verifies DER signatures."""

    __slots__ = ("_crypto", "_pkey", "_user_id")

    def __init__(self, crypto: LibCrypto, pkey: int, user_id: bytes) -> None:
        self._crypto = crypto
        self._pkey = pkey
        self._user_id = user_id

    def __del__(self) -> None:
        crypto = getattr(self, "_crypto", None)
        if crypto is not None and self._pkey:
            crypto.EVP_PKEY_free(self._pkey)
            self._pkey = 0

    def _init(self, init: Any) -> tuple[int, bool]:
        crypto = self._crypto
        mctx = crypto.EVP_MD_CTX_new()
        pctx = _VOID_P()
        ok = bool(mctx) and init(mctx, ctypes.byref(pctx), b"SM3", None, None, self._pkey, None) == 1
        ok = ok and crypto.EVP_PKEY_CTX_set1_id(pctx, self._user_id, len(self._user_id)) == 1
        return mctx, ok

    def verify_der(self, der: bytes, data: bytes) -> bool:
        """Whether the DER signature ``der`` signs ``data`` (never raises)."""
        crypto = self._crypto
        mctx, ok = self._init(crypto.EVP_DigestVerifyInit_ex)
        try:
            ok = ok and crypto.EVP_DigestVerify(mctx, der, len(der), data, len(data)) == 1
        finally:
            crypto.EVP_MD_CTX_free(mctx)
        if not ok:
            crypto.ERR_clear_error()  # a failed verify leaves errors on this thread's queue
        return ok

    def sign_der(self, data: bytes) -> bytes:
        """A DER signature of ``data`` (OpenSSL draws the nonce from its CSPRNG)."""
        crypto = self._crypto
        out = ctypes.create_string_buffer(_MAX_DER)
        size = _SIZE_T(_MAX_DER)
        mctx, ok = self._init(crypto.EVP_DigestSignInit_ex)
        try:
            ok = ok and crypto.EVP_DigestSign(mctx, out, ctypes.byref(size), data, len(data)) == 1
        finally:
            crypto.EVP_MD_CTX_free(mctx)
        if not ok:
            crypto.ERR_clear_error()
            raise RuntimeError("OpenSSL failed to sign with SM2")
        return out.raw[: size.value]


def load(paths: list[str] | None = None) -> LibCrypto:
    """The first usable libcrypto of ``paths`` (default: :func:`candidates`)."""
    reasons = []
    for path in candidates() if paths is None else paths:
        try:
            return LibCrypto(path)
        except Unavailable as exc:
            reasons.append(str(exc))
    raise Unavailable("; ".join(reasons) or "no libcrypto found")
