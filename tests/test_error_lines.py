"""An error is one short line (issue 10): HTML error pages by their title, long bodies and the
long query strings of widened searches cut."""

from __future__ import annotations

from clirun import run
from ctgov_server import FakeCtGov

from trialfinder.errors import ApiResponseError

FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6", "TRIALFINDER_RETRIES": "0"}
PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title>"
    "<style>body{color:red}</style></head>\n<body><h1>Service Unavailable</h1>"
    + "<p>maintenance</p>" * 500
    + "</body></html>"
)


def test_an_html_error_page_is_named_by_its_title_on_one_line() -> None:
    with FakeCtGov() as server:
        base = server.base_url
        server.fail_next(503, body=PAGE)
        result = run(
            ["search", "-c", "lymphoma", "--car-t", "--after-car-t"],
            {"TRIALFINDER_API_URL": server.base_url, **FAST},
        )
    assert result.code == 1
    error = result.err_lines[0]
    assert error == (
        "Error: the API answered HTTP 503: 503 Service Temporarily Unavailable "
        f"(request: {base}/studies)"
    )
    assert len(error) < 200 and [line for line in result.err_lines if line.startswith("Error")] == [
        error
    ]


def test_long_bodies_and_urls_are_cut() -> None:
    error = ApiResponseError(400, "bad " * 500, "https://x.test/api/v2/studies/" + "a" * 300)
    assert len(error.message) < 320 and error.message.count("…") == 2
    page = ApiResponseError(500, "<html><body><p>Oops &amp; sorry</p></body></html>", "u")
    assert page.message == "the API answered HTTP 500: Oops & sorry (request: u)"
    assert (
        ApiResponseError(502, "", "u").message
        == "the API answered HTTP 502: (empty body) (request: u)"
    )
