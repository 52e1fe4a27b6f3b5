"""Bad input gets a clear JSON error (ErrorBody) and the real server stays up."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from models.sync import MAX_BODY_BYTES, MAX_PUSH_BATCH
from tests.hall import HallProcess, start_hall
from tests.server.ops import accept


@pytest.fixture(scope="module")
def shared_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    """One server for the tests that leave it in a usable state."""
    process = start_hall(tmp_path_factory.mktemp("bad-input"))
    yield process
    process.stop()


def sign_in(hall: HallProcess) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=hall.url, timeout=60)
    response = client.post(
        "/api/v1/auth/token", json={"staff_no": "C001", "password": "demo-1234", "station": "GXZX"}
    )
    assert response.status_code == 200, response.text
    return client, {"Authorization": f"Bearer {response.json()['token']}", "Content-Type": "application/json"}


@pytest.fixture
def signed_in(shared_hall: HallProcess) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    client, headers = sign_in(shared_hall)
    yield client, headers
    client.close()


def error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in response.text
    return response.status_code, body["error"]["code"]


def push_body(operations: list[Any], station: str = "GXZX") -> bytes:
    return json.dumps({"station": station, "operations": operations}).encode()


def test_bad_requests_get_clear_errors_and_the_server_stays_up(
    shared_hall: HallProcess, signed_in: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, headers = signed_in
    push = "/api/v1/sync/push"
    bad_id = {**accept("GXZX-20261120-00500"), "op_id": "short"}
    wrong_type = {**accept("GXZX-20261120-00501"), "seq": "first"}
    unknown_kind = {**accept("GXZX-20261120-00502"), "kind": "case.delete"}
    extra_field = {**accept("GXZX-20261120-00503"), "surprise": 1}
    expectations = [
        (
            client.post(push, content=b'{"station": "GXZX", "operations": [', headers=headers),
            (400, "request.malformed"),
        ),
        (client.post(push, content=b"\xff\xfe not even utf-8", headers=headers), (400, "request.malformed")),
        (client.post(push, content=b'"just a string"', headers=headers), (422, "request.invalid")),
        (client.post(push, content=push_body([bad_id]), headers=headers), (422, "request.invalid")),
        (client.post(push, content=push_body([wrong_type]), headers=headers), (422, "request.invalid")),
        (client.post(push, content=push_body([unknown_kind]), headers=headers), (422, "request.invalid")),
        (client.post(push, content=push_body([extra_field]), headers=headers), (422, "request.invalid")),
        (client.post(push, content=push_body([])), (401, "auth.missing")),
        (client.post("/api/v1/auth/token", content=b"{nope", headers=headers), (400, "request.malformed")),
        (client.post("/api/v1/auth/token", json={"staff_no": 1}), (422, "request.invalid")),
        (client.get("/api/v1/nowhere"), (404, "request.not_found")),
        (client.delete(push, headers=headers), (405, "request.invalid")),
        (client.get("/api/v1/holidays/1066"), (422, "request.invalid")),
    ]
    for response, expected in expectations:
        assert error(response) == expected, response.text
    too_many = [accept(f"GXZX-20261120-{n:05d}") for n in range(MAX_PUSH_BATCH + 1)]
    response = client.post(push, content=push_body(too_many), headers=headers)
    assert error(response) == (422, "request.invalid")
    assert "operations" in response.json()["error"]["message"]
    assert client.get("/api/v1/health").json()["status"] == "ok"
    assert shared_hall.running


def test_an_oversized_body_is_refused_before_it_is_read(
    signed_in: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, headers = signed_in
    declared = client.post("/api/v1/sync/push", content=b" " * (MAX_BODY_BYTES + 1), headers=headers)
    assert error(declared) == (413, "request.too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for _ in range(MAX_BODY_BYTES // (1 << 20) + 2):
            yield b" " * (1 << 20)

    streamed = client.post("/api/v1/sync/push", content=chunks(), headers=headers)
    assert error(streamed) == (413, "request.too_large")
    assert client.get("/api/v1/health").status_code == 200
    ok = client.post("/api/v1/sync/push", content=push_body([accept("GXZX-20261120-00510")]), headers=headers)
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "applied"


def test_an_internal_error_is_a_500_without_a_traceback_and_is_logged(hall: HallProcess) -> None:
    client, headers = sign_in(hall)
    database = hall.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:  # damage the database under the running server
        conn.execute("DROP TABLE changes")
    response = client.get("/api/v1/sync/changes", headers=headers)
    assert error(response) == (500, "server.error")
    assert "changes" not in response.json()["error"]["message"]
    assert client.get("/api/v1/health").status_code == 200
    client.close()
    log = hall.log_path.read_text(encoding="utf-8")
    assert "internal error on GET /api/v1/sync/changes" in log and "Traceback" in log


def test_a_payload_nested_a_thousand_deep_is_a_4xx_not_a_500(
    shared_hall: HallProcess, signed_in: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, headers = signed_in
    for depth in (100, 1_000, 50_000):
        op = accept(f"GXZX-20261120-{600 + depth % 97:05d}")
        body = push_body([{**op, "payload": "DEEP"}]).replace(
            b'"DEEP"', b'{"a":' + b"[" * depth + b"]" * depth + b"}"
        )
        response = client.post("/api/v1/sync/push", content=body, headers=headers)
        status, code = error(response)
        assert 400 <= status < 500 and code in {"request.invalid", "request.malformed"}, response.text
    assert client.get("/api/v1/health").status_code == 200
    assert "RecursionError" not in shared_hall.log_path.read_text(encoding="utf-8")


def raw_request(hall: HallProcess, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes as they are; (status line, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", hall.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines)
    return status, {name.lower(): value for name, value in fields.items()}, body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n",
        b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Note: a\x1b[31mb\r\n\r\n",
        b"GET /api/v1/health HTTP/1.1\r\nHo st: x\r\n\r\n",
        b"GET /api/v1/he alth HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello on the plain port\r\n\r\n",
    ],
    ids=["nul-in-header", "escape-in-header", "space-in-name", "space-in-path", "tls-hello"],
)
def test_a_request_the_http_parser_refuses_gets_a_json_400(
    shared_hall: HallProcess, request_bytes: bytes
) -> None:
    status, headers, body = raw_request(shared_hall, request_bytes)
    assert status.startswith("HTTP/1.1 400"), status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == {
        "error": {"code": "request.bad_http", "message": json.loads(body)["error"]["message"]}
    }
    assert json.loads(body)["error"]["message"]
    assert httpx.get(f"{shared_hall.url}/api/v1/health").status_code == 200
