"""统一出证: issue, seal, print, hand over, revoke and verify certificates — offline first.

Issuing is one local unit of work: the station's serial sequence, the sealed certificate, the
case's ``issue_certificate`` transition (state + audit + outbox operation carrying the sealed
body and the signing key's public record, so the hall can register the key and record the
certificate) commit together or not at all. Serials are station code + station sequence, so
an offline station never needs the server to stay unique.

Sealing needs a supervisor-approved key (:mod:`window_client.services.certificate_keys`): the
first issue, or a rotation, takes a supervisor's approval, kept with the key for the hall.
Revoking takes a supervisor of the issuing station (or an admin), whose signed approval is kept
with the revocation so that any later sync can prove it to the hall.

Verification trusts the keys in the local store: this station's own keys (old ones kept after
a rotation, so old certificates still verify) and the keys the hall publishes through the sync
feed, with the hall's revocation list, and what each station of the catalogue may issue. The
pure rules live in :mod:`models.seal`, shared with the hall server.

One concept a module, composed here into :class:`CertificateService`:
:mod:`~window_client.services.certificates.base` (state, keys, reading),
:mod:`~window_client.services.certificates.issuing`,
:mod:`~window_client.services.certificates.handover` (领取, 寄递, revocation),
:mod:`~window_client.services.certificates.hall_feed` (publication to the hall, its feed) and
:mod:`~window_client.services.certificates.verifying`.
"""

from __future__ import annotations

from window_client.services.certificates.hall_feed import FEED_KINDS, HallCertificates, PublishReport
from window_client.services.certificates.handover import Handover
from window_client.services.certificates.issuing import (
    DEFAULT_VALID_YEARS,
    MAX_VALID_YEARS,
    AwaitingIssue,
    Issuing,
)
from window_client.services.certificates.verifying import Verifying


class CertificateService(Issuing, Handover, Verifying):
    """Certificates of one station, acting as one staff member."""


__all__ = [
    "DEFAULT_VALID_YEARS",
    "FEED_KINDS",
    "MAX_VALID_YEARS",
    "AwaitingIssue",
    "CertificateService",
    "HallCertificates",
    "PublishReport",
]
