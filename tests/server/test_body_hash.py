"""The one body hash (:func:`models.sync.body_hash`) is the protocol's definition, from models and
from stored payloads alike."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hall_server.domain.operations import incoming
from models.sync import Operation, body_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def defined(kind: str, case_no: str | None, payload: Any) -> str:
    """The protocol's definition of a body hash, spelled out (DESIGN.md §4)."""
    body = json.dumps(
        [kind, case_no, payload], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()


@given(
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    case_no=st.none() | st.text(max_size=20),
    kind=st.sampled_from(["case.accept", "case.transition", "case.partial_supplement"]),
)
def test_the_one_pass_hash_is_the_definition(payload: dict[str, Any], case_no: str | None, kind: str) -> None:
    op = Operation(op_id="op-00000001", seq=1, kind=kind, case_no=case_no, payload=payload, created_at="now")
    assert body_hash(kind, case_no, payload) == defined(kind, case_no, payload) == op.body_hash()
    # What the hall stores reads back as the same body, so a repeat can be compared later.
    assert body_hash(kind, case_no, json.loads(incoming(op).payload_json)) == op.body_hash()
