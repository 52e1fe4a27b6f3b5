"""The fast push reader never accepts what the protocol model refuses, and reads the same values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from hall_server.routers.wire import MIRRORS, constraint, decode_fast, decode_push
from models.sync import MAX_PAYLOAD_DEPTH, MAX_SEQ, PushRequest

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
# Near the edges of every constraint: lengths, the op id's alphabet (and a final newline, which a
# Python "$" would let through), negative and huge sequence numbers, unknown kinds and keys.
op_ids = st.text(alphabet="abcXYZ019_-\n é", min_size=6, max_size=66) | st.sampled_from(
    ["op-00000001", "op-00000001\n", "x" * 64, "x" * 65, "short"]
)
seqs = st.integers(min_value=-2, max_value=MAX_SEQ + 2) | st.sampled_from([0, MAX_SEQ, MAX_SEQ + 1, 1.0, "7"])
kinds = st.sampled_from(["case.accept", "case.transition", "case.partial_supplement", "case.delete", 3])
case_nos = st.none() | st.text(max_size=66) | st.integers()
stamps = st.text(max_size=66) | st.integers()
payloads = st.dictionaries(st.text(max_size=5), json_values, max_size=4) | json_values
# Audit heads: hex of the right and wrong lengths and cases, a final newline, links or none.
hexes = st.sampled_from(
    ["0" * 64, "a" * 64, "A" * 64, "0" * 63, "0" * 64 + "\n", "f" * 128, "e" * 128 + "\n"]
)
hexes |= st.text(alphabet="0123456789abcdefg", min_size=62, max_size=130)
link_items = st.fixed_dictionaries({"seq": seqs, "hash": hexes}) | st.just({"seq": 1})
links = st.none() | st.lists(link_items, max_size=9) | link_items


@st.composite
def anchors(draw: st.DrawFn) -> dict[str, Any]:
    anchor: dict[str, Any] = {
        "seq": draw(seqs),
        "hash": draw(hexes),
        "key_id": draw(st.text(max_size=66) | st.just("GXZX-0123456789AB")),
        "public_key": draw(hexes),
        "seal": draw(hexes),
    }
    if draw(st.booleans()):
        anchor["links"] = draw(links)
    if draw(st.integers(0, 9)) == 0:
        anchor["extra"] = 1
    if draw(st.integers(0, 9)) == 0:
        del anchor[draw(st.sampled_from(sorted(anchor)))]
    return anchor


@st.composite
def operations(draw: st.DrawFn) -> dict[str, Any]:
    op: dict[str, Any] = {
        "op_id": draw(op_ids),
        "seq": draw(seqs),
        "kind": draw(kinds),
        "payload": draw(payloads),
        "created_at": draw(stamps),
    }
    if draw(st.booleans()):
        op["case_no"] = draw(case_nos)
    if draw(st.integers(0, 9)) == 0:
        op["extra"] = 1
    if draw(st.integers(0, 9)) == 0:
        del op[draw(st.sampled_from(sorted(op)))]
    return op


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    body: dict[str, Any] = {
        "station": draw(st.text(max_size=34) | st.just("GXZX")),
        "operations": draw(st.lists(operations(), max_size=4)),
    }
    if draw(st.integers(0, 2)) == 0:
        body["audit"] = draw(st.none() | anchors())
    if draw(st.integers(0, 9)) == 0:
        body["unexpected"] = True
    spaced = draw(st.booleans())
    text = json.dumps(body, ensure_ascii=draw(st.booleans()), indent=1 if spaced else None)
    return text.encode()


@settings(max_examples=400, deadline=None)
@given(raw=bodies())
@example(raw=b'{"station":"GXZX","operations":[{"op_id":"op-0000001\\n","seq":1,"kind":"case.accept",'
         b'"payload":{},"created_at":"t"}]}')  # fmt: skip
@example(raw=b'{"station":"GXZX","operations":[{"op_id":"op-00000001","seq":1,"kind":"case.accept",'
         b'"payload":{"a":NaN},"created_at":"t"}]}')  # fmt: skip
def test_what_the_fast_reader_accepts_the_model_accepts_with_the_same_values(raw: bytes) -> None:
    fast = decode_fast(raw)
    if fast is None:
        return  # the body goes to pydantic, which decides (see decode_push)
    model = PushRequest.model_validate_json(raw)  # raises if the fast reader was too lenient
    station, ops, audit = fast
    assert station == model.station
    assert audit == model.audit
    assert len(ops) == len(model.operations)
    for op, expected in zip(ops, model.operations, strict=True):
        assert (op.op_id, op.seq, op.kind, op.case_no, op.created_at) == (
            expected.op_id,
            expected.seq,
            expected.kind,
            expected.case_no,
            expected.created_at,
        )
        assert op.payload == expected.payload
        assert json.loads(op.payload_json) == expected.payload


def test_a_payload_is_stored_as_the_bytes_the_client_sent() -> None:
    payload = '{ "case_no" : "GXZX-20261120-00001", "name": "\\u5f20\\u4e09", "n": [1, 2.50] }'
    raw = (
        '{"station":"GXZX","operations":[{"op_id":"op-00000001","seq":1,"kind":"case.accept",'
        f'"case_no":"GXZX-20261120-00001","payload":{payload},"created_at":"2026-11-20T09:00:00+08:00"}}]}}'
    ).encode()
    station, [op], audit = decode_push(raw)
    assert (station, audit) == ("GXZX", None)
    assert op.payload_json == payload
    assert op.payload == {"case_no": "GXZX-20261120-00001", "name": "张三", "n": [1, 2.5]}


def test_a_body_the_fast_reader_refuses_gets_the_models_errors() -> None:
    raw = b'{"station":"GXZX","operations":[{"op_id":"op-00000001\\n","seq":-1,"kind":"x","payload":{}}]}'
    assert decode_fast(raw) is None
    with pytest.raises(ValidationError) as caught:
        decode_push(raw)
    fields = {error["loc"][-1] for error in caught.value.errors()}
    assert {"op_id", "seq", "kind", "created_at"} <= fields


def test_a_body_only_the_model_accepts_is_still_applied() -> None:
    # pydantic's lax mode reads "7" as the number 7; msgspec does not, so pydantic reads it.
    raw = (
        b'{"station":"GXZX","operations":[{"op_id":"op-00000001","seq":"7","kind":"case.accept",'
        b'"payload":{"k":1},"created_at":"t"}]}'
    )
    assert decode_fast(raw) is None
    station, [op], _ = decode_push(raw)
    assert (station, op.seq, op.payload, json.loads(op.payload_json)) == ("GXZX", 7, {"k": 1}, {"k": 1})


def test_an_audit_head_is_read_the_same_by_both_readers() -> None:
    anchor = {
        "seq": 12, "hash": "ab" * 32, "links": [{"seq": 7, "hash": "cd" * 32}],
        "key_id": "GXZX-0123456789AB", "public_key": "01" * 64, "seal": "23" * 64,
    }  # fmt: skip
    raw = json.dumps({"station": "GXZX", "operations": [], "audit": anchor}).encode()
    fast = decode_fast(raw)
    assert fast is not None and fast.audit is not None
    assert fast.audit == PushRequest.model_validate_json(raw).audit
    assert fast.audit.model_dump() == anchor


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep (the object itself is level 1)."""
    return '{"a":' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def push_with_payload(payload: str) -> bytes:
    return (
        '{"station":"GXZX","operations":[{"op_id":"op-00000001","seq":1,"kind":"case.accept",'
        f'"payload":{payload},"created_at":"t"}}]}}'
    ).encode()


