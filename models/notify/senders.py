"""The senders: a JSON-lines log file (the default) and an HTTP SMS gateway.

**Exactly once.** A notification is marked sent in its outbox only after the sender took it,
so a crash between the two leaves it unmarked and the next run delivers it again. What makes
that safe differs by sender:

- *log*: the sender itself is idempotent by key. It holds an exclusive lock on the file
  (``flock``) for the whole run, reads the keys of every complete line once, and appends a
  notification only when its key is not there yet; each line is fsynced before the outbox marks
  it. A second delivery of the same key (after a crash, or by a concurrent run waiting on the
  lock) finds the line and appends nothing. A line cut short by a crash mid-write (no final
  newline) was never sent: it is cut off before the next append. So every key appears in the
  file exactly once, whatever is killed when.
- *http*: every request carries the key in an ``Idempotency-Key`` header (and in the body). The
  sender cannot know whether a gateway that took the request before the connection broke sent
  the SMS, so the request is repeated with the same key until a 2xx answer: delivery is at least
  once, and exactly once for a gateway that keeps the keys it has seen (as SMS gateways' and
  payment APIs' idempotency keys work) and answers a repeat with 2xx without sending again.
  Within one station or hall, runs are serialised by :func:`models.notify.dispatch.run_lock`, so
  a repeat only follows a failure or a crash.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from models.notify.core import Notification, Sender, SenderConfig, SendError

# POST (url, body, headers) -> (status, body text); raises SendError when the gateway cannot be
# reached. Each side passes its own HTTP client: models never imports one.
Post = Callable[[str, bytes, Mapping[str, str]], tuple[int, str]]


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class LogSender:
    """Appends each notification as one JSON line to ``path`` (idempotent by key, see above)."""

    name = "log"

    def __init__(self, path: Path, clock: Callable[[], str] = _utc_now) -> None:
        self.path = path
        self.clock = clock
        self._file: IO[bytes] | None = None
        self._keys: set[str] = set()

    def __enter__(self) -> LogSender:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._keys = _read_keys(handle)
        except BaseException:
            handle.close()
            raise
        self._file = handle
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def deliver(self, notification: Notification) -> str:
        """Append the line (fsynced) unless the key is in the file already."""
        if self._file is None:
            raise RuntimeError("LogSender.deliver outside its with-block")
        if notification.key in self._keys:
            return "log: already in the file"
        line = json.dumps({**notification.message(), "sent_at": self.clock()}, ensure_ascii=False)
        try:
            self._file.write(line.encode("utf-8") + b"\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise SendError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._keys.add(notification.key)
        return "log"


def _read_keys(handle: IO[bytes]) -> set[str]:
    """The keys of the complete lines; a torn last line (a crash mid-write) is cut off."""
    handle.seek(0)
    data = handle.read()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        handle.truncate(complete)
        os.fsync(handle.fileno())
    keys: set[str] = set()
    for raw in data[:complete].splitlines():
        try:
            entry = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # not ours (someone edited the file): ignored, never rewritten
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            keys.add(entry["key"])
    return keys


class HttpSender:
    """POSTs each notification as JSON to an SMS gateway, with its key as ``Idempotency-Key``."""

    name = "http"

    def __init__(self, url: str, post: Post) -> None:
        self.url = url
        self.post = post

    def __enter__(self) -> HttpSender:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def deliver(self, notification: Notification) -> str:
        """One POST; a 2xx answer is a delivery, anything else a :class:`SendError`."""
        body = json.dumps(notification.message(), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": notification.key}
        status, text = self.post(self.url, body, headers)
        if not 200 <= status < 300:
            detail = " ".join(text.split())[:120]
            raise SendError(f"the gateway answered HTTP {status}" + (f": {detail}" if detail else ""))
        return f"http {status}"


def open_sender(config: SenderConfig, post_factory: Callable[[float], Post] | None = None) -> Sender:
    """The sender ``config`` names (``post_factory(timeout)`` gives the HTTP sender its POST)."""
    if config.sender == "http":
        if post_factory is None or config.url is None:
            raise ValueError("the http sender needs a URL and an HTTP client")
        return HttpSender(config.url, post_factory(config.timeout))
    return LogSender(config.log_path)
