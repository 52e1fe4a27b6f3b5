"""Writing a package: every file into a hidden folder beside the target, then one rename.

A failure at any point (a full disk, an unknown case found late, a key that cannot be opened)
removes the partial folder and leaves the target as it was: nothing half-written is ever at
``--out``.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from models.archive.messages import ArchiveText
from models.archive.package import (
    CATALOGUE,
    DESCRIPTION,
    MANIFEST,
    SEAL,
    FileEntry,
    Piece,
    catalogue_xml,
    manifest_bytes,
    seal_manifest,
)
from models.seal import KeyPair, sm3_hex


class ArchiveError(Exception):
    """A package cannot be written or read as asked.

    ``str()`` is the English text (logs, the hall's CLI, which raises it with a plain message);
    one made by :meth:`of` also has its Chinese, for a front end that chose its language
    (:meth:`zh`, :meth:`en`)."""

    def __init__(self, message: str | ArchiveText) -> None:
        self.archive_text = message if isinstance(message, ArchiveText) else None
        super().__init__(message.en() if isinstance(message, ArchiveText) else message)

    @classmethod
    def of(cls, code: str, /, **params: Any) -> Self:
        """The error of the archive text ``code`` (:data:`models.archive.messages.MESSAGES`)."""
        return cls(ArchiveText(code, params))

    def zh(self) -> str:
        """The Chinese text (the English one when the error was raised with a plain message)."""
        return self.archive_text.zh() if self.archive_text is not None else str(self)

    def en(self) -> str:
        """The English text."""
        return str(self)


class NothingToArchive(ArchiveError):
    """No case matched (e.g. none accepted on the day asked for)."""


def check_target(out: Path) -> None:
    """Refuse a target that is a file or a folder with something in it (nothing is overwritten)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ArchiveError.of("target.not_folder", out=out)
    if out.is_dir() and any(out.iterdir()):
        raise ArchiveError.of("target.not_empty", out=out)


class PackageWriter:
    """Writes one package into ``out`` (created; must be new or empty), atomically."""

    def __init__(self, out: Path) -> None:
        check_target(out)
        self.out = out
        self.partial = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
        self.files: list[FileEntry] = []
        self._folders: set[Path] = set()
        self.bytes_written = 0

    def __enter__(self) -> PackageWriter:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.partial.mkdir()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.partial.exists():
            shutil.rmtree(self.partial, ignore_errors=True)

    def add(self, path: str, data: bytes) -> FileEntry:
        """Write ``data`` at ``path`` (``/``-separated, inside the package); its manifest entry."""
        target = self.partial / path
        folder = target.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        target.write_bytes(data)
        entry = FileEntry(path, len(data), sm3_hex(data))
        self.files.append(entry)
        self.bytes_written += len(data)
        return entry

    def finish(
        self,
        producer: Mapping[str, str],
        created_at: str,
        pieces: Sequence[Piece],
        description: str,
        key: KeyPair,
    ) -> str:
        """Add the description and catalogue, write the manifest and its seal, move the package
        into place; returns the manifest's SM3."""
        self.add(DESCRIPTION, description.encode("utf-8"))
        self.add(CATALOGUE, catalogue_xml(pieces))
        cases = [{"case_no": p.case_no, "archival_code": p.code, "folder": p.case_no} for p in pieces]
        manifest = manifest_bytes(producer, created_at, cases, self.files)
        (self.partial / MANIFEST).write_bytes(manifest)
        (self.partial / SEAL).write_bytes(seal_manifest(key, manifest, created_at))
        if self.out.is_dir():
            self.out.rmdir()  # checked empty when the writer was made
        self.partial.rename(self.out)
        return sm3_hex(manifest)
