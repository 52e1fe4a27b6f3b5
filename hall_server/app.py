"""The composition root: :func:`create_app` builds the engine, migrates, and mounts the routers.

Every error leaves as :class:`models.sync.ErrorBody`: API errors with their own status and code,
unknown routes as 404 ``request.not_found``, malformed JSON as 400 ``request.malformed``, schema
mismatches as 422 ``request.invalid``, bodies over the limit as 413 ``request.too_large`` (from
the ``Content-Length`` header before anything is read, or as soon as the streamed bytes pass the
limit), and anything unexpected as 500 ``server.error`` — logged with its traceback, which never
goes into the body.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hall_server.domain.partner_auth import HallIdentity
from hall_server.domain.reference import SHIPPED_CATALOG
from hall_server.errors import ApiError, describe_errors
from hall_server.routers import auth, certificates, health, partners, queue, ratings, reference, sync
from hall_server.services.forwarder import Forwarder
from hall_server.services.hall import DEFAULT_TOKEN_TTL_SECONDS, Hall, utc_now
from hall_server.services.sweeper import TimelinessSweeper
from hall_server.services.timeliness import TimelinessDesk
from hall_server.storage import make_engine, migrate
from models.problems import Problem
from models.sync import (
    API_PREFIX,
    MAX_BODY_BYTES,
    PAYLOADS,
    PROTOCOL_VERSION,
    ErrorBody,
    ErrorDetail,
    PushRequest,
)

log = logging.getLogger("hall_server")

ROUTERS = (
    health.router,
    auth.router,
    reference.router,
    sync.router,
    certificates.router,
    ratings.router,
    queue.router,
    partners.router,
)


def _error(status: int, code: str, **params: Any) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=Problem(code, params).en()))
    return JSONResponse(body.model_dump(), status_code=status)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes without reading them whole (pure ASGI)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _error(413, "request.too_large", limit=self.limit)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ApiError(413, "request.too_large", limit=self.limit)
            return message

        await self.app(scope, limited, send)


class InternalErrors:
    """Answer anything unexpected with a 500 ``server.error`` and log it (pure ASGI).

    Starlette's last-resort handler answers too, but then re-raises, and uvicorn closes the
    connection: a client that reuses it (httpx keeps connections alive) would get a reset on its
    next request. Here the error ends with the answer and the connection stays usable. An error
    after the answer has started is left to the server, as nothing clean can be sent then.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            log.error("internal error on %s %s", scope["method"], scope["path"], exc_info=exc)
            await _error(500, "server.error")(scope, receive, send)


def _install_handlers(app: FastAPI) -> None:
    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body().model_dump(), status_code=exc.status, headers=exc.headers)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _error(404, "request.not_found")
        if exc.status_code == 413:
            return _error(413, "request.too_large", limit=MAX_BODY_BYTES)
        return _error(exc.status_code, "request.invalid", detail=str(exc.detail))

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if any(error.get("type") == "json_invalid" for error in errors):
            return _error(400, "request.malformed")
        return _error(422, "request.invalid", detail=describe_errors(errors))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, with the push body's schema (validated by hand, see routers.sync) and
    the typed payload of each operation kind (AcceptPayload, ...: what ``payload`` carries)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, extra = models_json_schema(
                [(PushRequest, "validation"), *((model, "validation") for model in PAYLOADS.values())],
                ref_template="#/components/schemas/{model}",
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    return build


def create_app(
    db_url: str,
    *,
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS,
    catalog_path: Path | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    timeliness_interval: float | None = None,
    identity: HallIdentity | None = None,
    forward_every: float | None = None,
) -> FastAPI:
    """The hall server app on the database at ``db_url`` (migrated to the current schema).

    ``catalog_path`` is the catalogue served before any is published (default: the server's
    shipped copy); ``clock`` replaces the UTC clock (tests expire tokens with it);
    ``timeliness_interval`` is the period of the background timeliness sweep (None: no sweep
    thread; ``app.state.timeliness.sweep()`` then publishes on demand). ``identity`` is the
    hall's own key (partner halls); with it, ``forward_every`` seconds runs the partner outbox
    in the background (:mod:`hall_server.services.forwarder`).
    """
    engine = make_engine(db_url)
    migrate(engine)
    service = Hall(
        engine=engine,
        catalog_path=catalog_path or SHIPPED_CATALOG,
        token_ttl_seconds=token_ttl_seconds,
        clock=clock or utc_now,
        identity=identity,
    )
    desk = TimelinessDesk(engine, service.parsed_catalog, service.clock)
    sweeper = TimelinessSweeper(desk, timeliness_interval) if timeliness_interval else None
    if sweeper is not None:
        service.after_push = sweeper.touched

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if sweeper is not None:
            sweeper.start()
        forwarder = None
        if identity is not None and forward_every:
            forwarder = Forwarder(engine, identity, service.parsed_catalog, forward_every)
            forwarder.start()
        yield
        if forwarder is not None:
            forwarder.stop()
        if sweeper is not None:
            sweeper.stop()
        engine.dispose()

    app = FastAPI(
        title="Hall server",
        version=str(PROTOCOL_VERSION),
        description="The reference hall service the window client syncs with (protocol: models.sync).",
        lifespan=lifespan,
    )
    app.state.hall = service
    app.state.timeliness = desk
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _install_handlers(app)
    app.add_middleware(InternalErrors)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app
