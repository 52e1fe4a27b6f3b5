"""The station's SM2 signing key at rest: whoever copies the store file must not get it.

The attack reads the store's files byte for byte (``station.db`` and its WAL) and tries every
64-hex run in them as a private key: one whose public point is a stored public key gives the
attacker the station's seal.
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
import stat
from pathlib import Path

import pytest
from gmssl import sm2

from tests.conftest import TODAY
from tests.functional.test_certificates_cli import (  # approved_key: S001 approves the first key
    DAY,
    SUPERVISOR,
    approved_case,
    approved_key,  # noqa: F401
    issue,
    run,
    verify,
)
from window_client.services.key_vault import SEALED_PREFIX, SECRET_ENV, SECRET_FILE
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

_HEX_RUN = re.compile(rb"[0-9a-fA-F]{64,}")


def store_bytes(home: Path) -> bytes:
    """Everything SQLite keeps of the store on disk (main file, WAL, journal)."""
    return b"".join(p.read_bytes() for p in sorted(home.glob("station.db*")) if p.is_file())


def own_public_keys(home: Path) -> set[str]:
    with sqlite3.connect(home / "station.db") as conn:
        return {r[0] for r in conn.execute("SELECT public_key FROM signing_keys WHERE origin = 'own'")}


_CURVE = sm2.default_ecc_table
_P, _N, _A = int(_CURVE["p"], 16), int(_CURVE["n"], 16), int(_CURVE["a"], 16)
_G = (int(_CURVE["g"][:64], 16), int(_CURVE["g"][64:], 16))
Point = tuple[int, int] | None


def _add(u: Point, v: Point) -> Point:
    """Affine point addition on SM2's curve (None is the point at infinity)."""
    if u is None or v is None:
        return u or v
    if u[0] == v[0] and (u[1] + v[1]) % _P == 0:
        return None
    if u == v:
        slope = (3 * u[0] * u[0] + _A) * pow(2 * u[1], -1, _P) % _P
    else:
        slope = (v[1] - u[1]) * pow(v[0] - u[0], -1, _P) % _P
    x = (slope * slope - u[0] - v[0]) % _P
    return x, (slope * (u[0] - x) - u[1]) % _P


@functools.cache
def _comb() -> list[list[Point]]:
    """table[j][v] = v·256^j·G: d·G is then 32 additions (the attack tries thousands of d)."""
    table = []
    base: Point = _G
    for _ in range(32):
        row: list[Point] = [None]
        for _v in range(255):
            row.append(_add(row[-1], base))
        table.append(row)
        base = _add(row[255], base)
    return table


def public_of(d: int) -> str:
    """d·G as gmssl writes public keys (x || y, 128 hex)."""
    point: Point = None
    for j, row in enumerate(_comb()):
        point = _add(point, row[(d >> (8 * j)) & 0xFF])
    assert point is not None
    return f"{point[0]:064x}{point[1]:064x}"


def private_keys_in(raw: bytes, publics: set[str]) -> list[str]:
    """Every 64-hex window in ``raw`` whose public point is one of ``publics`` (SQLite stores a
    row's values back to back, so a key may sit between other hex digits)."""
    candidates = {run[i : i + 64] for run in _HEX_RUN.findall(raw) for i in range(len(run) - 63)}
    return sorted(c.decode() for c in candidates if 0 < int(c, 16) < _N and public_of(int(c, 16)) in publics)


def test_the_store_file_does_not_hold_the_private_key(rt: Runtime, home: Path) -> None:
    """Attack (a): a copy of the store file alone. The key sealed certificates, so it exists."""
    issue(approved_case(rt))
    assert run("keys", "rotate", env=SUPERVISOR).exit_code == 0
    issue(approved_case(rt))
    rt.close()
    publics = own_public_keys(home)
    assert len(publics) == 2
    assert private_keys_in(store_bytes(home), publics) == []
    # Signing still works from the sealed key (a new certificate with the active key).
    fresh = Runtime(Settings.from_env(), actor="C001")
    try:
        (view,) = fresh.certificates.issue([approved_case(fresh)], TODAY)
    finally:
        fresh.close()
    assert view.body.key_id.startswith("GXZX-")


def sealed_key_ids(home: Path) -> list[tuple[str, bool]]:
    with sqlite3.connect(home / "station.db") as conn:
        rows = conn.execute(
            "SELECT key_id, private_key FROM signing_keys WHERE origin = 'own' ORDER BY created_at"
        ).fetchall()
    return [(key_id, private.startswith(SEALED_PREFIX)) for key_id, private in rows]


