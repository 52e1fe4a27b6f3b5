"""The HTTP client of the hall server's sync API (models/sync.py), with typed errors.

Every failure is one of four kinds, so callers decide without looking at HTTP details:

- :class:`Unreachable` — no answer (refused connection, DNS, timeout, a dropped connection):
  the station is offline; retry later with backoff.
- :class:`AuthRequired` — 401 (``auth.missing``, ``auth.invalid``, ``token.expired``): staff
  must sign in (again); nothing else is wrong.
- :class:`ServerError` — the server answered with an error (4xx other than 401, or 5xx).
- :class:`ProtocolError` — the server answered something this client cannot understand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from models.problems import ProblemValueError
from models.sync import (
    API_PREFIX,
    AuditTrail,
    CatalogDocument,
    ErrorBody,
    Health,
    HolidayDocument,
    PullResponse,
    PushRequest,
    PushResponse,
    TokenRequest,
    TokenResponse,
)
from models.sync.queue import QueueBoardDocument

DEFAULT_TIMEOUT = 30.0
_M = TypeVar("_M", bound=BaseModel)


class HallError(Exception):
    """Base of every hall client failure; ``message`` is English, for logs and the CLI."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(HallError):
    """The server did not answer (offline, refused, timed out, connection dropped)."""


class AuthRequired(HallError):
    """The server wants a (new) sign-in; ``code`` is auth.missing, auth.invalid or token.expired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ServerError(HallError):
    """The server answered with an error other than 401; ``retry_after``: its ``Retry-After``
    in seconds, when it sent one (429 ``auth.locked`` / ``auth.throttled``)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class ProtocolError(HallError):
    """An answer this client cannot understand (not JSON, wrong shape, wrong results)."""


class BadServerURL(ProblemValueError):
    """A server URL that cannot be used (English ``str()``; :meth:`zh` for the CLI)."""


def check_server_url(url: str) -> str:
    """The URL without a trailing slash, or :class:`BadServerURL` saying what is wrong."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise BadServerURL("server_url.invalid", url=url, detail=exc) from None
    if parts.scheme not in ("http", "https"):
        raise BadServerURL("server_url.scheme", url=url)
    if not parts.hostname:
        raise BadServerURL("server_url.host", url=url)
    if parts.query or parts.fragment:
        raise BadServerURL("server_url.query", url=url)
    del port
    return text.rstrip("/")


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delay form; a date or garbage counts as none)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 * 7 else None


class HallClient:
    """A thin, typed client of one hall server; holds the bearer token once signed in.

    Args:
        base_url: the server's root URL (``http://127.0.0.1:8765``).
        timeout: seconds for connecting and for each read.
        transport: an httpx transport (tests may pass one; production uses the default).
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = check_server_url(base_url)
        self.token: str | None = None
        self.token_expires_at: dt.datetime | None = None
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            headers={"Accept": "application/json"},
            # A station's proxy settings must not divert sync to another host.
            trust_env=False,
        )

    # ------------------------------------------------------------ endpoints

    def health(self) -> Health:
        """``GET /health``: is the server there and which protocol does it speak."""
        return self._call("GET", "/health", Health, auth=False)

    def sign_in(self, staff_no: str, password: str, station: str) -> TokenResponse:
        """``POST /auth/token``; keeps the token for the following calls."""
        body = TokenRequest(staff_no=staff_no, password=password, station=station)
        answer = self._call("POST", "/auth/token", TokenResponse, json=body.model_dump(), auth=False)
        self.token = answer.token
        self.token_expires_at = answer.expires_at
        return answer

    def push(self, request: PushRequest) -> PushResponse:
        """``POST /sync/push``: one batch of operations; one result per operation, in order."""
        return self.push_encoded(request.model_dump_json(), [op.op_id for op in request.operations])

    def push_encoded(self, body: str, op_ids: Sequence[str]) -> PushResponse:
        """``POST /sync/push`` with a :class:`PushRequest` already encoded as JSON (the sync
        engine builds it from the outbox's stored JSON without parsing every payload)."""
        answer = self._call("POST", "/sync/push", PushResponse, content=body)
        if [r.op_id for r in answer.results] != list(op_ids):
            raise ProtocolError(
                f"the server answered {len(answer.results)} results for {len(op_ids)}"
                " operations, or not in the order they were sent"
            )
        return answer

    def changes(self, after: int, limit: int) -> PullResponse:
        """``GET /sync/changes``: what changed after ``after``, oldest first."""
        answer = self._call("GET", "/sync/changes", PullResponse, params={"after": after, "limit": limit})
        if answer.cursor < after or any(c.seq <= after for c in answer.changes):
            raise ProtocolError(f"the server's change feed went backwards (after {after})")
        return answer

    def audit_trail(self) -> AuditTrail:
        """``GET /sync/audit``: every audit head the hall holds for this station."""
        return self._call("GET", "/sync/audit", AuditTrail)

    def catalog(self) -> CatalogDocument:
        """``GET /catalog``: the catalogue in force and its version."""
        return self._call("GET", "/catalog", CatalogDocument)

    def holidays(self, year: int) -> HolidayDocument:
        """``GET /holidays/{year}``: a year's official arrangement."""
        return self._call("GET", f"/holidays/{int(year)}", HolidayDocument)

    def queue_board(self, day: dt.date) -> QueueBoardDocument:
        """``GET /queue/board``: this station's calling board as the hall holds it."""
        return self._call("GET", "/queue/board", QueueBoardDocument, params={"day": day.isoformat()})

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> HallClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    def _call(self, method: str, path: str, model: type[_M], *, auth: bool = True, **kwargs: Any) -> _M:
        headers: dict[str, str] = {}
        if "content" in kwargs:
            headers["Content-Type"] = "application/json"
        if auth:
            if not self.token:
                raise AuthRequired("auth.missing", "not signed in to the hall server")
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            # Connect errors, timeouts, dropped connections, protocol-level breakage: from the
            # station's point of view the server is simply not there right now.
            raise Unreachable(
                f"cannot reach the hall server at {self.base_url}: {exc or type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            errors = exc.errors()
            where = f"{errors[0]['loc']} {errors[0]['msg']}" if errors else "invalid"
            raise ProtocolError(f"unexpected answer from {method} {path}: {where}") from exc

    def _error(self, response: httpx.Response) -> HallError:
        code, message = f"http.{response.status_code}", response.reason_phrase or "error"
        try:
            body = ErrorBody.model_validate_json(response.content)
            code, message = body.error.code, body.error.message
        except ValidationError:
            pass  # a proxy's HTML page or an empty body: keep the HTTP status
        if response.status_code == 401:
            return AuthRequired(code, message)
        if response.status_code in (502, 503, 504) and code.startswith("http."):
            # A gateway in front of a hall server that is down: nobody processed the request.
            return Unreachable(
                f"the hall server at {self.base_url} is not available ({response.status_code})"
            )
        return ServerError(response.status_code, code, message, _retry_after(response))
