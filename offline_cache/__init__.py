"""The local SQLite store: engine factory, migrations, repositories, outbox and audit chain."""

from offline_cache.store import Store, UnitOfWork, make_engine

__all__ = ["Store", "UnitOfWork", "make_engine"]
