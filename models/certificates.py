"""Unified certificates (统一出证): identifiers, holders, the sealed body and the QR payload.

Pure value types shared by the client and the hall server; signing and verification live in
:mod:`models.seal`.

**Identifier** (GB/T 36904 shape)::

    1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>

- type code: the defining authority's 统一社会信用代码 (18) + 3 digits;
- issuer code: the issuing authority's 统一社会信用代码 (18);
- serial (流水号): for certificates issued by this system, the station code followed by an
  8-digit station sequence (``GXZX00000042``). The sequence width is fixed, so the station
  part is recovered unambiguously even when one station code is a prefix of another, and two
  stations never need to ask anyone for a number;
- version (版本号): 3 digits, ``001`` for a first issue;
- check (校验位): one character of ``0-9A-Z`` computed with the ISO 7064 MOD 37,36 hybrid
  system (the alphanumeric system of GB/T 17710) over every letter and digit of the identifier
  before it, separators removed, upper case. python-stdnum's ``iso7064.mod_37_36`` computes
  it, so the checksum is not hand-written. Identifiers issued elsewhere are kept verbatim and
  checked for shape only (their issuer may compute the check another way).

**Holder code types** (GB/T 36903): ``111`` 公民身份号码, ``001`` 统一社会信用代码.

**QR payload**: ``ZZ1:`` + base32 (RFC 4648, upper case, no padding) of::

    content length (2 bytes, big-endian) | content (UTF-8) | SM2 signature r||s (64 bytes)

where content is the fields of :class:`QrPayload` joined by U+001F (a control character no
validated name or code can hold). Base32 keeps the text inside the QR alphanumeric mode
(5.5 bits a character), the densest mode for binary data that a phone app still reads as
text; the length header tells a truncated text from an altered one. The payload is
privacy-minimal: the holder's name, the masked ID and its type, the dates and the key id;
no phone, no full ID, no case numbers.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stdnum.iso7064 import mod_37_36

from models.enums import ApplicantType
from models.identity import mask_id
from models.problems import Problem

ID_PREFIX = "1.2.156.3005.2"
QR_PREFIX = "ZZ1:"
SERIAL_DIGITS = 8
FIRST_VERSION = "001"
SIGNATURE_BYTES = 64
_USCC = "[0-9A-HJ-NPQRTUWXY]{18}"
_IDENTIFIER = re.compile(
    rf"^1\.2\.156\.3005\.2\.(?P<type>{_USCC}[0-9]{{3}})\.(?P<issuer>{_USCC})"
    r"\.(?P<serial>[0-9A-Z]{1,40})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)
_SEP = "\x1f"
_B32 = re.compile(r"^[A-Z2-7]*$")
# RFC 4648 base32 digits -> Python's int(..., 32) digits: decoding then runs in C (base64's is Python).
_B32_AS_INT_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")


class HolderIdType(StrEnum):
    """证件类型 of a certificate holder (GB/T 36903 持证主体代码类型)."""

    CITIZEN_ID = "111"  # 公民身份号码
    USCC = "001"  # 统一社会信用代码

    @classmethod
    def of(cls, applicant_type: ApplicantType | str) -> HolderIdType:
        """The holder code type of an applicant type."""
        return cls.CITIZEN_ID if ApplicantType(applicant_type) is ApplicantType.PERSON else cls.USCC

    @property
    def zh(self) -> str:
        """The Chinese name of the code type."""
        return HOLDER_ID_TYPE_ZH[self]


HOLDER_ID_TYPE_ZH = {HolderIdType.CITIZEN_ID: "公民身份号码", HolderIdType.USCC: "统一社会信用代码"}


class VerifyStatus(StrEnum):
    """The answer of a verification (DESIGN.md §6 ``verify --json``)."""

    VALID = "valid"
    ALTERED = "altered"
    UNKNOWN_KEY = "unknown_key"
    REVOKED = "revoked"
    EXPIRED = "expired"
    MALFORMED = "malformed"


VERIFY_STATUS_ZH = {
    VerifyStatus.VALID: "有效",
    VerifyStatus.ALTERED: "已被篡改",
    VerifyStatus.UNKNOWN_KEY: "签章密钥未知",
    VerifyStatus.REVOKED: "已撤销",
    VerifyStatus.EXPIRED: "已过期",
    VerifyStatus.MALFORMED: "无法识别",
}


# ---------------------------------------------------------------- identifier


def check_character(body: str) -> str:
    """ISO 7064 MOD 37,36 check character over the letters and digits of ``body``."""
    return str(mod_37_36.calc_check_digit(re.sub(r"[^0-9A-Z]", "", body.upper())))


def serial_for(station: str, sequence: int) -> str:
    """The 流水号 of a station's ``sequence``-th certificate."""
    if not 0 < sequence < 10**SERIAL_DIGITS:
        raise ValueError(f"certificate sequence {sequence} is out of range")
    return f"{station.upper()}{sequence:0{SERIAL_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A GB/T 36904 certificate identifier, split into its parts."""

    type_code: str
    issuer_code: str
    serial: str
    version: str
    check: str

    @classmethod
    def build(cls, type_code: str, issuer_code: str, serial: str, version: str = FIRST_VERSION) -> Identifier:
        """A new identifier with its check character computed."""
        body = f"{ID_PREFIX}.{type_code}.{issuer_code}.{serial}.{version}"
        made = cls(type_code, issuer_code, serial, version, check_character(body))
        if not _IDENTIFIER.match(str(made)):
            raise ValueError(f"not a GB/T 36904 identifier: {made}")
        return made

    @classmethod
    def parse(cls, text: str) -> Identifier | None:
        """Split ``text``; ``None`` when it does not have the GB/T 36904 shape."""
        match = _IDENTIFIER.match(text.strip())
        if match is None:
            return None
        return cls(match["type"], match["issuer"], match["serial"], match["version"], match["check"])

    @property
    def check_ok(self) -> bool:
        """Whether the check character is the one this system computes."""
        body = f"{ID_PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}.{self.version}"
        return check_character(body) == self.check

    @property
    def station_sequence(self) -> tuple[str, int] | None:
        """(station, sequence) of a serial this system made; ``None`` for another scheme."""
        head, tail = self.serial[:-SERIAL_DIGITS], self.serial[-SERIAL_DIGITS:]
        if not head or not tail.isdigit() or len(self.serial) <= SERIAL_DIGITS:
            return None
        return head, int(tail)

    def __str__(self) -> str:
        return f"{ID_PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}.{self.version}.{self.check}"


