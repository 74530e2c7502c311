"""What the test_fake_* files share: an httpx TLS context and helpers that page and check.

No tests here. Each of those files has its own `client` fixture (an imported fixture would
shadow a name as far as the linters can tell).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

# httpx builds a fresh TLS context (with the CA bundle) for every client unless given one: share
# one, which keeps client creation from dominating these loopback tests.
TLS = ssl.create_default_context()

Params = Mapping[str, str | int]


def page_all(client: httpx.Client, params: Params) -> list[dict[str, Any]]:
    """Every page of a /studies query, following nextPageToken until it is absent."""
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while len(pages) < 100:
        query = dict(params) | ({"pageToken": token} if token else {})
        response = client.get("/studies", params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1].get("nextPageToken")
        if token is None:
            return pages
    raise AssertionError("paging did not end")


def ids_of(studies: list[dict[str, Any]]) -> list[str]:
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def page_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [nct for page in pages for nct in ids_of(page["studies"])]


def assert_text_error(response: httpx.Response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain"
    for needle in needles:
        assert needle in response.text
