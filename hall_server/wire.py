"""Reading a push body: a fast decoder for well-formed batches, pydantic for everything else.

:class:`models.sync.PushRequest` is the protocol's definition (the client builds it, the OpenAPI
document shows it, and its validation errors are what a client is told). The server reads most
batches with msgspec instead, into :class:`_WireBatch`, a mirror of that model's constraints,
because msgspec can keep each operation's ``payload`` as the exact JSON bytes received
(``msgspec.Raw``): the server stores that text as it came rather than decoding the payload into
Python objects and encoding it again.

Any body the fast decoder refuses is read again by pydantic, which either gives the documented
400/422 answer or, where the two readers disagree, decides. The fast path can only be faster,
never more permissive: a property test checks that whatever it accepts, pydantic accepts with the
same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple

import msgspec
from pydantic_core import to_json

from models.sync import (
    MAX_AUDIT_LINKS,
    MAX_PAYLOAD_DEPTH,
    MAX_PUSH_BATCH,
    MAX_SEQ,
    AuditAnchor,
    AuditLink,
    Operation,
    OperationKind,
    PushRequest,
    nesting_within,
)


class Incoming(NamedTuple):
    """One pushed operation as the server applies it: the protocol's fields and the payload's JSON."""

    op_id: str
    seq: int
    kind: OperationKind
    case_no: str | None
    payload: dict[str, Any]
    created_at: str
    payload_json: str  # stored verbatim in ``operations.payload``


class PushBody(NamedTuple):
    """A decoded push: the station, its operations and the audit head it sent (if any)."""

    station: str
    operations: list[Incoming]
    audit: AuditAnchor | None = None


def incoming(op: Operation) -> Incoming:
    """An :class:`Operation` model (back office, tests, the slow path) as the server applies it."""
    return Incoming(
        op.op_id, op.seq, op.kind, op.case_no, op.payload, op.created_at, to_json(op.payload).decode()
    )


def incoming_all(operations: Sequence[Operation | Incoming]) -> list[Incoming]:
    """Every operation as :class:`Incoming` (those already are pass through)."""
    return [op if isinstance(op, Incoming) else incoming(op) for op in operations]


# ------------------------------------------------------------------ the fast reader

# The constraints of models.sync.Operation and PushRequest, field for field.
# (msgspec matches patterns with Python's re.search, where "$" also matches before a final
# newline: \Z is the end of the string, as "$" is in pydantic's regex engine.)
_OpId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+\Z")]
_Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
_CaseNo = Annotated[str, msgspec.Meta(max_length=64)]
_Stamp = Annotated[str, msgspec.Meta(max_length=64)]
_Station = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
_Hash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}\Z")]
_Hex128 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}\Z")]
_KeyId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class _WireOperation(msgspec.Struct, forbid_unknown_fields=True):
    op_id: _OpId
    seq: _Seq
    kind: OperationKind
    payload: msgspec.Raw
    created_at: _Stamp
    case_no: _CaseNo | None = None


class _WireLink(msgspec.Struct, forbid_unknown_fields=True):
    seq: _Seq
    hash: _Hash


_Links = Annotated[list[_WireLink], msgspec.Meta(max_length=MAX_AUDIT_LINKS)]


class _WireAnchor(msgspec.Struct, forbid_unknown_fields=True):
    seq: _Seq
    hash: _Hash
    key_id: _KeyId
    public_key: _Hex128
    seal: _Hex128
    links: Annotated[list[_WireLink], msgspec.Meta(max_length=MAX_AUDIT_LINKS)] = msgspec.field(
        default_factory=list
    )


class _WireBatch(msgspec.Struct, forbid_unknown_fields=True):
    station: _Station
    operations: Annotated[list[_WireOperation], msgspec.Meta(max_length=MAX_PUSH_BATCH)]
    audit: _WireAnchor | None = None


_batch_decoder = msgspec.json.Decoder(_WireBatch)
_payload_decoder = msgspec.json.Decoder(dict[str, Any])


def _anchor(wire: _WireAnchor | None) -> AuditAnchor | None:
    # One small model per batch: built without validating again (the struct's constraints are
    # the model's, field for field).
    if wire is None:
        return None
    links = [AuditLink.model_construct(seq=link.seq, hash=link.hash) for link in wire.links]
    return AuditAnchor.model_construct(
        seq=wire.seq,
        hash=wire.hash,
        links=links,
        key_id=wire.key_id,
        public_key=wire.public_key,
        seal=wire.seal,
    )


class _TooDeep(Exception):
    """A payload nests deeper than the protocol allows (pydantic words the refusal)."""


def _payload(raw: msgspec.Raw) -> tuple[dict[str, Any], str]:
    """The payload decoded, and its JSON text as received."""
    data = bytes(raw)
    payload: dict[str, Any] = _payload_decoder.decode(data)
    # Counting brackets (strings included) bounds the depth from above: only a payload with
    # more brackets than the limit needs the walk.
    if data.count(b"[") + data.count(b"{") > MAX_PAYLOAD_DEPTH and not nesting_within(
        payload, MAX_PAYLOAD_DEPTH
    ):
        raise _TooDeep
    return payload, data.decode()


def decode_fast(raw: bytes) -> PushBody | None:
    """The push of a well-formed batch; None when pydantic must read it instead."""
    try:
        batch = _batch_decoder.decode(raw)
        operations = []
        for op in batch.operations:
            payload, payload_json = _payload(op.payload)
            operations.append(
                Incoming(op.op_id, op.seq, op.kind, op.case_no, payload, op.created_at, payload_json)
            )
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, _TooDeep):
        return None
    except RecursionError:  # msgspec's decoders nest on the C stack; pydantic's reader refuses it
        return None
    return PushBody(batch.station, operations, _anchor(batch.audit))


def decode_push(raw: bytes) -> PushBody:
    """The push in a body; pydantic's ValidationError when it is not one."""
    fast = decode_fast(raw)
    if fast is not None:
        return fast
    request = PushRequest.model_validate_json(raw)
    return PushBody(request.station, incoming_all(request.operations), request.audit)
