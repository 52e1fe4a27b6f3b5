"""The protocol's hot messages written straight as JSON text, each equal to its model's JSON.

A push carries thousands of operations and a pull thousands of changes; building a pydantic
model per item only to serialise it costs more than the rest of either side's work. These
encoders write the same documents as the models in :mod:`models.sync.protocol` (a test parses
each back through its model), embedding JSON the writer already holds (an outbox payload, a
stored change) as it is:

- the client: :func:`encode_operation` per outbox row, :func:`encode_push_request` per batch;
- the hall: :func:`encode_op_result` and :func:`encode_push_response` (the push's answer),
  :func:`encode_change` (stored once per change) and :func:`encode_pull_response`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Protocol

from models.sync.canonical import json_string
from models.sync.protocol import (
    CASE_NO_MAX,
    MAX_SEQ,
    OP_ID_MAX,
    OP_ID_MIN,
    STAMP_MAX,
    AnchorAnswer,
    AuditAnchor,
    OperationKind,
)

_OP_ID = re.compile(rf"[0-9A-Za-z_-]{{{OP_ID_MIN},{OP_ID_MAX}}}")
_KINDS = frozenset(kind.value for kind in OperationKind)


class OutboxRow(Protocol):
    """What :func:`encode_operation` reads of an outbox row: the :class:`~models.sync.Operation`
    fields, with ``payload`` as the JSON object text the outbox stores
    (``offline_cache.sync_repo.OutboxEntry`` is one)."""

    @property
    def op_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def case_no(self) -> str | None: ...
    @property
    def payload(self) -> str: ...
    @property
    def created_at(self) -> str: ...


def _text(value: str | None) -> str:
    return "null" if value is None else str(json_string(value))


# ------------------------------------------------------------------ the client's push


def encode_operation(row: OutboxRow) -> str:
    """One outbox row as :class:`~models.sync.Operation` JSON, its stored payload embedded as is.

    The payload was written as canonical JSON in the transaction that made the operation, so
    it is not parsed again. Raises ``ValueError`` for a row the protocol cannot carry (the
    limits of :class:`~models.sync.Operation`), whose message says why.
    """
    if not _OP_ID.fullmatch(row.op_id):
        raise ValueError(f"op_id {row.op_id[:70]!r} is not 8-64 letters, digits, '-' or '_'")
    if row.kind not in _KINDS:
        raise ValueError(f"unknown operation kind {row.kind[:40]!r}")
    if not 0 <= int(row.seq) <= MAX_SEQ:
        raise ValueError(f"seq {row.seq} outside 0..{MAX_SEQ}")
    if row.case_no is not None and len(row.case_no) > CASE_NO_MAX:
        raise ValueError(f"case_no longer than {CASE_NO_MAX} characters")
    if len(row.created_at) > STAMP_MAX:
        raise ValueError(f"created_at longer than {STAMP_MAX} characters")
    payload = row.payload.strip()
    if not (payload.startswith("{") and payload.endswith("}")):
        raise ValueError("the payload is not a JSON object")
    # op_id and kind were checked against plain alphabets above: they need no escaping.
    return (
        f'{{"op_id":"{row.op_id}","seq":{int(row.seq)},"kind":"{row.kind}","case_no":{_text(row.case_no)},'
        f'"created_at":{json_string(row.created_at)},"payload":{payload}}}'
    )


def encode_push_request(station: str, operations: Sequence[str], audit: AuditAnchor | None = None) -> str:
    """A :class:`~models.sync.PushRequest` from operations already encoded (:func:`encode_operation`)."""
    head = "" if audit is None else f',"audit":{audit.model_dump_json()}'
    return f'{{"station":{json.dumps(station)},"operations":[{",".join(operations)}]{head}}}'


# ------------------------------------------------------------------ the hall's answers


def encode_op_result(
    op_id: str,
    status: str,
    code: str | None = None,
    reason: str | None = None,
    server_seq: int | None = None,
    case_state: str | None = None,
) -> str:
    """An :class:`~models.sync.OpResult` (``status``: an :class:`~models.sync.OpStatus` value)."""
    return (
        f'{{"op_id":{json_string(op_id)},"status":"{status}",'
        f'"code":{_text(code)},"reason":{_text(reason)},'
        f'"server_seq":{"null" if server_seq is None else int(server_seq)},'
        f'"case_state":{_text(case_state)}}}'
    )


def encode_push_response(
    results: Sequence[str], server_time: dt.datetime, audit: AnchorAnswer | None = None
) -> str:
    """A :class:`~models.sync.PushResponse` from results already encoded (:func:`encode_op_result`)."""
    stamp = server_time.isoformat().replace("+00:00", "Z")
    tail = "" if audit is None else f',"audit":{audit.model_dump_json()}'
    return f'{{"results":[{",".join(results)}],"server_time":"{stamp}"{tail}}}'


def encode_change(seq: int, kind: str, key: str, payload: str, at: str) -> str:
    """A :class:`~models.sync.Change` (``payload``: a JSON object's text; ``at``: ISO 8601)."""
    return f'{{"seq":{int(seq)},"kind":"{kind}","key":{json_string(key)},"payload":{payload},"at":"{at}"}}'


def encode_pull_response(changes: Sequence[str], cursor: int, more: bool, server_time: dt.datetime) -> str:
    """A :class:`~models.sync.PullResponse` from changes already encoded (:func:`encode_change`)."""
    return (
        f'{{"changes":[{",".join(changes)}],"cursor":{int(cursor)},"more":{"true" if more else "false"},'
        f'"server_time":"{server_time.isoformat()}"}}'
    )