@pytest.mark.parametrize("depth", [MAX_PAYLOAD_DEPTH + 1, 150, 250, 1_000, 5_000, 100_000])
def test_a_payload_nested_too_deep_is_refused_by_both_readers(depth: int) -> None:
    raw = push_with_payload(nested(depth))
    assert decode_fast(raw) is None
    with pytest.raises(ValidationError):
        decode_push(raw)


def test_a_payload_at_the_depth_limit_is_read() -> None:
    raw = push_with_payload(nested(MAX_PAYLOAD_DEPTH))
    fast = decode_fast(raw)
    assert fast is not None and json.loads(fast.operations[0].payload_json) == json.loads(
        nested(MAX_PAYLOAD_DEPTH)
    )
    assert PushRequest.model_validate_json(raw).operations[0].payload == fast.operations[0].payload


@pytest.mark.parametrize(("struct", "model"), MIRRORS, ids=lambda m: m.__name__)
def test_each_fast_struct_mirrors_its_model_field_for_field(
    struct: type[Any], model: type[BaseModel]
) -> None:
    assert set(struct.__struct_fields__) == set(model.model_fields)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    optional = set(
        struct.__struct_fields__[len(struct.__struct_fields__) - len(struct.__struct_defaults__) :]
    )
    assert required == set(struct.__struct_fields__) - optional


def test_a_constraint_the_fast_reader_cannot_express_stops_the_server_at_import() -> None:
    class Strange(BaseModel):
        amount: int = Field(gt=0, multiple_of=5)

    with pytest.raises(TypeError, match="no msgspec form"):
        constraint(Strange, "amount")
