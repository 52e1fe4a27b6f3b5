"""One pushed operation as the hall applies it: the protocol's fields and its payload's JSON text.

The push reader (:mod:`hall_server.routers.wire`) builds these straight from the request's bytes;
the back office and the tests build them from :class:`models.sync.Operation` models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic_core import to_json

from models.sync import Operation, OperationKind


class Incoming(NamedTuple):
    """One pushed operation as the server applies it: the protocol's fields and the payload's JSON."""

    op_id: str
    seq: int
    kind: OperationKind
    case_no: str | None
    payload: dict[str, Any]
    created_at: str
    payload_json: str  # stored verbatim in ``operations.payload``


def incoming(op: Operation) -> Incoming:
    """An :class:`Operation` model (back office, tests, the slow path) as the server applies it."""
    return Incoming(
        op.op_id, op.seq, op.kind, op.case_no, op.payload, op.created_at, to_json(op.payload).decode()
    )


def incoming_all(operations: Sequence[Operation | Incoming]) -> list[Incoming]:
    """Every operation as :class:`Incoming` (those already are pass through)."""
    return [op if isinstance(op, Incoming) else incoming(op) for op in operations]
