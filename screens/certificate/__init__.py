"""统一出证 and 领取/寄递: approved cases waiting for their certificate, certificates waiting to be
handed out, the QR code, the printable form and verification — all from the keyboard.

:mod:`~screens.certificate.screen` (the screen), :mod:`~screens.certificate.dialogs` (QR,
handover, verification) and :mod:`~screens.certificate.text` (every word the clerk reads).
"""

from __future__ import annotations

from screens.certificate.dialogs import HandoverDialog, HandoverRequest, QrDialog, VerifyDialog
from screens.certificate.screen import CertificateScreen
from screens.certificate.text import TEXT

__all__ = ["TEXT", "CertificateScreen", "HandoverDialog", "HandoverRequest", "QrDialog", "VerifyDialog"]
