"""The sync protocol shared by the client and the hall server (DESIGN.md §4).

Every endpoint lives under :data:`API_PREFIX`. A client:

1. gets a token: ``POST /api/v1/auth/token`` with :class:`TokenRequest` → :class:`TokenResponse`;
2. pushes its outbox in order, in batches of at most :data:`MAX_PUSH_BATCH` operations:
   ``POST /api/v1/sync/push`` with :class:`PushRequest` → :class:`PushResponse`, one
   :class:`OpResult` per operation, in the same order;
3. pulls what changed since its cursor: ``GET /api/v1/sync/changes?after=CURSOR&limit=N`` →
   :class:`PullResponse`; it repeats while ``more`` is true and stores ``cursor`` in the same
   local transaction as the changes it applied.

With every push a station sends its audit chain's head, sealed with its SM2 key
(:class:`AuditAnchor`, optional: older clients send none); the hall keeps every head it is sent
and answers in :attr:`PushResponse.audit` (:class:`AnchorAnswer`). ``GET /api/v1/sync/audit``
(:class:`AuditTrail`) returns every head the hall holds for the caller's station.

Other endpoints: ``GET /api/v1/health`` (:class:`Health`), ``GET /api/v1/catalog``
(:class:`CatalogDocument`), ``GET /api/v1/holidays/{year}`` (:class:`HolidayDocument`).

Errors are JSON ``{"error": {"code": ..., "message": ...}}`` (:class:`ErrorBody`) with HTTP 400
(malformed), 401 (``auth.missing``, ``auth.invalid``, ``token.expired``), 403 (``auth.forbidden``),
413 (``request.too_large``), 422 (``request.invalid``) or 5xx.

Idempotency: an operation's ``op_id`` is its idempotency key. The server applies each operation at
most once; the same ``op_id`` again returns the first result with status ``duplicate`` (a first
result that was a refusal is returned as that same refusal, so a lost answer never turns a refusal
into success); the same ``op_id`` with a different body (``body_hash`` differs) is refused with
``op.mismatch``.

Time: the server orders everything by its own sequence numbers and keeps both the client's
``created_at`` (verbatim, possibly days off) and its own receive time.

The package: :mod:`models.sync.protocol` (every request and answer), :mod:`models.sync.payloads`
(what each kind of operation carries), :mod:`models.sync.canonical` (the body hash) and
:mod:`models.sync.encoding` (the hot messages written as JSON text, equal to the models'). Import
from ``models.sync``.
"""

from __future__ import annotations

from models.sync.canonical import body_hash, canonical_json, json_string
from models.sync.encoding import (
    OutboxRow,
    encode_change,
    encode_op_result,
    encode_operation,
    encode_pull_response,
    encode_push_request,
    encode_push_response,
)
from models.sync.payloads import (
    PAYLOADS,
    AcceptPayload,
    PartialSupplementPayload,
    Payload,
    QueueEventPayload,
    QueueTakePayload,
    QueueWindowPayload,
    RatingPayload,
    TransitionPayload,
    payload_model,
)
from models.sync.protocol import (
    API_PREFIX,
    CASE_NO_MAX,
    MAX_AUDIT_LINKS,
    MAX_BODY_BYTES,
    MAX_PAYLOAD_DEPTH,
    MAX_PULL_LIMIT,
    MAX_PUSH_BATCH,
    MAX_SEQ,
    OP_ID_MAX,
    OP_ID_MIN,
    PROTOCOL_VERSION,
    STAMP_MAX,
    AnchorAnswer,
    AnchorRecord,
    AnchorStatus,
    AuditAnchor,
    AuditLink,
    AuditTrail,
    CatalogDocument,
    Change,
    ChangeKind,
    ErrorBody,
    ErrorDetail,
    Health,
    HolidayDocument,
    Operation,
    OperationKind,
    OpResult,
    OpStatus,
    PullResponse,
    PushRequest,
    PushResponse,
    StaffInfo,
    TokenRequest,
    TokenResponse,
    nesting_within,
)

__all__ = [
    "API_PREFIX",
    "CASE_NO_MAX",
    "MAX_AUDIT_LINKS",
    "MAX_BODY_BYTES",
    "MAX_PAYLOAD_DEPTH",
    "MAX_PULL_LIMIT",
    "MAX_PUSH_BATCH",
    "MAX_SEQ",
    "OP_ID_MAX",
    "OP_ID_MIN",
    "PAYLOADS",
    "PROTOCOL_VERSION",
    "STAMP_MAX",
    "AcceptPayload",
    "AnchorAnswer",
    "AnchorRecord",
    "AnchorStatus",
    "AuditAnchor",
    "AuditLink",
    "AuditTrail",
    "CatalogDocument",
    "Change",
    "ChangeKind",
    "ErrorBody",
    "ErrorDetail",
    "Health",
    "HolidayDocument",
    "OpResult",
    "OpStatus",
    "Operation",
    "OperationKind",
    "OutboxRow",
    "PartialSupplementPayload",
    "Payload",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "QueueEventPayload",
    "QueueTakePayload",
    "QueueWindowPayload",
    "RatingPayload",
    "StaffInfo",
    "TokenRequest",
    "TokenResponse",
    "TransitionPayload",
    "body_hash",
    "canonical_json",
    "encode_change",
    "encode_op_result",
    "encode_operation",
    "encode_pull_response",
    "encode_push_request",
    "encode_push_response",
    "json_string",
    "nesting_within",
    "payload_model",
]
