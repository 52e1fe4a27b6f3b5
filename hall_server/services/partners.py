"""Partner halls: adding one (its URL must be a hall proving the key it was named with), removing,
listing, and 同事同标: where the two halls' versions of a linked item differ.

Adding a partner also publishes its key to every station of this hall (a ``key.published`` change
with ``partner``, ``issuer_code`` and ``type_codes``: what a certificate issued by the partner may
say), so a certificate the partner issues for a case accepted here verifies at the counter.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from hall_server import storage
from hall_server.domain import reference
from hall_server.domain.partner_auth import HallIdentity, IdentityMismatch, check_identity
from hall_server.services.crosshall_in import partner_type_codes
from hall_server.storage import partners as store
from hall_server.storage import read_transaction, write_transaction
from models.catalog import HALL_NAME, Catalog, ServiceItem, catalog_from_dict
from models.sync import ChangeKind

IDENTITY_PATH = "/api/v1/hall/identity"
CATALOG_PATH = "/api/v1/catalog"


LISTED = (
    "name",
    "url",
    "key_id",
    "issuer_code",
    "delivered_seq",
    "waiting",
    "added_at",
    "last_attempt_at",
    "last_error",
)


class PartnerError(Exception):
    """A partner command that cannot be done; nothing was changed (message in English)."""


def read_key_file(path: Path) -> dict[str, Any]:
    """A partner's public key file (``hall-server key show --json`` of the partner)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PartnerError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise PartnerError(f"{path} is not a JSON key file (hall-server key show --json)") from None
    if not isinstance(value, dict) or not isinstance(value.get("public_key"), str):
        raise PartnerError(f"{path} holds no public_key (use the partner's `hall-server key show --json`)")
    return value


