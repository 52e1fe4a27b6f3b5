"""Sign-in throttling at the hall: guessing passwords must stop after a few tries.

Per account (5 failures lock it for 15 minutes, as at the counter) and per client address
(password spraying across accounts). The state is in the database, so it holds across a
restart and across workers; a success resets the account.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.server.conftest import Served

ACCOUNT_LIMIT = 5  # the documented policy (README): as the counter's own lockout
ADDRESS_LIMIT = 20  # failures from one address across accounts within 15 minutes


def sign_in(served: Served, staff_no: str, password: str, station: str = "GXZX") -> httpx.Response:
    return served.api.http.post(
        "/api/v1/auth/token", json={"staff_no": staff_no, "password": password, "station": station}
    )


def refused_as(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_forty_wrong_passwords_then_the_right_one_is_refused(server: Served) -> None:
    answers = [sign_in(server, "C001", f"guess-{n}").status_code for n in range(40)]
    assert answers[:ACCOUNT_LIMIT] == [401] * ACCOUNT_LIMIT
    assert set(answers[ACCOUNT_LIMIT:]) == {429}
    response = sign_in(server, "C001", "demo-1234")
    assert refused_as(response) == (429, "auth.locked")
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    # Another account from the same address is not locked by C001's failures.
    assert sign_in(server, "C002", "demo-1234").status_code == 200


def test_the_lock_passes_after_fifteen_minutes_and_a_success_resets_the_count(server: Served) -> None:
    for n in range(ACCOUNT_LIMIT):
        sign_in(server, "C001", f"guess-{n}")
    server.clock.advance(minutes=14, seconds=59)
    assert refused_as(sign_in(server, "C001", "demo-1234")) == (429, "auth.locked")
    server.clock.advance(seconds=2)
    assert sign_in(server, "C001", "demo-1234").status_code == 200
    for n in range(ACCOUNT_LIMIT - 1):  # a success reset the count: four more wrong are answered
        assert sign_in(server, "C001", f"again-{n}").status_code == 401
    assert sign_in(server, "C001", "demo-1234").status_code == 200


def test_unknown_staff_numbers_lock_alike(server: Served) -> None:
    """Nobody learns which staff numbers exist from the lock."""
    answers = [refused_as(sign_in(server, "NOBODY", "x")) for _ in range(ACCOUNT_LIMIT + 1)]
    assert answers[-1] == (429, "auth.locked")


def test_password_spraying_from_one_address_is_throttled(server: Served) -> None:
    for n in range(ADDRESS_LIMIT):  # one try per account: no account lock can stop it
        assert sign_in(server, f"X{n:03d}", "demo-1234").status_code == 401
    response = sign_in(server, "H001", "demo-1234", "JHZX")
    assert refused_as(response) == (429, "auth.throttled")
    assert int(response.headers["Retry-After"]) > 0
    server.clock.advance(minutes=16)
    assert sign_in(server, "H001", "demo-1234", "JHZX").status_code == 200


def test_the_lock_is_in_the_database_and_survives_a_restart(make_server: Any, db_url: str) -> None:
    first: Served = make_server(db_url)
    for n in range(ACCOUNT_LIMIT):
        sign_in(first, "C001", f"guess-{n}")
    first.thread.stop()
    second: Served = make_server(db_url, clock=first.clock)
    assert refused_as(sign_in(second, "C001", "demo-1234")) == (429, "auth.locked")
    with second.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sign_in_throttle")).scalar_one() >= 1


def test_the_back_office_unlocks_an_account(server: Served) -> None:
    from typer.testing import CliRunner

    from hall_server.cli import app

    for n in range(ACCOUNT_LIMIT):
        sign_in(server, "C001", f"guess-{n}")
    assert refused_as(sign_in(server, "C001", "demo-1234")) == (429, "auth.locked")
    runner = CliRunner()
    result = runner.invoke(app, ["staff", "unlock", "C001", "--db", server.db_url], catch_exceptions=False)
    assert result.exit_code == 0 and "C001: unlocked" in result.output
    assert sign_in(server, "C001", "demo-1234").status_code == 200
    result = runner.invoke(app, ["staff", "unlock", "NOBODY", "--db", server.db_url], catch_exceptions=False)
    assert result.exit_code == 1 and "no staff account NOBODY" in result.output