def test_the_secret_file_is_created_0600_beside_the_store_and_not_inside_it(rt: Runtime, home: Path) -> None:
    issue(approved_case(rt))
    secret = home / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    text = secret.read_text().strip()
    assert len(text) == 64
    assert text.encode() not in store_bytes(home)
    assert [sealed for _key_id, sealed in sealed_key_ids(home)] == [True]


def test_a_secret_from_the_environment_leaves_no_secret_file(
    rt: Runtime, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The approved key was sealed with the secret file; an office moves that secret into the
    # environment (kept in the guard room's safe) and removes the file.
    secret_file = home / SECRET_FILE
    monkeypatch.setenv(SECRET_ENV, secret_file.read_text().strip())
    secret_file.unlink()
    first = issue(approved_case(rt))
    second = issue(approved_case(rt))
    assert not (home / SECRET_FILE).exists()
    assert first["certificates"][0]["key_id"] == second["certificates"][0]["key_id"]
    monkeypatch.setenv(SECRET_ENV, "another passphrase")
    result = run("cert", "issue", approved_case(rt), "--today", DAY)
    assert result.exit_code == 2
    assert "does not open" in result.output and "保护口令不正确" in result.output


def test_a_wrong_secret_is_refused_clearly_and_no_key_is_regenerated(
    rt: Runtime, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue(approved_case(rt))
    before = sealed_key_ids(home)
    case_no = approved_case(rt)
    (home / SECRET_FILE).write_text(secrets.token_hex(32))  # restored from the wrong laptop
    for args in (("cert", "issue", case_no, "--today", DAY), ("keys", "rotate")):
        result = run(*args, env=SUPERVISOR)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "does not open this station's signing keys" in result.output
        assert "保护口令不正确" in result.output
    assert sealed_key_ids(home) == before
    # Nothing that does not sign needs the secret.
    listed = run("cases", "list", "--json")
    assert listed.exit_code == 0 and case_no in listed.stdout


def test_a_missing_secret_is_refused_and_never_recreated(rt: Runtime, home: Path) -> None:
    issue(approved_case(rt))
    before = sealed_key_ids(home)
    (home / SECRET_FILE).unlink()
    for args in (("cert", "issue", approved_case(rt), "--today", DAY), ("keys", "rotate")):
        result = run(*args, env=SUPERVISOR)
        assert result.exit_code == 2, result.output
        assert "is missing" in result.output and "找不到本站签章密钥的保护口令" in result.output
    assert not (home / SECRET_FILE).exists()
    assert sealed_key_ids(home) == before


def test_a_secret_file_others_may_read_is_refused(rt: Runtime, home: Path) -> None:
    issue(approved_case(rt))
    (home / SECRET_FILE).chmod(0o644)
    result = run("cert", "issue", approved_case(rt), "--today", DAY)
    assert result.exit_code == 2
    assert "chmod 600" in result.output and "其他用户也能读取" in result.output


def make_legacy_store(rt: Runtime, home: Path) -> tuple[str, str]:
    """A store as the code before sealing left it: the private half in the clear, no secret
    file. Returns (the key id, the QR of a certificate it sealed)."""
    data = issue(approved_case(rt))
    ((key_id, sealed),) = sealed_key_ids(home)
    assert sealed
    with sqlite3.connect(home / "station.db") as conn:
        (stored, public, station) = conn.execute(
            "SELECT private_key, public_key, station FROM signing_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        private = rt.key_vault.open(key_id, station, public, stored)
        conn.execute("UPDATE signing_keys SET private_key = ? WHERE key_id = ?", (private, key_id))
    rt.close()
    (home / SECRET_FILE).unlink()
    assert private_keys_in(store_bytes(home), {public}) == [private]
    return key_id, str(data["qr"])


def test_a_store_with_a_plaintext_key_is_sealed_on_open_and_nothing_is_lost(rt: Runtime, home: Path) -> None:
    key_id, old_qr = make_legacy_store(rt, home)
    code, verdict = verify(old_qr)  # the first command to open the store seals the key
    assert code == 0 and verdict["status"] == "valid"
    assert sealed_key_ids(home) == [(key_id, True)]
    assert stat.S_IMODE((home / SECRET_FILE).stat().st_mode) == 0o600
    assert private_keys_in(store_bytes(home), own_public_keys(home)) == []
    reopened = Runtime(Settings.from_env(), actor="C001")
    try:
        new = issue(approved_case(reopened))
    finally:
        reopened.close()
    assert new["certificates"][0]["key_id"] == key_id  # the same key signs on
    assert verify(old_qr)[0] == 0 and verify(str(new["qr"]))[0] == 0
    with sqlite3.connect(home / "station.db") as conn:
        assert conn.execute("SELECT subject FROM audit_events WHERE action = 'key.seal'").fetchall() == [
            (key_id,)
        ]
    assert run("audit", "verify").exit_code == 0
