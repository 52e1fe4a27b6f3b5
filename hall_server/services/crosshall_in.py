"""Receiving a partner hall's messages (``POST /partners/inbox``): at most once, checked, answered.

The request must be signed by the key this hall has on file for the sender
(:func:`hall_server.domain.partner_auth.check_request`); nothing in an unsigned or forged request
is read further. Each message is kept in ``partner_inbox`` with its first answer, like a pushed
operation: a message id seen before with the same body (:func:`models.sync.body_hash`) gets the
same answer (``duplicate`` when it was applied), with another body ``op.mismatch``.

- ``crosshall.forward`` (here: the owning hall) — a case the partner accepted for an item this
  hall handles for it (a ``handle`` link naming the partner's code, else
  ``crosshall.unknown_item``); a number already used here is ``crosshall.case_exists``. The case
  is kept with station ``@PARTNER`` (no station of this hall can pull its changes), so the back
  office decides it as any case and every change of its state becomes a message back.
- ``case.state`` (here: the origin hall) — the owning hall's decision on a case this hall forwarded
  to it (else ``crosshall.not_forwarded``), applied through the fold as back-office operations of
  the partner (:func:`hall_server.domain.crosshall.path_to`), so the station learns it on its
  next pull as any decision.
- ``certificate`` — a certificate the owning hall issued for such a case: its seal and QR must
  verify with the partner's key on file and the rights of a partner (its issuer code, the types
  of the items this hall forwards to it), then it is passed on to the station that accepted it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain import crosshall, partner_auth, reference
from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.domain.partner_auth import HallIdentity
from hall_server.domain.rules import Refusal
from hall_server.errors import ApiError
from hall_server.services.batch import apply_batch
from hall_server.storage import CASES, OPS, read_transaction, write_transaction
from hall_server.storage import partners as store
from models.catalog import Catalog
from models.enums import CaseState
from models.problems import Problem
from models.seal import IssuingStation, PublicKey, TrustStore, verify_qr, verify_record
from models.state_machine import TRANSITIONS
from models.sync import ChangeKind, Operation, OperationKind, TransitionPayload, body_hash

INBOX_PATH = "/api/v1/partners/inbox"
MAX_MESSAGES = 2000
HALL_TIME = dt.timezone(dt.timedelta(hours=8))
APPLIED, REFUSED, DUPLICATE = "applied", "refused", "duplicate"
KNOWN_KINDS = frozenset(kind.value for kind in ChangeKind)


@dataclass(slots=True)
class Message:
    """One message of a partner's request."""

    index: int
    msg_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    digest: str
    answer: dict[str, Any] | None = None


def partner_type_codes(catalog: Catalog, partner: str) -> frozenset[str]:
    """The certificate type codes of the items this hall forwards to ``partner``."""
    codes = set()
    for item in catalog.items.values():
        owner = item.owner
        kind = catalog.certificate_types.get(item.certificate_type or "")
        if owner is not None and owner.partner == partner and kind is not None:
            codes.add(kind.type_code)
    return frozenset(codes)


