"""Checking a package: the seal, every digest, the file set, each case's audit slice.

The seal is checked against keys the verifier already trusts (the station's own and published
keys, the hall's; never the key a package carries), so a package re-sealed with another key is
refused. Files listed in the manifest are compared by size and SM3; files the manifest does not
list are named as added, listed ones that are gone as removed. Nothing is written, no link is
followed and no path outside the package is read, whatever the manifest says.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.archive.messages import ArchiveText
from models.archive.package import FORMAT, MANIFEST, SEAL, safe_relative, seal_message
from models.archive.slice import slice_problems
from models.archive.writer import ArchiveError
from models.problems import Language
from models.seal import PublicKey, key_id_for, sm3_hex

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest of a million files is ~150 MB


class NotAnArchive(ArchiveError):
    """The folder is not a package (exit 2 of ``archive verify``)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found wrong: ``kind`` (altered, added, removed, seal_*, manifest_*, audit_slice,
    bad_path), the ``path`` inside the package it is about, and its ``text`` in both languages."""

    kind: str
    path: str
    text: ArchiveText

    @classmethod
    def of(cls, kind: str, path: str, code: str, /, **params: Any) -> Finding:
        """The finding ``kind`` about ``path``, said by the archive text ``code``."""
        return cls(kind, path, ArchiveText(code, params))

    @property
    def message(self) -> str:
        """The English text (the hall's CLI and reports print it)."""
        return self.text.en()

    def to_dict(self, language: Language = "en") -> dict[str, str]:
        """The ``--json`` form, its ``message`` in ``language``."""
        return {"kind": self.kind, "path": self.path, "message": self.text.text(language)}


@dataclass
class CaseCheck:
    """The findings about one case's folder."""

    case_no: str
    problems: list[Finding] = field(default_factory=list)


@dataclass
class VerifyReport:
    """What ``archive verify`` found (:meth:`to_json` is the ``--json`` contract)."""

    archive: str
    producer: dict[str, Any]
    files: int = 0
    seal: dict[str, Any] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    cases: list[CaseCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every digest and the seal check, nothing added or removed."""
        return not self.problems and not any(c.problems for c in self.cases)

    def findings(self) -> list[Finding]:
        """Every finding, the package's first."""
        return [*self.problems, *(p for c in self.cases for p in c.problems)]

    def to_json(self, language: Language = "en") -> dict[str, Any]:
        """``{"ok", "archive", "producer", "files", "seal", "problems", "cases"}``, the findings'
        messages in ``language``."""
        return {
            "ok": self.ok,
            "archive": self.archive,
            "producer": self.producer,
            "files": self.files,
            "seal": self.seal,
            "problems": [p.to_dict(language) for p in self.problems],
            "cases": [
                {
                    "case_no": c.case_no,
                    "ok": not c.problems,
                    "problems": [p.to_dict(language) for p in c.problems],
                }
                for c in self.cases
            ],
        }


def _read_json(path: Path) -> tuple[bytes | None, Any]:
    """(bytes, decoded value or None); (None, None) when there is no such regular file."""
    if path.is_symlink() or not path.is_file():
        return None, None
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        return b"", None
    data = path.read_bytes()
    try:
        return data, json.loads(data)
    except (ValueError, RecursionError):
        return data, None


def _ours(value: Any) -> bool:
    return isinstance(value, dict) and value.get("format") == FORMAT


def _not_an_archive(root: Path) -> NotAnArchive:
    if not root.exists():
        return NotAnArchive.of("archive.missing", root=root)
    if not root.is_dir():
        return NotAnArchive.of("archive.not_folder", root=root)
    if (root.parent / MANIFEST).is_file():
        return NotAnArchive.of(
            "archive.case_folder", root=root, manifest=MANIFEST, seal=SEAL, parent=root.parent
        )
    return NotAnArchive.of("archive.not_package", root=root, manifest=MANIFEST, seal=SEAL)


def check_seal(
    seal: Any, manifest: bytes, trusted: Mapping[str, PublicKey]
) -> tuple[dict[str, Any], list[Finding]]:
    """(the seal's summary, findings) for ``seal.json`` over the manifest's bytes."""
    fields = ("key_id", "station", "public_key", "manifest_sm3", "sealed_at", "signature")
    if not _ours(seal) or not all(isinstance(seal.get(f), str) for f in fields):
        return {"ok": False}, [Finding.of("seal_invalid", SEAL, "seal.unreadable", seal=SEAL)]
    summary: dict[str, Any] = {"ok": False, "key_id": seal["key_id"], "station": seal["station"]}
    digest = sm3_hex(manifest)
    if seal["manifest_sm3"] != digest:
        return summary, [
            Finding.of("manifest_altered", MANIFEST, "manifest.sealed_then_altered", manifest=MANIFEST)
        ]
    key = trusted.get(seal["key_id"])
    if key is None:
        return summary, [Finding.of("seal_unknown_key", SEAL, "seal.unknown_key", key_id=seal["key_id"])]
    if key.public_hex != seal["public_key"] or key.station != seal["station"]:
        return summary, [Finding.of("seal_key_mismatch", SEAL, "seal.key_mismatch", key_id=seal["key_id"])]
    try:
        signature = bytes.fromhex(seal["signature"])
    except ValueError:
        signature = b""
    message = seal_message(key.key_id, key.station, digest, seal["sealed_at"])
    if key.key_id != key_id_for(key.station, key.public_hex) or not key.verify(signature, message):
        return summary, [Finding.of("seal_invalid", SEAL, "seal.invalid", seal=SEAL)]
    if key.revoked_at is not None:
        at = key.revoked_at
        return summary, [Finding.of("seal_key_revoked", SEAL, "seal.key_revoked", key_id=key.key_id, at=at)]
    summary["ok"] = True
    return summary, []


def _walk(root: Path) -> set[str]:
    """Every file and link under ``root`` (links not followed), as ``/``-separated paths."""
    found: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        found.update(prefix + d for d in dirs if (Path(folder) / d).is_symlink())
        found.update(prefix + n for n in names)
    found.discard(MANIFEST)
    found.discard(SEAL)
    return found


def _listed(manifest: dict[str, Any]) -> tuple[dict[str, tuple[int, str]], list[Finding]]:
    listed: dict[str, tuple[int, str]] = {}
    bad: list[Finding] = []
    entries = manifest.get("files")
    for entry in entries if isinstance(entries, list) else []:
        path = entry.get("path") if isinstance(entry, dict) else None
        size, digest = (entry.get("size"), entry.get("sm3")) if isinstance(entry, dict) else (None, None)
        if not isinstance(path, str) or not safe_relative(path) or path in (MANIFEST, SEAL):
            bad.append(Finding.of("bad_path", str(path)[:200], "manifest.bad_path"))
        elif not isinstance(size, int) or not isinstance(digest, str) or not _HEX64.match(digest):
            bad.append(Finding.of("manifest_altered", path, "manifest.bad_entry"))
        else:
            listed[path] = (size, digest)
    return listed, bad


def _compare(root: Path, listed: Mapping[str, tuple[int, str]], present: set[str]) -> list[Finding]:
    found = [Finding.of("added", p, "file.added", path=p) for p in sorted(present - listed.keys())]
    for path, (size, digest) in sorted(listed.items()):
        target = root / path
        if path not in present:
            found.append(Finding.of("removed", path, "file.removed", path=path))
        elif target.is_symlink() or not target.is_file():
            found.append(Finding.of("altered", path, "file.replaced", path=path))
        elif target.stat().st_size != size or sm3_hex(target.read_bytes()) != digest:
            found.append(Finding.of("altered", path, "file.altered", path=path))
    return found


def _content(root: Path, case_no: str, folder: str) -> list[Finding]:
    """The case's audit slice against its record (station packages; files already checked)."""
    audit_path = f"{folder}/audit.json"
    try:
        record = json.loads((root / folder / "case.json").read_bytes())
        audit = json.loads((root / audit_path).read_bytes())
    except (OSError, ValueError, RecursionError):
        return []  # reported as altered or removed already, or a hall package (no audit slice)
    state = record.get("case", {}).get("state") if isinstance(record, dict) else None
    events = audit.get("events") if isinstance(audit, dict) else None
    return [Finding("audit_slice", audit_path, t) for t in slice_problems(case_no, state, events)]


def verify_package(root: Path, trusted: Mapping[str, PublicKey]) -> VerifyReport:
    """Check the package at ``root``; :class:`NotAnArchive` when it is not one."""
    if not root.is_dir():
        raise _not_an_archive(root)
    manifest_bytes, manifest = _read_json(root / MANIFEST)
    seal_bytes, seal = _read_json(root / SEAL)
    if not _ours(manifest) and not _ours(seal):
        raise _not_an_archive(root)
    report = VerifyReport(str(root), manifest.get("producer", {}) if _ours(manifest) else {})
    if manifest_bytes is None:
        report.problems.append(Finding.of("removed", MANIFEST, "file.removed", path=MANIFEST))
    elif seal_bytes is None:
        report.problems.append(Finding.of("seal_missing", SEAL, "seal.missing", seal=SEAL))
    else:
        report.seal, found = check_seal(seal, manifest_bytes, trusted)
        report.problems += found
    if not _ours(manifest):
        if manifest_bytes is not None:
            report.problems.append(
                Finding.of("manifest_altered", MANIFEST, "manifest.unreadable", manifest=MANIFEST)
            )
        return report
    listed, bad = _listed(manifest)
    report.files = len(listed)
    report.problems += bad
    folders = {c.get("folder"): c.get("case_no") for c in manifest.get("cases", []) if isinstance(c, dict)}
    checks = {f: CaseCheck(str(n)) for f, n in folders.items() if isinstance(f, str) and safe_relative(f)}
    report.cases = list(checks.values())
    for finding in _compare(root, listed, _walk(root)):
        check = checks.get(finding.path.split("/", 1)[0])
        (check.problems if check else report.problems).append(finding)
    for folder, check in checks.items():
        if not check.problems:
            check.problems += _content(root, check.case_no, folder)
        elif not (root / folder).exists() and all(p.kind == "removed" for p in check.problems):
            check.problems = [Finding.of("removed", folder, "case.removed", folder=folder)]
    return report


def public_key_json(key: PublicKey) -> dict[str, str]:
    """A public key as ``--key FILE`` reads it (and ``hall-server archive key --json`` prints it)."""
    return {"key_id": key.key_id, "station": key.station, "public_key": key.public_hex}


def read_key_file(path: Path) -> dict[str, PublicKey]:
    """Keys given out of band (``--key FILE``): one object or a list of ``{"key_id", "station",
    "public_key"}``; only keys whose id matches them are taken. :class:`ArchiveError` otherwise."""
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise ArchiveError.of("key_file.unreadable", path=path, detail=exc) from None
    keys: dict[str, PublicKey] = {}
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(f), str) for f in ("key_id", "station", "public_key")
        ):
            raise ArchiveError.of("key_file.no_key", path=path)
        try:
            key = PublicKey(item["key_id"], item["station"], item["public_key"])
        except ValueError as exc:
            raise ArchiveError.of("key_file.bad_key", path=path, detail=exc) from None
        if key.key_id != key_id_for(key.station, key.public_hex):
            raise ArchiveError.of("key_file.wrong_id", path=path, key_id=key.key_id)
        keys[key.key_id] = key
    return keys
