"""Catalogue types: service items (事项), their material requirements, 一件事 packages, stations.

The catalogue is data (models/data/catalog.json, later served by the hall with a
version); :func:`catalog_from_dict` validates it and raises ``ValueError`` naming the first
inconsistency, so a bad catalogue update is refused instead of half-loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from models.enums import ItemKind, MaterialForm, TimeUnit, Tolerance
from models.timelimits import TimeLimit

# A hall's name among its partners: it is also the "station" of the hall's signing key, so it
# has the shape of a station code in a certificate serial and a ZZ2 QR (upper case, 2-16).
HALL_NAME = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
TONGBAN_ROLES = ("forward", "handle", "same")

_STRICTNESS = {Tolerance.CORE: 0, Tolerance.TOLERABLE: 1, Tolerance.OPTIONAL: 2}


@dataclass(frozen=True, slots=True)
class MaterialRequirement:
    """One material an item asks for, with its tolerance class."""

    code: str
    name: str
    form: MaterialForm
    copies: int
    tolerance: Tolerance
    supplement: TimeLimit | None
    e_license: str | None  # the 电子证照 type that can stand in for it, if any


@dataclass(frozen=True, slots=True)
class TongbanLink:
    """An item's mapping to the same item of a partner hall (跨区通办, 同事同标).

    ``role``: ``forward`` — accepted here as 异地收件 and handled by the partner (one per item);
    ``handle`` — the partner's cases of it are forwarded here and handled here; ``same`` — only
    同事同标 (each hall handles its own). Every link says the two halls' versions are the same
    item (name, materials, time limits), which ``hall-server catalog diff`` checks.
    """

    partner: str
    code: str  # the partner's item code
    role: str


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """A service item (事项) as the window accepts it."""

    code: str
    name: str
    department: str
    department_name: str
    kind: ItemKind
    legal: TimeLimit
    promised: TimeLimit
    estimated: bool
    fee: int
    notify_commit: bool
    certificate_type: str | None
    max_tolerable_missing: int
    materials: tuple[MaterialRequirement, ...]
    tongban: tuple[TongbanLink, ...] = ()

    @property
    def is_package(self) -> bool:
        """Items are single items; see :class:`Package`."""
        return False

    @property
    def owner(self) -> TongbanLink | None:
        """The partner hall that handles this item when it is accepted here (异地收件), if any."""
        return next((link for link in self.tongban if link.role == "forward"), None)

    def link_to(self, partner: str, role: str) -> TongbanLink | None:
        """This item's link of ``role`` to ``partner``, if any."""
        return next((link for link in self.tongban if link.partner == partner and link.role == role), None)


@dataclass(frozen=True, slots=True)
class Package:
    """A 一件事 package: several items accepted as one case with one checklist."""

    code: str
    name: str
    description: str
    items: tuple[ServiceItem, ...]
    materials: tuple[MaterialRequirement, ...]
    promised: TimeLimit
    max_tolerable_missing: int

    @property
    def is_package(self) -> bool:
        """Always true."""
        return True

    @property
    def kind(self) -> ItemKind:
        """A package is instant only if every item in it is."""
        if all(item.kind is ItemKind.INSTANT for item in self.items):
            return ItemKind.INSTANT
        return ItemKind.PROMISED


Acceptable = ServiceItem | Package


@dataclass(frozen=True, slots=True)
class CertificateType:
    """A certificate type with its GB/T 36904 type code."""

    code: str
    name: str
    authority_uscc: str
    type_code: str


@dataclass(frozen=True, slots=True)
class Station:
    """A hall window or a park station, with the items it may accept."""

    code: str
    name: str
    kind: str
    issuer_uscc: str
    item_codes: frozenset[str] | None  # None: every item

    def accepts(self, code: str) -> bool:
        """Whether this station may accept the item or package ``code``."""
        return self.item_codes is None or code in self.item_codes


