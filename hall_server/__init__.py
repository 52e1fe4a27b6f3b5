"""The reference hall service the window client syncs with (DESIGN.md §4, protocol in models.sync).

FastAPI + SQLModel; SQLite by default and PostgreSQL by URL, with the same code. In layers that
only point down (an import-linter ``layers`` contract in pyproject.toml keeps them so):

- :mod:`hall_server.cli` — the ``hall-server`` command (Typer);
- :mod:`hall_server.app` — ``create_app(db_url, ...)``, the composition root (and
  :mod:`hall_server.http`, uvicorn's protocol with JSON errors);
- :mod:`hall_server.routers` — one router per area of the API, and the push-body reader;
- :mod:`hall_server.services` — the :class:`~hall_server.services.hall.Hall`, applying a pushed
  batch, the back office, the certificate authority, publishing reference data, the demo data;
- :mod:`hall_server.domain` — the rules over an open connection: checks, the conflict fold,
  vetting, auth and approvals, throttling, audit anchors, certificate trust, reference data;
- :mod:`hall_server.storage` — the tables, the engine and transactions, the migrations, every
  query;
- :mod:`hall_server.errors` — the one API error type.

It imports only :mod:`models` from the rest of the project.
"""
