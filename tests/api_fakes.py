"""Fakes for the API client's tests: a clock that moves only when slept, scripted handlers."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.settings import Settings

BASE_URL = "http://ctgov.test/api/v2"
EPOCH = 1_700_000_000.0  # the fake wall clock's Unix time when the fake monotonic clock reads 0

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A clock that only moves when the code under test sleeps; it records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fake_settings(**changes: Any) -> Settings:
    """The environment's defaults for the fake API, at a pace that keeps pacer sleeps tiny."""
    base = Settings.from_env({}, base_url=BASE_URL)
    return replace(base, **{"requests_per_minute": 6000.0, **changes})


def make_client(
    handler: Handler,
    clock: FakeClock | None = None,
    *,
    rng: random.Random | None = None,
    **changes: Any,
) -> CtGovClient:
    """A client on the fake clock, answered by `handler`; `changes` override the settings."""
    clock = clock or FakeClock()
    return CtGovClient(
        fake_settings(**changes),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=clock.sleep,
        clock=clock.time,
        wall_clock=clock.wall,
        rng=rng,
    )


def study(n: int) -> dict[str, object]:
    """A minimal raw study with NCT id number `n`."""
    return {"protocolSection": {"identificationModule": {"nctId": f"NCT{n:08d}"}}}


Answer = int | httpx.Response | type[httpx.TransportError]


def failing(*answers: Answer, then: Handler | None = None) -> Handler:
    """A handler giving these answers in turn (a status, a response, or an error to raise).

    After them it answers as `then` does, by default with an empty last page.
    """
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if not queue:
            return then(request) if then else httpx.Response(200, json={"studies": []})
        answer = queue.pop(0)
        if isinstance(answer, int):
            return httpx.Response(answer, text=f"status {answer}")
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("failed", request=request)

    return handler
