"""What the counter enqueues is what the protocol's typed payloads say (models.sync.payloads).

The real services fill a station (the demo: 受理, 容缺受理, 补正, 终止 with a supervisor's
signature, 撤回, 即办件 办结, 出证, 送达) and a partial 补正; every outbox row must then read as
its kind's payload model with no key the model does not declare, the model must write it back
byte for byte, and the row must travel as an :class:`~models.sync.Operation` with the same hash.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter

from models.enums import ApplicantType, MaterialStatus, Tolerance
from models.sync import Operation, canonical_json, encode_operation, payload_model
from offline_cache.sync_repo import OutboxEntry
from tests.conftest import TODAY
from window_client.services.acceptance import AcceptanceRequest, Applicant, Outcome
from window_client.services.demo_seed import seed_demo_station
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.staff import seed_demo_staff


def _partial_supplement(rt: Runtime) -> None:
    """A 容缺受理 case missing two materials, then one of them brought in."""
    acceptable = set(rt.station.accepts_codes()) if hasattr(rt.station, "accepts_codes") else None
    for item in rt.catalog.items.values():
        tolerable = [m for m in item.materials if m.tolerance is Tolerance.TOLERABLE and m.supplement]
        if (
            len(tolerable) < 2
            or not rt.station.accepts(item.code)
            or (acceptable and item.code not in acceptable)
        ):
            continue
        missing = {m.code for m in tolerable[:2]}
        presented = {
            m.code: MaterialStatus.PRESENTED
            for m in item.materials
            if m.tolerance is not Tolerance.OPTIONAL and m.code not in missing
        }
        applicant = Applicant(ApplicantType.PERSON, person_id(random.Random(5)), "王小明", "13800138000")
        # Two materials owed is beyond the default policy: the supervisor approves it.
        request = AcceptanceRequest(item.code, applicant, presented, commitment=True)
        decision = rt.acceptance.accept(request, TODAY, approved_by="S001")
        if decision.outcome is not Outcome.ACCEPTED_TOLERATED:
            continue
        rt.cases.supplement(decision.case_no or "", [tolerable[0].code], TODAY)
        return
    raise AssertionError("the catalogue has no item with two tolerable materials at this station")


def test_every_outbox_payload_is_its_kinds_typed_payload(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    seed_demo_station(rt, TODAY)
    _partial_supplement(rt)
    rows = sqlite3.connect(rt.store.path).execute(
        "SELECT seq, op_id, kind, case_no, payload, created_at FROM outbox ORDER BY seq"
    )
    kinds: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for seq, op_id, kind, case_no, payload, created_at in rows:
        model = payload_model(kind).model_validate_json(payload)
        assert model.model_extra == {}, f"{kind} carries keys the model does not declare"
        assert canonical_json(model.to_payload()) == payload
        entry = OutboxEntry(seq, op_id, kind, case_no, payload, created_at)
        operation = Operation.model_validate_json(encode_operation(entry))
        assert operation.payload == model.to_payload()
        assert (
            operation.body_hash()
            == Operation(
                op_id=op_id,
                seq=seq,
                kind=kind,
                case_no=case_no,
                payload=model.to_payload(),
                created_at=created_at,
            ).body_hash()
        )
        kinds[kind] += 1
        events[str(operation.payload.get("event"))] += 1
    assert set(kinds) == {"case.accept", "case.transition", "case.partial_supplement"}
    assert {"supplement", "terminate", "withdraw"} <= set(events)
