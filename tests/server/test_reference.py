"""Reference data: the server's catalogue copy, publications, holiday arrangements."""

from __future__ import annotations

import json
from pathlib import Path

from hall_server.domain import reference
from hall_server.services import publishing
from tests.server.conftest import Served

ROOT = Path(__file__).resolve().parents[2]


def test_the_servers_catalogue_is_the_clients_catalogue() -> None:
    """One file, models/data/catalog.json, read by both."""
    from window_client.services.catalog import load_shipped_catalog

    assert reference.SHIPPED_CATALOG == ROOT / "models" / "data" / "catalog.json"
    assert reference.shipped_catalog().version == load_shipped_catalog().version


def test_the_servers_holiday_arrangements_are_the_clients() -> None:
    """One folder, models/data/holidays: the hall checks pushed deadlines with what the counter
    computed them with."""
    from window_client.services.workdays import shipped_arrangements

    assert reference.SHIPPED_HOLIDAYS == ROOT / "models" / "data" / "holidays"
    hall = [(a.year, a.holidays) for a in reference.shipped_arrangements()]
    assert hall and hall == [(a.year, a.holidays) for a in shipped_arrangements()]


def test_the_catalogue_is_served_and_republished_with_a_new_revision(server: Served, tmp_path: Path) -> None:
    api = server.api
    shipped = json.loads(reference.SHIPPED_CATALOG.read_text(encoding="utf-8"))
    served = api.http.get("/api/v1/catalog").json()
    assert (served["version"], served["revision"], served["catalog"]) == (shipped["version"], 0, shipped)
    changed = {**shipped, "version": "2026.12.1"}
    changed["stations"] = [*shipped["stations"][:1], *shipped["stations"][2:]]
    file = tmp_path / "catalog.json"
    file.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    publishing.publish_catalog(server.engine, file, server.clock())
    served = api.http.get("/api/v1/catalog").json()
    assert (served["version"], served["revision"]) == ("2026.12.1", 1)
    assert len(served["catalog"]["stations"]) == len(shipped["stations"]) - 1
    park = api.token("Y001", "JHYZ1")
    [change] = [c for c in api.changes(park) if c["kind"] == "catalog"]
    assert change["payload"] == {"version": "2026.12.1", "revision": 1}


def test_a_published_holiday_arrangement_is_served_and_sent_inline(server: Served) -> None:
    api = server.api
    assert api.http.get("/api/v1/holidays/2027").status_code == 404
    shipped = ROOT / "models" / "data" / "holidays" / "2026.json"
    publishing.publish_holidays(server.engine, shipped, server.clock())
    publishing.publish_holidays(server.engine, shipped, server.clock())
    document = api.http.get("/api/v1/holidays/2026").json()
    assert (document["year"], document["version"]) == (2026, 2)
    original = json.loads(shipped.read_text(encoding="utf-8"))
    assert document["arrangement"]["holidays"] == original["holidays"]
    assert document["arrangement"]["workdays"] == original["workdays"]
    changes = [c for c in api.changes(api.token()) if c["kind"] == "holidays"]
    assert [c["payload"]["version"] for c in changes] == [1, 2]
    assert changes[0]["payload"]["arrangement"]["source"] == original["source"]


def test_an_unusable_catalogue_is_not_published(tmp_path: Path) -> None:
    broken = json.loads(reference.SHIPPED_CATALOG.read_text(encoding="utf-8"))
    broken["items"][0]["department"] = "NOPE"
    file = tmp_path / "broken.json"
    file.write_text(json.dumps(broken), encoding="utf-8")
    try:
        reference.load_catalog(file)
    except reference.ReferenceDataError as exc:
        assert "NOPE" in str(exc)
    else:
        raise AssertionError("a catalogue with an unknown department was accepted")
