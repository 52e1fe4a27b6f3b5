"""Certificates as pure values: GB/T 36904 identifiers, the QR payload, SM2 seals and verification.

Every bad input gets its own precise status and never "valid", and nothing raises.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from functools import cache

from gmssl import sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from models.certificates import (
    QR_PREFIX,
    CertificateBody,
    HolderIdType,
    Identifier,
    QrPayload,
    VerifyStatus,
    add_years,
    find_qr_text,
    frame_qr,
    serial_for,
    unframe_qr,
)
from models.enums import ApplicantType
from models.seal import (
    IssuingStation,
    KeyPair,
    Revocation,
    TrustStore,
    check_published_key,
    generate_key_pair,
    issuing_stations,
    key_id_for,
    seal_certificate,
    verify_qr,
    verify_record,
)
from window_client.services.catalog import load_shipped_catalog

TODAY = dt.date(2026, 11, 20)
TYPE_CODE = "13100000MB01270019001"
ISSUER = "11610131MB2978467M"


@cache
def station_key() -> KeyPair:
    return generate_key_pair("GXZX")


@cache
def other_key() -> KeyPair:
    return generate_key_pair("JHZX")


def body(serial: int = 1, key: KeyPair | None = None, **changes: object) -> CertificateBody:
    key = key or station_key()
    made = CertificateBody(
        identifier=str(Identifier.build(TYPE_CODE, ISSUER, serial_for(key.station, serial))),
        certificate_type="DISABILITY_CERT",
        type_name="残疾人证",
        holder_name="王小明",
        holder_id="610103199001011234",
        holder_id_type=HolderIdType.CITIZEN_ID,
        issuer_code=ISSUER,
        issuer_name="西安高新区政务服务中心全科综合窗口",
        station=key.station,
        issued_on=TODAY,
        valid_until=add_years(TODAY, 5),
        case_nos=("GXZX-20261120-00001",),
        key_id=key.key_id,
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


@cache
def issued(serial: int = 1) -> tuple[str, str]:
    """(seal, QR text) of certificate number ``serial`` of the station key (a ``ZZ2`` text)."""
    return seal_certificate(station_key(), body(serial))


@cache
def issued_v1(serial: int = 1) -> tuple[str, str]:
    """(seal, ``ZZ1:`` text) of the same certificate, as issued before ``ZZ2``: still verified."""
    seal, _ = issued(serial)
    content = body(serial).qr_payload().content()
    return seal, frame_qr(content, station_key().sign(content))


@cache
def stations() -> dict[str, IssuingStation]:
    """What each station of the shipped catalogue may issue."""
    return issuing_stations(load_shipped_catalog())


def trust(**extra: object) -> TrustStore:
    keys = {k.key_id: k.public() for k in (station_key(), other_key())}
    store = TrustStore(keys, {}, {TYPE_CODE: "残疾人证"}, stations())
    for name, value in extra.items():
        setattr(store, name, value)
    return store


def reframe(text: str, edit: object) -> str:
    content, signature = unframe_qr(text)
    new_content, new_signature = edit(content, signature)  # type: ignore[operator]
    return frame_qr(new_content, new_signature)


# ---------------------------------------------------------------- identifiers


def test_identifier_has_the_gb_t_36904_shape_and_a_mod_37_36_check_character() -> None:
    ident = Identifier.build(TYPE_CODE, ISSUER, "GXZX00000042")
    text = str(ident)
    assert text.startswith("1.2.156.3005.2.13100000MB01270019001.11610131MB2978467M.GXZX00000042.001.")
    assert len(ident.check) == 1
    alnum = "".join(ch for ch in text if ch.isalnum())
    assert mod_37_36.is_valid(alnum)  # the check is verifiable with the library, independently
    assert Identifier.parse(text) == ident and ident.check_ok
    assert ident.station_sequence == ("GXZX", 42)


def test_station_codes_that_prefix_each_other_still_give_distinct_serials() -> None:
    assert serial_for("JHYZ1", 1) != serial_for("JHYZ", 100000001 % 10**8)
    parsed = Identifier.parse(str(Identifier.build(TYPE_CODE, ISSUER, serial_for("JHYZ1", 7))))
    assert parsed is not None and parsed.station_sequence == ("JHYZ1", 7)


def test_a_changed_character_breaks_the_check() -> None:
    text = str(Identifier.build(TYPE_CODE, ISSUER, "GXZX00000042"))
    swapped = text.replace("GXZX00000042", "GXZX00000043")
    parsed = Identifier.parse(swapped)
    assert parsed is not None and not parsed.check_ok


def test_identifiers_of_the_wrong_shape_are_refused() -> None:
    good = str(Identifier.build(TYPE_CODE, ISSUER, "GXZX00000001"))
    for bad in (
        "",
        "1.2.156.3005.2",
        good.replace("1.2.156.3005.2", "1.2.156.3005.3"),
        good[:-2],  # no check character
        good.replace(".001.", ".1."),  # version is three digits
        good.replace(ISSUER, ISSUER[:-1]),
        good.replace("MB", "mb"),
    ):
        assert Identifier.parse(bad) is None, bad


def test_holder_code_types_follow_gb_t_36903() -> None:
    assert HolderIdType.of(ApplicantType.PERSON) is HolderIdType.CITIZEN_ID
    assert HolderIdType.of("org") is HolderIdType.USCC
    assert (HolderIdType.CITIZEN_ID.value, HolderIdType.USCC.value) == ("111", "001")
    assert HolderIdType.CITIZEN_ID.zh == "公民身份号码"


def test_validity_counts_whole_years_and_survives_29_february() -> None:
    assert add_years(dt.date(2026, 11, 20), 5) == dt.date(2031, 11, 19)
    assert add_years(dt.date(2028, 2, 29), 1) == dt.date(2029, 2, 27)


# ---------------------------------------------------------------- keys


def test_key_ids_are_derived_from_the_key_and_proofs_are_checked() -> None:
    key = station_key()
    assert key.key_id == key_id_for("GXZX", key.public_hex) and key.key_id.startswith("GXZX-")
    proof = key.proof()
    assert check_published_key(key.key_id, "GXZX", key.public_hex, proof) is not None
    assert check_published_key(other_key().key_id, "GXZX", key.public_hex, proof) is None  # id of another key
    assert check_published_key(key.key_id, "GXZX", key.public_hex, other_key().proof()) is None
    assert check_published_key(key.key_id, "GXZX", "zz" * 64, proof) is None
    assert check_published_key(key.key_id, "GXZX", key.public_hex, "not hex") is None


def test_a_public_key_starting_with_04_still_verifies() -> None:
    """gmssl's constructor lstrips "04" (and further 0/4 digits) from keys; we set keys directly."""
    d = 11  # d·G starts with the digits 04
    public = str(sm2.CryptSM2(private_key=f"{d:064x}", public_key="")._kg(d, sm2.default_ecc_table["g"]))
    assert public.startswith("04")
    pair = KeyPair(key_id_for("T", public), "T", f"{d:064x}", public)
    signature = pair.sign(b"payload")
    assert pair.public().verify(signature, b"payload")
    naive = sm2.CryptSM2(private_key=None, public_key=public)
    assert naive.public_key != public  # what the workaround avoids: a mangled key


