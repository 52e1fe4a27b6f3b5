"""The hall's certificate endpoints over HTTP, for :meth:`CertificateService.publish`.

It reuses the signed-in :class:`~window_client.hall_client.HallClient`'s server URL and token, and
its error types: an unreachable hall raises :class:`~window_client.hall_client.Unreachable`, an
expired sign-in :class:`~window_client.hall_client.AuthRequired`; a refusal of one item (403,
422) is returned as its reason, so the other items still go.
"""

from __future__ import annotations

from typing import Any

import httpx

from models.sync import API_PREFIX
from window_client.hall_client import AuthRequired, HallClient, ServerError, Unreachable


class HttpHallCertificates:
    """``POST /certificates/keys`` and ``POST /certificates/revocations`` with the client's token."""

    def __init__(self, client: HallClient, timeout: float = 30.0) -> None:
        if not client.token:
            raise AuthRequired("auth.missing", "not signed in to the hall server")
        self.client = client
        self._http = httpx.Client(
            base_url=client.base_url + API_PREFIX,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Authorization": f"Bearer {client.token}", "Accept": "application/json"},
            trust_env=False,  # as the sync client: no proxy may divert this to another host
        )

    def _post(self, path: str, body: dict[str, Any]) -> str | None:
        try:
            response = self._http.post(path, json=body)
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach the hall server at {self.client.base_url}: {exc}") from exc
        if response.status_code < 300:
            return None
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = f"http.{response.status_code}", response.reason_phrase or "error"
        if response.status_code == 401:
            raise AuthRequired(code, message)
        if response.status_code in (403, 404, 409, 422):
            return f"{code}: {message}"
        raise ServerError(response.status_code, code, message)

    def register_key(self, key: dict[str, Any]) -> str | None:
        """Register one of this station's public keys (with its supervisor's approval)."""
        return self._post("/certificates/keys", key)

    def revoke(self, revocation: dict[str, Any]) -> str | None:
        """Send a revocation made here, with the signed approval of the supervisor who made it."""
        return self._post("/certificates/revocations", revocation)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
