"""Reading batch files row by row: CSV (UTF-8, UTF-8 with BOM, GBK), XLSX and JSON lines.

What is wrong with a file as a whole (no header, unknown columns, text in no single known
encoding, a damaged workbook) is a :class:`BatchFileError`; what is wrong with one row is that
row's ``error``, and the rows after it are read on.

Spreadsheet formulas (CSV injection): the rejects file puts a single quote before any cell that
starts with ``= + - @``, a tab or a carriage return, so a spreadsheet opening it shows text instead
of running a formula (OWASP's advice). So that a fixed rejects file can be run again as it is,
:func:`unquote` takes that one quote off again: a value read as a quote followed by one of those
characters is read without the quote. No valid item code, ID, name, phone or material code
starts with a quote, so only an ``external_ref`` that really began with one would change. The
rejects file's own columns (``row``, ``status``, ``errors``) are ignored when it is read back.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.problems import Language, Problem

REQUIRED_COLUMNS = (
    "item_code", "applicant_type", "applicant_id", "applicant_name", "phone", "materials",
    "commitment",
)  # fmt: skip
# Added, never renamed: files written for older versions stay valid. ``identity``: how the
# applicant was identified (models.identity_check; 身份证原件 when absent or empty).
OPTIONAL_COLUMNS = ("external_ref", "identity")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
REJECTS_COLUMNS = ("row", "status", "errors")  # what the rejects file adds; ignored on reading
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
csv.field_size_limit(64 * 1024 * 1024)  # oversized fields are refused per row, not by the reader

NUMERIC_ID_CELL = Problem("row.numeric_id_cell")
NUMERIC_ID_JSON = Problem("row.numeric_id_json")
TOO_DEEP = Problem("row.json_too_deep")


class BatchFileError(Exception):
    """The file as a whole cannot be used (exit code 2): one problem (``code`` and its
    parameters) or several (``problems``); ``str()`` is the English text, :meth:`text` either."""

    def __init__(self, code: str = "", /, *, problems: Sequence[Problem] = (), **params: Any) -> None:
        self.problems = [Problem(code, params)] if code else list(problems)
        super().__init__(self.text("en"))

    def text(self, language: Language) -> str:
        """What is wrong, in ``language``."""
        return ("；" if language == "zh" else "; ").join(p.text(language) for p in self.problems)


@dataclass
class RawRow:
    """One data row as read: its 1-based number and either values or a read error."""

    number: int
    values: dict[str, str]
    error: Problem | None = None


def neutralise(text: str) -> str:
    """``text`` with a quote before it when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unquote(text: str) -> str:
    """:func:`neutralise` undone: the protecting quote before a formula character is dropped."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_START else text


# ------------------------------------------------------------------ encodings


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _line_kinds(path: Path) -> tuple[int | None, int | None]:
    """(first line that is UTF-8 beyond ASCII, first line that is not UTF-8), 1-based."""
    first_utf8 = first_other = None
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                first_other = first_other or number
            else:
                first_utf8 = first_utf8 or number
            if first_utf8 and first_other:
                break
    return first_utf8, first_other


def detect_encoding(path: Path) -> str:
    """UTF-8 with BOM, UTF-8, or GBK (read as GB 18030, its superset), checked over the whole
    file, strictly, so a GBK file is never taken for UTF-8 because its first lines are ASCII.

    A file that is UTF-8 in some lines and not in others (rows pasted from two sources, or a
    BOM before GBK text) is refused, naming the lines, rather than read as mojibake.
    """
    with path.open("rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
    if _decodes(path, "utf-8"):
        return "utf-8-sig" if bom else "utf-8"
    utf8_line, other_line = _line_kinds(path)
    if bom:
        raise BatchFileError("file.encoding_bom", line=other_line)
    if utf8_line is not None:
        raise BatchFileError("file.encoding_mixed", utf8_line=utf8_line, other_line=other_line)
    if _decodes(path, "gb18030"):
        return "gb18030"
    raise BatchFileError("file.encoding_unknown")


# ------------------------------------------------------------------ formats


def _check_header(header: Sequence[str]) -> list[str]:
    columns = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in ALL_COLUMNS and c not in REJECTS_COLUMNS]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    problems = []
    if missing:
        problems.append(Problem("file.columns_missing", {"columns": ", ".join(missing)}))
    if unknown:
        shown = ", ".join(repr(c[:40]) for c in unknown[:10])
        expected = ", ".join(ALL_COLUMNS)
        problems.append(Problem("file.columns_unknown", {"columns": shown, "expected": expected}))
    if duplicated:
        problems.append(Problem("file.columns_duplicated", {"columns": ", ".join(duplicated)}))
    if problems:
        raise BatchFileError(problems=problems)
    return columns


def _read_csv(path: Path) -> Iterator[RawRow]:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise BatchFileError("file.empty") from None
        except csv.Error as exc:
            raise BatchFileError("file.header_unreadable", detail=str(exc)) from None
        columns = _check_header(header)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield RawRow(number, {}, Problem("row.csv_malformed", {"detail": str(exc)}))
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines are not rows
            number += 1
            if len(cells) != len(columns):
                found = Problem("row.field_count", {"expected": len(columns), "found": len(cells)})
                yield RawRow(number, {}, found)
                continue
            yield RawRow(number, dict(zip(columns, cells, strict=True)))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_xlsx(path: Path) -> Iterator[RawRow]:
    from openpyxl import load_workbook  # imported here: only XLSX files pay its start-up cost

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BatchFileError("file.xlsx_unreadable", detail=str(exc)) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            header = next(rows)
        except StopIteration:
            raise BatchFileError("file.sheet_empty") from None
        columns = _check_header([_cell_text(h) for h in header if h is not None])
        id_column = columns.index("applicant_id")
        number = 0
        for cells in rows:
            texts = [_cell_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            number += 1
            extra = [t for t in texts[len(columns) :] if t.strip()]
            if extra:
                yield RawRow(number, {}, Problem("row.extra_values", {"count": len(columns)}))
                continue
            texts += [""] * (len(columns) - len(texts))
            values = dict(zip(columns, texts[: len(columns)], strict=True))
            numeric_id = id_column < len(cells) and _is_number(cells[id_column])
            yield RawRow(number, values, NUMERIC_ID_CELL if numeric_id else None)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise BatchFileError("file.xlsx_damaged", detail=str(exc)) from None
    finally:
        workbook.close()


def _json_values(obj: dict[str, Any]) -> tuple[dict[str, str], Problem | None]:
    """A JSON line's values as cell texts, and what is wrong with them (None when nothing)."""
    values: dict[str, str] = {}
    for key, value in obj.items():
        if key == "materials" and isinstance(value, list):
            if not all(isinstance(v, str | int) for v in value):
                return {}, Problem("row.json_materials")
            value = ";".join(str(v) for v in value)
        elif key == "commitment" and isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, dict | list):
            kind, kind_zh = ("object", "对象") if isinstance(value, dict) else ("array", "数组")
            return {}, Problem("row.json_not_text", {"key": key, "kind": kind, "kind_zh": kind_zh})
        elif key == "applicant_id" and _is_number(value):
            return {}, NUMERIC_ID_JSON
        values[key] = _cell_text(value)
    return values, None


