"""The ``ZZ2`` certificate QR text: decimal digits in QR numeric mode, small enough for a version 5
symbol at error correction L (whole at 80x24), verified offline; ``ZZ1:`` texts still verify.

Hostile input of every kind (cut off, mistyped, huge, other versions, random) gets a status and
a message, never "valid" and never an exception.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.certificates import (
    HolderIdType,
    Identifier,
    QrDecodeError,
    QrPayload,
    VerifyStatus,
    decode_compact,
    encode_compact,
    find_qr_text,
    serial_for,
    type_ref,
)
from models.seal import IssuingStation, TrustStore, seal_certificate, verify_qr
from tests.qr_formats import as_zz1
from tests.unit.test_certificates import ISSUER, TODAY, TYPE_CODE, body, issued, station_key, trust

SIGNATURE = bytes(range(64))


def symbol(text: str) -> segno.QRCode:
    """The screen's symbol of ``text`` (error correction L, as qr_terminal draws it)."""
    return segno.make(text, error="l", boost_error=False)


def test_a_certificate_is_a_version_5_numeric_symbol_and_verifies() -> None:
    _seal, qr = issued()
    assert qr.isdigit() and qr.startswith("2")
    code = symbol(qr)
    assert (code.version, code.mode) == (5, "numeric")
    result = verify_qr(qr, trust(), TODAY)
    assert result.status is VerifyStatus.VALID
    data = result.to_dict()
    assert data["identifier"] == body().identifier and data["holder_name"] == "王小明"
    assert data["holder_id_masked"] == "610103********1234" and data["valid_until"] == "2031-11-19"
    assert "610103199001011234" not in str(decode_compact(qr))  # the full ID never travels


def test_an_organisation_with_a_nine_character_name_still_fits_version_5() -> None:
    made = body(20, holder_name="西安秦味餐饮有限公", holder_id="91610131MA6TXXXX0X")
    made = dataclasses.replace(made, holder_id_type=HolderIdType.USCC)
    _seal, qr = seal_certificate(station_key(), made)
    assert symbol(qr).version == 5
    assert verify_qr(qr, trust(), TODAY).status is VerifyStatus.VALID
    longer = dataclasses.replace(made, holder_name="西安秦味餐饮股份有限公司高新区第二分公司")
    _seal, qr = seal_certificate(station_key(), longer)
    assert symbol(qr).version == 6  # 20 characters: still whole at 80x24 (2-module quiet zone)


def test_a_text_cut_short_or_run_on_is_malformed_never_decoded() -> None:
    _seal, qr = issued()
    for text in [qr[:-k] for k in range(1, 60)] + [qr + "0", qr + "12"]:
        result = verify_qr(text, trust(), TODAY)
        assert result.status is VerifyStatus.MALFORMED, len(text)


def test_the_zz1_and_zz2_texts_of_one_seal_say_the_same() -> None:
    _seal, qr = issued()
    old = as_zz1(qr, body().identifier)
    assert old.startswith("ZZ1:") and symbol(old).version > 5
    assert verify_qr(old, trust(), TODAY).to_dict() == verify_qr(qr, trust(), TODAY).to_dict()


def test_the_text_is_found_in_a_saved_page() -> None:
    _seal, qr = issued()
    page = f'<html><meta name="certificate-qr" content="{qr}"><p>2026</p></html>'
    assert find_qr_text(page) == qr


def test_fields_without_a_compact_form_keep_the_old_text() -> None:
    payload = body().qr_payload()
    assert encode_compact(payload, SIGNATURE) is not None
    foreign_serial = dataclasses.replace(payload, identifier=str(Identifier.build(TYPE_CODE, ISSUER, "ABC")))
    passport = dataclasses.replace(payload, holder_id_masked="E1******")
    other_key = dataclasses.replace(payload, key_id="JHZX-0123456789AB")
    for odd in (foreign_serial, passport, other_key):
        assert encode_compact(odd, SIGNATURE) is None
    _seal, qr = seal_certificate(station_key(), body(5, holder_id="E12345678"))
    assert qr.startswith("ZZ1:") and verify_qr(qr, trust(), TODAY).status is VerifyStatus.VALID


def test_types_with_the_same_reference_are_told_apart_by_the_seal() -> None:
    wanted = type_ref(TYPE_CODE)
    twin = next(code for n in range(1 << 20) if type_ref(code := f"{n:018d}001") == wanted)
    rights = trust().stations["GXZX"]
    both = dataclasses.replace(rights, type_codes=rights.type_codes | {twin})
    store = trust(stations={**trust().stations, "GXZX": both})
    _seal, qr = issued()
    assert verify_qr(qr, store, TODAY).to_dict()["identifier"] == body().identifier
    twin_body = body(6, identifier=str(Identifier.build(twin, ISSUER, serial_for("GXZX", 6))))
    _seal, twin_qr = seal_certificate(station_key(), twin_body)
    assert verify_qr(twin_qr, store, TODAY).to_dict()["identifier"] == twin_body.identifier
    assert verify_qr(twin_qr, trust(), TODAY).problem.code == "cert.verify.signature"  # twin not issuable


