"""``hall-server key init|show`` and the hall key file: one identity, kept, never overwritten."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hall_server.cli import app
from hall_server.domain.partner_auth import IdentityMismatch, check_identity, identity_document
from hall_server.services import hall_key

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HALL_SERVER_HOME", str(tmp_path))
    return tmp_path


def test_init_then_show_then_init_again_is_refused(home: Path) -> None:
    assert runner.invoke(app, ["key", "show"]).exit_code == 2  # none yet
    made = runner.invoke(app, ["key", "init", "JINGHE", "--issuer-code", "11611100MB3012592K", "--json"])
    assert made.exit_code == 0, made.output
    shown = json.loads(runner.invoke(app, ["key", "show", "--json"]).stdout)
    shown.pop("proof")  # a fresh SM2 signature each time (random nonce)
    assert shown == {k: v for k, v in json.loads(made.stdout).items() if k != "proof"}
    assert shown["name"] == "JINGHE" and shown["key_id"].startswith("JINGHE-") and "private_key" not in shown
    assert (home / "hall-key.json").stat().st_mode & 0o077 == 0
    again = runner.invoke(app, ["key", "init", "OTHER"])
    assert again.exit_code == 2 and "already has a key" in again.stderr
    assert json.loads(runner.invoke(app, ["key", "show", "--json"]).stdout)["key_id"] == shown["key_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["key", "init", "jinghe"], "a hall's name"),
        (["key", "init", "JINGHE", "--issuer-code", "123"], "issuer code"),
    ],
)
def test_bad_names_and_issuer_codes_are_refused(home: Path, args: list[str], message: str) -> None:
    done = runner.invoke(app, args)
    assert done.exit_code == 2 and message in done.stderr
    assert not (home / "hall-key.json").exists()


def test_an_archive_key_made_before_is_the_identity_and_stays_usable(home: Path) -> None:
    legacy = hall_key.load_or_create(home / "archive-key.json")  # as an earlier `archive export` did
    assert hall_key.default_path(home) == home / "archive-key.json"
    shown = json.loads(runner.invoke(app, ["key", "show", "--json"]).stdout)
    assert shown["key_id"] == legacy.key.key_id and shown["name"] == "HALL"


def test_the_identity_document_proves_the_key_over_the_callers_nonce(home: Path) -> None:
    identity = hall_key.create(home / "hall-key.json", "GAOXIN")
    document = identity_document(identity, "nonce-123", dt.datetime.now(dt.UTC))
    key = check_identity(document, "GAOXIN", "nonce-123", identity.public_json())
    assert key.key_id == identity.key.key_id
    with pytest.raises(IdentityMismatch, match="not signed by that key for this request"):
        check_identity(document, "GAOXIN", "another-nonce", identity.public_json())
    altered = {**document, "at": "2000-01-01T00:00:00+00:00"}
    with pytest.raises(IdentityMismatch, match="not signed by that key"):
        check_identity(altered, "GAOXIN", "nonce-123", {"public_key": identity.key.public_hex})
