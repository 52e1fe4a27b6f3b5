"""The privacy-minimal fields a certificate's QR code carries, and their signed canonical bytes.

The content is the fields of :class:`QrPayload` joined by U+001F (a control character no
validated name or code can hold), the fixed identifier prefix left out. Both QR text formats
(:mod:`models.certificates.qr_text`, :mod:`models.certificates.qr_compact`) carry a signature
over exactly these bytes; they differ only in how the fields travel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from models.certificates.codes import HolderIdType
from models.certificates.identifier import ID_PREFIX, Identifier

_SEP = "\x1f"


def _ymd(day: dt.date | None) -> str:
    # As strftime("%Y%m%d") writes it on Linux (an unpadded year), at a third of its cost.
    return "" if day is None else f"{day.year}{day.month:02d}{day.day:02d}"


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
        joined = _SEP.join(fields)
        if joined.count(_SEP) != len(fields) - 1:
            raise ValueError("a QR field holds the separator character")
        return joined.encode("utf-8")

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
