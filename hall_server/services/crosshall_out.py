"""The hall's outbox to its partners, and 统一出证 of the cases it handles for them.

:func:`deliver` sends the messages addressed to a partner (changes of the feed with audience
``@NAME``: forwarded cases from the origin hall; decisions and certificates from the owning
hall) in order, in signed batches, and moves the partner's ``delivered_seq`` only once the
partner has answered them — in the same transaction as whatever the answers cause (a refused
forwarding becomes a ``case.conflict`` change for the station that accepted the case, shown on
its 同步 screen). A partner that is down keeps its messages until it answers; a batch whose
answer was lost is sent again and the partner answers it from its inbox, so nothing is lost or
applied twice.

:func:`certify` issues the certificate of every case received from a partner and approved here
(its item results in one), sealed with the hall's own key, as a back-office
``issue_certificate`` operation of the case: its new state and the certificate become messages
to the origin hall in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain import partner_auth, reference
from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.domain.partner_auth import HallIdentity
from hall_server.services.batch import apply_batch
from hall_server.services.crosshall_in import HALL_TIME, INBOX_PATH
from hall_server.storage import partners as store
from hall_server.storage import read_transaction, write_transaction
from models.catalog import Catalog, CertificateType
from models.certificates import CertificateBody, HolderIdType, Identifier, add_years, serial_for
from models.seal import seal_certificate
from models.state_machine import CaseEvent
from models.sync import ChangeKind, Operation, OperationKind, TransitionPayload

log = logging.getLogger("hall_server.partners")
BATCH = 2000  # messages per request: like a station push (MAX_PUSH_BATCH), one commit each
VALID_YEARS = 5


@dataclass(slots=True)
class Delivery:
    """What one :func:`deliver` run did for one partner."""

    partner: str
    sent: int = 0
    refused: int = 0
    waiting: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``partners sync --json`` entry."""
        return {
            "partner": self.partner,
            "sent": self.sent,
            "refused": self.refused,
            "waiting": self.waiting,
            "error": self.error,
        }


def _body(receiver: str, messages: list[tuple[int, str, str, str]]) -> bytes:
    """The request body, spliced from the stored JSON payloads (no decode and re-encode)."""
    parts = [
        f'{{"id":"{seq}","kind":{json.dumps(kind)},"key":{json.dumps(key, ensure_ascii=False)},'
        f'"payload":{payload}}}'
        for seq, kind, key, payload in messages
    ]
    return f'{{"to":{json.dumps(receiver)},"messages":[{",".join(parts)}]}}'.encode()


def _answers(response: httpx.Response, sent: list[tuple[int, str, str, str]]) -> list[dict[str, Any]]:
    """The answers in the order sent (a prefix when the partner answered fewer)."""
    results = response.json().get("results")
    answered: list[dict[str, Any]] = []
    for (seq, _kind, _key, _payload), result in zip(sent, results or [], strict=False):
        if not isinstance(result, dict) or result.get("id") != str(seq):
            break
        answered.append(result)
    return answered


def _refusal_error(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"HTTP {response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def deliver(
    engine: Engine, identity: HallIdentity, name: str, client: httpx.Client, now: dt.datetime | None = None
) -> Delivery:
    """Send ``name`` every message it has not answered yet (until it fails or none is left)."""
    report = Delivery(name)
    while True:
        with read_transaction(engine) as conn:
            partner = store.partner_row(conn, name)
            if partner is None or partner["removed_at"] is not None:
                report.error = "not a partner"
                return report
            messages = store.messages_for(conn, name, int(partner["delivered_seq"]), BATCH)
        if not messages:
            return report
        body = _body(name, messages)
        headers = partner_auth.sign_request(identity, "POST", INBOX_PATH, name, body)
        headers["Content-Type"] = "application/json"
        stamp = storage.iso(now or dt.datetime.now(dt.UTC))
        try:
            response = client.post(partner["url"].rstrip("/") + INBOX_PATH, content=body, headers=headers)
            answers = _answers(response, messages) if response.status_code == 200 else []
            error = None if response.status_code == 200 else _refusal_error(response)
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            answers, error = [], f"unreachable: {exc.__class__.__name__}: {exc}"[:300]
        with write_transaction(engine) as conn:
            store.set_partner(conn, name, last_attempt_at=stamp, last_error=error)
            if answers:
                report.refused += _take_answers(conn, name, messages[: len(answers)], answers, now)
                store.advance(conn, name, messages[len(answers) - 1][0])
        report.sent += len(answers)
        if error is not None or len(answers) < len(messages):
            report.error = error or "the partner answered part of a batch"
            with read_transaction(engine) as conn:
                left = store.partner_row(conn, name)
                report.waiting = store.waiting_count(conn, name, int(left["delivered_seq"]) if left else 0)
            return report


