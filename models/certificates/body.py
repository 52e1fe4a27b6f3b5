"""What a certificate says (:class:`CertificateBody`); its canonical JSON is what the seal signs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.certificates.codes import HolderIdType
from models.certificates.payload import QrPayload
from models.identity import mask_id


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
