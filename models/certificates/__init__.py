"""Unified certificates (统一出证): identifiers, holders, the sealed body and the QR texts.

Pure value types shared by the client and the hall server; signing and verification live in
:mod:`models.seal`. One idea a module:

- :mod:`~models.certificates.identifier`: the GB/T 36904 identifier and its check character;
- :mod:`~models.certificates.codes`: holder code types (GB/T 36903), verification statuses;
- :mod:`~models.certificates.body`: what a certificate says, in the canonical JSON the seal signs;
- :mod:`~models.certificates.payload`: the privacy-minimal fields the QR code carries (the
  holder's name, the masked ID and its type, the dates and the key id; no phone, no full ID, no
  case numbers) and the bytes their signature covers;
- :mod:`~models.certificates.qr_compact`: the ``ZZ2`` text new certificates carry (decimal
  digits, QR numeric mode: version 5 at error correction L for a usual certificate);
- :mod:`~models.certificates.qr_text`: the ``ZZ1`` text of earlier certificates (still read);
- :mod:`~models.certificates.verification`, :mod:`~models.certificates.views`: what front ends show.

Every public name is importable from ``models.certificates`` itself.
"""

from __future__ import annotations

from models.certificates.body import CertificateBody, add_years
from models.certificates.codes import (
    HOLDER_ID_TYPE_ZH,
    VERIFY_STATUS_ZH,
    HolderIdType,
    QrDecodeError,
    VerifyStatus,
)
from models.certificates.identifier import (
    FIRST_VERSION,
    ID_PREFIX,
    SERIAL_DIGITS,
    Identifier,
    check_character,
    looks_like_identifier,
    serial_for,
)
from models.certificates.payload import QrPayload
from models.certificates.qr_compact import (
    COMPACT_VERSION,
    CompactQr,
    decode_compact,
    encode_compact,
    is_compact_text,
    type_ref,
)
from models.certificates.qr_text import QR_PREFIX, SIGNATURE_BYTES, find_qr_text, frame_qr, unframe_qr
from models.certificates.verification import Verification
from models.certificates.views import (
    HANDOVER_ZH,
    CertificateView,
    HandoverKind,
    HandoverView,
    KeyView,
    RevocationView,
)

__all__ = [
    "COMPACT_VERSION",
    "FIRST_VERSION",
    "HANDOVER_ZH",
    "HOLDER_ID_TYPE_ZH",
    "ID_PREFIX",
    "QR_PREFIX",
    "SERIAL_DIGITS",
    "SIGNATURE_BYTES",
    "VERIFY_STATUS_ZH",
    "CertificateBody",
    "CertificateView",
    "CompactQr",
    "HandoverKind",
    "HandoverView",
    "HolderIdType",
    "Identifier",
    "KeyView",
    "QrDecodeError",
    "QrPayload",
    "RevocationView",
    "Verification",
    "VerifyStatus",
    "add_years",
    "check_character",
    "decode_compact",
    "encode_compact",
    "find_qr_text",
    "frame_qr",
    "is_compact_text",
    "looks_like_identifier",
    "serial_for",
    "type_ref",
    "unframe_qr",
]
