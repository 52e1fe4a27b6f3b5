"""The background loop of ``hall-server serve`` that runs the hall's 跨区通办 outbox.

Every few seconds: issue the certificates of received cases approved here
(:func:`~hall_server.services.crosshall_out.certify`), then deliver what waits for each partner
(:func:`~hall_server.services.crosshall_out.deliver`). ``hall-server partners sync`` runs the same
round once. A failure is logged and kept on the partner (``partners list`` shows it); the loop goes on.
"""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hall_server.domain.partner_auth import HallIdentity
from hall_server.services.crosshall_out import Delivery, certify, deliver
from hall_server.storage import partners as store
from hall_server.storage import read_transaction
from models.catalog import Catalog

log = logging.getLogger("hall_server.partners")
DEFAULT_INTERVAL = 2.0
TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def run_round(
    engine: Engine, identity: HallIdentity, fallback: Catalog, client: httpx.Client, only: str | None = None
) -> tuple[int, list[Delivery]]:
    """One round: (certificates issued, one delivery per partner)."""
    issued = certify(engine, identity, fallback)
    with read_transaction(engine) as conn:
        names = [row["name"] for row in store.partner_rows(conn)]
    return issued, [deliver(engine, identity, name, client) for name in names if only in (None, name)]


class Forwarder:
    """Runs :func:`run_round` in a daemon thread until :meth:`stop`."""

    def __init__(
        self, engine: Engine, identity: HallIdentity, fallback: Catalog, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.engine = engine
        self.identity = identity
        self.fallback = fallback
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="partner-forwarder", daemon=True)

    def start(self) -> None:
        """Start the loop."""
        self._thread.start()

    def stop(self) -> None:
        """End the loop (after the round in progress)."""
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            while not self._stop.is_set():
                try:
                    _issued, deliveries = run_round(self.engine, self.identity, self.fallback, client)
                    for delivery in deliveries:
                        if delivery.error:
                            log.warning("partner %s: %s", delivery.partner, delivery.error)
                except (SQLAlchemyError, OSError, ValueError) as exc:
                    log.error("the partner outbox round failed: %s", exc)
                except Exception:  # a bug must not end the loop: logged with its traceback
                    log.exception("the partner outbox round failed")
                self._stop.wait(self.interval)
