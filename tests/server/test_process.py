"""The real ``hall-server`` process: killed and restarted, it keeps what it answered."""

from __future__ import annotations

import httpx

from tests.hall import HallProcess
from tests.server.ops import INSTANT, accept, transition


def test_a_killed_server_keeps_every_applied_operation(hall: HallProcess) -> None:
    def client() -> tuple[httpx.Client, dict[str, str]]:
        http = httpx.Client(base_url=hall.url, timeout=60)
        token = http.post(
            "/api/v1/auth/token", json={"staff_no": "C001", "password": "demo-1234", "station": "GXZX"}
        ).json()["token"]
        return http, {"Authorization": f"Bearer {token}"}

    ops = [accept("GXZX-20261120-00800", **INSTANT), transition("GXZX-20261120-00800", "approve", "accepted")]
    http, auth = client()
    first = http.post("/api/v1/sync/push", json={"station": "GXZX", "operations": ops}, headers=auth).json()
    http.close()
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    url = hall.url
    hall.kill()  # as a crash right after answering would
    assert not hall.running
    hall.restart()
    assert hall.url == url  # same port: clients keep their configured server
    http, auth = client()
    again = http.post("/api/v1/sync/push", json={"station": "GXZX", "operations": ops}, headers=auth).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [r["server_seq"] for r in again["results"]] == [r["server_seq"] for r in first["results"]]
    changes = http.get("/api/v1/sync/changes", headers=auth).json()["changes"]
    assert [c["payload"]["state"] for c in changes] == ["approved"]
    http.close()
    hall.stop()
    assert not hall.running