def looks_like_identifier(text: str) -> bool:
    """Whether ``text`` starts like a certificate identifier (for lookups by reference)."""
    return text.strip().startswith(ID_PREFIX + ".")


# ---------------------------------------------------------------- the sealed body


def _date(value: Any, name: str) -> dt.date:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a date string")
    return dt.date.fromisoformat(value)


def add_years(day: dt.date, years: int) -> dt.date:
    """The last day of a validity of ``years`` years starting on ``day`` (29 Feb → 28 Feb)."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        end = day.replace(year=day.year + years, day=28)
    return end - dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CertificateBody:
    """What a certificate says; its canonical JSON is what the seal signs."""

    identifier: str
    certificate_type: str  # the catalogue code, e.g. BIZ_LICENSE
    type_name: str
    holder_name: str
    holder_id: str
    holder_id_type: HolderIdType
    issuer_code: str
    issuer_name: str
    station: str
    issued_on: dt.date
    valid_until: dt.date | None  # None: 长期有效
    case_nos: tuple[str, ...]
    key_id: str
    format: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return {
            "format": self.format,
            "identifier": self.identifier,
            "certificate_type": self.certificate_type,
            "type_name": self.type_name,
            "holder_name": self.holder_name,
            "holder_id": self.holder_id,
            "holder_id_type": self.holder_id_type.value,
            "issuer_code": self.issuer_code,
            "issuer_name": self.issuer_name,
            "station": self.station,
            "issued_on": self.issued_on.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "case_nos": list(self.case_nos),
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CertificateBody:
        """Parse :meth:`to_dict` output; ``ValueError`` naming the first bad field."""
        expected = set(cls.__dataclass_fields__)
        if set(data) != expected:
            raise ValueError(f"fields differ: {sorted(set(data) ^ expected)}")
        cases = data["case_nos"]
        if not isinstance(cases, list) or not all(isinstance(c, str) for c in cases):
            raise ValueError("case_nos must be a list of case numbers")
        text_fields = (
            "identifier", "certificate_type", "type_name", "holder_name", "holder_id",
            "issuer_code", "issuer_name", "station", "key_id",
        )  # fmt: skip
        for name in text_fields:
            if not isinstance(data[name], str):
                raise ValueError(f"{name} must be a string")
        if data["format"] != 1:
            raise ValueError(f"unsupported format {data['format']!r}")
        valid_until = data["valid_until"]
        return cls(
            identifier=data["identifier"],
            certificate_type=data["certificate_type"],
            type_name=data["type_name"],
            holder_name=data["holder_name"],
            holder_id=data["holder_id"],
            holder_id_type=HolderIdType(data["holder_id_type"]),
            issuer_code=data["issuer_code"],
            issuer_name=data["issuer_name"],
            station=data["station"],
            issued_on=_date(data["issued_on"], "issued_on"),
            valid_until=None if valid_until is None else _date(valid_until, "valid_until"),
            case_nos=tuple(cases),
            key_id=data["key_id"],
        )

    def canonical_bytes(self) -> bytes:
        """The bytes the seal signs: sorted keys, no spaces, UTF-8."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode("utf-8")

    def qr_payload(self) -> QrPayload:
        """The privacy-minimal subset the QR code carries."""
        return QrPayload(
            identifier=self.identifier,
            holder_id_type=self.holder_id_type,
            holder_id_masked=mask_id(self.holder_id),
            holder_name=self.holder_name,
            issued_on=self.issued_on,
            valid_until=self.valid_until,
            key_id=self.key_id,
        )


