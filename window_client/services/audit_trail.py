"""``window-client audit verify --against-hall``: the station's audit trail against every head
the hall accepted since its last reset.

An event the hall saw that the store no longer has, or has with another hash, is a problem; so
is every head the hall rejected (its alarms). The heads themselves are sent with every push by
:class:`window_client.services.sync.anchors.AnchorKeeper`.
"""

from __future__ import annotations

from typing import Any

from models.sync import AuditTrail
from offline_cache import Store
from offline_cache import audit as chain
from offline_cache.audit_cases import AuditReport
from window_client.services.sync.anchors import local_hashes


def compare_with_hall(store: Store, report: AuditReport, trail: AuditTrail, server: str) -> AuditReport:
    """``report`` with what the hall saw: its heads since the last reset against the store."""
    records = trail.anchors
    resets = [i for i, r in enumerate(records) if r.status == "reset"]
    current = records[resets[-1] + 1 :] if resets else records
    accepted = [r for r in current if r.status == "accepted"]
    rejected = [r for r in current if r.status == "rejected"]
    with store.reading() as conn:
        local = local_hashes(conn, (r.seq for r in accepted if r.seq > 0))
        head_seq, _ = chain.read_head(conn)
    last = max((r.seq for r in accepted), default=0)
    length = max(local, default=0)
    shorter = [r for r in accepted if r.seq > 0 and r.seq not in local]
    differs = [r for r in accepted if r.seq in local and local[r.seq] != r.hash]
    problems = list(report.problems)
    if shorter:
        problems.append(
            chain.AuditProblem(
                shorter[0].seq,
                "hall_shorter",
                f"the hall saw events up to {last}; {len(shorter)} of the heads it holds are missing"
                f" here (the chain ends at {max(head_seq, length)})",
            )
        )
    if differs:
        first = differs[0]
        problems.append(
            chain.AuditProblem(
                first.seq,
                "hall_differs",
                f"event {first.seq} differs from what the hall saw at {first.received_at}"
                f" ({len(differs)} head(s) differ: the trail was rewritten)",
            )
        )
    if rejected:
        codes = ", ".join(sorted({r.code or "?" for r in rejected}))
        problems.append(
            chain.AuditProblem(
                rejected[-1].seq,
                "hall_alarm",
                f"the hall rejected {len(rejected)} audit head(s) of this station ({codes})",
            )
        )
    hall: dict[str, Any] = {
        "server": server,
        "anchored_seq": last,
        "anchors": len(accepted),
        "matched": len(accepted) - len(shorter) - len(differs),
        "alarms": len(rejected),
    }
    return AuditReport(report.events, report.cases_checked, problems, report.cases, hall)
