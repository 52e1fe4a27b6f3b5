"""The storage layer: the tables, the engine and its transactions, the migrations, every query.

It imports nothing else of the hall server (the layers above it: :mod:`hall_server.domain`,
:mod:`hall_server.services`, :mod:`hall_server.routers`, then the app and the CLI). Modules:

- :mod:`~hall_server.storage.schema` — every table (SQLModel), with the lists each migration creates;
- :mod:`~hall_server.storage.engine` — :func:`make_engine` and the serialised transactions;
- :mod:`~hall_server.storage.migrations` — the numbered schema steps and :func:`migrate`;
- :mod:`~hall_server.storage.sql` — timestamps, JSON text, ``IN`` with one parameter, bulk inserts;
- :mod:`~hall_server.storage.cases` — cases, operations, standings, verified approvers;
- :mod:`~hall_server.storage.feed` — the change feed;
- :mod:`~hall_server.storage.accounts` — staff, stations, tokens, approval keys;
- :mod:`~hall_server.storage.documents` — published catalogues and holiday arrangements;
- :mod:`~hall_server.storage.certificates` — keys, revocations, the verification log.

The names most callers need are re-exported here (``from hall_server import storage``).
"""

from __future__ import annotations

from hall_server.storage.accounts import (
    approval_keys_of,
    delete_expired_tokens,
    find_token,
    get_staff,
    has_approval_key_for,
    insert_token,
    list_stations,
    record_approval_key,
    station_exists,
    upsert_staff,
    upsert_station,
)
from hall_server.storage.cases import (
    Answer,
    CaseRecord,
    OpRecord,
    accept_facts,
    answers_by_op_id,
    approvers_of,
    cases_by_no,
    cases_with_lost_operations,
    folded_operations,
    get_case,
    insert_approvals,
    list_cases,
    operations_of_case,
    standings_of,
    supplement_operations,
    update_cases,
    update_folds,
    upsert_standings,
    write_rows,
)
from hall_server.storage.documents import insert_document, latest_document, latest_documents, latest_version
from hall_server.storage.engine import (
    SchemaError,
    is_postgresql,
    make_engine,
    read_transaction,
    write_transaction,
)
from hall_server.storage.feed import (
    ALL_STATIONS,
    NewChange,
    append_changes,
    change_documents_after,
    changes_after,
)
from hall_server.storage.identities import identity_of, insert_identities
from hall_server.storage.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from hall_server.storage.schema import (
    ANCHORS,
    APPROVAL_KEYS,
    CASES,
    CHANGES,
    DOCUMENTS,
    KEYS,
    METADATA,
    OPERATION_APPROVALS,
    OPS,
    PROOFS,
    REVOCATIONS,
    STAFF,
    STANDINGS,
    STATIONS,
    THROTTLE,
    TOKENS,
    VERIFICATIONS,
    HallModel,
    StaffRow,
    StationRow,
    TokenRow,
)
from hall_server.storage.schema_service import CASE_IDENTITIES
from hall_server.storage.sql import dumps, insert_rows, is_in, iso, json_string, next_seq

__all__ = [
    "ALL_STATIONS",
    "ANCHORS",
    "APPROVAL_KEYS",
    "CASES",
    "CASE_IDENTITIES",
    "CHANGES",
    "DOCUMENTS",
    "KEYS",
    "METADATA",
    "MIGRATIONS",
    "OPERATION_APPROVALS",
    "OPS",
    "PROOFS",
    "REVOCATIONS",
    "SCHEMA_VERSION",
    "STAFF",
    "STANDINGS",
    "STATIONS",
    "THROTTLE",
    "TOKENS",
    "VERIFICATIONS",
    "Answer",
    "CaseRecord",
    "HallModel",
    "NewChange",
    "OpRecord",
    "SchemaError",
    "StaffRow",
    "StationRow",
    "TokenRow",
    "accept_facts",
    "answers_by_op_id",
    "append_changes",
    "approval_keys_of",
    "approvers_of",
    "cases_by_no",
    "cases_with_lost_operations",
    "change_documents_after",
    "changes_after",
    "delete_expired_tokens",
    "dumps",
    "find_token",
    "folded_operations",
    "get_case",
    "get_staff",
    "has_approval_key_for",
    "identity_of",
    "insert_approvals",
    "insert_document",
    "insert_identities",
    "insert_rows",
    "insert_token",
    "is_in",
    "is_postgresql",
    "iso",
    "json_string",
    "latest_document",
    "latest_documents",
    "latest_version",
    "list_cases",
    "list_stations",
    "make_engine",
    "migrate",
    "next_seq",
    "operations_of_case",
    "read_transaction",
    "record_approval_key",
    "schema_version",
    "standings_of",
    "station_exists",
    "supplement_operations",
    "update_cases",
    "update_folds",
    "upsert_staff",
    "upsert_standings",
    "upsert_station",
    "write_rows",
    "write_transaction",
]
