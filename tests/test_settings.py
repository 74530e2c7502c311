"""Settings: defaults, each TRIALFINDER_* variable, and one-line errors for bad values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from trialfinder.ctgov.settings import (
    BACKOFF_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    RATE_ENV,
    RETRIES_ENV,
    TIMEOUT_ENV,
    USER_AGENT,
    Settings,
)
from trialfinder.errors import UsageError

URL_HELP = "(expected http(s):// and a host, e.g. https://clinicaltrials.gov/api/v2)"


def test_defaults_from_an_empty_environment() -> None:
    assert Settings.from_env({}) == Settings(
        base_url="https://clinicaltrials.gov/api/v2",
        requests_per_minute=50.0,
        timeout=30.0,
        retries=5,
        backoff=1.0,
        max_backoff=60.0,
    )
    assert DEFAULT_BASE_URL == "https://clinicaltrials.gov/api/v2"
    assert USER_AGENT.startswith("trialfinder/")


def test_empty_values_mean_the_defaults() -> None:
    env = dict.fromkeys((BASE_URL_ENV, RATE_ENV, TIMEOUT_ENV, RETRIES_ENV, BACKOFF_ENV), "")
    assert Settings.from_env(env) == Settings.from_env({})


@pytest.mark.parametrize(
    ("name", "raw", "field", "value"),
    [
        (BASE_URL_ENV, "http://127.0.0.1:9/api/v2/", "base_url", "http://127.0.0.1:9/api/v2"),
        (BASE_URL_ENV, "https://example.org/v2", "base_url", "https://example.org/v2"),
        (RATE_ENV, "120", "requests_per_minute", 120.0),
        (RATE_ENV, "0.5", "requests_per_minute", 0.5),
        (TIMEOUT_ENV, "2.5", "timeout", 2.5),
        (TIMEOUT_ENV, "0", "timeout", 30.0),  # 0 would mean "never wait": it means the default
        (RETRIES_ENV, "0", "retries", 0),
        (RETRIES_ENV, "2.7", "retries", 2),
        (BACKOFF_ENV, "0", "backoff", 0.0),
        (BACKOFF_ENV, "3", "backoff", 3.0),
    ],
)
def test_each_variable(name: str, raw: str, field: str, value: object) -> None:
    got = Settings.from_env({name: raw})
    assert getattr(got, field) == value
    others = {f.name for f in dataclasses.fields(Settings)} - {field}
    defaults = Settings.from_env({})
    assert all(getattr(got, other) == getattr(defaults, other) for other in others)


def test_an_explicit_base_url_wins_over_the_environment() -> None:
    env = {BASE_URL_ENV: "http://127.0.0.1:9/api/v2"}
    assert Settings.from_env(env, base_url="https://example.org/v2/").base_url == (
        "https://example.org/v2"
    )
    assert Settings.from_env(env, base_url=None).base_url == "http://127.0.0.1:9/api/v2"


def test_without_a_mapping_it_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RATE_ENV, "12")
    monkeypatch.setenv(RETRIES_ENV, "1")
    got = Settings.from_env()
    assert (got.requests_per_minute, got.retries) == (12.0, 1)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        (BASE_URL_ENV, "ftp://nope", f"invalid API URL 'ftp://nope' {URL_HELP}"),
        (BASE_URL_ENV, "http://", f"invalid API URL 'http://' {URL_HELP}"),
        (BASE_URL_ENV, "http://:80/v2", f"invalid API URL 'http://:80/v2' {URL_HELP}"),
        (BASE_URL_ENV, "http://h:port/v2", f"invalid API URL 'http://h:port/v2' {URL_HELP}"),
        (
            RATE_ENV,
            "fast",
            "invalid TRIALFINDER_REQUESTS_PER_MINUTE='fast' "
            "(expected a number of requests per minute)",
        ),
        (RATE_ENV, "0", "invalid request rate 0 (expected more than 0 per minute)"),
        (RATE_ENV, "-3", "invalid request rate -3 (expected more than 0 per minute)"),
        (TIMEOUT_ENV, "soon", "invalid TRIALFINDER_TIMEOUT='soon' (expected a number)"),
        (TIMEOUT_ENV, "-1", "invalid TRIALFINDER_TIMEOUT='-1' (expected 0 or more)"),
        (RETRIES_ENV, "many", "invalid TRIALFINDER_RETRIES='many' (expected a number)"),
        (RETRIES_ENV, "-2", "invalid TRIALFINDER_RETRIES='-2' (expected 0 or more)"),
        (BACKOFF_ENV, "x", "invalid TRIALFINDER_BACKOFF='x' (expected a number)"),
        (BACKOFF_ENV, "-0.5", "invalid TRIALFINDER_BACKOFF='-0.5' (expected 0 or more)"),
    ],
)
def test_bad_values_are_one_line_usage_errors(name: str, raw: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        Settings.from_env({name: raw})
    assert info.value.message == message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 2


def test_a_bad_explicit_base_url_is_the_same_error() -> None:
    with pytest.raises(UsageError) as info:
        Settings.from_env({}, base_url="ftp://nope")
    assert info.value.message == f"invalid API URL 'ftp://nope' {URL_HELP}"


def test_the_first_bad_value_is_reported_in_a_fixed_order() -> None:
    env = {
        BASE_URL_ENV: "nope",
        TIMEOUT_ENV: "x",
        RETRIES_ENV: "y",
        BACKOFF_ENV: "z",
        RATE_ENV: "w",
    }
    for name, starts in [
        (BASE_URL_ENV, "invalid API URL 'nope'"),
        (TIMEOUT_ENV, "invalid TRIALFINDER_TIMEOUT="),
        (RETRIES_ENV, "invalid TRIALFINDER_RETRIES="),
        (BACKOFF_ENV, "invalid TRIALFINDER_BACKOFF="),
        (RATE_ENV, "invalid TRIALFINDER_REQUESTS_PER_MINUTE="),
    ]:
        with pytest.raises(UsageError) as info:
            Settings.from_env(env)
        assert info.value.message.startswith(starts)
        del env[name]
    assert Settings.from_env(env) == Settings.from_env({})


def test_direct_construction_checks_the_url_and_rate() -> None:
    assert Settings("http://a.test/v2/", 10.0, 5.0, 1, 1.0).base_url == "http://a.test/v2"
    with pytest.raises(UsageError, match="invalid API URL"):
        Settings("nope", 10.0, 5.0, 1, 1.0)
    with pytest.raises(UsageError, match=r"invalid request rate 0 \(expected more than 0"):
        Settings(DEFAULT_BASE_URL, 0.0, 5.0, 1, 1.0)


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 1.0  # type: ignore[misc]


def test_importing_settings_does_not_import_httpx() -> None:
    # `--help` must stay fast even when a CLI module imports Settings at its top.
    code = "import sys, trialfinder.ctgov.settings; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
