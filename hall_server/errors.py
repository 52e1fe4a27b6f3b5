"""API errors: one exception type rendered as :class:`models.sync.ErrorBody` with an HTTP status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException

from models.problems import Problem
from models.sync import ErrorBody, ErrorDetail


class ApiError(HTTPException):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``.

    ``code`` is a :data:`models.problems.MESSAGES` code; the message is its English text (the
    client renders the Chinese one from the code). It is an ``HTTPException`` so that FastAPI
    lets it through when it is raised while a request body is read (the size limit).
    """

    def __init__(self, status: int, code: str, /, **params: Any) -> None:
        self.problem = Problem(code, params)
        super().__init__(status_code=status, detail=self.problem.en())

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.status_code

    @property
    def code(self) -> str:
        """The problem code."""
        return self.problem.code

    def body(self) -> ErrorBody:
        """The JSON body of the response."""
        return ErrorBody(error=ErrorDetail(code=self.problem.code, message=self.problem.en()))


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring :class:`ErrorBody` for each status."""
    described = {
        400: "Malformed request (not JSON)",
        401: "Missing, invalid or expired token",
        403: "Not allowed for this account or station",
        404: "Not found",
        409: "Conflicts with what the hall holds",
        413: "Request body too large",
        422: "Request does not match the schema",
        429: "Too many failed sign-ins: locked (see Retry-After)",
        500: "Internal error",
    }
    return {status: {"model": ErrorBody, "description": described[status]} for status in statuses}


def describe_errors(errors: Sequence[Mapping[str, Any]], limit: int = 3) -> str:
    """The first few validation errors as ``location: message``."""
    parts = []
    for error in errors[:limit]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = len(errors) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
