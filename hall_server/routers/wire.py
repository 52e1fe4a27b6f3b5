"""Reading a push body: a fast decoder for well-formed batches, pydantic for everything else.

:class:`models.sync.PushRequest` is the protocol's definition (the client builds it, the OpenAPI
document shows it, and its validation errors are what a client is told). The server reads most
batches with msgspec instead, into :class:`_WireBatch`, a mirror of that model whose constraints
are read from the model itself (:func:`constraint`),
because msgspec can keep each operation's ``payload`` as the exact JSON bytes received
(``msgspec.Raw``): the server stores that text as it came rather than decoding the payload into
Python objects and encoding it again.

Any body the fast decoder refuses is read again by pydantic, which either gives the documented
400/422 answer or, where the two readers disagree, decides. The fast path can only be faster,
never more permissive: a property test checks that whatever it accepts, pydantic accepts with the
same values.
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

import msgspec
from pydantic import BaseModel

from hall_server.domain.operations import Incoming, incoming_all
from models.sync import (
    MAX_PAYLOAD_DEPTH,
    AuditAnchor,
    AuditLink,
    Operation,
    OperationKind,
    PushRequest,
    nesting_within,
)


class PushBody(NamedTuple):
    """A decoded push: the station, its operations and the audit head it sent (if any)."""

    station: str
    operations: list[Incoming]
    audit: AuditAnchor | None = None


# ------------------------------------------------------------------ the fast reader


def constraint(model: type[BaseModel], name: str) -> msgspec.Meta:
    """The msgspec form of a pydantic field's constraints (lengths, bounds, pattern).

    The structs below take every constraint from the protocol's models through this, so the two
    readers cannot drift apart; a pattern's final ``$`` becomes ``\\Z`` (msgspec matches with
    Python's ``re.search``, where ``$`` also matches before a final newline; ``\\Z`` is the end of
    the string, as ``$`` is in pydantic's regex engine).
    """
    found: dict[str, Any] = {}
    for item in model.model_fields[name].metadata:
        known = {key: value for key, value in _constraints_of(item) if value is not None}
        if not known:  # a new kind of constraint: the fast reader must learn it, not ignore it
            raise TypeError(f"{model.__name__}.{name}: no msgspec form for {item!r}")
        found.update(known)
    if "pattern" in found:
        pattern = str(found["pattern"])
        found["pattern"] = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
    return msgspec.Meta(**found)


def _constraints_of(item: object) -> list[tuple[str, Any]]:
    """(msgspec.Meta keyword, value) of one item of pydantic's field metadata."""
    return [(key, getattr(item, key, None)) for key in ("min_length", "max_length", "ge", "le", "pattern")]


_OpId = Annotated[str, constraint(Operation, "op_id")]
_Seq = Annotated[int, constraint(Operation, "seq")]
_CaseNo = Annotated[str, constraint(Operation, "case_no")]
_Stamp = Annotated[str, constraint(Operation, "created_at")]
_Station = Annotated[str, constraint(PushRequest, "station")]
_LinkSeq = Annotated[int, constraint(AuditLink, "seq")]
_LinkHash = Annotated[str, constraint(AuditLink, "hash")]
_AnchorSeq = Annotated[int, constraint(AuditAnchor, "seq")]
_AnchorHash = Annotated[str, constraint(AuditAnchor, "hash")]
_KeyId = Annotated[str, constraint(AuditAnchor, "key_id")]
_PublicKey = Annotated[str, constraint(AuditAnchor, "public_key")]
_Seal = Annotated[str, constraint(AuditAnchor, "seal")]


class _WireOperation(msgspec.Struct, forbid_unknown_fields=True):
    op_id: _OpId
    seq: _Seq
    kind: OperationKind
    payload: msgspec.Raw
    created_at: _Stamp
    case_no: _CaseNo | None = None


class _WireLink(msgspec.Struct, forbid_unknown_fields=True):
    seq: _LinkSeq
    hash: _LinkHash


_Links = Annotated[list[_WireLink], constraint(AuditAnchor, "links")]


class _WireAnchor(msgspec.Struct, forbid_unknown_fields=True):
    seq: _AnchorSeq
    hash: _AnchorHash
    key_id: _KeyId
    public_key: _PublicKey
    seal: _Seal
    links: _Links = msgspec.field(default_factory=list)


_Operations = Annotated[list[_WireOperation], constraint(PushRequest, "operations")]


class _WireBatch(msgspec.Struct, forbid_unknown_fields=True):
    station: _Station
    operations: _Operations
    audit: _WireAnchor | None = None


# The structs mirror the models field for field (test_wire checks the names; the property test
# that the fast reader never accepts more).
MIRRORS: tuple[tuple[type[msgspec.Struct], type[BaseModel]], ...] = (
    (_WireOperation, Operation),
    (_WireLink, AuditLink),
    (_WireAnchor, AuditAnchor),
    (_WireBatch, PushRequest),
)


class _PayloadOnly(msgspec.Struct):
    payload: dict[str, Any]


class _PayloadsOnly(msgspec.Struct):
    operations: list[_PayloadOnly]


_batch_decoder = msgspec.json.Decoder(_WireBatch)
# The payloads decoded in one more pass over the body, at C speed (the first pass keeps each
# payload's text as received, which its hash and the stored row need).
_payloads_decoder = msgspec.json.Decoder(_PayloadsOnly)


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


def _payload_text(raw: msgspec.Raw, payload: dict[str, Any]) -> str:
    """The payload's JSON text as received (after checking its depth)."""
    data = bytes(raw)
    # Counting brackets (strings included) bounds the depth from above: only a payload with
    # more brackets than the limit needs the walk.
    if data.count(b"[") + data.count(b"{") > MAX_PAYLOAD_DEPTH and not nesting_within(
        payload, MAX_PAYLOAD_DEPTH
    ):
        raise _TooDeep
    return data.decode()


def decode_fast(raw: bytes) -> PushBody | None:
    """The push of a well-formed batch; None when pydantic must read it instead."""
    try:
        batch = _batch_decoder.decode(raw)
        payloads = _payloads_decoder.decode(raw).operations
        operations = [
            Incoming(
                op.op_id, op.seq, op.kind, op.case_no, decoded.payload, op.created_at,
                _payload_text(op.payload, decoded.payload),
            )
            for op, decoded in zip(batch.operations, payloads, strict=True)
        ]  # fmt: skip
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
