"""uvicorn's HTTP protocol with its one plain-text answer made JSON like every other error.

A request its HTTP parser refuses (a NUL or a control byte in a header, a space in a path, TLS
spoken to the plain port) never reaches the app: uvicorn answers it itself, with a text/plain 400
and closes the connection. :class:`JsonErrorHttpTools` answers the same 400 as
:class:`models.sync.ErrorBody` with the code ``request.bad_http``, so a client reads one error
format whatever went wrong.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from models.problems import Problem
from models.sync import ErrorBody, ErrorDetail

BAD_HTTP = "request.bad_http"


def bad_http_body() -> bytes:
    """The JSON body of the answer to a request that is not valid HTTP."""
    detail = ErrorDetail(code=BAD_HTTP, message=Problem(BAD_HTTP).en())
    return ErrorBody(error=detail).model_dump_json().encode()


class JsonErrorHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol whose parser refusals are answered in JSON."""

    def send_400_response(self, msg: str) -> None:  # uvicorn's text is replaced
        """Answer 400 with :func:`bad_http_body` and close (the request cannot be framed)."""
        body = bad_http_body()
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
