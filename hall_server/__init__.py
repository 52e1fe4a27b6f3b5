"""The reference hall service the window client syncs with (DESIGN.md §4, protocol in models.sync).

FastAPI + SQLModel; SQLite by default and PostgreSQL by URL, with the same code. The modules:

- :mod:`hall_server.app` — ``create_app(db_url, ...)``, the composition root; one router per area
  (:mod:`hall_server.routers`);
- :mod:`hall_server.db` and :mod:`hall_server.schema` — the engine factory, the tables and the
  versioned schema migrations;
- :mod:`hall_server.storage` — every SQL statement (bulk reads and writes, the change feed);
- :mod:`hall_server.fold` — the conflict rule: a case's state as a deterministic fold of its
  operations;
- :mod:`hall_server.push` — applying a pushed batch (validation, idempotency, fold, standings);
- :mod:`hall_server.auth` — staff passwords (argon2id) and bearer tokens;
- :mod:`hall_server.backoffice`, :mod:`hall_server.reference` — back-office decisions and lists,
  the published catalogue and holiday arrangements;
- :mod:`hall_server.cli` — the ``hall-server`` command (Typer).

It imports only :mod:`models` from the rest of the project.
"""
