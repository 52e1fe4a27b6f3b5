"""The 电子档案 package: its layout, its GB/T 18894 metadata, its manifest and its seal.

One export is one 归档信息包 (a folder): a folder per case (件, named by the case number), each
with ``metadata.xml`` (the 件's metadata: 档号, 题名, 责任者, 日期, 保管期限, 密级, its 业务行为
and every 计算机文件 with its size, format and SM3 数字摘要), the case record and the documents;
at the top ``说明文件.txt`` and ``文件目录.xml`` (the package's description and catalogue, as a
transfer carrier holds them), ``manifest.json`` (every file's path, size and SM3 digest) and
``seal.json`` (the manifest's SM3 signed with SM2 by the producer's key). The station and the
hall write the same shape (:mod:`models.archive.writer`) and check it with the same code
(:mod:`models.archive.verify`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from models.enums import CaseState
from models.seal import KeyPair, sm3_hex
from models.state_machine import STATE_ZH
from models.text import printable

FORMAT = "window-client-archive/1"
STANDARD = "GB/T 18894-2016"
MANIFEST = "manifest.json"
SEAL = "seal.json"
DESCRIPTION = "说明文件.txt"
CATALOGUE = "文件目录.xml"
METADATA = "metadata.xml"
SEAL_ALGORITHM = "SM2-SM3"  # GB/T 32918 signature over an SM3 (GB/T 32905) digest
SEAL_PREFIX = "ZZARCHIVE1"  # no other message a station or hall key signs starts so
CATEGORY = ("YW", "业务")  # 档案门类: 业务档案 (DA/T 13 门类代码)
SECURITY = "非密"  # 密级: a case holds personal information, not state secrets
CONTROL = "控制使用（含个人信息）"

# 保管期限 (GB/T 18894 §6; DA/T 13 codes): what a case left behind is kept longer.
_SHORT_KEPT = frozenset({"not_accepted", "withdrawn", "terminated"})
RETENTION = {"D30": "定期30年", "D10": "定期10年"}

_FORMATS = {
    ".json": ("JSON", "RFC 8259"),
    ".xml": ("XML", "1.0"),
    ".html": ("HTML", "5"),
    ".pdf": ("PDF", "1.4"),
    ".txt": ("TXT", "UTF-8"),
}
_SAFE_PART = re.compile(r"^[^/\\\x00]+$")


def retention_code(state: str) -> str:
    """The 保管期限 code of a case in ``state``: D10 for one not accepted, withdrawn or
    terminated, D30 for every other (a decision or a certificate was made on it)."""
    return "D10" if state in _SHORT_KEPT else "D30"


def archival_code(fonds: str, year: str, retention: str, case_no: str) -> str:
    """The 档号 (DA/T 13 shape: 全宗号-门类代码·年度-保管期限-件号); the 件号 is the case number,
    unique without a server, so the same case always gets the same 档号."""
    return f"{fonds}-{CATEGORY[0]}·{year}-{retention}-{case_no}"


def file_format(name: str) -> tuple[str, str]:
    """(格式名称, 格式版本) of a file by its extension."""
    dot = name.rfind(".")
    return _FORMATS.get(name[dot:].lower() if dot >= 0 else "", ("BIN", ""))


def safe_relative(path: str) -> bool:
    """Whether ``path`` (from a manifest) names a file inside the package: relative, ``/``
    separated, no ``.``/``..`` parts, no backslash or NUL."""
    parts = path.split("/")
    return bool(path) and all(_SAFE_PART.match(p) and p not in (".", "..") for p in parts)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of the package as the manifest lists it."""

    path: str
    size: int
    sm3: str

    def to_dict(self) -> dict[str, Any]:
        """The manifest's form."""
        return {"path": self.path, "size": self.size, "sm3": self.sm3}


@dataclass(frozen=True, slots=True)
class Piece:
    """One 件's description for its metadata and the catalogue.

    Attributes:
        case_no: the case (and the 件's folder).
        fonds: 全宗号 (the station's code) and ``unit`` its name (立档单位, 责任者).
        title: 题名. ``date``: 日期 (the day of acceptance, yyyymmdd). ``state``: 业务状态.
        actions: 业务行为 — (time, who, what) of the case's history.
    """

    case_no: str
    fonds: str
    unit: str
    title: str
    date: str
    state: str
    actions: tuple[tuple[str, str, str], ...] = ()

    @property
    def retention(self) -> str:
        """The 保管期限 code."""
        return retention_code(self.state)

    @property
    def code(self) -> str:
        """The 档号."""
        return archival_code(self.fonds, self.date[:4], self.retention, self.case_no)


def _state_zh(state: str) -> str:
    return STATE_ZH[CaseState(state)] if state in CaseState._value2member_map_ else state


def _x(value: object) -> str:
    """Element text: controls shown as escapes (XML 1.0 cannot hold them), markup escaped."""
    return escape(printable(value))


