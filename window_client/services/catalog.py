"""Loading the catalogue and searching it by Chinese text, full pinyin or pinyin initials.

Search works on a few haystacks (names, full pinyin, initials, codes, keywords), each with bit
masks of the entries holding each character and each pair of characters, so a query ANDs a few
integers and then checks only the entries that can match, in ranking order, rather than looping
over every item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from typing import Any

from models.catalog import Acceptable, Catalog, Package, ServiceItem, catalog_from_dict


def load_shipped_catalog() -> Catalog:
    """The catalogue bundled with the application (the demo catalogue)."""
    # Shared with the hall (models/shipped.py).
    text = (resources.files("models") / "data" / "catalog.json").read_text(encoding="utf-8")
    return catalog_from_dict(json.loads(text))


def item_contract(item: ServiceItem) -> dict[str, Any]:
    """An item in the public JSON form of DESIGN.md §6."""
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department_name,
        "kind": item.kind.value,
        "legal_days": item.legal.days,
        "legal_unit": item.legal.unit.value,
        "promised_days": item.promised.days,
        "promised_unit": item.promised.unit.value,
        "certificate_type": item.certificate_type,
        "materials": [
            {
                "code": m.code,
                "name": m.name,
                "tolerance": m.tolerance.value,
                "supplement_days": None if m.supplement is None else m.supplement.days,
                "e_license": m.e_license is not None,
            }
            for m in item.materials
        ],
    }


def package_contract(package: Package) -> dict[str, Any]:
    """A 一件事 package in the public JSON form of DESIGN.md §6."""
    return {"code": package.code, "name": package.name, "items": [i.code for i in package.items]}


def contract(entries: Sequence[Acceptable]) -> dict[str, list[dict[str, Any]]]:
    """``{"items": [...], "packages": [...]}`` keeping the order of ``entries``."""
    return {
        "items": [item_contract(e) for e in entries if isinstance(e, ServiceItem)],
        "packages": [package_contract(e) for e in entries if isinstance(e, Package)],
    }


def pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and initials of ``text``, lower case, without separators."""
    # Imported here: pypinyin's dictionaries cost ~0.2 s and ~50 MB, and only search needs them
    # (batch acceptance and most commands never do).
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(text, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full, initials


class _Haystack:
    """One searchable field of every entry, with bit masks of which entries hold each character
    and each pair of adjacent characters.

    Entries are laid out shortest name first, so meeting matches in layout order meets them in
    ranking order and a search can stop as soon as it has enough. A query only looks at the
    entries holding every pair of its characters (an AND of a few masks: a query that cannot
    occur costs next to nothing), and checks those in layout order.
    """

    def __init__(self, values: Sequence[str]) -> None:
        self.values = list(values)
        self._chars = _masks(self.values, 1)
        self._pairs = _masks(self.values, 2)

    def _candidates(self, needle: str) -> int:
        """Entries (as bits) holding every character and every adjacent pair of ``needle``."""
        chars, pairs = self._chars, self._pairs
        mask = -1
        for ch in set(needle):
            mask &= chars.get(ch, 0)
        for at in range(len(needle) - 1):
            mask &= pairs.get(needle[at : at + 2], 0)
        return mask

    def scan(self, needle: str, prefix: bool) -> Iterator[int]:
        """Positions (in layout order) of entries containing ``needle``, or starting with it."""
        values = self.values
        for index in _bits(self._candidates(needle)):
            value = values[index]
            if value.startswith(needle) if prefix else needle in value:
                yield index

    def scan_subsequence(self, needle: str) -> Iterator[int]:
        """Entries holding ``needle`` as a subsequence (so "bdcdj" finds 不动产转移登记, whose
        initials are "bdczydj")."""
        chars, values = self._chars, self.values
        mask = -1
        for ch in set(needle):
            mask &= chars.get(ch, 0)
        for index in _bits(mask):
            value = values[index]
            at = -1
            for ch in needle:
                at = value.find(ch, at + 1)
                if at < 0:
                    break
            else:
                yield index


def _masks(values: Sequence[str], width: int) -> dict[str, int]:
    """For every run of ``width`` characters, the entries holding it, as bits of an int."""
    where: dict[str, list[int]] = {}
    for index, value in enumerate(values):
        for gram in {value[at : at + width] for at in range(len(value) - width + 1)}:
            where.setdefault(gram, []).append(index)
    masks = {}
    for gram, indexes in where.items():
        bits = bytearray(len(values) // 8 + 1)
        for index in indexes:
            bits[index >> 3] |= 1 << (index & 7)
        masks[gram] = int.from_bytes(bits, "little")
    return masks


def _bits(mask: int) -> Iterator[int]:
    """Indexes of the bits set in a non-negative ``mask``, lowest first."""
    if mask <= 0:
        return
    digits = bin(mask)[:1:-1]  # lowest bit first
    at = digits.find("1")
    while at != -1:
        yield at
        at = digits.find("1", at + 1)


class CatalogSearch:
    """Ranked search over items and packages.

    Ranking: the field that matched (Chinese name, pinyin initials, full pinyin, code), a match
    at the start before one inside, shorter names first, then catalogue order; initials as a
    subsequence come last. Each tier is scanned in that order and the search stops once it has
    ``limit`` results, so a one-letter query over 10,000 items costs no more than a long one.
    """

    def __init__(
        self,
        entries: Sequence[Acceptable],
        keywords: Callable[[Acceptable], Sequence[str]] | None = None,
    ) -> None:
        self.entries = list(entries)
        self._order = sorted(range(len(self.entries)), key=lambda i: (len(self.entries[i].name), i))
        names, fulls, initials, codes, extra = [], [], [], [], []
        for i in self._order:
            entry = self.entries[i]
            full, init = pinyin_keys(entry.name)
            names.append(entry.name.lower())
            fulls.append(full)
            initials.append(init)
            codes.append(entry.code.lower())
            words = list(keywords(entry)) if keywords else []
            extra.append(" ".join([*words, *(k for w in words for k in pinyin_keys(w))]).lower())
        self._fields = [_Haystack(names), _Haystack(initials), _Haystack(fulls), _Haystack(codes)]
        # Keywords (e.g. the certificate an item issues) rank after every match on the item itself.
        self._keywords = _Haystack(extra)

    def search(self, query: str, limit: int = 50) -> list[Acceptable]:
        """Entries matching ``query``, best first, at most ``limit``."""
        needle = "".join(query.split()).lower()
        if not needle:
            return self.entries[:limit]
        taken: dict[int, None] = {}  # layout positions, in ranking order
        tiers: list[Iterator[int]] = []
        for field in self._fields:
            tiers.append(field.scan(needle, prefix=True))
            tiers.append(field.scan(needle, prefix=False))
        tiers.append(self._keywords.scan(needle, prefix=False))
        if len(needle) >= 3 and needle.isascii() and needle.isalpha():
            tiers.append(self._fields[1].scan_subsequence(needle))
        for tier in tiers:
            for position in tier:
                if position not in taken:
                    taken[position] = None
                    if len(taken) >= limit:
                        return [self.entries[self._order[p]] for p in taken]
        return [self.entries[self._order[p]] for p in taken]