def test_unknown_key_and_unknown_station_are_named() -> None:
    _seal, qr = issued()
    result = verify_qr(qr, TrustStore({}, {}, {}, trust().stations), TODAY)
    assert result.status is VerifyStatus.UNKNOWN_KEY and station_key().key_id in result.problem.en()
    assert result.to_dict()["claimed_identifier"] == body().identifier
    nothing = verify_qr(qr, TrustStore({}), TODAY).to_dict()
    assert nothing["status"] == "unknown_key" and nothing["key_id"] == station_key().key_id
    no_station = verify_qr(qr, trust(stations={}), TODAY)
    assert no_station.status is VerifyStatus.ALTERED
    assert no_station.problem.code == "cert.verify.station_unknown"
    other = IssuingStation("GXZX", ISSUER, frozenset({"91000000MA0000000X001"}))
    no_type = verify_qr(qr, trust(stations={"GXZX": other}), TODAY)
    assert (no_type.status, no_type.problem.code) == (VerifyStatus.ALTERED, "cert.verify.type_ref")


def test_hostile_texts_are_named() -> None:
    _seal, qr = issued()
    cases = {
        qr[:100]: "cert.verify.digits_truncated",
        "3" + qr[1:]: "cert.verify.version",
        "2" * 5000: "cert.verify.digits_too_long",
        "9" * 10**6: "cert.verify.version",
        qr[:-1] + str((int(qr[-1]) + 1) % 10): "cert.verify.digits_check",
        qr[:50] + qr[51] + qr[50] + qr[52:]: "cert.verify.digits_check",
        "２" + qr[1:]: "cert.verify.not_ours",  # a full-width digit: not a ZZ2 text at all
    }
    for text, code in cases.items():
        if text == qr:
            continue
        result = verify_qr(text, trust(), TODAY)
        assert (result.status, result.problem.code) == (VerifyStatus.MALFORMED, code), text[:30]
        assert result.problem.zh() and result.problem.en()


def test_every_cut_is_refused() -> None:
    _seal, qr = issued()
    for cut in range(1, len(qr)):
        result = verify_qr(qr[:cut], trust(), TODAY)
        assert result.status in (VerifyStatus.MALFORMED, VerifyStatus.ALTERED), cut


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_digit_change_is_never_valid(data: st.DataObject) -> None:
    _seal, qr = issued()
    at = data.draw(st.integers(0, len(qr) - 1))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != qr[at]))
    result = verify_qr(qr[:at] + digit + qr[at + 1 :], trust(), TODAY)
    assert result.status is VerifyStatus.MALFORMED  # the check digits catch every single change


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", max_size=1500) | st.from_regex(r"\A2[1-9][0-9]{160,300}\Z"))
def test_random_digits_never_verify_and_never_raise(text: str) -> None:
    result = verify_qr(text, trust(), TODAY)
    assert result.status is not VerifyStatus.VALID and result.problem.en() and result.problem.zh()
    try:
        decode_compact(text)
    except QrDecodeError as exc:
        assert exc.status is VerifyStatus.MALFORMED


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=1 << 1200))
def test_any_number_with_valid_check_digits_never_raises(number: int) -> None:
    body_digits = "2" + str(number)
    text = body_digits + f"{98 - int(body_digits + '00') % 97:02d}"
    result = verify_qr(text, trust(), TODAY)
    assert result.status is not VerifyStatus.VALID and result.problem.en()


NAME_CATEGORIES = ("Lo", "Lu", "Ll", "Nd", "Zs", "Po", "Ps", "Pe")
names = st.text(st.characters(codec="utf-8", categories=NAME_CATEGORIES), min_size=1, max_size=100).filter(
    lambda n: n.isprintable() and "\x1f" not in n
)


@settings(max_examples=200, deadline=None)
@given(
    names,
    st.sampled_from(["610103********1234", "610103********123X", "916101********TX0X"]),
    st.dates(dt.date(2000, 1, 1), dt.date(2150, 12, 31)),
    st.none() | st.integers(0, 40000),
    st.integers(1, 10**8 - 1),
    st.integers(1, 999),
    st.binary(min_size=64, max_size=64),
)
def test_every_payload_round_trips_or_keeps_the_old_text(
    name: str, masked: str, issued_on: dt.date, days: int | None, sequence: int, version: int, sig: bytes
) -> None:
    identifier = Identifier.build(TYPE_CODE, ISSUER, serial_for("GXZX", sequence), f"{version:03d}")
    payload = QrPayload(
        identifier=str(identifier),
        holder_id_type=HolderIdType.USCC if masked.startswith("9") else HolderIdType.CITIZEN_ID,
        holder_id_masked=masked,
        holder_name=name,
        issued_on=issued_on,
        valid_until=None if days is None else issued_on + dt.timedelta(days=days),
        key_id=station_key().key_id,
    )
    text = encode_compact(payload, sig)
    if text is None:  # only a valid_until past the 16-bit day range has no compact form
        assert days is not None and days >= 1 << 16
        return
    decoded = decode_compact(text)
    assert decoded.signature == sig and decoded.type_ref == type_ref(TYPE_CODE)
    assert decoded.payload(decoded.identifier(TYPE_CODE, ISSUER)) == payload