def _files_xml(files: Sequence[tuple[FileEntry, str]]) -> str:
    rows = []
    for n, (entry, title) in enumerate(files, 1):
        name = entry.path.rsplit("/", 1)[-1]
        fmt, version = file_format(name)
        rows.append(
            f'    <文件 序号="{n}">\n'
            f"      <题名>{_x(title)}</题名>\n"
            f"      <计算机文件名>{_x(name)}</计算机文件名>\n"
            f'      <计算机文件大小 单位="字节">{entry.size}</计算机文件大小>\n'
            f"      <格式名称>{fmt}</格式名称>\n"
            f"      <格式版本>{version}</格式版本>\n"
            f'      <数字摘要 摘要算法="SM3">{entry.sm3}</数字摘要>\n'
            "    </文件>"
        )
    return "\n".join(rows)


def metadata_xml(
    piece: Piece, files: Sequence[tuple[FileEntry, str]], archived_at: str, archived_by: str, how: str
) -> bytes:
    """The 件's ``metadata.xml``: the GB/T 18894 / DA/T 46 elements this package keeps, and
    every electronic file of the 件 (``files``: entry and 题名) with its SM3 digest."""
    actions = "\n".join(
        f"    <行为 时间={quoteattr(printable(at))} 责任人={quoteattr(printable(who))}>{_x(what)}</行为>"
        for at, who, what in piece.actions
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<电子档案 标准="{STANDARD}" 聚合层次="件">
  <档号>{_x(piece.code)}</档号>
  <全宗号>{_x(piece.fonds)}</全宗号>
  <立档单位名称>{_x(piece.unit)}</立档单位名称>
  <档案门类 代码="{CATEGORY[0]}">{CATEGORY[1]}</档案门类>
  <年度>{_x(piece.date[:4])}</年度>
  <保管期限 代码="{piece.retention}">{RETENTION[piece.retention]}</保管期限>
  <件号>{_x(piece.case_no)}</件号>
  <题名>{_x(piece.title)}</题名>
  <责任者>{_x(piece.unit)}</责任者>
  <日期>{_x(piece.date)}</日期>
  <密级>{SECURITY}</密级>
  <控制标识>{CONTROL}</控制标识>
  <业务状态 代码={quoteattr(printable(piece.state))}>{_x(_state_zh(piece.state))}</业务状态>
  <业务行为>
{actions}
  </业务行为>
  <电子文件 件数="{len(files)}">
{_files_xml(files)}
  </电子文件>
  <归档>
    <归档时间>{_x(archived_at)}</归档时间>
    <归档人>{_x(archived_by)}</归档人>
    <归档方式>{_x(how)}</归档方式>
  </归档>
</电子档案>
"""
    return text.encode("utf-8")


def catalogue_xml(pieces: Iterable[Piece]) -> bytes:
    """``文件目录.xml``: one entry per 件 (顺序号, 档号, 责任者, 题名, 日期, 密级, 电子档案名称)."""
    rows = []
    for n, piece in enumerate(pieces, 1):
        rows.append(
            f"  <文件>\n    <顺序号>{n}</顺序号>\n    <档号>{_x(piece.code)}</档号>\n"
            f"    <责任者>{_x(piece.unit)}</责任者>\n    <题名>{_x(piece.title)}</题名>\n"
            f"    <日期>{_x(piece.date)}</日期>\n    <密级>{SECURITY}</密级>\n"
            f"    <电子档案名称>{_x(piece.case_no)}</电子档案名称>\n  </文件>"
        )
    body = "\n".join(rows)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<文件目录>\n{body}\n</文件目录>\n'.encode()


def canonical(value: Any) -> bytes:
    """JSON as the package writes it: UTF-8, sorted keys, compact (the same bytes for the same
    value), one line ending in a newline."""
    # No indent: json's C encoder runs only without one (an indented dump is ~10x slower).
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return (text + "\n").encode()


def manifest_bytes(
    producer: Mapping[str, str],
    created_at: str,
    cases: Sequence[Mapping[str, str]],
    files: Iterable[FileEntry],
) -> bytes:
    """``manifest.json``: what produced the package, when, its cases and every file (by path)."""
    return canonical(
        {
            "format": FORMAT,
            "standard": STANDARD,
            "producer": dict(producer),
            "created_at": created_at,
            "digest_algorithm": "SM3",
            "cases": list(cases),
            "files": [f.to_dict() for f in sorted(files, key=lambda f: f.path)],
        }
    )


def seal_message(key_id: str, station: str, manifest_sm3: str, sealed_at: str) -> bytes:
    """The bytes a package's seal signs."""
    return f"{SEAL_PREFIX}|{key_id}|{station}|{manifest_sm3}|{sealed_at}".encode()


def seal_manifest(key: KeyPair, manifest: bytes, sealed_at: str) -> bytes:
    """``seal.json``: the manifest's SM3 signed with ``key``."""
    digest = sm3_hex(manifest)
    signature = key.sign(seal_message(key.key_id, key.station, digest, sealed_at))
    return canonical(
        {
            "format": FORMAT,
            "algorithm": SEAL_ALGORITHM,
            "key_id": key.key_id,
            "station": key.station,
            "public_key": key.public_hex,
            "manifest_sm3": digest,
            "sealed_at": sealed_at,
            "signature": signature.hex(),
        }
    )
