"""Published reference documents: every version of the catalogue and of each year's holidays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, insert, select

from hall_server.storage.schema import DOCUMENTS, DocumentRow
from hall_server.storage.sql import iso


def latest_document(conn: Connection, kind: str, key: str) -> DocumentRow | None:
    """The newest published version of a document, or None."""
    query = (
        select(DOCUMENTS)
        .where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)
        .order_by(DOCUMENTS.c.version.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return DocumentRow.model_validate(dict(row)) if row else None


def latest_documents(conn: Connection, kind: str) -> list[str]:
    """The content of every key's newest published version of ``kind``, by key."""
    query = select(DOCUMENTS.c.key, DOCUMENTS.c.content).where(DOCUMENTS.c.kind == kind)
    newest: dict[str, str] = {}
    for key, content in conn.execute(query.order_by(DOCUMENTS.c.key, DOCUMENTS.c.version)):
        newest[key] = content
    return list(newest.values())


def insert_document(conn: Connection, kind: str, key: str, content: str, at: dt.datetime) -> int:
    """Publish a new version of a document; returns the version number."""
    query = select(func.max(DOCUMENTS.c.version)).where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)
    version = int(conn.execute(query).scalar() or 0) + 1
    conn.execute(
        insert(DOCUMENTS).values(kind=kind, key=key, version=version, content=content, published_at=iso(at))
    )
    return version


def latest_version(conn: Connection, kind: str, key: str) -> int:
    """The newest published version of a document (0: none), in one small query."""
    query = select(func.max(DOCUMENTS.c.version)).where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)
    return int(conn.execute(query).scalar() or 0)
