"""The sync protocol's messages: every request and answer of the API (see :mod:`models.sync`)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.enums import Role
from models.sync.canonical import body_hash

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
# Each batch is one durable (fsynced) commit and one round trip, so bigger batches amortise both;
# 2,000 typical operations are about 2 MB, far below MAX_BODY_BYTES, and hold the hall's write
# lock for well under a second. A client halves a batch the server refuses as too large.
MAX_PUSH_BATCH = 2000
MAX_PULL_LIMIT = 5000
MAX_SEQ = 2**63 - 1  # an outbox sequence number fits a 64-bit database integer
MAX_BODY_BYTES = 16 * 1024 * 1024
# An operation's payload is a flat record with a few lists (materials); a cap on its nesting keeps
# every reader (the hall's decoders, body hashes, other stations' pulls) far from a recursion limit.
MAX_PAYLOAD_DEPTH = 32
# Limits of an operation's own fields (Operation below; the client's encoder checks the same).
OP_ID_MIN, OP_ID_MAX = 8, 64
CASE_NO_MAX = 64
STAMP_MAX = 64


def nesting_within(value: Any, limit: int) -> bool:
    """Whether a decoded JSON value nests at most ``limit`` containers deep (``{}`` is 1).

    Iterative, so that it can judge values deeper than the interpreter's recursion limit.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth == limit:
            return False
        stack.extend((child, depth + 1) for child in item)
    return True


def _shallow(payload: dict[str, Any]) -> dict[str, Any]:
    if not nesting_within(payload, MAX_PAYLOAD_DEPTH):
        raise ValueError(f"nested more than {MAX_PAYLOAD_DEPTH} levels deep")
    return payload


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperationKind(StrEnum):
    """What an outbox operation does on the server."""

    CASE_ACCEPT = "case.accept"  # a new case (any verdict, including 不予受理)
    CASE_TRANSITION = "case.transition"  # one state-machine event on an existing case
    CASE_PARTIAL_SUPPLEMENT = "case.partial_supplement"  # some 补正 materials received; no state change
    RATING_RECORD = "rating.record"  # the applicant's 好差评 of a case (or 未评价); no state change
    QUEUE_TAKE = "queue.take"  # a queue ticket was taken (排队取号)
    QUEUE_EVENT = "queue.event"  # one state-machine event of a ticket (叫号, 过号, 转窗, 办结…)
    QUEUE_WINDOW = "queue.window"  # a window paused (暂停服务, with a reason) or resumed


class OpStatus(StrEnum):
    """The server's answer to one operation."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


class ChangeKind(StrEnum):
    """What a pulled change carries."""

    CASE_STATE = "case.state"  # the server's state of a case changed (back-office decision, conflict)
    CASE_CONFLICT = "case.conflict"  # an operation lost a conflict: kept on the server, shown to staff
    APPLICANT_STANDING = "applicant.standing"  # one station's commitments of an applicant (一处失信)
    CATALOG = "catalog"  # a new catalogue version (fetch GET /catalog)
    HOLIDAYS = "holidays"  # a year's holiday arrangement (inline)
    KEY_PUBLISHED = "key.published"  # a station's public signing key
    KEY_REVOKED = "key.revoked"
    CERTIFICATE = "certificate"  # a certificate issued elsewhere
    CERTIFICATE_REVOKED = "certificate.revoked"
    # The hall's 承诺时限 supervision of one case: due date, 红黄绿, paused in 补正, 首办负责人
    # (published when one of them moves; ``flag`` null once the case is no longer open).
    CASE_TIMELINESS = "case.timeliness"
    # Hall to hall only (audience "@PARTNER", never a station): a case accepted here for an item
    # the partner handles (跨区通办 异地收件).
    CROSSHALL_FORWARD = "crosshall.forward"


class TokenRequest(_Strict):
    """Sign in to the hall server."""

    staff_no: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    station: str = Field(min_length=1, max_length=32)


class StaffInfo(BaseModel):
    """Who a token belongs to."""

    staff_no: str
    name: str
    role: Role
    station: str


class TokenResponse(BaseModel):
    """A bearer token with its expiry (UTC)."""

    token: str
    expires_at: dt.datetime
    staff: StaffInfo
    server_time: dt.datetime


class Operation(_Strict):
    """One outbox operation, as the client recorded it."""

    op_id: str = Field(min_length=OP_ID_MIN, max_length=OP_ID_MAX, pattern=r"^[0-9A-Za-z_-]+$")
    seq: int = Field(ge=0, le=MAX_SEQ)  # the client's outbox order
    kind: OperationKind
    case_no: str | None = Field(default=None, max_length=CASE_NO_MAX)
    payload: Annotated[dict[str, Any], AfterValidator(_shallow)]
    created_at: str = Field(max_length=STAMP_MAX)  # the client's clock, kept verbatim

    def body_hash(self) -> str:
        """SHA-256 of what makes the operation itself (not its delivery): kind, case, payload
        (:func:`models.sync.canonical.body_hash`)."""
        return body_hash(self.kind.value, self.case_no, self.payload)


_HASH = r"^[0-9a-f]{64}$"


MAX_AUDIT_LINKS = 8


class AuditLink(_Strict):
    """The station's hash at an earlier head it sent (ties the new head to what the hall holds)."""

    seq: int = Field(ge=0, le=MAX_SEQ)
    hash: str = Field(pattern=_HASH)


