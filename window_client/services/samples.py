"""Realistic sample applicants and batch rows: the demo data, the benchmarks and the tests.

IDs carry real region codes of Xi'an and valid check characters (computed with
python-stdnum), so they pass the same validation as a real applicant's.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from stdnum.cn import ric, uscc

from models.catalog import Catalog, ServiceItem
from models.enums import ItemKind, Tolerance
from window_client.services.batch import ALL_COLUMNS

REGIONS = ("610102", "610103", "610104", "610111", "610112", "610113", "610114", "610116", "610122")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国晓燕宇航欣怡子涵浩然"
ORG_WORDS = ("秦创", "泾河", "高新", "丝路", "长安", "曲江", "灞柳", "沣东", "氢能", "光电")
ORG_KINDS = (
    "科技有限公司",
    "智能制造有限公司",
    "餐饮管理有限公司",
    "新能源有限公司",
    "商贸有限责任公司",
)


def person_id(rng: random.Random) -> str:
    """A valid 18-character resident ID number."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(rng: random.Random) -> str:
    """A valid 18-character unified social credit code of a company (91…)."""
    while True:
        org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        for check in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            body = f"91{rng.choice(REGIONS)}{org}{check}"
            code = body + uscc.calc_check_digit(body)
            if uscc.is_valid(code):
                return code


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def org_name(rng: random.Random) -> str:
    """A plausible company name."""
    return f"西安{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS)}{rng.choice(ORG_KINDS)}"


def phone(rng: random.Random) -> str:
    """A mainland mobile number."""
    return f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"


def _for_org(item: ServiceItem) -> bool:
    return any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials)


def sample_rows(
    catalog: Catalog, count: int, seed: int = 2026, invalid_share: float = 0.08
) -> Iterator[dict[str, str]]:
    """Batch rows with a realistic mix: mostly complete, some tolerable with commitment, some
    missing core materials, and a share of invalid rows (bad IDs, unknown items, bad names)."""
    rng = random.Random(seed)
    items = [i for i in catalog.items.values()]
    for n in range(1, count + 1):
        item = rng.choice(items)
        org = _for_org(item)
        presented = [m.code for m in item.materials if m.tolerance is not Tolerance.OPTIONAL]
        roll = rng.random()
        tolerable = [m.code for m in item.materials if m.tolerance is Tolerance.TOLERABLE]
        core = [m.code for m in item.materials if m.tolerance is Tolerance.CORE]
        if roll < 0.2 and tolerable and item.kind is ItemKind.PROMISED:
            presented.remove(rng.choice(tolerable))
        elif roll < 0.27:
            presented.remove(rng.choice(core))
        row = {
            "item_code": item.code,
            "applicant_type": "org" if org else "person",
            "applicant_id": credit_code(rng) if org else person_id(rng),
            "applicant_name": org_name(rng) if org else person_name(rng),
            "phone": phone(rng),
            "materials": ";".join(presented),
            "commitment": "yes" if rng.random() < 0.9 else "no",
            "external_ref": f"S{seed}-{n:07d}",
        }
        if rng.random() < invalid_share:
            fault = rng.randrange(4)
            if fault == 0:
                row["applicant_id"] = row["applicant_id"][:-1] + (
                    "0" if row["applicant_id"][-1] != "0" else "1"
                )
            elif fault == 1:
                row["item_code"] = "NOPE-" + str(rng.randrange(1000))
            elif fault == 2:
                row["applicant_name"] = "[bold]" + row["applicant_name"] + "[/bold]"
            else:
                row["materials"] += ";NOT_A_MATERIAL"
        yield row


def write_csv(rows: Iterator[dict[str, str]], target: Path | IO[str], encoding: str = "utf-8") -> None:
    """Write rows as a batch CSV with the contract's header."""
    if isinstance(target, Path):
        with target.open("w", encoding=encoding, newline="") as fh:
            write_csv(rows, fh)
        return
    writer = csv.DictWriter(target, fieldnames=list(ALL_COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