def _take_answers(
    conn: Connection,
    partner: str,
    messages: list[tuple[int, str, str, str]],
    answers: list[dict[str, Any]],
    now: dt.datetime | None,
) -> int:
    """Record the partner's refusals (once: a repeated answer changes nothing); how many."""
    refused = [(m, a) for m, a in zip(messages, answers, strict=True) if a.get("status") == "refused"]
    if not refused:
        return 0
    records = store.cross_cases(conn, [m[2] for m, _ in refused])
    cases = storage.cases_by_no(conn, [m[2] for m, _ in refused])
    stamp = now or dt.datetime.now(dt.UTC)
    changes: list[storage.NewChange] = []
    for (_seq, kind, case_no, payload), answer in refused:
        record = records.get(case_no)
        code = str(answer.get("code") or "crosshall.invalid")[:64]
        reason = str(answer.get("reason") or code)[:500]
        if record is None or record["status"] == "refused":
            continue
        store.set_cross_case(
            conn, case_no, status="refused", code=code, reason=reason, updated_at=storage.iso(stamp)
        )
        if kind != ChangeKind.CROSSHALL_FORWARD:
            log.warning("%s refused %s of %s: %s", partner, kind, case_no, reason)
            continue
        state = cases[case_no].state if case_no in cases else None
        accept_op = json.loads(payload).get("accept_op_id")
        changes.append(
            storage.NewChange(
                ChangeKind.CASE_CONFLICT,
                case_no,
                {
                    "case_no": case_no, "op_id": accept_op, "event": None, "winner_op_id": None,
                    "winner_event": None, "state": state, "code": code, "reason": reason,
                    "partner": partner,
                },
                str(record["station"]),
            )
        )  # fmt: skip
    storage.append_changes(conn, changes, stamp)
    return len(refused)


# ------------------------------------------------------------------ 统一出证 at the owning hall


def _issuer_name(catalog: Catalog, identity: HallIdentity) -> str:
    """The issuing authority's name: the catalogue's station of the hall's issuer code."""
    for station in catalog.stations.values():
        if station.issuer_uscc == identity.issuer_code:
            return station.name
    return identity.name


def certify(engine: Engine, identity: HallIdentity, fallback: Catalog, now: dt.datetime | None = None) -> int:
    """Issue the certificates of received cases approved here; how many were issued."""
    if not identity.issuer_code:
        return 0  # `hall-server key init NAME --issuer-code USCC` names the authority
    moment = now or dt.datetime.now(dt.UTC)
    today = moment.astimezone(HALL_TIME).date()
    stamp = storage.iso(moment)
    with write_transaction(engine) as conn:
        waiting = store.to_certify(conn, BATCH)
        if not waiting:
            return 0
        catalog = reference.catalog_in_force(conn, fallback)
        sequence = store.next_certificate_sequence(conn)
        operations: list[Operation] = []
        issued: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for case in waiting:
            item = catalog.items.get(case["item_code"])
            kind = catalog.certificate_types.get(item.certificate_type or "") if item else None
            if kind is None:  # a result without a certificate: the decision is all it gets
                store.set_cross_case(conn, case["case_no"], status="decided", updated_at=stamp)
                continue
            body = _certificate_body(catalog, identity, kind, case, sequence, today)
            seal, qr = seal_certificate(identity.key, body)
            record = {**body.to_dict(), "seal": seal, "qr": qr}
            operations.append(_issue_operation(case["case_no"], record, today, identity.name, stamp))
            issued.append(
                (case, {"certificate": body.to_dict(), "seal": seal, "qr": qr, "sequence": sequence})
            )
            sequence += 1
        if operations:
            principal = Principal(staff_no=identity.name, station=BACK_OFFICE, role="admin", back_office=True)
            apply_batch(conn, principal, operations, moment, fallback)
        _keep_certificates(conn, issued, identity, stamp, moment)
        return len(issued)


def _certificate_body(
    catalog: Catalog,
    identity: HallIdentity,
    kind: CertificateType,
    case: dict[str, Any],
    sequence: int,
    today: dt.date,
) -> CertificateBody:
    serial = serial_for(identity.name, sequence)
    return CertificateBody(
        identifier=str(Identifier.build(kind.type_code, identity.issuer_code, serial)),
        certificate_type=kind.code,
        type_name=kind.name,
        holder_name=case["applicant_name"],
        holder_id=case["applicant_id"],
        holder_id_type=HolderIdType.of(case["applicant_type"]),
        issuer_code=identity.issuer_code,
        issuer_name=_issuer_name(catalog, identity),
        station=identity.name,
        issued_on=today,
        valid_until=add_years(today, VALID_YEARS),
        case_nos=(case["case_no"],),
        key_id=identity.key.key_id,
    )


def _issue_operation(case_no: str, record: dict[str, Any], today: dt.date, by: str, stamp: str) -> Operation:
    payload = TransitionPayload(
        case_no=case_no,
        event=CaseEvent.ISSUE_CERTIFICATE,
        from_state="approved",  # type: ignore[arg-type]  # validated into CaseState by pydantic
        to_state="certificate_issued",  # type: ignore[arg-type]
        on=today,
        by=by,
        certificates=[record],
    ).to_payload()
    return Operation(
        op_id=f"hc-{record['identifier'].rsplit('.', 3)[-3]}",
        seq=0,
        kind=OperationKind.CASE_TRANSITION,
        case_no=case_no,
        payload=payload,
        created_at=stamp,
    )


def _keep_certificates(
    conn: Connection,
    issued: list[tuple[dict[str, Any], dict[str, Any]]],
    identity: HallIdentity,
    stamp: str,
    moment: dt.datetime,
) -> None:
    rows, changes = [], []
    for case, record in issued:
        sequence = record.pop("sequence")
        identifier = record["certificate"]["identifier"]
        rows.append(
            {
                "identifier": identifier, "sequence": sequence, "case_no": case["case_no"],
                "key_id": identity.key.key_id, "record": storage.dumps(record), "issued_at": stamp,
            }
        )  # fmt: skip
        message = {**record, "issued_by": identity.name}
        changes.append(
            storage.NewChange(ChangeKind.CERTIFICATE, identifier, message, store.audience(case["partner"]))
        )
        store.set_cross_case(conn, case["case_no"], status="certified", updated_at=stamp)
    store.insert_hall_certificates(conn, rows)
    storage.append_changes(conn, changes, moment)
