"""The shipped catalogue and its search."""

from __future__ import annotations

from models.catalog import Catalog, Package
from models.enums import ItemKind, Tolerance
from window_client.services.catalog import CatalogSearch, contract, pinyin_keys


def test_catalogue_is_large_and_varied(catalog: Catalog) -> None:
    assert len(catalog.items) >= 80
    assert len({i.department for i in catalog.items.values()}) >= 8
    assert len(catalog.packages) >= 6
    names = {p.name for p in catalog.packages.values()}
    assert {"企业开办", "开办餐饮店", "二手房交易登记", "企业注销", "新生儿出生"} <= names


def test_every_item_has_core_material_and_tolerances_fit_the_promised_limit(
    catalog: Catalog,
) -> None:
    for item in catalog.items.values():
        assert any(m.tolerance is Tolerance.CORE for m in item.materials), item.code
        for m in item.materials:
            if m.tolerance is Tolerance.TOLERABLE:
                assert m.supplement is not None
                assert 1 <= m.supplement.days <= item.promised.days, (item.code, m.code)
        if item.kind is ItemKind.INSTANT:
            assert item.promised.days == 0, item.code


def test_package_asks_shared_materials_once_with_the_strictest_class(catalog: Catalog) -> None:
    package = next(p for p in catalog.packages.values() if p.name == "企业开办")
    codes = [m.code for m in package.materials]
    assert len(codes) == len(set(codes))
    per_item = [m.code for item in package.items for m in item.materials]
    assert len(per_item) > len(codes), "the package should share at least one material"
    for material in package.materials:
        classes = {m.tolerance for i in package.items for m in i.materials if m.code == material.code}
        strictest = min(classes, key=[Tolerance.CORE, Tolerance.TOLERABLE, Tolerance.OPTIONAL].index)
        assert material.tolerance is strictest


def test_park_station_accepts_only_its_subset(catalog: Catalog) -> None:
    hall = catalog.default_station()
    park = next(s for s in catalog.stations.values() if s.item_codes is not None)
    assert hall.code == "GXZX"
    at_park = catalog.acceptable_at(park)
    assert 0 < len(at_park) < len(catalog.acceptable_at(hall))
    assert all(park.accepts(e.code) for e in at_park)


def test_pinyin_keys() -> None:
    assert pinyin_keys("不动产登记") == ("budongchandengji", "bdcdj")


def test_search_by_text_full_pinyin_and_initials_finds_real_estate_registration(
    catalog: Catalog,
) -> None:
    search = CatalogSearch([*catalog.items.values(), *catalog.packages.values()])
    for query in ("不动产", "budongchan", "bdcdj", "BDC DJ"):
        found = search.search(query, 10)
        assert found, query
        assert all("不动产" in e.name for e in found[:5]), (query, [e.name for e in found[:5]])
        assert any("登记" in e.name for e in found[:3]), query


def test_search_ranks_name_matches_before_pinyin_and_prefix_first(catalog: Catalog) -> None:
    search = CatalogSearch([*catalog.items.values(), *catalog.packages.values()])
    found = search.search("企业开办")
    assert found[0].name == "企业开办"
    assert isinstance(found[0], Package)
    assert search.search("qykb")[0].name == "企业开办"
    assert search.search("没有这种事项xyz") == []


def test_contract_shape(catalog: Catalog) -> None:
    data = contract([*catalog.items.values(), *catalog.packages.values()])
    item = data["items"][0]
    assert set(item) == {
        "code", "name", "department", "kind", "legal_days", "legal_unit", "promised_days",
        "promised_unit", "certificate_type", "materials",
    }  # fmt: skip
    assert item["kind"] in ("instant", "promised")
    assert item["promised_unit"] in ("workday", "calendar_day")
    assert set(item["materials"][0]) == {
        "code",
        "name",
        "tolerance",
        "supplement_days",
        "e_license",
    }
    assert set(data["packages"][0]) == {"code", "name", "items"}


def test_shared_material_in_a_package_is_capped_by_each_member_items_promised_limit(
    catalog: Catalog,
) -> None:
    from dataclasses import replace

    from models.catalog import merge_requirements
    from models.timelimits import TimeLimit

    base = next(
        i for i in catalog.items.values() if any(m.tolerance is Tolerance.TOLERABLE for m in i.materials)
    )
    shared = next(m for m in base.materials if m.tolerance is Tolerance.TOLERABLE and m.supplement)
    unit = shared.supplement.unit if shared.supplement else None
    assert unit is not None
    # Same material, 30 days of 补正 in one item whose own 承诺时限 is only 2 days.
    tight = replace(
        base,
        code="TIGHT",
        promised=TimeLimit(2, unit),
        materials=(replace(shared, supplement=TimeLimit(30, unit)),),
    )
    loose = replace(
        base,
        code="LOOSE",
        promised=TimeLimit(40, unit),
        materials=(replace(shared, supplement=TimeLimit(30, unit)),),
    )
    merged = {m.code: m for m in merge_requirements([loose, tight])}
    assert merged[shared.code].supplement == TimeLimit(2, unit)


def test_search_by_the_certificate_an_item_issues(catalog: Catalog) -> None:
    entries = [*catalog.items.values(), *catalog.packages.values()]
    search = CatalogSearch(entries, catalog.keywords_of)
    for query in ("营业执照", "yingyezhizhao", "yyzz"):
        found = search.search(query)
        assert found, query
        assert all("营业执照" in catalog.keywords_of(e) for e in found), query
        assert {"SCJG-001", "YJS-QYKB"} <= {e.code for e in found}
    # Without keywords the licence name finds nothing: no item is named after it.
    assert CatalogSearch(entries).search("营业执照") == []
