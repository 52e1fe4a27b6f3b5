"""A case's slice of the station's audit chain, checked without the store.

The slice holds the case's events with ``prev_hash`` and ``hash``: each event's hash is
recomputed from its own fields and the link it names (:func:`models.audit_hash.event_hash`), the
sequence numbers must rise, every event must be about the case, and the state the events lead
to (the rule of :mod:`offline_cache.audit_cases`) must be the state the case record holds.
Events of other cases between them are not in the package; their hashes are the links, so the
slice ties into the station's chain, which the hall's audit anchors witness.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from models.archive.messages import ArchiveText
from models.audit_hash import event_hash
from models.enums import CaseState
from models.state_machine import TRANSITIONS, CaseEvent

_ACCEPT_STATES = frozenset({CaseState.ACCEPTED, CaseState.ACCEPTED_TOLERATED, CaseState.NOT_ACCEPTED})
_EVENTS = frozenset(event.value for event in CaseEvent)
_STATES = frozenset(state.value for state in CaseState)
ADOPTED = "sync.case_state"  # the hall's state adopted at a pull (detail.to)
_FIELDS = ("seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash")


def event_record(row: Sequence[Any]) -> dict[str, Any]:
    """An ``audit_events`` row (seq, at, actor, action, subject, detail, prev_hash, hash) as the
    slice keeps it."""
    return dict(zip(_FIELDS, row, strict=True))


def _well_formed(event: Any) -> bool:
    if not isinstance(event, Mapping) or not isinstance(event.get("seq"), int):
        return False
    return all(isinstance(event.get(name), str) for name in _FIELDS[1:])


class _NotAStep(ValueError):
    """An event the state machine does not allow from the state before it."""

    def __init__(self, name: str, state: str | None) -> None:
        super().__init__(name, state)
        self.name, self.state = name, state


def _step(state: str | None, action: str, detail: str) -> str | None:
    """The case's state after one event (unchanged for events that do not move it); raises
    :class:`_NotAStep` for a step the state machine does not allow."""
    if action == ADOPTED:
        try:
            target = json.loads(detail).get("to")
        except (ValueError, AttributeError):
            return state
        return target if target in _STATES else state
    name = action.removeprefix("case.")
    if not action.startswith("case.") or (name not in _ACCEPT_STATES and name not in _EVENTS):
        return state
    if name in _ACCEPT_STATES:
        return name
    after = TRANSITIONS.get((CaseState(state), CaseEvent(name))) if state in _STATES else None
    if after is None:
        raise _NotAStep(name, state)
    return after.value


def check_slice(case_no: str, recorded_state: Any, events: Any) -> list[str]:
    """What is wrong with a case's audit slice, in English (empty when it holds)."""
    return [problem.en() for problem in slice_problems(case_no, recorded_state, events)]


def slice_problems(case_no: str, recorded_state: Any, events: Any) -> list[ArchiveText]:
    """What is wrong with a case's audit slice, in both languages (empty when it holds)."""
    if not isinstance(events, list):
        return [ArchiveText.of("slice.no_events")]
    problems: list[ArchiveText] = []
    last_seq, state = 0, None
    for event in events:
        if not _well_formed(event):
            return [*problems, ArchiveText.of("slice.malformed")]
        seq = event["seq"]
        if seq <= last_seq:
            problems.append(ArchiveText.of("slice.order", seq=seq, last=last_seq))
        last_seq = seq
        if event["subject"] != case_no:
            subject = event["subject"]
            problems.append(ArchiveText.of("slice.subject", seq=seq, subject=subject, case_no=case_no))
        values = [event[name] for name in _FIELDS[1:7]]
        if event_hash(seq, *values) != event["hash"]:
            problems.append(ArchiveText.of("slice.hash", seq=seq, action=event["action"]))
        try:
            state = _step(state, event["action"], event["detail"])
        except _NotAStep as exc:
            before, before_zh = exc.state or "nothing", exc.state or "无"
            problems.append(
                ArchiveText.of("slice.step", seq=seq, name=exc.name, state=before, state_zh=before_zh)
            )
    if state != recorded_state:
        problems.append(ArchiveText.of("slice.state", recorded=recorded_state, state=state))
    return problems
