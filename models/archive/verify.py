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

from models.archive.package import FORMAT, MANIFEST, SEAL, safe_relative, seal_message
from models.archive.slice import check_slice
from models.archive.writer import ArchiveError
from models.seal import PublicKey, key_id_for, sm3_hex

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest of a million files is ~150 MB


class NotAnArchive(ArchiveError):
    """The folder is not a package (exit 2 of ``archive verify``)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found wrong: ``kind`` (altered, added, removed, seal_*, manifest_*, audit_slice,
    bad_path), the ``path`` inside the package it is about, and an English ``message``."""

    kind: str
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The ``--json`` form."""
        return {"kind": self.kind, "path": self.path, "message": self.message}


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

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "archive", "producer", "files", "seal", "problems", "cases"}``."""
        return {
            "ok": self.ok,
            "archive": self.archive,
            "producer": self.producer,
            "files": self.files,
            "seal": self.seal,
            "problems": [p.to_dict() for p in self.problems],
            "cases": [
                {"case_no": c.case_no, "ok": not c.problems, "problems": [p.to_dict() for p in c.problems]}
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
        return NotAnArchive(f"{root} does not exist")
    if not root.is_dir():
        return NotAnArchive(f"{root} is not a folder")
    hint = ""
    if (root.parent / MANIFEST).is_file():
        hint = f" (it looks like one case of the archive {root.parent}: verify that folder)"
    return NotAnArchive(f"{root} is not an archive: it has no {MANIFEST} and {SEAL} of a package{hint}")


def check_seal(
    seal: Any, manifest: bytes, trusted: Mapping[str, PublicKey]
) -> tuple[dict[str, Any], list[Finding]]:
    """(the seal's summary, findings) for ``seal.json`` over the manifest's bytes."""
    fields = ("key_id", "station", "public_key", "manifest_sm3", "sealed_at", "signature")
    if not _ours(seal) or not all(isinstance(seal.get(f), str) for f in fields):
        return {"ok": False}, [Finding("seal_invalid", SEAL, f"{SEAL} is not a readable seal")]
    summary: dict[str, Any] = {"ok": False, "key_id": seal["key_id"], "station": seal["station"]}
    digest = sm3_hex(manifest)
    if seal["manifest_sm3"] != digest:
        return summary, [Finding("manifest_altered", MANIFEST, f"{MANIFEST} was altered after it was sealed")]
    key = trusted.get(seal["key_id"])
    if key is None:
        what = f"the seal was made with key {seal['key_id']}, which this verifier does not trust"
        return summary, [Finding("seal_unknown_key", SEAL, what + " (another key, or not published here)")]
    if key.public_hex != seal["public_key"] or key.station != seal["station"]:
        what = f"the seal names key {seal['key_id']} but carries another public key or station"
        return summary, [Finding("seal_key_mismatch", SEAL, what)]
    try:
        signature = bytes.fromhex(seal["signature"])
    except ValueError:
        signature = b""
    message = seal_message(key.key_id, key.station, digest, seal["sealed_at"])
    if key.key_id != key_id_for(key.station, key.public_hex) or not key.verify(signature, message):
        return summary, [
            Finding("seal_invalid", SEAL, f"the seal does not verify: {SEAL} was altered or forged")
        ]
    if key.revoked_at is not None:
        what = f"the sealing key {key.key_id} was revoked at {key.revoked_at}: its seal proves nothing"
        return summary, [Finding("seal_key_revoked", SEAL, what)]
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
            bad.append(Finding("bad_path", str(path)[:200], "the manifest lists a path outside the package"))
        elif not isinstance(size, int) or not isinstance(digest, str) or not _HEX64.match(digest):
            bad.append(Finding("manifest_altered", path, "the manifest's entry of this file is malformed"))
        else:
            listed[path] = (size, digest)
    return listed, bad


def _compare(root: Path, listed: Mapping[str, tuple[int, str]], present: set[str]) -> list[Finding]:
    found = [
        Finding("added", p, f"{p} was added (not in the manifest)") for p in sorted(present - listed.keys())
    ]
    for path, (size, digest) in sorted(listed.items()):
        target = root / path
        if path not in present:
            found.append(Finding("removed", path, f"{path} was removed"))
        elif target.is_symlink() or not target.is_file():
            found.append(Finding("altered", path, f"{path} was replaced by a link or a folder"))
        elif target.stat().st_size != size or sm3_hex(target.read_bytes()) != digest:
            found.append(Finding("altered", path, f"{path} was altered (its SM3 digest differs)"))
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
    return [Finding("audit_slice", audit_path, m) for m in check_slice(case_no, state, events)]


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
        report.problems.append(Finding("removed", MANIFEST, f"{MANIFEST} was removed"))
    elif seal_bytes is None:
        report.problems.append(
            Finding("seal_missing", SEAL, f"{SEAL} was removed: the package is not sealed")
        )
    else:
        report.seal, found = check_seal(seal, manifest_bytes, trusted)
        report.problems += found
    if not _ours(manifest):
        if manifest_bytes is not None:
            report.problems.append(Finding("manifest_altered", MANIFEST, f"{MANIFEST} is unreadable"))
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
            check.problems = [Finding("removed", folder, f"the whole case folder {folder} was removed")]
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
        raise ArchiveError(f"cannot read the key file {path}: {exc}") from None
    keys: dict[str, PublicKey] = {}
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(f), str) for f in ("key_id", "station", "public_key")
        ):
            raise ArchiveError(f"{path} holds no key: expected {{'key_id', 'station', 'public_key'}}")
        try:
            key = PublicKey(item["key_id"], item["station"], item["public_key"])
        except ValueError as exc:
            raise ArchiveError(f"{path}: {exc}") from None
        if key.key_id != key_id_for(key.station, key.public_hex):
            raise ArchiveError(f"{path}: the key id {key.key_id} does not belong to that public key")
        keys[key.key_id] = key
    return keys