def _fetch_identity(client: httpx.Client, url: str, nonce: str) -> Any:
    try:
        response = client.get(url.rstrip("/") + IDENTITY_PATH, params={"nonce": nonce})
    except httpx.HTTPError as exc:
        raise PartnerError(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from None
    if response.status_code != 200:
        raise PartnerError(f"{url} is not a hall server with an identity (HTTP {response.status_code})")
    try:
        return response.json()
    except ValueError:
        raise PartnerError(f"{url} is not a hall server (its answer is not JSON)") from None


def add_partner(
    engine: Engine,
    own: HallIdentity | None,
    name: str,
    url: str,
    key: Mapping[str, Any],
    by: str,
    client: httpx.Client,
    fallback: Catalog,
) -> dict[str, Any]:
    """Check the hall at ``url`` and record it as partner ``name``; its row."""
    if not HALL_NAME.match(name):
        raise PartnerError(f"a hall's name is 2-16 characters A-Z and 0-9, first a letter, not {name!r}")
    if own is not None and own.name == name:
        raise PartnerError(f"{name} is this hall's own name")
    if not url.startswith(("http://", "https://")):
        raise PartnerError(f"the partner's URL is http://HOST:PORT or https://..., not {url!r}")
    if key.get("station", name) != name:
        raise PartnerError(f"the key file is {key.get('station')}'s key, not {name}'s")
    nonce = secrets.token_hex(16)
    document = _fetch_identity(client, url, nonce)
    try:
        public = check_identity(document, name, nonce, key)
    except IdentityMismatch as exc:
        raise PartnerError(f"{url}: {exc}") from None
    now = dt.datetime.now(dt.UTC)
    row = {
        "name": name, "url": url.rstrip("/"), "key_id": public.key_id, "public_key": public.public_hex,
        "proof": str(document["proof"]), "issuer_code": str(document["issuer_code"])[:18],
        "delivered_seq": 0, "added_at": storage.iso(now), "added_by": by, "removed_at": None,
        "last_attempt_at": None, "last_error": None,
    }  # fmt: skip
    with write_transaction(engine) as conn:
        store.save_partner(conn, row)
        catalog = reference.catalog_in_force(conn, fallback)
        published = {
            "key_id": public.key_id, "station": name, "public_key": public.public_hex,
            "proof": row["proof"], "created_at": row["added_at"], "approved_by": by,
            "partner": name, "issuer_code": row["issuer_code"],
            "type_codes": sorted(partner_type_codes(catalog, name)),
        }  # fmt: skip
        change = storage.NewChange(ChangeKind.KEY_PUBLISHED, public.key_id, published)
        storage.append_changes(conn, [change], now)
    return row


def remove_partner(engine: Engine, name: str) -> None:
    """Stop exchanging messages with ``name`` (kept: adding it again resumes where it was)."""
    with write_transaction(engine) as conn:
        row = store.partner_row(conn, name)
        if row is None or row["removed_at"] is not None:
            raise PartnerError(f"{name} is not a partner of this hall")
        store.set_partner(conn, name, removed_at=storage.iso(dt.datetime.now(dt.UTC)))


def list_partners(engine: Engine) -> list[dict[str, Any]]:
    """Every partner with how many messages wait for it."""
    with read_transaction(engine) as conn:
        rows = store.partner_rows(conn)
        for row in rows:
            row["waiting"] = store.waiting_count(conn, row["name"], int(row["delivered_seq"]))
    return [{key: row[key] for key in LISTED} for row in rows]


# ------------------------------------------------------------------ 同事同标


def _materials(item: ServiceItem) -> list[str]:
    return sorted(f"{m.code}:{m.name}（{m.tolerance.value}）" for m in item.materials)


def _limit(item: ServiceItem, which: str) -> str:
    limit = item.promised if which == "promised" else item.legal
    return f"{limit.days} {limit.unit.value}"


def compare_items(here: ServiceItem, there: ServiceItem) -> list[dict[str, Any]]:
    """Where two versions of the same item differ: name, materials, 承诺时限, 法定时限."""
    found = []
    pairs = {
        "name": (here.name, there.name),
        "materials": (_materials(here), _materials(there)),
        "promised": (_limit(here, "promised"), _limit(there, "promised")),
        "legal": (_limit(here, "legal"), _limit(there, "legal")),
    }
    for field_name, (mine, theirs) in pairs.items():
        if mine != theirs:
            entry: dict[str, Any] = {"field": field_name, "here": mine, "there": theirs}
            if field_name == "materials":
                assert isinstance(mine, list) and isinstance(theirs, list)
                entry["only_here"] = sorted(set(mine) - set(theirs))
                entry["only_there"] = sorted(set(theirs) - set(mine))
            found.append(entry)
    return found


def catalog_diff(engine: Engine, name: str, client: httpx.Client, fallback: Catalog) -> list[dict[str, Any]]:
    """Every item of this hall's catalogue linked to partner ``name``, with its differences
    from the partner's version (``missing``: the partner has no such item)."""
    with read_transaction(engine) as conn:
        row = store.partner_row(conn, name)
        ours = reference.catalog_in_force(conn, fallback)
    if row is None or row["removed_at"] is not None:
        raise PartnerError(f"{name} is not a partner of this hall (hall-server partners add)")
    try:
        response = client.get(row["url"] + CATALOG_PATH)
        response.raise_for_status()
        theirs = catalog_from_dict(response.json()["catalog"])
    except httpx.HTTPError as exc:
        raise PartnerError(f"cannot fetch {name}'s catalogue: {exc.__class__.__name__}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PartnerError(f"{name}'s catalogue cannot be read: {exc}") from None
    found = []
    for item in ours.items.values():
        for link in item.tongban:
            if link.partner != name:
                continue
            other = theirs.items.get(link.code)
            entry: dict[str, Any] = {"item": item.code, "partner_item": link.code, "role": link.role}
            entry["missing"] = other is None
            entry["differences"] = compare_items(item, other) if other is not None else []
            found.append(entry)
    return found