class AuditAnchor(_Strict):
    """A station's audit chain head, sealed with its SM2 signing key (see :mod:`models.anchor`).

    ``links``: the station's hashes at the last head the hall accepted and at the heads sent
    since whose answer never came (so a lost answer does not break the tie).

    ``public_key`` travels with the seal so the hall checks it at once; ``key_id`` is derived
    from the key and the station (:func:`models.seal.key_id_for`), so once the hall has that key
    registered, the check stands for the registered key.
    """

    seq: int = Field(ge=0, le=MAX_SEQ)
    hash: str = Field(pattern=_HASH)
    links: list[AuditLink] = Field(default_factory=list, max_length=MAX_AUDIT_LINKS)
    key_id: str = Field(min_length=1, max_length=64)
    public_key: str = Field(pattern=r"^[0-9a-f]{128}$")
    seal: str = Field(pattern=r"^[0-9a-f]{128}$")


class PushRequest(_Strict):
    """A batch of operations from one station, in outbox order, with its audit head."""

    station: str = Field(min_length=1, max_length=32)
    operations: list[Operation] = Field(max_length=MAX_PUSH_BATCH)
    audit: AuditAnchor | None = None


class OpResult(BaseModel):
    """The server's answer to one operation."""

    op_id: str
    status: OpStatus
    code: str | None = None  # a problem code when refused (e.g. "case.illegal_transition")
    reason: str | None = None  # human-readable reason (Chinese) when refused
    server_seq: int | None = None  # the server's sequence number of the operation
    case_state: str | None = None  # the case's state on the server after the operation


class AnchorStatus(StrEnum):
    """The hall's answer to an audit head."""

    ACCEPTED = "accepted"  # kept; it continues what the hall saw before
    REJECTED = "rejected"  # kept as an alarm: the chain went back, was rewritten, or is not sealed


class AnchorAnswer(BaseModel):
    """What the hall made of the audit head sent with a push."""

    status: AnchorStatus
    code: str | None = None  # e.g. "audit.rewound" when rejected
    reason: str | None = None  # Chinese
    anchored_seq: int | None = None  # the highest head the hall holds accepted for the station
    expected_seq: int | None = None  # when rejected: the sequence where the hall's record disagrees


class PushResponse(BaseModel):
    """One result per operation, in request order (and the answer to the audit head, if sent)."""

    results: list[OpResult]
    server_time: dt.datetime
    audit: AnchorAnswer | None = None


class AnchorRecord(BaseModel):
    """One audit head the hall holds (``reset``: the back office started a new baseline)."""

    seq: int
    hash: str
    status: str  # accepted / rejected / reset
    code: str | None = None
    key_id: str | None = None
    key_registered: bool = False
    received_at: str


class AuditTrail(BaseModel):
    """Every audit head the hall holds for a station, oldest first."""

    station: str
    anchors: list[AnchorRecord]


class Change(BaseModel):
    """One entry of the server's change feed."""

    seq: int
    kind: ChangeKind
    key: str
    payload: dict[str, Any]
    at: dt.datetime


class PullResponse(BaseModel):
    """Changes after a cursor, oldest first."""

    changes: list[Change]
    cursor: int
    more: bool
    server_time: dt.datetime


class Health(BaseModel):
    """Liveness and the protocol the server speaks."""

    status: str = "ok"
    protocol: int = PROTOCOL_VERSION
    server_time: dt.datetime


class CatalogDocument(BaseModel):
    """The catalogue in force, with its version."""

    version: str
    catalog: dict[str, Any]
    revision: int | None = None  # the hall's publication number (0: the server's own file)


class HolidayDocument(BaseModel):
    """A year's official holiday arrangement, in the shipped JSON shape."""

    year: int
    version: int
    arrangement: dict[str, Any]


class ErrorDetail(BaseModel):
    """A machine code and a message."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail
