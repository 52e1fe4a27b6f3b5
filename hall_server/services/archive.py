"""The hall's 电子档案: ``hall-server archive export|verify|key``.

The hall keeps, per case, the accept's facts and every operation it received (with the fold's
verdict on each and the approvers it verified from signed approvals); it keeps no printed
documents (those are made at the counter and archived there) but it has the sealed certificate
records the station pushed with ``issue_certificate``. Its package has the same shape as the
station's (:mod:`models.archive`): a folder per case with ``case.json``, ``operations.json`` (the
hall's record in its own order, in place of the station's audit slice) and ``metadata.xml``.

Its packages are sealed with the hall's own SM2 key (:mod:`hall_server.services.hall_key`: also
its identity among partner halls), made on the first export when the hall has none, kept in a
``0600`` file beside the database (:func:`hall_key`). ``hall-server archive key`` prints its
public half for whoever verifies the hall's packages elsewhere (``window-client archive verify
--key FILE``). The hall's ``archive verify`` trusts that key and every station key registered with
it (revoked ones marked), so it checks the stations' packages too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server.domain.reference import catalog_in_force, shipped_catalog
from hall_server.services import hall_key as hall_keys
from hall_server.storage import archive as archive_store
from hall_server.storage import read_transaction
from hall_server.storage.certificates import trusted_key_rows
from models.archive.package import METADATA, FileEntry, Piece, canonical, metadata_xml
from models.archive.verify import VerifyReport, verify_package
from models.archive.writer import ArchiveError, NothingToArchive, PackageWriter, check_target
from models.catalog import Catalog
from models.seal import KeyPair, PublicKey

KEY_STATION = hall_keys.DEFAULT_NAME  # a key made by the first export: HALL-<SM3 of the public key>
HOW = "离线归档：大厅服务器导出的归档信息包（hall-server archive export）"
_JSON_TEXT = ("payload",)


def hall_key(path: Path, create: bool) -> KeyPair | None:
    """The hall's key (:mod:`hall_server.services.hall_key`, also its identity among partners)
    from ``path``, made there (``0600``) when ``create`` and absent.

    :class:`ArchiveError` when the file is unreadable, not a key, or readable by others."""
    try:
        identity = hall_keys.load_or_create(path) if create else hall_keys.load(path)
    except hall_keys.HallKeyError as exc:
        raise ArchiveError(str(exc)) from None
    return identity.key if identity is not None else None


def resolve(engine: Engine, case_no: str | None, day: dt.date | None) -> list[str]:
    """The cases to export: the one named, or those accepted on ``day``."""
    with read_transaction(engine) as conn:
        if case_no is not None:
            if not archive_store.existing_case_numbers(conn, [case_no]):
                raise ArchiveError(f"no such case on the server: {case_no}")
            return [case_no]
        assert day is not None
        found = archive_store.case_numbers_on(conn, day)
    if not found:
        raise NothingToArchive(f"no case was accepted on {day.isoformat()}: nothing to archive")
    return found


@dataclass(frozen=True, slots=True)
class HallExport:
    """What an export wrote (the same figures as the station's)."""

    out: Path
    cases: list[str]
    files: int
    size: int
    manifest_sm3: str
    key_id: str

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "out": str(self.out), "cases": self.cases, "files": self.files, "size": self.size,
            "manifest_sm3": self.manifest_sm3, "key_id": self.key_id,
        }  # fmt: skip


def _operations(conn: Connection, case_no: str) -> list[dict[str, Any]]:
    ops = archive_store.operation_rows(conn, case_no)
    approvals = archive_store.approval_rows(conn, [op["op_id"] for op in ops])
    for op in ops:
        for name in _JSON_TEXT:
            with contextlib.suppress(TypeError, ValueError):  # else kept as the text received
                op[name] = json.loads(op[name])
        op["verified_approval"] = approvals.get(op["op_id"])
    return ops


