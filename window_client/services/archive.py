"""电子档案 at the station: ``archive export`` and ``archive verify``.

Export writes one package (:mod:`models.archive`) with a folder per case: the case record (every
column the store holds, its materials checklist, history, outbox operations, refusals and
certificates), the documents the counter issued (回执, 通知书, 告知书, 承诺书 and the certificate
page, by the same builders as printing: HTML, and PDF with ``pdf=True``), the case's slice of
the audit chain and the 件's metadata. The manifest is sealed with the station's SM2 key (the
key that seals its audit heads). Each archived case gets an ``archive.export`` audit event.

Verify checks a package against the keys this store trusts: its own and those the hall
published, plus any given out of band.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.archive.messages import ArchiveText
from models.archive.package import METADATA, FileEntry, Piece, canonical, metadata_xml
from models.archive.slice import event_record, slice_problems
from models.archive.verify import VerifyReport, verify_package
from models.archive.writer import NothingToArchive, PackageWriter, check_target
from models.certificates import CertificateView
from models.problems import DomainError, Language
from models.seal import KeyPair, PublicKey
from offline_cache import Store, archive_repo
from offline_cache import certificate_repo as cert_repo
from window_client import __version__
from window_client.services.certificate_keys import StationKeys
from window_client.services.certificate_print import render_html
from window_client.services.documents import Document, documents_for
from window_client.services.printing import render_documents_html
from window_client.services.runtime import Runtime

HOW = "离线归档：窗口客户端导出的归档信息包（window-client archive export）"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        out: the package's folder. ``cases``: the case numbers, in order.
        files: files written (manifest and seal not counted). ``size``: their bytes.
        manifest_sm3: the sealed manifest's SM3. ``key_id``: the sealing key.
        broken: cases whose audit slice does not hold (archived as they are), with why (both
            languages).
    """

    out: Path
    cases: list[str]
    files: int
    size: int
    manifest_sm3: str
    key_id: str
    broken: dict[str, list[ArchiveText]]


