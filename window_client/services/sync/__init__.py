"""Offline sync with the hall server (DESIGN.md §4, protocol in models/sync.py), one module per
step:

- :mod:`.push`: the outbox, in order and in batches (with the audit head of :mod:`.anchors`);
- :mod:`.pull`: the change feed after the stored cursor, applied by :mod:`.appliers`;
- :mod:`.backoff`: when to try again after a failure;
- :mod:`.engine`: :class:`SyncEngine`, one run of push then pull, and its status (:mod:`.status`);
- :mod:`.service`: :class:`SyncService`, sync as staff use it (online sign-in, refused
  operations of :mod:`.refusals`);
- :mod:`.background`: :class:`BackgroundSync`, when to sync for a counter that stays up all day.

None of them imports Textual; the TUI runs :meth:`BackgroundSync.run` in a worker thread and
turns its status snapshots into messages.
"""

from models.sync import encode_operation  # the one wire encoder, shared with the hall
from window_client.services.sync.anchors import AnchorKeeper, AuditAlarm, read_alarm
from window_client.services.sync.appliers import ChangeAppliers
from window_client.services.sync.background import BackgroundSync, SignInOutcome
from window_client.services.sync.backoff import Backoff, backoff_delay
from window_client.services.sync.engine import SyncEngine
from window_client.services.sync.pull import DEFAULT_PULL_LIMIT, Puller
from window_client.services.sync.push import KNOWN_KINDS, Pusher
from window_client.services.sync.refusals import DEFAULT_ACTION, REFUSED_ACTIONS, RefusedOperation
from window_client.services.sync.service import SyncService
from window_client.services.sync.status import SYNC_ACTOR, SyncReport, SyncStatus, describe_error

__all__ = [
    "DEFAULT_ACTION",
    "DEFAULT_PULL_LIMIT",
    "KNOWN_KINDS",
    "REFUSED_ACTIONS",
    "SYNC_ACTOR",
    "AnchorKeeper",
    "AuditAlarm",
    "BackgroundSync",
    "Backoff",
    "ChangeAppliers",
    "Puller",
    "Pusher",
    "RefusedOperation",
    "SignInOutcome",
    "SyncEngine",
    "SyncReport",
    "SyncService",
    "SyncStatus",
    "backoff_delay",
    "describe_error",
    "encode_operation",
    "read_alarm",
]