def parse_messages(raw: bytes, receiver: str) -> list[Message]:
    """The messages of a request body (422 ``request.invalid`` when it is not one)."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "request.malformed") from None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ApiError(422, "request.invalid", detail="a JSON object with a messages list")
    if body.get("to") != receiver:
        raise ApiError(403, "partner.misaddressed", to=str(body.get("to"))[:32])
    if len(body["messages"]) > MAX_MESSAGES:
        raise ApiError(422, "request.invalid", detail=f"at most {MAX_MESSAGES} messages")
    found = []
    for index, entry in enumerate(body["messages"]):
        if not (
            isinstance(entry, dict)
            and isinstance(msg_id := entry.get("id"), str)
            and 0 < len(msg_id) <= 18  # a change's sequence number: fits a 64-bit column
            and msg_id.isdigit()
            and isinstance(kind := entry.get("kind"), str)
            and isinstance(key := entry.get("key"), str)
            and "\x00" not in key
            and isinstance(payload := entry.get("payload"), dict)
        ):
            raise ApiError(422, "request.invalid", detail=f"messages[{index}]: id, kind, key, payload")
        found.append(Message(index, msg_id, kind, key[:128], payload, body_hash(kind, key, payload)))
    return found


@dataclass
class Receiving:
    """One request's messages, applied in one write transaction."""

    conn: Connection
    identity: HallIdentity
    partner: dict[str, Any]
    now: dt.datetime
    fallback: Catalog
    received: str = ""
    cases: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    cross: list[dict[str, Any]] = field(default_factory=list)
    changes: list[storage.NewChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.received = storage.iso(self.now)
        self.name = str(self.partner["name"])
        self.catalog = reference.catalog_in_force(self.conn, self.fallback)

    def apply(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """Answer every message (request order) and write what follows."""
        seen = store.inbox_answers(self.conn, self.name, list(dict.fromkeys(m.msg_id for m in messages)))
        first: dict[str, Message] = {}
        new: list[Message] = []
        for message in messages:
            earlier = seen.get(message.msg_id)
            if earlier is not None:
                message.answer = _repeat(message, earlier["body_hash"], earlier)
            elif message.msg_id in first:
                message.answer = None  # answered after the batch, from its first copy
            else:
                first[message.msg_id] = message
                new.append(message)
        self._forwards([m for m in new if m.kind == ChangeKind.CROSSHALL_FORWARD])
        self._write_cases()  # before the decisions: their operations take the next numbers
        self._decisions([m for m in new if m.kind == ChangeKind.CASE_STATE])
        for message in new:
            if message.kind == ChangeKind.CERTIFICATE:
                message.answer = self._certificate(message)
            elif message.answer is None:  # a partner's conflict note and the like: kept only
                known = message.kind in {kind.value for kind in ChangeKind}
                message.answer = (
                    _ok(message) if known else _no(message, "crosshall.unknown_kind", kind=message.kind[:32])
                )
        for message in messages:
            if message.answer is None:
                source = first[message.msg_id]
                message.answer = _repeat(message, source.digest, _stored(source))
        self._write(new)
        return [m.answer for m in messages if m.answer is not None]

    # ------------------------------------------------------------ forwarded cases (owner)

    def _forwards(self, messages: Sequence[Message]) -> None:
        numbers = [
            str(m.payload.get("case_no")) for m in messages if isinstance(m.payload.get("case_no"), str)
        ]
        taken = set(storage.cases_by_no(self.conn, [n for n in numbers if "\x00" not in n]))
        next_seq = storage.next_seq(self.conn, OPS, "server_seq")
        for message in messages:
            try:
                facts = crosshall.received_case(message.payload, self.name)
                item_code = crosshall.handled_item(self.catalog, facts, self.identity.name)
                if facts["case_no"] in taken:
                    raise Refusal(
                        "crosshall.case_exists", partner=self.identity.name, case_no=facts["case_no"]
                    )
            except Refusal as refusal:
                message.answer = _no_text(message, refusal.code, refusal.reason)
                continue
            taken.add(facts["case_no"])
            self._keep_case(message, facts, item_code, next_seq)
            next_seq += 1
            message.answer = _ok(message)

    def _keep_case(self, message: Message, facts: Mapping[str, str], item_code: str, seq: int) -> None:
        case_no, station = facts["case_no"], store.audience(self.name)
        op_id = f"px-{self.name}-{message.msg_id}"
        self.cases.append(
            {
                "case_no": case_no, "station": station, "item_code": item_code,
                "applicant_type": facts["applicant_type"], "applicant_id": facts["applicant_id"],
                "applicant_name": facts["applicant_name"], "accept_state": facts["accept_state"],
                "state": facts["accept_state"], "version": 0, "accepted_on": facts["accepted_on"],
                "accept_op_id": op_id, "created_at": self.received, "received_at": self.received,
                "updated_at": self.received,
            }
        )  # fmt: skip
        self.operations.append(
            {
                "server_seq": seq, "op_id": op_id, "station": station, "staff_no": self.name,
                "origin": "partner", "kind": OperationKind.CASE_ACCEPT.value, "case_no": case_no,
                "event": None, "from_state": None, "to_state": None,
                "payload": storage.dumps(message.payload), "client_seq": int(message.msg_id),
                "created_at": self.received, "received_at": self.received, "status": APPLIED,
                "code": None, "reason": None, "answer_state": facts["accept_state"], "fold": APPLIED,
                "winner_op_id": None, "winner_event": None,
            }
        )  # fmt: skip
        self.cross.append(
            {
                "case_no": case_no, "partner": self.name, "role": "owner", "item_code": item_code,
                "partner_item": facts["origin_item"], "station": facts["station"], "status": "received",
                "code": None, "reason": None, "updated_at": self.received,
            }
        )  # fmt: skip

    # ------------------------------------------------------------ decisions back (origin)

    def _decisions(self, messages: Sequence[Message]) -> None:
        numbers = [m.key for m in messages]
        records = store.cross_cases(self.conn, numbers)
        states = {n: c.state for n, c in storage.cases_by_no(self.conn, numbers).items()}
        operations: list[Operation] = []
        owners: list[Message] = []
        for message in messages:
            try:
                events = self._path(message, records, states)
            except Refusal as refusal:
                message.answer = _no_text(message, refusal.code, refusal.reason)
                continue
            for step, event in enumerate(events):
                operations.append(self._transition(message, step, event, states))
                owners.append(message)
            message.answer = _ok(message)
        if not operations:
            return
        principal = Principal(staff_no=self.name, station=BACK_OFFICE, role="admin", back_office=True)
        results = apply_batch(self.conn, principal, operations, self.now, self.fallback)
        for message, result in zip(owners, results, strict=True):
            if (
                result.status == REFUSED
                and message.answer is not None
                and message.answer["status"] != REFUSED
            ):
                message.answer = _no_text(message, result.code or "crosshall.invalid", result.reason or "")

    def _path(self, message: Message, records: Mapping[str, Any], states: Mapping[str, str]) -> list[Any]:
        case_no, target = message.key, message.payload.get("state")
        record = records.get(case_no)
        if record is None or record["role"] != "origin" or record["partner"] != self.name:
            raise Refusal("crosshall.not_forwarded", case_no=case_no[:64], partner=self.name)
        events = crosshall.path_to(states.get(case_no, ""), str(target))
        if events is None:
            detail = f"case {case_no} is {states.get(case_no)} here and cannot become {target}"
            raise Refusal("crosshall.invalid", detail=detail[:200])
        return events

    def _transition(self, message: Message, step: int, event: Any, states: dict[str, str]) -> Operation:
        case_no, before = message.key, CaseState(states[message.key])
        after = TRANSITIONS[(before, event)]
        states[case_no] = after.value
        by, reason = message.payload.get("by"), message.payload.get("reason")
        payload = TransitionPayload(
            case_no=case_no,
            event=event,
            from_state=before,
            to_state=after,
            on=self.now.astimezone(HALL_TIME).date(),
            by=f"{self.name}:{by if isinstance(by, str) else 'back-office'}"[:64],
            reason=reason[:200] if isinstance(reason, str) and reason else None,
        ).to_payload()
        return Operation(
            op_id=f"px-{self.name}-{message.msg_id}-{step}",
            seq=int(message.msg_id),
            kind=OperationKind.CASE_TRANSITION,
            case_no=case_no,
            payload=payload,
            created_at=self.received,
        )

    # ------------------------------------------------------------ certificates back (origin)

    def _certificate(self, message: Message) -> dict[str, Any]:
        record = {"certificate": message.payload.get("certificate"), "seal": message.payload.get("seal")}
        qr = message.payload.get("qr")
        body = record["certificate"] if isinstance(record["certificate"], dict) else {}
        case_nos = body.get("case_nos")
        if not isinstance(case_nos, list) or not case_nos or not all(_plain(n) for n in case_nos):
            return _no(message, "crosshall.invalid", detail="the certificate names no case")
        records = store.cross_cases(self.conn, case_nos)
        for case_no in case_nos:
            known = records.get(case_no)
            if known is None or known["role"] != "origin" or known["partner"] != self.name:
                return _no(message, "crosshall.not_forwarded", case_no=case_no[:64], partner=self.name)
        problem = self._seal_problem(record, qr, str(body.get("identifier", "")))
        identifier = str(body.get("identifier", ""))[:128]
        if problem is not None:
            return _no(
                message, "crosshall.certificate_invalid", partner=self.name, identifier=identifier,
                why=problem.zh(), why_en=problem.en(),
            )  # fmt: skip
        relayed = {"certificate": body, "seal": record["seal"], "qr": qr, "issued_by": self.name}
        for case_no in dict.fromkeys(case_nos):
            station = str(records[case_no]["station"])
            self.changes.append(storage.NewChange(ChangeKind.CERTIFICATE, identifier, relayed, station))
        return _ok(message)

    def _seal_problem(self, record: Mapping[str, Any], qr: Any, identifier: str) -> Problem | None:
        """Why a partner's certificate (its sealed record and its QR text) does not verify with
        the partner's key on file and a partner's rights, or ``None``."""
        today = self.now.astimezone(HALL_TIME).date()
        trust = self._trust()
        verdict = verify_record(record, trust, today)
        if not verdict.valid:
            return verdict.problem
        if not isinstance(qr, str):
            return Problem("cert.verify.not_record")
        scanned = verify_qr(qr, trust, today)
        if not scanned.valid:
            return scanned.problem
        if scanned.payload is None or scanned.payload.identifier != identifier:
            return Problem("cert.verify.content")
        return None

    def _trust(self) -> TrustStore:
        key = PublicKey(self.partner["key_id"], self.name, self.partner["public_key"])
        rights = IssuingStation(
            self.name, str(self.partner["issuer_code"]), partner_type_codes(self.catalog, self.name)
        )
        return TrustStore({key.key_id: key}, {}, {}, {self.name: rights})

    # ------------------------------------------------------------ writes

    def _write_cases(self) -> None:
        conn = self.conn
        storage.insert_rows(conn, CASES, self.cases)
        storage.insert_rows(conn, OPS, self.operations)
        store.insert_cross_cases(conn, self.cross)

    def _write(self, new: Sequence[Message]) -> None:
        conn = self.conn
        storage.append_changes(conn, self.changes, self.now)
        store.insert_inbox(
            conn, [{**_stored(m), "partner": self.name, "received_at": self.received} for m in new]
        )


def _plain(value: Any) -> bool:
    """A case number a query may carry (text, no NUL, at most 64)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and "\x00" not in value


def _ok(message: Message) -> dict[str, Any]:
    return {"id": message.msg_id, "status": APPLIED, "code": None, "reason": None}


def _no(message: Message, code: str, **params: Any) -> dict[str, Any]:
    return _no_text(message, code, Problem(code, params).zh())


def _no_text(message: Message, code: str, reason: str) -> dict[str, Any]:
    return {"id": message.msg_id, "status": REFUSED, "code": code, "reason": reason}


def _repeat(message: Message, digest: str, first: Mapping[str, Any]) -> dict[str, Any]:
    if digest != message.digest:
        return _no(message, "op.mismatch", op_id=message.msg_id)
    if first["status"] == APPLIED:
        return {"id": message.msg_id, "status": DUPLICATE, "code": None, "reason": None}
    return _no_text(message, str(first["code"]), str(first["reason"] or ""))


def _stored(message: Message) -> dict[str, Any]:
    answer = message.answer or {}
    return {
        "partner": "",  # set by the writer
        "msg_id": message.msg_id,
        "kind": message.kind[:32],
        "case_no": message.key[:64],
        "body_hash": message.digest,
        "status": answer.get("status", APPLIED),
        "code": answer.get("code"),
        "reason": answer.get("reason"),
        "received_at": "",
    }


def receive(
    engine: Engine, identity: HallIdentity | None, headers: Mapping[str, str], raw: bytes, now: dt.datetime,
    fallback: Catalog,
) -> dict[str, Any]:  # fmt: skip
    """Check a partner's signed request and apply its messages; the answers."""
    if identity is None:
        raise ApiError(404, "hall.no_identity")
    sender = partner_auth.sender_of(headers)
    with read_transaction(engine) as conn:
        partner = store.partner_row(conn, sender)
    if partner is None or partner["removed_at"] is not None:
        raise ApiError(403, "partner.unknown", partner=sender)
    key = PublicKey(partner["key_id"], sender, partner["public_key"])
    partner_auth.check_request(headers, key, "POST", INBOX_PATH, identity.name, raw, now)
    messages = parse_messages(raw, identity.name)
    with write_transaction(engine) as conn:
        receiving = Receiving(conn, identity, partner, now, fallback)
        answers = receiving.apply(messages)
    return {"results": answers, "server_time": now.isoformat()}