def _history(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    history = []
    for e in events:
        try:
            detail: Any = json.loads(e["detail"])
        except ValueError:
            detail = e["detail"]
        history.append({"at": e["at"], "actor": e["actor"], "action": e["action"], "detail": detail})
    return history


class ArchiveService:
    """电子档案 of one station's store."""

    def __init__(self, runtime: Runtime, today: dt.date | None = None) -> None:
        self.rt = runtime
        self.store: Store = runtime.store
        self.today = today or dt.date.today()

    # ------------------------------------------------------------ export

    def resolve(self, case_no: str | None, day: dt.date | None) -> list[str]:
        """The cases to export: the one named (``case.unknown`` when the store lacks it) or those
        accepted on ``day`` (:class:`NothingToArchive` when there are none)."""
        with self.store.reading() as conn:
            if case_no is not None:
                if not archive_repo.existing_case_numbers(conn, [case_no]):
                    raise DomainError.of("case.unknown", case_no=case_no)
                return [case_no]
            assert day is not None
            found = archive_repo.case_numbers_on(conn, day)
        if not found:
            raise NothingToArchive.of("archive.nothing_on_day", day=day.isoformat())
        return found

    def export(self, case_nos: Sequence[str], out: Path, pdf: bool = False) -> ExportResult:
        """Write the package of ``case_nos`` into ``out`` (new or empty), sealed; nothing is
        written when anything fails."""
        check_target(out)
        key = self._sealing_key()
        station = self.rt.station
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        pieces: list[Piece] = []
        broken: dict[str, list[ArchiveText]] = {}
        with PackageWriter(out) as writer:
            for start in range(0, len(case_nos), archive_repo.CHUNK):
                part = case_nos[start : start + archive_repo.CHUNK]
                with self.store.reading() as conn:
                    found = archive_repo.case_rows(conn, part)
                    position = archive_repo.chain_position(conn)
                    views = {
                        c["identifier"]: cert_repo.get_certificate(conn, c["identifier"])
                        for rows in found.values()
                        for c in rows.certificates
                    }
                for case_no in part:
                    piece, problems = self._write_case(writer, found[case_no], position, views, now, pdf)
                    pieces.append(piece)
                    if problems:
                        broken[case_no] = problems
            producer = {
                "kind": "station",
                "code": station.code,
                "name": station.name,
                "software": f"window-client {__version__}",
                "by": self.rt.actor,
            }
            description = describe(producer, now, len(pieces), key.key_id, pdf)
            digest = writer.finish(producer, now, pieces, description, key)
            files, size = len(writer.files), writer.bytes_written
        with self.store.transaction(self.rt.actor) as unit:
            for case_no in case_nos:
                unit.audit("archive.export", case_no, {"out": str(out), "manifest_sm3": digest})
        return ExportResult(out, list(case_nos), files, size, digest, key.key_id, broken)

    def _sealing_key(self) -> KeyPair:
        """The station's signing key (the one sealing its audit heads; made if it has none)."""
        keys = StationKeys(self.store, self.rt.station.code, self.rt.key_vault)
        with self.store.transaction(self.rt.actor) as unit:
            return keys.anchor_key(unit)

    def _write_case(
        self,
        writer: PackageWriter,
        rows: archive_repo.CaseRows,
        position: dict[str, Any],
        certificates: Mapping[str, CertificateView | None],
        now: str,
        pdf: bool,
    ) -> tuple[Piece, list[ArchiveText]]:
        record = rows.record
        case_no = record["case_no"]
        events = [event_record(e) for e in rows.events]
        data = {
            "case": record,
            "materials": rows.materials,
            "history": _history(events),
            "operations": rows.operations,
            "refusals": rows.refusals,
            "certificates": rows.certificates,
        }
        files: list[tuple[FileEntry, str]] = [
            (writer.add(f"{case_no}/case.json", canonical(data)), "办件记录（材料清单、状态历史、同步记录）"),
            (
                writer.add(f"{case_no}/audit.json", canonical(_slice(case_no, events, position))),
                "审计链片段（含前后链接哈希）",
            ),
        ]
        case = self.rt.cases.view(rows.view_row, self.today)
        station = self.rt.catalog.stations.get(case.station)
        station_name = station.name if station else case.station
        for doc in documents_for(case, rows.material_views(), station_name):
            files += self._document(writer, doc, pdf)
        for certificate in rows.certificates:
            view = certificates.get(certificate["identifier"])
            if view is not None:
                files += self._certificate(writer, case_no, view, pdf)
        piece = Piece(
            case_no=case_no,
            fonds=self.rt.station.code,
            unit=station_name,
            title=f"{record['applicant_name']}申请{record['item_name']}的办件",
            date=str(record["accepted_on"]).replace("-", ""),
            state=str(record["state"]),
            actions=tuple((e["at"], e["actor"], e["action"]) for e in events),
        )
        writer.add(f"{case_no}/{METADATA}", metadata_xml(piece, files, now, self.rt.actor, HOW))
        return piece, slice_problems(case_no, record["state"], events)

    def _certificate(
        self, writer: PackageWriter, case_no: str, view: CertificateView, pdf: bool
    ) -> list[tuple[FileEntry, str]]:
        """The certificate's page as printed (HTML with its QR; and the PDF with ``pdf``)."""
        name = f"{case_no}/documents/{view.identifier}"
        found = [(writer.add(f"{name}.html", render_html(view).encode()), view.body.type_name)]
        if pdf:
            from window_client.services.certificate_pdf import render_certificate_pdf  # reportlab: on use

            found.append((writer.add(f"{name}.pdf", render_certificate_pdf(view)), view.body.type_name))
        return found

    def _document(self, writer: PackageWriter, doc: Document, pdf: bool) -> list[tuple[FileEntry, str]]:
        name = f"{doc.case_no}/documents/{doc.case_no}-{doc.kind}"
        found = [(writer.add(f"{name}.html", render_documents_html([doc]).encode()), doc.title)]
        if pdf:
            from window_client.services.document_pdf import render_documents_pdf  # reportlab: on use

            found.append((writer.add(f"{name}.pdf", render_documents_pdf([doc])), doc.title))
        return found

    # ------------------------------------------------------------ verify

    def trusted_keys(self, extra: Mapping[str, PublicKey] | None = None) -> dict[str, PublicKey]:
        """The keys a package may be sealed with: this store's own and published keys (revoked
        ones marked), and ``extra`` given out of band (never overriding a stored key)."""
        with self.store.reading() as conn:
            keys = {k.key_id: k for k in cert_repo.public_keys(conn)}
        return {**(extra or {}), **keys}

    def verify(self, root: Path, extra: Mapping[str, PublicKey] | None = None) -> VerifyReport:
        """Check the package at ``root`` (:class:`models.archive.verify.NotAnArchive` when it is
        not one). Reads only: nothing in the package or the store changes."""
        return verify_package(root, self.trusted_keys(extra))


def _slice(case_no: str, events: list[dict[str, Any]], position: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_no": case_no,
        "hash": "SHA-256(seq, at, actor, action, subject, detail, prev_hash), fields joined by U+001F",
        "chain": position,
        "events": events,
    }


def describe(producer: Mapping[str, str], created_at: str, cases: int, key_id: str, pdf: bool) -> str:
    """``说明文件.txt``: what the package is and how to check it (Chinese, for the archivist)."""
    forms = "HTML 与 PDF" if pdf else "HTML"
    return (
        "电子档案归档信息包说明\n\n"
        f"形成单位：{producer['name']}（{producer['code']}）\n"
        f"形成软件：{producer['software']}\n"
        f"归档时间：{created_at}\n"
        f"办件（件）数：{cases}\n"
        "参照标准：GB/T 18894-2016《电子文件归档与电子档案管理规范》\n\n"
        "结构：每件一个文件夹（以办件编号命名），内含 metadata.xml（件的元数据：档号、题名、责任者、日期、"
        "保管期限、密级及各计算机文件的大小、格式和 SM3 数字摘要）、case.json（办件记录）、audit.json"
        f"（审计链片段）和 documents/（回执、通知书、告知书、承诺书、证照页，{forms}）。\n"
        "文件目录.xml 为全部件的目录；manifest.json 列出每个文件的 SM3 摘要；seal.json 为对 manifest.json"
        f" 的 SM2 电子签名（密钥 {key_id}）。\n\n"
        "核验：window-client archive verify <本文件夹>（大厅：hall-server archive verify），"
        "逐一核对摘要与签名，并指出被修改、增加或删除的文件。\n"
        "本信息包含申请人个人信息，控制使用。\n"
    )


def export_json(result: ExportResult, language: Language = "en") -> dict[str, Any]:
    """The ``archive export --json`` form, the reasons under ``broken`` in ``language``."""
    return {
        "out": str(result.out),
        "cases": list(result.cases),
        "files": result.files,
        "size": result.size,
        "manifest_sm3": result.manifest_sm3,
        "key_id": result.key_id,
        "broken": {case: [t.text(language) for t in texts] for case, texts in result.broken.items()},
    }
