"""A real HTTP proxy on loopback that injects network faults between the client and the hall server.

Each request that reaches the proxy takes the next scripted :class:`Fault` for its path (or
``PASS`` when the script is empty):

- ``PASS``: forward and answer.
- ``DROP_RESPONSE``: forward, let the server commit and answer, then close the client's
  connection without a byte of the answer (the client cannot know whether it was applied).
- ``ERROR_500``: answer 500 without forwarding.
- ``STALL``: forward, then hold the answer back longer than any client timeout and close.
  :attr:`FaultProxy.holding` is set once the server's answer is in hand (the server has
  committed), so a test can act at exactly that point (e.g. kill the waiting client).
- ``REPLAY``: forward the same request twice and answer with the second response (a replayed
  request, as a retrying middlebox would send).

:attr:`FaultProxy.on_forward`, when set, is called with the path once a request has been handed
to the server and before its answer is read: a test can act while the request is in flight
(e.g. kill the server mid-request). An answer cut short by the server's death closes the
client's connection, as the server's own death would.

Only loopback addresses are used. The proxy speaks just enough HTTP/1.1 for JSON requests with a
``Content-Length`` (what httpx sends); it forwards each request on a fresh upstream connection.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from enum import StrEnum
from urllib.parse import urlsplit


class Fault(StrEnum):
    """What the proxy does with one request."""

    PASS = "pass"
    DROP_RESPONSE = "drop_response"
    ERROR_500 = "error_500"
    STALL = "stall"
    REPLAY = "replay"


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP message (head and Content-Length body) from ``sock``; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buffer[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


def _closing(request: bytes) -> bytes:
    """The request with ``Connection: close``, so the upstream answer ends at EOF."""
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _path_of(request: bytes) -> str:
    first = request.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split(" ")
    return urlsplit(parts[1]).path if len(parts) > 1 else ""


class FaultProxy:
    """A threaded proxy from ``127.0.0.1:<port>`` to ``upstream`` (a loopback URL)."""

    def __init__(self, upstream: str, stall_seconds: float = 30.0) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname in ("127.0.0.1", "localhost"), "faults are injected on loopback only"
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.stall_seconds = stall_seconds
        self.scripts: dict[str, deque[Fault]] = defaultdict(deque)
        self.seen: list[tuple[str, Fault]] = []
        self.holding = threading.Event()
        self.on_forward: Callable[[str], None] | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def script(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``path`` (e.g. "/api/v1/sync/push")."""
        with self._lock:
            self.scripts[path].extend(faults)

    def reset(self) -> None:
        """Forget the faults still queued (a test's run did not reach them)."""
        with self._lock:
            self.scripts.clear()

    def _next_fault(self, path: str) -> Fault:
        with self._lock:
            queue = self.scripts.get(path)
            fault = queue.popleft() if queue else Fault.PASS
            self.seen.append((path, fault))
            return fault

    def _forward(self, request: bytes, notify: bool = True) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(_closing(request))
            if notify and self.on_forward is not None:
                self.on_forward(_path_of(request))
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def _serve(self, client: socket.socket) -> None:
        buffer = bytearray()
        try:
            while (request := _read_message(client, buffer)) is not None:
                fault = self._next_fault(_path_of(request))
                if fault is Fault.ERROR_500:
                    body = b'{"error":{"code":"proxy.error","message":"injected 500"}}'
                    client.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                        + f"content-length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    continue
                response = self._forward(request)
                if fault is Fault.REPLAY:
                    response = self._forward(request, notify=False)
                if not response:
                    return  # the server died before answering: so does the connection
                if fault is Fault.DROP_RESPONSE:
                    return
                if fault is Fault.STALL:
                    self.holding.set()
                    # Ends early when the proxy closes, so a test never waits out the stall.
                    self._closing.wait(self.stall_seconds)
                    return
                client.sendall(response)
                if b"\r\nconnection: close" in response.split(b"\r\n\r\n", 1)[0].lower():
                    return
        except OSError:
            return

    def close(self) -> None:
        """Stop accepting connections and end the stalls still holding an answer."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
