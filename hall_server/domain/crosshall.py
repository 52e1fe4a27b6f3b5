"""跨区通办 rules: which accepts go to a partner hall, what the message says, how a received one
is checked, and the path a partner's decision takes through this hall's state machine.

A station's ``case.accept`` of an item whose catalogue entry has a ``forward`` link
(:class:`models.catalog.TongbanLink`) is 异地收件: in the push's own transaction the hall records
the case as forwarded and appends a ``crosshall.forward`` message addressed to the owning hall
(:func:`hall_server.storage.partners.audience`), so the case and its message exist together or
not at all. The message is delivered later by the hall's outbox
(:mod:`hall_server.services.crosshall_out`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from hall_server.domain import reference
from hall_server.domain.auth import Principal
from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from hall_server.storage import NewChange
from hall_server.storage.partners import audience, insert_cross_cases
from models.catalog import Catalog
from models.enums import CaseState
from models.state_machine import TRANSITIONS, CaseEvent
from models.sync import ChangeKind

FORWARDED_STATES = frozenset({CaseState.ACCEPTED.value, CaseState.ACCEPTED_TOLERATED.value})
# What a partner's decision may do to a case it handles for this hall.
PARTNER_EVENTS = (CaseEvent.APPROVE, CaseEvent.REFUSE, CaseEvent.ISSUE_CERTIFICATE)
_TEXT_LIMIT = 200


class Forwarding:
    """The 异地收件 of one pushed batch: a message and a record per forwarded case."""

    def __init__(self, conn: Connection, principal: Principal, fallback: Catalog, received: str) -> None:
        self.conn = conn
        self.principal = principal
        self.fallback = fallback
        self.received = received
        self._catalog: Catalog | None = None
        self.rows: list[dict[str, Any]] = []

    def accepted(self, case: Mapping[str, Any], op: Incoming, changes: list[NewChange]) -> None:
        """A new case from a station: when a partner handles its item, a message to it."""
        if self.principal.back_office or case["accept_state"] not in FORWARDED_STATES:
            return
        if self._catalog is None:
            self._catalog = reference.catalog_in_force(self.conn, self.fallback)
        item = self._catalog.items.get(str(case["item_code"]))
        link = item.owner if item is not None else None
        if item is None or link is None:
            return
        case_no = str(case["case_no"])
        payload = {
            "case_no": case_no,
            "item_code": link.code,
            "origin_item": item.code,
            "item_name": item.name,
            "station": case["station"],
            "applicant_type": case["applicant_type"],
            "applicant_id": case["applicant_id"],
            "applicant_name": case["applicant_name"],
            "accept_state": case["accept_state"],
            "accepted_on": case["accepted_on"],
            "accept_op_id": op.op_id,
            "accept": op.payload,  # the materials checklist and every fact of the acceptance
        }
        changes.append(NewChange(ChangeKind.CROSSHALL_FORWARD, case_no, payload, audience(link.partner)))
        self.rows.append(
            {
                "case_no": case_no,
                "partner": link.partner,
                "role": "origin",
                "item_code": item.code,
                "partner_item": link.code,
                "station": case["station"],
                "status": "forwarded",
                "code": None,
                "reason": None,
                "updated_at": self.received,
            }
        )

    def write(self) -> None:
        """Record the forwarded cases (the messages go with the batch's changes)."""
        insert_cross_cases(self.conn, self.rows)


def _text(payload: Mapping[str, Any], name: str, limit: int = _TEXT_LIMIT) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise Refusal("crosshall.invalid", detail=f"{name} must be a non-empty text of at most {limit}")
    return value


def received_case(payload: Mapping[str, Any], partner: str) -> dict[str, str]:
    """The facts of a forwarded case (raises :class:`Refusal` ``crosshall.invalid``)."""
    facts = {
        name: _text(payload, name)
        for name in (
            "case_no", "item_code", "origin_item", "station", "applicant_type", "applicant_id",
            "applicant_name", "accept_state", "accepted_on",
        )
    }  # fmt: skip
    if len(facts["case_no"]) > 64:
        raise Refusal("crosshall.invalid", detail="case_no is longer than 64")
    if facts["accept_state"] not in FORWARDED_STATES:
        raise Refusal("crosshall.invalid", detail=f"accept_state {facts['accept_state']!r}")
    if not isinstance(payload.get("accept"), Mapping):
        raise Refusal("crosshall.invalid", detail="accept must be the acceptance's record")
    facts["partner"] = partner
    return facts


def handled_item(catalog: Catalog, facts: Mapping[str, str], own_name: str) -> str:
    """This hall's item for a forwarded case: one with a ``handle`` link to the sender naming
    the sender's code (raises :class:`Refusal` ``crosshall.unknown_item``, named by ``own_name``)."""
    item = catalog.items.get(facts["item_code"])
    link = item.link_to(facts["partner"], "handle") if item is not None else None
    if item is None or link is None or link.code != facts["origin_item"]:
        raise Refusal("crosshall.unknown_item", partner=own_name, item=facts["item_code"][:64])
    return item.code


def path_to(state: str, target: str) -> list[CaseEvent] | None:
    """The shortest run of partner events from ``state`` to ``target`` ([] when already there;
    ``None`` when none leads there)."""
    try:
        start, goal = CaseState(state), CaseState(target)
    except ValueError:
        return None
    queue: deque[tuple[CaseState, list[CaseEvent]]] = deque([(start, [])])
    seen = {start}
    while queue:
        current, events = queue.popleft()
        if current == goal:
            return events
        for event in PARTNER_EVENTS:
            following = TRANSITIONS.get((current, event))
            if following is not None and following not in seen:
                seen.add(following)
                queue.append((following, [*events, event]))
    return None
