"""The protocol's JSON-text encoders write exactly what their models read (models.sync.encoding)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from models.sync import (
    MAX_SEQ,
    AnchorAnswer,
    AnchorStatus,
    AuditAnchor,
    ChangeKind,
    Operation,
    OpResult,
    OpStatus,
    PullResponse,
    PushRequest,
    PushResponse,
    canonical_json,
    encode_change,
    encode_op_result,
    encode_operation,
    encode_pull_response,
    encode_push_request,
    encode_push_response,
)

texts = st.text(max_size=12)  # any character: quotes, controls, surrogates-free unicode
optional_texts = st.none() | texts
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | texts
payloads = st.dictionaries(texts, scalars | st.lists(scalars, max_size=3), max_size=5)
moments = st.datetimes(timezones=st.just(dt.UTC))


@dataclass
class Row:
    """An outbox row (the shape offline_cache.sync_repo.OutboxEntry has)."""

    seq: int
    op_id: str
    kind: str
    case_no: str | None
    payload: str
    created_at: str


@given(
    op_id=texts,
    status=st.sampled_from(list(OpStatus)),
    code=optional_texts,
    reason=optional_texts,
    server_seq=st.none() | st.integers(0, MAX_SEQ),
    case_state=optional_texts,
)
def test_an_op_result_reads_back_as_the_model(
    op_id: str,
    status: OpStatus,
    code: str | None,
    reason: str | None,
    server_seq: int | None,
    case_state: str | None,
) -> None:
    expected = OpResult(
        op_id=op_id, status=status, code=code, reason=reason, server_seq=server_seq, case_state=case_state
    )
    text = encode_op_result(op_id, status.value, code, reason, server_seq, case_state)
    assert OpResult.model_validate_json(text) == expected
    assert json.loads(text) == json.loads(expected.model_dump_json())


@given(
    results=st.lists(st.tuples(texts, st.sampled_from(list(OpStatus))), max_size=3),
    at=moments,
    anchored=st.booleans(),
)
def test_a_push_response_reads_back_as_the_model(
    results: list[tuple[str, OpStatus]], at: dt.datetime, anchored: bool
) -> None:
    audit = AnchorAnswer(status=AnchorStatus.ACCEPTED, anchored_seq=3) if anchored else None
    text = encode_push_response([encode_op_result(i, s.value) for i, s in results], at, audit)
    expected = PushResponse(
        results=[OpResult(op_id=i, status=s) for i, s in results], server_time=at, audit=audit
    )
    assert PushResponse.model_validate_json(text) == expected


@given(
    changes=st.lists(
        st.tuples(st.integers(1, MAX_SEQ), st.sampled_from(list(ChangeKind)), texts, payloads, moments),
        max_size=3,
    ),
    cursor=st.integers(0, MAX_SEQ),
    more=st.booleans(),
    at=moments,
)
def test_a_pull_response_reads_back_as_the_model(
    changes: list[tuple[int, ChangeKind, str, dict[str, Any], dt.datetime]],
    cursor: int,
    more: bool,
    at: dt.datetime,
) -> None:
    documents = [
        encode_change(seq, kind.value, key, canonical_json(payload), moment.isoformat())
        for seq, kind, key, payload, moment in changes
    ]
    read = PullResponse.model_validate_json(encode_pull_response(documents, cursor, more, at))
    assert (read.cursor, read.more, read.server_time) == (cursor, more, at)
    assert [(c.seq, c.kind, c.key, c.payload, c.at) for c in read.changes] == changes


@given(
    op_id=st.text(alphabet="abcXYZ019_-\n é", min_size=6, max_size=66),
    seq=st.integers(-2, MAX_SEQ + 2),
    kind=st.sampled_from(["case.accept", "case.transition", "case.partial_supplement", "case.delete"]),
    case_no=st.none() | st.text(max_size=66),
    payload=payloads,
    created_at=st.text(max_size=66),
)
def test_what_the_operation_encoder_writes_the_model_reads_the_same(
    op_id: str, seq: int, kind: str, case_no: str | None, payload: dict[str, Any], created_at: str
) -> None:
    row = Row(seq, op_id, kind, case_no, canonical_json(payload), created_at)
    try:
        text = encode_operation(row)
    except ValueError:
        with pytest.raises(ValidationError):  # refused locally only what the hall would refuse
            Operation(
                op_id=op_id, seq=seq, kind=kind, case_no=case_no, payload=payload, created_at=created_at
            )
        return
    read = Operation.model_validate_json(text)
    assert (read.op_id, read.seq, read.kind.value, read.case_no, read.created_at) == (
        op_id, seq, kind, case_no, created_at,
    )  # fmt: skip
    assert read.payload == payload


def test_an_outbox_payload_that_is_not_an_object_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        encode_operation(Row(1, "op-00000001", "case.accept", None, "[1]", "now"))
    with pytest.raises(ValueError, match="op_id"):
        encode_operation(Row(1, "op-0000001\n", "case.accept", None, "{}", "now"))


def test_a_push_request_reads_back_as_the_model() -> None:
    row = Row(7, "op-00000001", "case.accept", "GXZX-1", '{"case_no":"GXZX-1","名":"张三"}', "t")
    anchor = AuditAnchor(seq=3, hash="ab" * 32, key_id="GXZX-1", public_key="01" * 64, seal="23" * 64)
    for audit in (None, anchor):
        read = PushRequest.model_validate_json(encode_push_request("GXZX", [encode_operation(row)], audit))
        assert read.station == "GXZX" and read.audit == audit
        assert [op.payload for op in read.operations] == [{"case_no": "GXZX-1", "名": "张三"}]
