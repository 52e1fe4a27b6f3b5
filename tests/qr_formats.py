"""Turn a certificate's ``ZZ2`` text into the ``ZZ1:`` text of the same signed content, so that
tests can tamper with the content bytes and check that old texts still verify."""

from __future__ import annotations

from models.certificates import Identifier, decode_compact, frame_qr, unframe_qr


def as_zz1(qr: str, identifier: str) -> str:
    """The ``ZZ1:`` text of ``qr`` (a ``ZZ2`` text of the certificate ``identifier``)."""
    if qr.startswith("ZZ1:"):
        return qr
    parsed = Identifier.parse(identifier)
    assert parsed is not None
    compact = decode_compact(qr)
    content = compact.payload(compact.identifier(parsed.type_code, parsed.issuer_code)).content()
    return frame_qr(content, compact.signature)


def content_and_signature(qr: str, identifier: str) -> tuple[bytes, bytes]:
    """(signed content, signature) of a certificate QR text of either format."""
    return unframe_qr(as_zz1(qr, identifier))