@dataclass(frozen=True)
class Catalog:
    """The whole catalogue, indexed by code."""

    version: str
    departments: Mapping[str, str]
    items: Mapping[str, ServiceItem]
    packages: Mapping[str, Package]
    certificate_types: Mapping[str, CertificateType]
    stations: Mapping[str, Station]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def get(self, code: str) -> Acceptable | None:
        """The item or package with this code."""
        return self.items.get(code) or self.packages.get(code)

    def default_station(self) -> Station:
        """The first station listed: the demo default."""
        return next(iter(self.stations.values()))

    def keywords_of(self, entry: Acceptable) -> tuple[str, ...]:
        """Words an applicant may ask by besides the item's name: the certificates it results in
        (someone who says "营业执照" wants the items that issue one)."""
        items = entry.items if isinstance(entry, Package) else (entry,)
        names = (self.certificate_types.get(i.certificate_type or "") for i in items)
        return tuple(dict.fromkeys(c.name for c in names if c is not None))

    def acceptable_at(self, station: Station) -> list[Acceptable]:
        """Items and packages the station may accept, in catalogue order."""
        entries: list[Acceptable] = [*self.items.values(), *self.packages.values()]
        return [entry for entry in entries if station.accepts(entry.code)]


def merge_requirements(items: Iterable[ServiceItem]) -> tuple[MaterialRequirement, ...]:
    """Shared materials asked once: the strictest tolerance and shortest 补正 period win."""
    merged: dict[str, MaterialRequirement] = {}
    for item in items:
        for own in item.materials:
            # Each member item's 补正 deadline never exceeds that item's own 承诺时限, so a shared
            # material is capped per item before the package's shortest period is taken.
            req = own
            if own.supplement is not None:
                req = replace(own, supplement=own.supplement.capped(item.promised))
            seen = merged.get(req.code)
            if seen is None:
                merged[req.code] = req
                continue
            tolerance = min(seen.tolerance, req.tolerance, key=_STRICTNESS.__getitem__)
            supplement = None
            if tolerance is Tolerance.TOLERABLE:
                options = [s for s in (seen.supplement, req.supplement) if s is not None]
                supplement = min(options, key=lambda limit: limit.days) if options else None
            merged[req.code] = MaterialRequirement(
                code=req.code,
                name=seen.name,
                form=seen.form,
                copies=max(seen.copies, req.copies),
                tolerance=tolerance,
                supplement=supplement,
                e_license=seen.e_license,
            )
    return tuple(merged.values())


