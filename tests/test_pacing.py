"""The pacer, on a fake clock: spacing between request starts and the per-minute cap."""

from __future__ import annotations

import itertools

import pytest
from api_fakes import FakeClock

from trialfinder.ctgov.pacing import Pacer


def pacer(per_minute: float, clock: FakeClock) -> Pacer:
    return Pacer(per_minute, clock=clock.time, sleep=clock.sleep)


def test_the_first_request_starts_at_once_then_each_waits_the_interval() -> None:
    clock = FakeClock()
    paced = pacer(50, clock)
    assert paced.interval == pytest.approx(1.2)  # robots.txt's 1 s crawl delay, and then some
    for _ in range(4):
        paced.wait()
    assert clock.sleeps == [pytest.approx(1.2)] * 3


def test_time_already_spent_counts_toward_the_interval() -> None:
    clock = FakeClock()
    paced = pacer(30, clock)  # 2 s apart
    paced.wait()
    clock.now += 0.5  # the caller spent half a second handling the answer
    paced.wait()
    clock.now += 5.0  # and then more than the interval
    paced.wait()
    assert clock.sleeps == [pytest.approx(1.5)]


def test_pacer_spaces_requests_and_caps_the_minute() -> None:
    clock = FakeClock()
    paced = pacer(50, clock)
    starts = []
    for _ in range(120):
        paced.wait()
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 60 / 50 - 1e-9
    for start in starts:
        assert len([t for t in starts if start <= t < start + 60]) <= 50


def test_an_early_wake_up_is_made_up_by_the_window() -> None:
    # time.sleep may return early (a signal); the minute's cap still holds afterwards.
    clock = FakeClock()
    woken_early = [False]

    def sleep(seconds: float) -> None:
        if not woken_early[0]:
            woken_early[0] = True
            seconds /= 2
        clock.sleep(seconds)

    paced = Pacer(3, clock=clock.time, sleep=sleep)  # 20 s apart, at most 3 a minute
    starts = []
    for _ in range(12):
        paced.wait()
        starts.append(clock.now)
    assert starts[1] - starts[0] == pytest.approx(10.0)  # the early one
    for start in starts:
        assert len([t for t in starts if start <= t < start + 60]) <= 3


def test_a_rate_below_one_a_minute_only_spaces() -> None:
    clock = FakeClock()
    paced = pacer(0.5, clock)  # one start every two minutes
    paced.wait()
    paced.wait()
    assert clock.sleeps == [pytest.approx(120.0)]


def test_the_last_start_is_recorded_after_the_sleep() -> None:
    clock = FakeClock()
    paced = pacer(60, clock)
    paced.wait()
    paced.wait()  # sleeps 1 s, then starts
    clock.now += 0.25
    paced.wait()  # 0.75 s left of the interval since the second start
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(0.75)]
