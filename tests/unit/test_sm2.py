"""SM2 through OpenSSL (C) against gmssl (the pure-Python library that sealed before).

Seals must interoperate both ways: what OpenSSL signs gmssl verifies, what gmssl signed (every
certificate already issued) OpenSSL verifies, keys derive to the same points, and bad input is
``False``, never an exception — with either implementation.
"""

from __future__ import annotations

import base64
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from gmssl import func, sm3
from gmssl import sm2 as gmssl_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import sm2
from models.approval import derive_approval_key
from models.certificates import VerifyStatus, frame_qr
from models.certificates.qr_text import _b32_decode
from models.seal import KeyPair, PublicKey, key_id_for, verify_qr, verify_record
from tests.unit.test_certificates import TODAY, body, trust

OPENSSL = sm2.load_backend()
GMSSL = sm2.GmsslBackend()
BACKENDS = pytest.mark.parametrize("backend", [OPENSSL, GMSSL], ids=["openssl", "gmssl"])
TABLE = gmssl_sm2.default_ecc_table

scalars = st.integers(min_value=1, max_value=sm2.N - 2)
messages = st.binary(max_size=600)
# gmssl takes ~30 ms a verify: few examples, no deadline.
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gmssl_public(d: int) -> str:
    """d·G as gmssl computes it (x || y, 128 hex): how every existing key was made."""
    return str(gmssl_sm2.CryptSM2(private_key=f"{d:064x}", public_key="")._kg(d, TABLE["g"]))


def gmssl_crypt(d: int | None, public_hex: str) -> gmssl_sm2.CryptSM2:
    crypt = gmssl_sm2.CryptSM2(private_key=None if d is None else f"{d:064x}", public_key="")
    crypt.public_key = public_hex  # as the old models.seal did: the constructor mangles some keys
    return crypt


def gmssl_sign(d: int, public_hex: str, data: bytes, nonce: int) -> bytes:
    """A signature exactly as the old code path made it (gmssl, nonce given)."""
    return bytes.fromhex(gmssl_crypt(d, public_hex).sign_with_sm3(data, f"{nonce:064x}"))


def test_the_c_implementation_is_the_one_in_use_here() -> None:
    assert isinstance(OPENSSL, sm2.OpenSslBackend)
    assert isinstance(sm2.backend(), sm2.OpenSslBackend)
    assert sm2.self_test(OPENSSL) is None and sm2.self_test(GMSSL) is None


@SLOW
@given(d=scalars, message=messages)
def test_openssl_signatures_verify_with_gmssl(d: int, message: bytes) -> None:
    public_hex = gmssl_public(d)
    assert OPENSSL.public_point(d).hex() == public_hex
    signature = KeyPair(key_id_for("T", public_hex), "T", f"{d:064x}", public_hex).sign(message)
    assert len(signature) == 64
    assert gmssl_crypt(None, public_hex).verify_with_sm3(signature.hex(), message)
    assert not gmssl_crypt(None, public_hex).verify_with_sm3(signature.hex(), message + b"x")


@SLOW
@given(d=scalars, message=messages, nonce=scalars)
def test_gmssl_signatures_verify_with_openssl(d: int, message: bytes, nonce: int) -> None:
    public_hex = gmssl_public(d)
    signature = gmssl_sign(d, public_hex, message, nonce)
    key = PublicKey(key_id_for("T", public_hex), "T", public_hex)
    assert key.verify(signature, message)
    assert not key.verify(signature, message + b"x")
    assert not PublicKey("x", "T", gmssl_public(d % (sm2.N - 3) + 1)).verify(signature, message)


def test_a_certificate_sealed_the_old_way_still_verifies() -> None:
    """Key and seals made with gmssl directly, as ``generate_key_pair`` and ``seal_certificate`` did."""
    d = 0x5DA3_0C5E_A1ED_B7_2026
    public_hex = gmssl_public(d)
    old_key = KeyPair(key_id_for("GXZX", public_hex), "GXZX", f"{d:064x}", public_hex)
    made = body(serial=77, key=old_key)
    content = made.qr_payload().content()
    qr = frame_qr(content, gmssl_sign(d, public_hex, content, nonce=0x1234567))
    seal = gmssl_sign(d, public_hex, made.canonical_bytes(), nonce=0x7654321).hex()
    trusted = trust(keys={old_key.key_id: old_key.public()})
    assert verify_qr(qr, trusted, TODAY).status is VerifyStatus.VALID
    record = {"certificate": made.to_dict(), "seal": seal}
    assert verify_record(record, trusted, TODAY).status is VerifyStatus.VALID
    altered = {"certificate": {**made.to_dict(), "holder_name": "李四"}, "seal": seal}
    assert verify_record(altered, trusted, TODAY).status is VerifyStatus.ALTERED
    assert verify_qr(qr, trust(), TODAY).status is VerifyStatus.UNKNOWN_KEY


def test_the_known_answer_made_by_gmssl_verifies_with_openssl() -> None:
    d = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
    public = OPENSSL.public_point(d)
    assert public.hex() == gmssl_public(d)
    signature = gmssl_sign(d, public.hex(), b"window-client SM2 known answer", 0x59276E27D506861A)
    assert OPENSSL.verifier(public)(signature, b"window-client SM2 known answer")


