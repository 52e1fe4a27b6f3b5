"""The first QR text format, ``ZZ1:``, still read (certificates issued before ``ZZ2``), and the
search for a QR text of either format inside a file.

``ZZ1:`` + base32 (RFC 4648, upper case, no padding) of::

    content length (2 bytes, big-endian) | content (UTF-8) | SM2 signature r||s (64 bytes)

where content is :meth:`QrPayload.content <models.certificates.payload.QrPayload.content>`.
Base32 keeps the text inside the QR alphanumeric mode; the length header tells a truncated
text from an altered one. New certificates carry the denser ``ZZ2`` text
(:mod:`models.certificates.qr_compact`) whenever their fields fit it.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from models.certificates.codes import QrDecodeError, VerifyStatus
from models.problems import Problem

QR_PREFIX = "ZZ1:"
SIGNATURE_BYTES = 64
_B32 = re.compile(r"^[A-Z2-7]*$")
# RFC 4648 base32 digits -> Python's int(..., 32) digits: decoding then runs in C (base64's is Python).
_B32_AS_INT_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")
# A ZZ2 text inside a file: its version digit, then at least the digits a signature takes.
_COMPACT_IN_TEXT = re.compile(r"(?<![0-9])2[1-9][0-9]{150,}(?![0-9])")


def frame_qr(content: bytes, signature: bytes) -> str:
    """The QR text of signed ``content``."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an SM2 signature r||s has 64 bytes")
    if len(content) > 0xFFFF:
        raise ValueError("the QR content is too long")
    blob = len(content).to_bytes(2, "big") + content + signature
    return QR_PREFIX + base64.b32encode(blob).decode("ascii").rstrip("=")


def find_qr_text(text: str) -> str | None:
    """The first certificate QR text inside ``text`` (a file, a printed page's source), of
    either format."""
    found = [
        match
        for match in (re.search(re.escape(QR_PREFIX) + r"[A-Z2-7]+", text), _COMPACT_IN_TEXT.search(text))
        if match is not None
    ]
    return min(found, key=lambda match: match.start()).group(0) if found else None


def malformed(code: str, **params: Any) -> QrDecodeError:
    """The error of a QR text that is not a usable certificate text."""
    return QrDecodeError(VerifyStatus.MALFORMED, Problem(code, params))


def _b32_decode(text: str) -> tuple[bytes, bool]:
    """(bytes, canonical) of unpadded base32 ``text`` (A-Z2-7 only) ending on a whole byte.

    ``canonical``: the unused low bits of the last character are zero, as every encoder writes.
    """
    size, spare = divmod(len(text) * 5, 8)
    value = int(text.translate(_B32_AS_INT_DIGITS), 32) if text else 0
    return (value >> spare).to_bytes(size, "big"), value & ((1 << spare) - 1) == 0


def unframe_qr(text: str) -> tuple[bytes, bytes]:
    """(content, signature) of a QR text; :class:`QrDecodeError` (malformed) when the frame is bad.

    Only the frame is checked here: a text that frames correctly but whose content does not
    parse or match its signature has been altered, which the verifier decides.
    """
    cleaned = "".join(text.split())
    if not cleaned:
        raise malformed("cert.verify.empty")
    if not cleaned.startswith(QR_PREFIX):
        version = re.match(r"^ZZ(\d{1,6}):", cleaned)
        if version is not None:
            raise malformed("cert.verify.version", version=version.group(1))
        head = "".join(ch if " " < ch < "\x7f" else "?" for ch in cleaned[: len(QR_PREFIX)])
        raise malformed("cert.verify.not_ours", head=head)
    body = cleaned[len(QR_PREFIX) :]
    if not _B32.match(body):
        raise malformed("cert.verify.charset")
    # 1, 3 or 6 characters past a multiple of 8 end no whole byte: the text was cut off (or
    # padded); decode what is whole to say which.
    usable = body[:-1] if len(body) % 8 in (1, 3, 6) else body
    blob, canonical = _b32_decode(usable)
    if len(blob) < 2:
        raise malformed("cert.verify.truncated", got=len(blob), expected=2 + SIGNATURE_BYTES)
    declared = int.from_bytes(blob[:2], "big")
    expected = 2 + declared + SIGNATURE_BYTES
    if len(blob) < expected:
        raise malformed("cert.verify.truncated", got=len(blob), expected=expected)
    if len(blob) > expected or usable != body:
        raise malformed("cert.verify.trailing")
    if not canonical:
        # Unused low bits of the last character set: not how any issuer encodes.
        raise malformed("cert.verify.noncanonical")
    return blob[2 : 2 + declared], blob[2 + declared :]
