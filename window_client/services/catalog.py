"""Loading the catalogue and searching it by Chinese text, full pinyin or pinyin initials.

Search works on three haystacks (names, full pinyin, initials) joined into one string each, so
a query is a handful of ``str.find`` calls in C rather than a Python loop over every item;
offsets are mapped back to entries with ``bisect``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pypinyin import lazy_pinyin

from models.catalog import Acceptable, Catalog, Package, ServiceItem, catalog_from_dict

_SEP = "\n"


def load_shipped_catalog() -> Catalog:
    """The catalogue bundled with the application (the demo catalogue)."""
    text = (resources.files("window_client") / "data" / "catalog.json").read_text(encoding="utf-8")
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
    syllables = lazy_pinyin(text, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full, initials


class _Haystack:
    """One searchable field of every entry, joined with separators."""

    def __init__(self, values: Sequence[str]) -> None:
        self.starts: list[int] = []
        pos = 0
        for value in values:
            self.starts.append(pos)
            pos += len(value) + 1
        self.text = _SEP.join(values)

    def hits(self, needle: str) -> dict[int, int]:
        """entry index -> position of the first match inside that entry."""
        found: dict[int, int] = {}
        text, starts, find = self.text, self.starts, self.text.find
        pos = find(needle)
        while pos != -1:
            index = bisect.bisect_right(starts, pos) - 1
            if index not in found:
                found[index] = pos - starts[index]
                # Jump to the next entry: later matches in the same entry add nothing.
                next_start = starts[index + 1] if index + 1 < len(starts) else len(text)
                pos = find(needle, next_start)
            else:
                pos = find(needle, pos + 1)
        return found

    def subsequence_hits(self, needle: str) -> dict[int, int]:
        """entry index -> span of the shortest-starting match of ``needle`` as a subsequence
        (so "bdcdj" finds 不动产转移登记, whose initials are "bdczydj")."""
        pattern = "[^\n]*?".join(re.escape(ch) for ch in needle)
        found: dict[int, int] = {}
        for match in re.finditer(pattern, self.text):
            index = bisect.bisect_right(self.starts, match.start()) - 1
            span = match.end() - match.start()
            if index not in found or span < found[index]:
                found[index] = span
        return found


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result with its score (lower is better)."""

    entry: Acceptable
    score: tuple[int, int, int]


class CatalogSearch:
    """Ranked search over items and packages."""

    def __init__(self, entries: Sequence[Acceptable]) -> None:
        self.entries = list(entries)
        names, fulls, initials, codes = [], [], [], []
        for entry in self.entries:
            full, init = pinyin_keys(entry.name)
            names.append(entry.name.lower())
            fulls.append(full)
            initials.append(init)
            codes.append(entry.code.lower())
        # Field order is the ranking: a match in the Chinese name beats one in the pinyin.
        self._fields = [_Haystack(names), _Haystack(initials), _Haystack(fulls), _Haystack(codes)]

    def search(self, query: str, limit: int = 50) -> list[Acceptable]:
        """Entries matching ``query`` best first: by field, then match at the start, then
        shorter names, then catalogue order."""
        needle = "".join(query.split()).lower()
        if not needle:
            return self.entries[:limit]
        best: dict[int, tuple[int, int, int, int]] = {}
        for rank, field in enumerate(self._fields):
            for index, position in field.hits(needle).items():
                score = (rank, 0 if position == 0 else 1, len(self.entries[index].name), index)
                if index not in best or score < best[index]:
                    best[index] = score
        if len(needle) >= 3 and needle.isascii() and needle.isalpha():
            for index, span in self._fields[1].subsequence_hits(needle).items():
                score = (len(self._fields), span, len(self.entries[index].name), index)
                if index not in best:
                    best[index] = score
        ordered = sorted(best, key=best.__getitem__)
        return [self.entries[i] for i in ordered[:limit]]