def test_an_approval_key_derives_to_the_same_public_key_either_way() -> None:
    pair = derive_approval_key("S001", "demo-5678")
    d = int(pair.private_hex, 16)
    assert pair.public_hex == gmssl_public(d) == GMSSL.public_point(d).hex() == OPENSSL.public_point(d).hex()


def off_curve_point() -> bytes:
    x, y = bytes.fromhex(gmssl_public(5)[:64]), bytes.fromhex(gmssl_public(5)[64:])
    return x + (int.from_bytes(y, "big") ^ 1).to_bytes(32, "big")


@BACKENDS
def test_bad_signatures_and_points_are_false_never_an_exception(backend: sm2.Backend) -> None:
    d = 0xABCDEF
    public = backend.public_point(d)
    signature = backend.signer(d, public)(b"m")
    verify = backend.verifier(public)
    assert verify(signature, b"m")
    n = sm2.N.to_bytes(32, "big")
    r, s = signature[:32], signature[32:]
    bad = [
        b"",
        signature[:63],
        signature + b"\0",
        bytes(32) + s,  # r = 0
        r + bytes(32),  # s = 0
        n + s,  # r = n
        r + n,  # s = n
        b"\xff" * 64,
        r + (int.from_bytes(s, "big") + 1).to_bytes(32, "big"),
    ]
    assert [verify(sig, b"m") for sig in bad] == [False] * len(bad)
    for point in (off_curve_point(), bytes(64), b"\xff" * 64, public[:63]):
        assert not sm2.on_curve(point)
        assert backend.verifier(point)(signature, b"m") is False


def test_public_keys_off_the_curve_or_signatures_of_wrong_length_verify_nothing() -> None:
    off = off_curve_point().hex()
    assert PublicKey("x", "T", off).verify(bytes(64), b"m") is False
    key = PublicKey("x", "T", gmssl_public(7))
    assert [key.verify(sig, b"m") for sig in (b"", b"\x01" * 63, b"\x01" * 65, b"\x01" * 128)] == [False] * 4


def test_the_fallback_logs_once_and_gives_the_same_answers(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="models.sm2"):
        fallback = sm2.load_backend(["/nonexistent/libcrypto.so.3"])
    assert isinstance(fallback, sm2.GmsslBackend)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gmssl" in warnings[0] and "/nonexistent" in warnings[0]
    d = 0x1234_5678_9ABC_DEF0
    public = OPENSSL.public_point(d)
    assert fallback.public_point(d) == public
    by_c, by_python = OPENSSL.signer(d, public)(b"doc"), fallback.signer(d, public)(b"doc")
    for verify in (OPENSSL.verifier(public), fallback.verifier(public)):
        assert verify(by_c, b"doc") and verify(by_python, b"doc")
        assert not verify(by_c, b"doc!") and not verify(by_python, b"doc!")


def test_a_library_without_sm2_is_refused_not_used() -> None:
    with pytest.raises(sm2.sm2_openssl.Unavailable):
        sm2.OpenSslBackend(["libc.so.6"])  # loads, but is not libcrypto


def test_keys_out_of_range_are_refused() -> None:
    public_hex = gmssl_public(3)
    for d in (0, sm2.N - 1, sm2.N):
        with pytest.raises(ValueError):
            sm2.public_key_hex(d)
        with pytest.raises(ValueError):
            KeyPair("k", "T", f"{d:064x}", public_hex)


def test_verification_from_many_threads_at_once() -> None:
    d = 0x42
    public = OPENSSL.public_point(d)
    sign, verify = OPENSSL.signer(d, public), OPENSSL.verifier(public)
    signed = [(sign(f"m{i}".encode()), f"m{i}".encode()) for i in range(40)]
    with ThreadPoolExecutor(4) as pool:
        good = list(pool.map(lambda pair: verify(*pair), signed))
        bad = list(pool.map(lambda pair: verify(pair[0], pair[1] + b"!"), signed))
    assert good == [True] * 40 and bad == [False] * 40


@settings(max_examples=200)
@given(r=st.integers(1, sm2.N - 1), s=st.integers(1, sm2.N - 1))
def test_der_framing_round_trips(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = sm2.der_from_raw(raw)
    assert sm2.raw_from_der(der) == raw
    assert der[0] == 0x30 and der[1] == len(der) - 2
    for junk in (der[:-1], der + b"\0", b"\x31" + der[1:], bytes(8)):
        with pytest.raises(ValueError):
            sm2.raw_from_der(junk)


@given(messages)
def test_sm3_is_the_same_through_openssl_and_gmssl(data: bytes) -> None:
    assert sm2.sm3_hex(data) == sm3.sm3_hash(func.bytes_to_list(data))


@given(st.binary(max_size=200), st.integers(0, 31))
def test_the_base32_decoder_matches_the_standard_library(data: bytes, noise: int) -> None:
    text = base64.b32encode(data).decode("ascii").rstrip("=")
    assert _b32_decode(text) == (data, True)
    spare = len(text) * 5 % 8
    if spare and noise % (1 << spare):  # set unused low bits of the last character
        last = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".index(text[-1]) | noise % (1 << spare)
        changed = text[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[last]
        assert _b32_decode(changed) == (data, False)
