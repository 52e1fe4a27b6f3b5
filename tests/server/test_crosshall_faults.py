"""跨区通办 under faults: the owning hall is killed with SIGKILL, again and again, while forwarded
cases arrive and while its decisions and certificates flow back, and restarted each time.

Everything is real: two ``hall-server`` processes (the owner on PostgreSQL when a cluster can be
started, else SQLite), a station store pushing to the origin, the halls' own background outboxes.
At the end every forwarded case exists exactly once at the owner, with one accept; its decision
and its certificate exist once at the origin (one ``approve``, one ``issue_certificate``, one
certificate passed on to the station); nothing is refused and nothing waits.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hall_server.services.backoffice import decide
from hall_server.storage import make_engine
from models.enums import ApplicantType, MaterialStatus, Tolerance
from models.state_machine import CaseEvent
from tests.conftest import TODAY
from tests.crosshall_halls import (
    GAOXIN_ISSUER,
    JINGHE_ISSUER,
    ORIGIN_LINKS,
    OWNER_LINKS,
    PartnerHall,
    link,
    partner_hall,
    wait_for,
)
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings

ROUNDS, PER_ROUND = 8, 40  # 320 forwarded cases, pushed in rounds while the owner is killed
RNG = random.Random(20260913)


class Killer:
    """Kills a hall with SIGKILL at random moments and restarts it, in a thread, until stopped."""

    def __init__(self, hall: PartnerHall) -> None:
        self.hall = hall
        self.kills = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(120)
        if not self.hall.process.running:
            self.hall.process.restart()

    def _run(self) -> None:
        while not self._stop.wait(RNG.uniform(0.2, 1.2)):
            self.hall.process.kill()
            self.kills += 1
            time.sleep(RNG.uniform(0.0, 0.5))
            self.hall.process.restart()


@pytest.fixture
def owner_db(request: pytest.FixtureRequest) -> str | None:
    """A PostgreSQL database for the owner when a cluster starts (else None: SQLite)."""
    try:
        cluster = request.getfixturevalue("postgres")
    except pytest.skip.Exception:
        return None
    url: str = cluster.new_database()
    return url


@pytest.fixture
def halls(tmp_path: Path, owner_db: str | None) -> Iterator[tuple[PartnerHall, PartnerHall]]:
    gaoxin = partner_hall(tmp_path, "GAOXIN", GAOXIN_ISSUER, ORIGIN_LINKS)
    jinghe = partner_hall(tmp_path, "JINGHE", JINGHE_ISSUER, OWNER_LINKS, db_url=owner_db)
    try:
        link(gaoxin, jinghe)
        link(jinghe, gaoxin)
        yield gaoxin, jinghe
    finally:
        gaoxin.process.stop()
        jinghe.process.stop()


def accept_round(rt: Runtime, count: int) -> list[str]:
    item = rt.catalog.items["CL-001"]
    presented = {
        m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is not Tolerance.OPTIONAL
    }
    numbers = []
    for _ in range(count):
        applicant = Applicant(ApplicantType.PERSON, person_id(RNG), "王小明", "13800138000")
        decision = rt.acceptance.accept(AcceptanceRequest(item.code, applicant, presented), TODAY)
        assert decision.case_no is not None
        numbers.append(decision.case_no)
    return numbers


def count_where(hall: PartnerHall, sql: str) -> int:
    return int(hall.query(sql)[0][0])


@pytest.mark.slow
def test_the_owner_killed_while_cases_arrive_and_decisions_flow_back(
    halls: tuple[PartnerHall, PartnerHall], tmp_path: Path
) -> None:
    gaoxin, jinghe = halls
    rt = Runtime(Settings(home=tmp_path / "GXZX", station="GXZX", server=gaoxin.url), actor="C001")
    rt.sync.sign_in_online("C001", "demo-1234")
    assert rt.sync_once().error is None
    numbers: list[str] = []
    with Killer(jinghe) as killer:  # forwarded cases arrive while the owner dies and comes back
        for _ in range(ROUNDS):
            numbers += accept_round(rt, PER_ROUND)
            assert rt.sync_once().error is None
        wait_for(lambda: killer.kills >= 3, "three kills while cases arrive")
    forwarded = "SELECT COUNT(*) FROM cases WHERE station = '@GAOXIN' AND item_code = 'CL-001'"
    wait_for(lambda: count_where(jinghe, forwarded) == len(numbers), "every case at the owner")
    engine = make_engine(jinghe.db_url)
    try:
        with Killer(jinghe) as killer:  # decisions and certificates flow back while it dies
            for case_no in numbers:
                decide(engine, case_no, CaseEvent.APPROVE, "JH-S01", None)
            wait_for(lambda: killer.kills >= 3, "three kills while decisions flow back")
    finally:
        engine.dispose()
    issued = "SELECT COUNT(*) FROM cases WHERE state = 'certificate_issued'"
    wait_for(lambda: count_where(gaoxin, issued) == len(numbers), "every decision back at the origin")
    relayed = "SELECT COUNT(*) FROM changes WHERE kind = 'certificate' AND audience = 'GXZX'"
    wait_for(lambda: count_where(gaoxin, relayed) >= len(numbers), "every certificate at the origin")
    for hall in (gaoxin, jinghe):
        wait_for(
            lambda hall=hall: '"waiting": 0' in hall.db("partners", "list", "--json").stdout,
            "an empty outbox",
        )
    rt.close()
    # Exactly once at the owner: each case, its accept, its certificate.
    assert jinghe.query("SELECT COUNT(*), COUNT(DISTINCT case_no) FROM cases") == [(len(numbers),) * 2]
    assert count_where(jinghe, "SELECT COUNT(*) FROM operations WHERE kind = 'case.accept'") == len(numbers)
    assert count_where(jinghe, "SELECT COUNT(DISTINCT case_no) FROM hall_certificates") == len(numbers)
    assert count_where(jinghe, "SELECT COUNT(*) FROM hall_certificates") == len(numbers)
    # Exactly once at the origin: one approve and one issue_certificate per case, one certificate
    # passed on to the station per case; no refusal either way, nothing left waiting.
    events = gaoxin.query(
        "SELECT event, COUNT(*), COUNT(DISTINCT case_no) FROM operations"
        " WHERE origin = 'back-office' GROUP BY event ORDER BY event"
    )
    assert events == [
        ("approve", len(numbers), len(numbers)),
        ("issue_certificate", len(numbers), len(numbers)),
    ]
    assert count_where(gaoxin, relayed) == len(numbers)
    for hall in (gaoxin, jinghe):
        assert count_where(hall, "SELECT COUNT(*) FROM partner_inbox WHERE status = 'refused'") == 0
        assert count_where(hall, "SELECT COUNT(*) FROM crosshall_cases WHERE status = 'refused'") == 0