def _certificates(ops: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The sealed certificate records the station pushed with ``issue_certificate``."""
    found: list[Any] = []
    for op in ops:
        payload = op.get("payload")
        if op.get("event") == "issue_certificate" and isinstance(payload, dict):
            found += payload.get("certificates") or []
    return found


def _write_case(
    writer: PackageWriter, conn: Connection, catalog: Catalog, case_no: str, now: str, by: str
) -> Piece:
    case = archive_store.case_row(conn, case_no)
    assert case is not None  # resolved before
    ops = _operations(conn, case_no)
    accept = next((op["payload"] for op in ops if op["kind"] == "case.accept"), None)
    record = {"case": case, "accept": accept, "certificates": _certificates(ops)}
    files: list[tuple[FileEntry, str]] = [
        (writer.add(f"{case_no}/case.json", canonical(record)), "办件记录（受理事实、材料清单、证照）"),
        (
            writer.add(f"{case_no}/operations.json", canonical({"case_no": case_no, "operations": ops})),
            "大厅收到的全部操作（按大厅顺序，含被驳回与冲突落败的操作）",
        ),
    ]
    station = catalog.stations.get(case["station"])
    item = catalog.items.get(case["item_code"])
    piece = Piece(
        case_no=case_no,
        fonds=case["station"],
        unit=station.name if station else case["station"],
        title=f"{case['applicant_name']}申请{item.name if item else case['item_code']}的办件",
        date=str(case["accepted_on"]).replace("-", ""),
        state=str(case["state"]),
        actions=tuple((op["received_at"], op["staff_no"], op["event"] or op["kind"]) for op in ops),
    )
    writer.add(f"{case_no}/{METADATA}", metadata_xml(piece, files, now, by, HOW))
    return piece


def export_cases(engine: Engine, case_nos: Sequence[str], out: Path, key: KeyPair, by: str) -> HallExport:
    """Write the package of ``case_nos`` into ``out`` (new or empty), sealed with ``key``."""
    check_target(out)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with read_transaction(engine) as conn, PackageWriter(out) as writer:
        catalog = catalog_in_force(conn, shipped_catalog())
        pieces = [_write_case(writer, conn, catalog, case_no, now, by) for case_no in case_nos]
        producer = {
            "kind": "hall",
            "code": key.station,
            "name": "大厅服务器",
            "software": "hall-server",
            "by": by,
        }
        digest = writer.finish(producer, now, pieces, describe(now, len(pieces), key.key_id), key)
        return HallExport(out, list(case_nos), len(writer.files), writer.bytes_written, digest, key.key_id)


def trusted_keys(
    engine: Engine, own: PublicKey | None, extra: Mapping[str, PublicKey]
) -> dict[str, PublicKey]:
    """The hall's archive key, every station key registered here, and ``extra``."""
    with read_transaction(engine) as conn:
        rows = trusted_key_rows(conn)
    keys = {**extra}
    for key_id, station, public, revoked_at, reason in rows:
        keys[key_id] = PublicKey(key_id, station, public, revoked_at, reason)
    if own is not None:
        keys[own.key_id] = own
    return keys


def verify(engine: Engine, root: Path, own: PublicKey | None, extra: Mapping[str, PublicKey]) -> VerifyReport:
    """Check a package (the hall's or a station's) against the keys the hall trusts."""
    return verify_package(root, trusted_keys(engine, own, extra))


def describe(created_at: str, cases: int, key_id: str) -> str:
    """``说明文件.txt`` of a hall package (Chinese, for the archivist)."""
    return (
        "电子档案归档信息包说明（大厅）\n\n"
        "形成单位：大厅服务器（hall-server）\n"
        f"归档时间：{created_at}\n"
        f"办件（件）数：{cases}\n"
        "参照标准：GB/T 18894-2016《电子文件归档与电子档案管理规范》\n\n"
        "结构：每件一个文件夹（以办件编号命名），内含 metadata.xml（件的元数据与各文件的 SM3 数字摘要）、"
        "case.json（办件记录：受理事实、材料清单、证照签章记录）和 operations.json（大厅收到的全部操作）。"
        "大厅不保存窗口打印的文书，文书随窗口的归档信息包归档。\n"
        f"manifest.json 列出每个文件的 SM3 摘要；seal.json 为大厅归档密钥（{key_id}）对 manifest.json 的"
        " SM2 电子签名，公钥由 hall-server archive key 给出。\n\n"
        "核验：hall-server archive verify <本文件夹>，"
        "或 window-client archive verify <本文件夹> --key <大厅公钥文件>。\n"
        "本信息包含申请人个人信息，控制使用。\n"
    )