# ---------------------------------------------------------------- the QR payload


class QrDecodeError(ValueError):
    """A QR text that cannot be used, with the problem and the status it earns."""

    def __init__(self, status: VerifyStatus, problem: Problem) -> None:
        super().__init__(problem.en())
        self.status = status
        self.problem = problem


def _ymd(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


def _parse_ymd(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"bad date {text!r}")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


@dataclass(frozen=True, slots=True)
class QrPayload:
    """The fields a certificate's QR code carries (all covered by its signature)."""

    identifier: str
    holder_id_type: HolderIdType
    holder_id_masked: str
    holder_name: str
    issued_on: dt.date
    valid_until: dt.date | None
    key_id: str

    def content(self) -> bytes:
        """The signed bytes: the fields joined by U+001F, the fixed identifier prefix left out."""
        short_id = self.identifier.removeprefix(ID_PREFIX + ".")
        fields = (
            short_id, self.holder_id_type.value, self.holder_id_masked, self.holder_name,
            _ymd(self.issued_on), _ymd(self.valid_until), self.key_id,
        )  # fmt: skip
        if any(_SEP in f for f in fields):
            raise ValueError("a QR field holds the separator character")
        return _SEP.join(fields).encode("utf-8")

    @classmethod
    def from_content(cls, content: bytes) -> QrPayload:
        """Parse :meth:`content`; ``ValueError`` when it does not parse."""
        parts = content.decode("utf-8").split(_SEP)
        if len(parts) != 7:
            raise ValueError(f"expected 7 fields, got {len(parts)}")
        short_id, id_type, masked, name, issued, until, key_id = parts
        identifier = f"{ID_PREFIX}.{short_id}"
        if Identifier.parse(identifier) is None:
            raise ValueError("the identifier does not have the GB/T 36904 shape")
        if not (masked and name and key_id):
            raise ValueError("an empty field")
        return cls(
            identifier=identifier,
            holder_id_type=HolderIdType(id_type),
            holder_id_masked=masked,
            holder_name=name,
            issued_on=_parse_ymd(issued),
            valid_until=_parse_ymd(until) if until else None,
            key_id=key_id,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready details (for ``verify --json``)."""
        return {
            "identifier": self.identifier,
            "holder_name": self.holder_name,
            "holder_id_masked": self.holder_id_masked,
            "holder_id_type": self.holder_id_type.value,
            "issued_on": self.issued_on.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "key_id": self.key_id,
        }


def frame_qr(content: bytes, signature: bytes) -> str:
    """The QR text of signed ``content``."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an SM2 signature r||s has 64 bytes")
    if len(content) > 0xFFFF:
        raise ValueError("the QR content is too long")
    blob = len(content).to_bytes(2, "big") + content + signature
    return QR_PREFIX + base64.b32encode(blob).decode("ascii").rstrip("=")


def find_qr_text(text: str) -> str | None:
    """The first certificate QR text inside ``text`` (a file, a printed page's source)."""
    match = re.search(re.escape(QR_PREFIX) + r"[A-Z2-7]+", text)
    return None if match is None else match.group(0)


def _b32_decode(text: str) -> tuple[bytes, bool]:
    """(bytes, canonical) of unpadded base32 ``text`` (A-Z2-7 only) ending on a whole byte.

    ``canonical``: the unused low bits of the last character are zero, as every encoder writes.
    """
    size, spare = divmod(len(text) * 5, 8)
    value = int(text.translate(_B32_AS_INT_DIGITS), 32) if text else 0
    return (value >> spare).to_bytes(size, "big"), value & ((1 << spare) - 1) == 0


def _malformed(code: str, **params: Any) -> QrDecodeError:
    return QrDecodeError(VerifyStatus.MALFORMED, Problem(code, params))


def unframe_qr(text: str) -> tuple[bytes, bytes]:
    """(content, signature) of a QR text; :class:`QrDecodeError` (malformed) when the frame is bad.

    Only the frame is checked here: a text that frames correctly but whose content does not
    parse or match its signature has been altered, which the verifier decides.
    """
    cleaned = "".join(text.split())
    if not cleaned:
        raise _malformed("cert.verify.empty")
    if not cleaned.startswith(QR_PREFIX):
        version = re.match(r"^ZZ(\d{1,6}):", cleaned)
        if version is not None:
            raise _malformed("cert.verify.version", version=version.group(1))
        head = "".join(ch if " " < ch < "\x7f" else "?" for ch in cleaned[: len(QR_PREFIX)])
        raise _malformed("cert.verify.not_ours", head=head)
    body = cleaned[len(QR_PREFIX) :]
    if not _B32.match(body):
        raise _malformed("cert.verify.charset")
    # 1, 3 or 6 characters past a multiple of 8 end no whole byte: the text was cut off (or
    # padded); decode what is whole to say which.
    usable = body[:-1] if len(body) % 8 in (1, 3, 6) else body
    blob, canonical = _b32_decode(usable)
    if len(blob) < 2:
        raise _malformed("cert.verify.truncated", got=len(blob), expected=2 + SIGNATURE_BYTES)
    declared = int.from_bytes(blob[:2], "big")
    expected = 2 + declared + SIGNATURE_BYTES
    if len(blob) < expected:
        raise _malformed("cert.verify.truncated", got=len(blob), expected=expected)
    if len(blob) > expected or usable != body:
        raise _malformed("cert.verify.trailing")
    if not canonical:
        # Unused low bits of the last character set: not how any issuer encodes.
        raise _malformed("cert.verify.noncanonical")
    return blob[2 : 2 + declared], blob[2 + declared :]


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verifying a QR text or a sealed record."""

    status: VerifyStatus
    problem: Problem
    payload: QrPayload | None = None  # the claimed content (trusted only when the seal held)
    details: Mapping[str, Any] = field(default_factory=dict)  # extra facts (revocation, type name)

    @property
    def valid(self) -> bool:
        """Only ``valid`` is valid."""
        return self.status is VerifyStatus.VALID

    def to_dict(self) -> dict[str, Any]:
        """The ``verify --json`` object: status, reason, and details where the seal held."""
        out: dict[str, Any] = {
            "status": self.status.value,
            "code": self.problem.code,
            "reason": self.problem.en(),
            "reason_zh": self.problem.zh(),
        }
        sealed = self.status in (VerifyStatus.VALID, VerifyStatus.REVOKED, VerifyStatus.EXPIRED)
        if self.payload is not None:
            if sealed:
                out.update(self.payload.to_dict())
            else:  # unverified claims are labelled as such
                out["claimed_identifier"] = self.payload.identifier
                out["key_id"] = self.payload.key_id
        out.update(self.details)
        return out


# ---------------------------------------------------------------- read models for front ends


class HandoverKind(StrEnum):
    """How a certificate left the window: collected by the holder, by an agent, or mailed."""

    HOLDER = "holder"  # 本人领取
    AGENT = "agent"  # 代领
    MAIL = "mail"  # 寄递


HANDOVER_ZH = {HandoverKind.HOLDER: "本人领取", HandoverKind.AGENT: "代领", HandoverKind.MAIL: "寄递"}


@dataclass(frozen=True, slots=True)
class HandoverView:
    """A recorded handover (领取 / 寄递)."""

    kind: HandoverKind
    collector_name: str | None
    collector_id_masked: str | None
    tracking_no: str | None
    handed_over_on: dt.date
    handed_over_by: str
    at: str


@dataclass(frozen=True, slots=True)
class RevocationView:
    """Why and when a certificate was revoked."""

    reason: str
    revoked_at: str
    revoked_by: str
    source: str


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as front ends show it (the holder ID unmasked only in :attr:`body`)."""

    body: CertificateBody
    seal: str
    qr: str
    origin: str
    issued_by: str
    printed: int
    created_at: str
    handover: HandoverView | None
    revocation: RevocationView | None

    @property
    def identifier(self) -> str:
        """The GB/T 36904 identifier."""
        return self.body.identifier

    @property
    def holder_id_masked(self) -> str:
        """The holder's ID for lists."""
        return mask_id(self.body.holder_id)

    def status(self, today: dt.date) -> str:
        """revoked, expired, handed_over or waiting (for handover)."""
        if self.revocation is not None:
            return "revoked"
        if self.body.valid_until is not None and self.body.valid_until < today:
            return "expired"
        return "handed_over" if self.handover is not None else "waiting"

    def to_dict(self, today: dt.date) -> dict[str, Any]:
        """JSON-ready form with the holder ID masked (``cert show --json``)."""
        data = self.body.to_dict()
        data.pop("holder_id")
        data["holder_id_masked"] = self.holder_id_masked
        data.update(
            qr=self.qr,
            origin=self.origin,
            issued_by=self.issued_by,
            printed=self.printed,
            status=self.status(today),
            handover=None,
            revocation=None,
        )
        if self.handover is not None:
            h = self.handover
            data["handover"] = {
                "kind": h.kind.value,
                "collector_name": h.collector_name,
                "collector_id_masked": h.collector_id_masked,
                "tracking_no": h.tracking_no,
                "handed_over_on": h.handed_over_on.isoformat(),
                "handed_over_by": h.handed_over_by,
            }
        if self.revocation is not None:
            r = self.revocation
            data["revocation"] = {"reason": r.reason, "revoked_at": r.revoked_at, "revoked_by": r.revoked_by}
        return data

    def sealed_record(self) -> dict[str, Any]:
        """The full record a verifier checks with :func:`models.seal.verify_record`."""
        return {"certificate": self.body.to_dict(), "seal": self.seal, "qr": self.qr}


@dataclass(frozen=True, slots=True)
class KeyView:
    """A signing key as ``keys list`` shows it."""

    key_id: str
    station: str
    origin: str  # "own" | "published"
    created_at: str
    retired_at: str | None
    revoked_at: str | None
    revoked_reason: str | None
    public_key: str

    @property
    def state(self) -> str:
        """active, retired or revoked."""
        if self.revoked_at:
            return "revoked"
        return "retired" if self.retired_at else "active"