def _read_jsonl(path: Path) -> Iterator[RawRow]:
    encoding = detect_encoding(path)
    checked = False
    number = 0
    with path.open("r", encoding=encoding) as fh:
        for line in fh:
            if not line.strip():
                continue
            number += 1
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRow(number, {}, Problem("row.json_invalid", {"detail": exc.msg}))
                continue
            except RecursionError:
                yield RawRow(number, {}, TOO_DEEP)
                continue
            if not isinstance(obj, dict):
                yield RawRow(number, {}, Problem("row.json_not_object"))
                continue
            if not checked:
                _check_header(
                    list(obj.keys()) + [c for c in REQUIRED_COLUMNS if c not in obj and c == "phone"]
                )
                checked = True
            unknown = [k for k in obj if k not in ALL_COLUMNS]
            if unknown:
                keys = ", ".join(repr(k[:40]) for k in unknown)
                yield RawRow(number, {}, Problem("row.json_unknown_keys", {"keys": keys}))
                continue
            values, error = _json_values(obj)
            yield RawRow(number, values, error)
    if number == 0:
        raise BatchFileError("file.no_json_lines")


def _guarded(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    # The encoding was checked over the whole file; a file changed while it is read fails here.
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        raise BatchFileError("file.changed", encoding=exc.encoding) from None


def read_rows(path: Path) -> Iterator[RawRow]:
    """Rows of a batch file, whatever its format; :class:`BatchFileError` for the file."""
    if not path.is_file():
        raise BatchFileError("file.missing", path=str(path))
    with path.open("rb") as fh:
        head = fh.read(64)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm") or head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if suffix in (".jsonl", ".ndjson", ".json") or stripped.startswith(b"{"):
        return _guarded(_read_jsonl(path))
    return _guarded(_read_csv(path))
