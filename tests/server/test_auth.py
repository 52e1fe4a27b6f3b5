"""Signing in: argon2id passwords, bearer tokens that expire, stations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.server.conftest import Served


def sign_in(served: Served, staff_no: str, password: str, station: str = "GXZX") -> tuple[int, dict]:  # type: ignore[type-arg]
    response = served.api.http.post(
        "/api/v1/auth/token", json={"staff_no": staff_no, "password": password, "station": station}
    )
    return response.status_code, response.json()


def test_a_token_has_an_expiry_and_names_its_staff(server: Served) -> None:
    status, body = sign_in(server, "C001", "demo-1234")
    assert status == 200
    assert body["staff"] == {"staff_no": "C001", "name": "张敏", "role": "clerk", "station": "GXZX"}
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires - server.clock() == dt.timedelta(hours=8)
    with server.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM tokens")).scalars().all()
    assert body["token"] not in stored and len(stored) == 1  # only a hash is kept


def test_wrong_credentials_are_refused_alike(server: Served) -> None:
    assert sign_in(server, "C001", "wrong")[1]["error"]["code"] == "auth.invalid"
    status, body = sign_in(server, "NOBODY", "demo-1234")
    assert (status, body["error"]["code"]) == (401, "auth.invalid")


def test_staff_sign_in_for_their_own_station_admins_anywhere(server: Served) -> None:
    status, body = sign_in(server, "C001", "demo-1234", "JHYZ1")
    assert (status, body["error"]["code"]) == (403, "auth.forbidden")
    assert sign_in(server, "A001", "demo-9999", "JHYZ1")[0] == 200
    status, body = sign_in(server, "A001", "demo-9999", "NOWHERE")
    assert (status, body["error"]["code"]) == (403, "auth.forbidden")


def test_requests_without_a_valid_token_are_refused(server: Served) -> None:
    http = server.api.http
    cases = {
        None: "auth.missing",
        "Bearer": "auth.missing",
        "Basic QzAwMTpkZW1vLTEyMzQ=": "auth.missing",
        "Bearer not-a-token": "auth.invalid",
    }
    for header, code in cases.items():
        headers = {"Authorization": header} if header else {}
        response = http.get("/api/v1/sync/changes", headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (401, code), header


def test_an_expired_token_is_refused_as_expired(make_server, db_url: str) -> None:  # type: ignore[no-untyped-def]
    served: Served = make_server(db_url, token_ttl_seconds=60)
    token = served.api.token()
    assert served.api.pull(token).status_code == 200
    served.clock.advance(seconds=59)
    assert served.api.pull(token).status_code == 200
    served.clock.advance(seconds=1)
    response = served.api.pull(token)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "token.expired")
    fresh = served.api.token()
    assert served.api.pull(fresh).status_code == 200
