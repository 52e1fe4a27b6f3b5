"""The catalogue's 跨区通办 links (``tongban``): parsed, and a bad one names what is wrong."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from models.catalog import TongbanLink, catalog_from_dict
from models.shipped import CATALOG_PATH

SHIPPED: dict[str, Any] = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def with_links(links: Any, code: str = "CL-001") -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    next(item for item in data["items"] if item["code"] == code)["tongban"] = links
    return data


def test_links_are_parsed_and_the_owner_is_the_forward_link() -> None:
    links = [
        {"partner": "JINGHE", "code": "JH-CL-001", "role": "forward"},
        {"partner": "XIXIAN", "code": "XX-7"},  # role defaults to 同事同标 only
    ]
    item = catalog_from_dict(with_links(links)).items["CL-001"]
    assert item.tongban == (
        TongbanLink("JINGHE", "JH-CL-001", "forward"),
        TongbanLink("XIXIAN", "XX-7", "same"),
    )
    assert item.owner == TongbanLink("JINGHE", "JH-CL-001", "forward")
    assert item.link_to("XIXIAN", "same") is not None and item.link_to("XIXIAN", "handle") is None
    assert catalog_from_dict(SHIPPED).items["CL-001"].owner is None


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"partner": "JINGHE"}, "tongban is a list"),
        (["JINGHE"], "an object with partner"),
        ([{"partner": "jinghe", "code": "X", "role": "forward"}], "not a hall name"),
        ([{"partner": "JINGHE", "code": "", "role": "forward"}], "not an item code"),
        ([{"partner": "JINGHE", "code": "X", "role": "owner"}], "not one of forward, handle, same"),
        (
            [
                {"partner": "JINGHE", "code": "X", "role": "forward"},
                {"partner": "XIXIAN", "code": "Y", "role": "forward"},
            ],
            "one partner hall at most",
        ),
    ],
)
def test_a_bad_link_is_refused_with_the_reason(links: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        catalog_from_dict(with_links(links))