def _limit(data: Mapping[str, Any], where: str) -> TimeLimit:
    try:
        return TimeLimit(int(data["days"]), TimeUnit(data["unit"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: bad time limit {data!r}") from exc


def _links(raw: Any, code: str) -> tuple[TongbanLink, ...]:
    """An item's ``tongban`` list: ``[{"partner", "code", "role"}]`` (absent: none)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"{code}: tongban is a list of {{partner, code, role}}")
    links = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise ValueError(f"{code}: a tongban entry is an object with partner, code and role")
        partner, other, role = entry.get("partner"), entry.get("code"), entry.get("role", "same")
        if not isinstance(partner, str) or not HALL_NAME.match(partner):
            raise ValueError(f"{code}: tongban partner {partner!r} is not a hall name (A-Z0-9, 2-16)")
        if not isinstance(other, str) or not 0 < len(other) <= 64:
            raise ValueError(f"{code}: tongban code {other!r} is not an item code")
        if role not in TONGBAN_ROLES:
            raise ValueError(f"{code}: tongban role {role!r} is not one of {', '.join(TONGBAN_ROLES)}")
        links.append(TongbanLink(partner, other, role))
    if sum(link.role == "forward" for link in links) > 1:
        raise ValueError(f"{code}: an item belongs to one partner hall at most (one forward link)")
    return tuple(links)


def catalog_from_dict(data: Mapping[str, Any]) -> Catalog:
    """Build and validate a :class:`Catalog` from its JSON form."""
    departments = {d["code"]: d["name"] for d in data["departments"]}
    materials = data["materials"]
    cert_types = {
        c["code"]: CertificateType(c["code"], c["name"], c["authority_uscc"], c["type_code"])
        for c in data.get("certificate_types", [])
    }
    items: dict[str, ServiceItem] = {}
    for raw in data["items"]:
        code = raw["code"]
        if code in items:
            raise ValueError(f"duplicate item code {code}")
        if raw["department"] not in departments:
            raise ValueError(f"{code}: unknown department {raw['department']}")
        cert = raw.get("certificate_type")
        if cert is not None and cert not in cert_types:
            raise ValueError(f"{code}: unknown certificate type {cert}")
        promised = _limit(raw["promised"], code)
        reqs = []
        for m in raw["materials"]:
            if m["code"] not in materials:
                raise ValueError(f"{code}: unknown material {m['code']}")
            tolerance = Tolerance(m["tolerance"])
            supplement = None
            if tolerance is Tolerance.TOLERABLE:
                if not m.get("supplement_days"):
                    raise ValueError(f"{code}/{m['code']}: tolerable material needs supplement_days")
                supplement = TimeLimit(int(m["supplement_days"]), promised.unit)
            reqs.append(
                MaterialRequirement(
                    code=m["code"],
                    name=materials[m["code"]]["name"],
                    form=MaterialForm(m.get("form", "original")),
                    copies=int(m.get("copies", 1)),
                    tolerance=tolerance,
                    supplement=supplement,
                    e_license=materials[m["code"]].get("e_license"),
                )
            )
        if not any(r.tolerance is Tolerance.CORE for r in reqs):
            raise ValueError(f"{code}: an item needs at least one core material")
        items[code] = ServiceItem(
            code=code,
            name=raw["name"],
            department=raw["department"],
            department_name=departments[raw["department"]],
            kind=ItemKind(raw["kind"]),
            legal=_limit(raw["legal"], code),
            promised=promised,
            estimated=bool(raw.get("estimated", False)),
            fee=int(raw.get("fee", 0)),
            notify_commit=bool(raw.get("notify_commit", False)),
            certificate_type=cert,
            max_tolerable_missing=int(raw.get("max_tolerable_missing", 2)),
            materials=tuple(reqs),
            tongban=_links(raw.get("tongban"), code),
        )
    packages: dict[str, Package] = {}
    for raw in data.get("packages", []):
        code = raw["code"]
        if code in items or code in packages:
            raise ValueError(f"duplicate package code {code}")
        try:
            members = tuple(items[c] for c in raw["items"])
        except KeyError as exc:
            raise ValueError(f"{code}: unknown item {exc.args[0]}") from exc
        # Items of a package run in parallel; the package is done when the slowest one is.
        slowest = max(members, key=lambda item: (item.promised.unit.value, item.promised.days))
        packages[code] = Package(
            code=code,
            name=raw["name"],
            description=raw.get("description", ""),
            items=members,
            materials=merge_requirements(members),
            promised=slowest.promised,
            max_tolerable_missing=max(item.max_tolerable_missing for item in members),
        )
    stations: dict[str, Station] = {}
    for raw in data["stations"]:
        listed = raw["items"]
        codes = None if listed == "*" else frozenset(listed)
        if codes is not None:
            unknown = codes - items.keys() - packages.keys()
            if unknown:
                raise ValueError(f"station {raw['code']}: unknown items {sorted(unknown)}")
        stations[raw["code"]] = Station(
            raw["code"], raw["name"], raw.get("kind", "hall"), raw.get("issuer_uscc", ""), codes
        )
    if not stations:
        raise ValueError("the catalogue lists no station")
    return Catalog(
        version=str(data["version"]),
        departments=departments,
        items=items,
        packages=packages,
        certificate_types=cert_types,
        stations=stations,
        raw=data,
    )
