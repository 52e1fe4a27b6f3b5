"""Loading the catalogue and searching it by Chinese text, full pinyin or pinyin initials.

Search works on a few haystacks (names, full pinyin, initials, codes, keywords), each joined into
one string, so a query is a handful of ``str.find`` calls in C rather than a Python loop over every item;
offsets are mapped back to entries with ``bisect``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from typing import Any

from models.catalog import Acceptable, Catalog, Package, ServiceItem, catalog_from_dict

_SEP = "\n"


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
    """One searchable field of every entry, joined with separators.

    Entries are laid out shortest name first, so scanning the text left to right meets matches
    already in ranking order and a search can stop as soon as it has enough.
    """

    def __init__(self, values: Sequence[str]) -> None:
        self.starts: list[int] = []
        pos = 1
        for value in values:
            self.starts.append(pos)
            pos += len(value) + 1
        self.text = _SEP + _SEP.join(values)

    def scan(self, needle: str, prefix: bool) -> Iterator[int]:
        """Positions (in layout order) of entries containing ``needle``, or starting with it."""
        text, starts, find = self.text, self.starts, self.text.find
        target = _SEP + needle if prefix else needle
        pos = find(target)
        while pos != -1:
            index = bisect.bisect_right(starts, pos + (1 if prefix else 0)) - 1
            yield index
            # Jump to the next entry: later matches in the same entry add nothing.
            next_start = starts[index + 1] - (1 if prefix else 0) if index + 1 < len(starts) else len(text)
            pos = find(target, next_start)

    def scan_subsequence(self, needle: str) -> Iterator[int]:
        """Entries holding ``needle`` as a subsequence (so "bdcdj" finds 不动产转移登记, whose
        initials are "bdczydj")."""
        pattern = "[^\n]*?".join(re.escape(ch) for ch in needle)
        last = -1
        for match in re.finditer(pattern, self.text):
            index = bisect.bisect_right(self.starts, match.start()) - 1
            if index != last:
                yield index
                last = index


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