def test_signatures_use_fresh_nonces() -> None:
    key = station_key()
    assert key.sign(b"same") != key.sign(b"same")


# ---------------------------------------------------------------- the QR payload


def test_an_old_zz1_text_still_verifies_with_details_and_privacy_minimal() -> None:
    _seal, qr = issued_v1()
    assert qr.startswith(QR_PREFIX) and len(qr) < 400
    assert set(qr[len(QR_PREFIX) :]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    result = verify_qr(qr, trust(), TODAY)
    assert result.status is VerifyStatus.VALID
    data = result.to_dict()
    assert data["status"] == "valid" and data["identifier"] == body().identifier
    assert data["holder_name"] == "王小明" and data["holder_id_masked"] == "610103********1234"
    assert data["type_name"] == "残疾人证" and data["valid_until"] == "2031-11-19"
    content, _ = unframe_qr(qr)
    assert b"610103199001011234" not in content  # the full ID never travels in the QR
    assert b"GXZX-20261120" not in content  # nor the case numbers


def test_qr_text_found_inside_a_saved_page() -> None:
    _seal, qr = issued()
    page = f'<html><meta name="certificate-qr" content="{qr}"><body>…</body></html>'
    assert find_qr_text(page) == qr


def test_payload_altered_by_one_byte_is_altered() -> None:
    _seal, qr = issued_v1()
    content, _ = unframe_qr(qr)
    position = content.index("王".encode())  # the holder's name
    for offset in range(len("王小明".encode())):

        def edit(c: bytes, s: bytes, at: int = position + offset) -> tuple[bytes, bytes]:
            return c[:at] + bytes([c[at] ^ 0x01]) + c[at + 1 :], s

        result = verify_qr(reframe(qr, edit), trust(), TODAY)
        assert result.status is VerifyStatus.ALTERED, offset
    # a changed validity date
    tampered = reframe(qr, lambda c, s: (c.replace(b"20311119", b"20411119"), s))
    result = verify_qr(tampered, trust(), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, "cert.verify.signature")
    assert "identifier" not in result.to_dict()  # unverified claims are not shown as details


def test_content_that_no_longer_parses_is_altered_not_malformed() -> None:
    _seal, qr = issued_v1()
    broken = reframe(qr, lambda c, s: (c.replace(b"\x1f", b"|", 1), s))
    result = verify_qr(broken, trust(), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, "cert.verify.content")
    not_utf8 = reframe(qr, lambda c, s: (b"\xff" + c[1:], s))
    assert verify_qr(not_utf8, trust(), TODAY).status is VerifyStatus.ALTERED


def test_a_signature_taken_from_another_certificate_is_altered() -> None:
    _seal, first = issued_v1(1)
    _seal, second = issued_v1(2)
    _, foreign_signature = unframe_qr(second)
    swapped = reframe(first, lambda c, s: (c, foreign_signature))
    result = verify_qr(swapped, trust(), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, "cert.verify.signature")


def test_every_truncation_is_malformed_and_named() -> None:
    _seal, qr = issued_v1()
    codes = set()
    for cut in range(1, len(qr)):
        result = verify_qr(qr[:cut], trust(), TODAY)
        assert result.status is VerifyStatus.MALFORMED, cut
        codes.add(result.problem.code)
    assert "cert.verify.truncated" in codes
    assert codes <= {"cert.verify.truncated", "cert.verify.not_ours", "cert.verify.empty"}
    assert verify_qr(qr[:-10], trust(), TODAY).problem.en().startswith("the QR text is truncated")


def test_extra_data_after_the_signature_is_malformed() -> None:
    _seal, qr = issued_v1()
    assert verify_qr(qr + "A", trust(), TODAY).problem.code in (
        "cert.verify.trailing",
        "cert.verify.noncanonical",
    )
    assert verify_qr(qr + "AAAAAAAA", trust(), TODAY).problem.code == "cert.verify.trailing"


def test_unknown_key() -> None:
    _seal, qr = issued()
    only_other = TrustStore({other_key().key_id: other_key().public()})
    result = verify_qr(qr, only_other, TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.UNKNOWN_KEY, "cert.verify.unknown_key")
    assert station_key().key_id in result.problem.en()


def test_revoked_certificate_and_revoked_key() -> None:
    _seal, qr = issued()
    identifier = body().identifier
    revoked = {identifier: Revocation(identifier, "2026-11-21T09:00:00+00:00", "证照信息有误", "S001")}
    result = verify_qr(qr, trust(revoked=revoked), TODAY)
    assert result.status is VerifyStatus.REVOKED and result.to_dict()["revocation_reason"] == "证照信息有误"
    key = station_key().public()
    keys = {key.key_id: dataclasses.replace(key, revoked_at="2026-11-21", revoked_reason="leaked")}
    result = verify_qr(qr, trust(keys=keys), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.REVOKED, "cert.verify.key_revoked")


def test_expired_certificate() -> None:
    _seal, qr = issued()
    assert verify_qr(qr, trust(), dt.date(2031, 11, 19)).status is VerifyStatus.VALID  # its last day
    result = verify_qr(qr, trust(), dt.date(2031, 11, 20))
    assert result.status is VerifyStatus.EXPIRED and "2031-11-19" in result.problem.en()


def test_long_term_certificates_never_expire() -> None:
    long_term = body(3, valid_until=None)
    _seal, qr = seal_certificate(station_key(), long_term)
    assert verify_qr(qr, trust(), dt.date(2099, 1, 1)).status is VerifyStatus.VALID


def test_other_prefixes_and_versions_are_named() -> None:
    _seal, qr = issued_v1()
    cases = {
        "": "cert.verify.empty",
        "   \n": "cert.verify.empty",
        "https://example.org/x": "cert.verify.not_ours",
        "ZZ2:" + qr[4:]: "cert.verify.version",
        qr.lower(): "cert.verify.not_ours",
        qr[:20] + "1" + qr[21:]: "cert.verify.charset",  # '1' is not base32
        qr[:20] + "!" + qr[21:]: "cert.verify.charset",
    }
    for text, code in cases.items():
        result = verify_qr(text, trust(), TODAY)
        assert (result.status, result.problem.code) == (VerifyStatus.MALFORMED, code), text[:30]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_change_is_never_valid(data: st.DataObject) -> None:
    _seal, qr = issued_v1()
    blob = base64.b32decode(qr[4:] + "=" * (-len(qr[4:]) % 8))
    at = data.draw(st.integers(0, len(blob) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != blob[at]))
    changed = blob[:at] + bytes([value]) + blob[at + 1 :]
    text = QR_PREFIX + base64.b32encode(changed).decode().rstrip("=")
    result = verify_qr(text, trust(), TODAY)
    assert result.status is not VerifyStatus.VALID
    if 2 <= at < len(blob) - 64:  # inside the content
        assert result.status in (VerifyStatus.ALTERED, VerifyStatus.UNKNOWN_KEY)
    elif at >= len(blob) - 64:  # inside the signature
        assert result.status is VerifyStatus.ALTERED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_character_change_of_the_text_is_never_valid(data: st.DataObject) -> None:
    _seal, qr = issued_v1()
    at = data.draw(st.integers(0, len(qr) - 1))
    ch = data.draw(st.characters(codec="utf-8").filter(lambda c: c != qr[at]))
    result = verify_qr(qr[:at] + ch + qr[at + 1 :], trust(), TODAY)
    assert result.status is not VerifyStatus.VALID


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_are_never_valid_and_never_raise(raw: bytes) -> None:
    for text in (
        raw.decode("utf-8", errors="replace"),
        QR_PREFIX + base64.b32encode(raw).decode().rstrip("="),
    ):
        result = verify_qr(text, trust(), TODAY)
        assert result.status is not VerifyStatus.VALID
        assert result.problem.en() and result.problem.zh()
        assert result.to_dict()["status"] == result.status.value


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_random_text_is_never_valid(text: str) -> None:
    assert verify_qr(text, trust(), TODAY).status is not VerifyStatus.VALID


# ---------------------------------------------------------------- sealed records


def test_sealed_record_verifies_and_names_tampering() -> None:
    seal, qr = issued()
    record = {"certificate": body().to_dict(), "seal": seal, "qr": qr}
    assert verify_record(record, trust(), TODAY).status is VerifyStatus.VALID
    changed = {**record, "certificate": {**record["certificate"], "holder_id": "610103199001011235"}}
    assert verify_record(changed, trust(), TODAY).status is VerifyStatus.ALTERED
    other_seal, _ = issued(2)
    assert verify_record({**record, "seal": other_seal}, trust(), TODAY).status is VerifyStatus.ALTERED
    extra = {**record, "certificate": {**record["certificate"], "extra": 1}}
    assert verify_record(extra, trust(), TODAY).status is VerifyStatus.ALTERED
    assert verify_record([1, 2], trust(), TODAY).status is VerifyStatus.MALFORMED
    assert verify_record({"seal": seal}, trust(), TODAY).status is VerifyStatus.MALFORMED


def test_a_record_must_name_the_sealing_keys_station() -> None:
    claimed = body(9, station="JHZX")
    record = {"certificate": claimed.to_dict(), "seal": seal_certificate(station_key(), claimed)[0]}
    result = verify_record(record, trust(), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, "cert.verify.record_station")


# ---------------------------------------------------------------- what a station may seal


def test_each_station_may_issue_its_authoritys_code_and_its_items_types() -> None:
    found = stations()
    assert found["GXZX"].issuer_code == ISSUER and TYPE_CODE in found["GXZX"].type_codes
    assert found["JHYZ1"].issuer_code == found["JHZX"].issuer_code != ISSUER
    assert TYPE_CODE not in found["JHYZ1"].type_codes  # the park station accepts no 残疾人证 item
    assert found["JHYZ1"].type_codes < found["JHZX"].type_codes


def forge(key: KeyPair, identifier: Identifier) -> str:
    """A certificate sealed by a genuine key with an identifier of the forger's choosing, as a
    ``ZZ1:`` text: the ``ZZ2`` text cannot even state another issuer code than the station's
    (tests/unit/test_qr_compact.py), the old one can and the binding rule refuses it."""
    made = body(key=key, identifier=str(identifier), issuer_code=identifier.issuer_code)
    content = made.qr_payload().content()
    return frame_qr(content, key.sign(content))


def test_a_genuine_key_cannot_seal_another_stations_identifier() -> None:
    jhzx = other_key()
    cases = {
        Identifier.build(TYPE_CODE, ISSUER, serial_for("GXZX", 5)): "cert.verify.serial_station",
        Identifier.build(TYPE_CODE, ISSUER, serial_for("JHZX", 5)): "cert.verify.issuer",
        Identifier.build(TYPE_CODE, ISSUER, "ABC123"): "cert.verify.serial_station",  # not our scheme
    }
    for identifier, code in cases.items():
        result = verify_qr(forge(jhzx, identifier), trust(), TODAY)
        assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, code), str(identifier)
        assert "JHZX" in result.problem.zh() and result.to_dict()["station"] == "JHZX"
    park = generate_key_pair("JHYZ1")
    keys = {park.key_id: park.public()}
    park_issuer = stations()["JHYZ1"].issuer_code
    made = forge(park, Identifier.build(TYPE_CODE, park_issuer, serial_for("JHYZ1", 1)))
    assert verify_qr(made, trust(keys=keys), TODAY).problem.code == "cert.verify.type"
    nowhere = generate_key_pair("NOWHERE")
    made = forge(nowhere, Identifier.build(TYPE_CODE, ISSUER, serial_for("NOWHERE", 1)))
    result = verify_qr(made, trust(keys={nowhere.key_id: nowhere.public()}), TODAY)
    assert (result.status, result.problem.code) == (VerifyStatus.ALTERED, "cert.verify.station_unknown")
    # A verifier that knows no station at all trusts no seal.
    assert verify_qr(issued()[1], trust(stations={}), TODAY).status is VerifyStatus.ALTERED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(load_shipped_catalog().stations)), st.integers(1, 10**8 - 1))
def test_no_key_seals_a_serial_of_another_station(serial_station: str, sequence: int) -> None:
    issuer = stations()[serial_station].issuer_code
    identifier = Identifier.build(TYPE_CODE, issuer, serial_for(serial_station, sequence))
    result = verify_qr(forge(station_key(), identifier), trust(), TODAY)
    assert (result.status is VerifyStatus.VALID) == (serial_station == "GXZX")


def test_body_round_trips_through_its_dict() -> None:
    made = body()
    assert CertificateBody.from_dict(made.to_dict()) == made
    assert QrPayload.from_content(made.qr_payload().content()) == made.qr_payload()
