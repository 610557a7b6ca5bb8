"""The shared rate limiter and retry policy, on a fake clock (no sleeping)."""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from pmtui.errors import RateLimitedError, TransientError
from pmtui.integrations.base import split_marker, with_marker
from pmtui.integrations.limits import Lane, RateLimiter, backoff_delay, limiter_for, with_retries


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_allows_burst_then_paces_at_the_rate() -> None:
    fake = FakeTime()
    limiter = RateLimiter(12, burst=2, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(fake.now)
    assert starts[:2] == [1000.0, 1000.0]
    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    assert all(gap == pytest.approx(5.0, abs=0.05) for gap in gaps)


def test_pause_holds_callers_for_exactly_the_retry_after() -> None:
    fake = FakeTime()
    limiter = RateLimiter(6000, clock=fake.clock, sleep=fake.sleep)
    limiter.pause_for(7.5)
    limiter.acquire()
    assert fake.now >= 1007.5
    assert fake.now == pytest.approx(1007.5, abs=0.02)


def test_throttled_call_is_not_retried_before_retry_after() -> None:
    fake = FakeTime()
    limiter = RateLimiter(6000, clock=fake.clock, sleep=fake.sleep)
    calls: list[float] = []

    def call() -> str:
        calls.append(fake.now)
        if len(calls) < 3:
            raise RateLimitedError("slow down", service="motion", retry_after=4)
        return "ok"

    assert with_retries(call, limiter=limiter, service="motion", sleep=fake.sleep) == "ok"
    assert calls[1] - calls[0] >= 4
    assert calls[2] - calls[1] >= 4


def test_transient_failures_back_off_and_give_up() -> None:
    fake = FakeTime()
    attempts: list[int] = []

    def always_down() -> None:
        attempts.append(1)
        raise TransientError("503", service="gitlab", status=503)

    with pytest.raises(TransientError):
        with_retries(always_down, limiter=None, service="gitlab", attempts=4, sleep=fake.sleep)
    assert len(attempts) == 4
    assert len(fake.sleeps) == 3


def test_unknown_outcome_writes_are_not_retried_when_told() -> None:
    calls = []

    def create() -> None:
        calls.append(1)
        raise TransientError("connection dropped", service="motion")

    with pytest.raises(TransientError):
        with_retries(create, limiter=None, service="motion", retry_transient=False, sleep=lambda _s: None)
    assert calls == [1]


def test_backoff_has_full_jitter_under_the_cap() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, base=0.5, cap=8, rng=rng) for n in range(10)]
    assert all(0 <= d <= min(8, 0.5 * 2**n) for n, d in enumerate(delays))
    assert len(set(delays)) == len(delays)


def test_user_lane_goes_before_background() -> None:
    limiter = RateLimiter(600, burst=1)
    limiter.acquire()  # empty the bucket: the next token comes in 0.1 s
    order: list[str] = []
    ready = threading.Barrier(3)

    def take(lane: Lane, name: str) -> None:
        ready.wait()
        if lane is Lane.BACKGROUND:
            threading.Event().wait(0.02)  # the background caller arrives first
        limiter.acquire(lane)
        order.append(name)

    threads = [
        threading.Thread(target=take, args=(Lane.BACKGROUND, "sync")),
        threading.Thread(target=take, args=(Lane.USER, "user")),
    ]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join(5)
    assert order[0] == "user"


def test_limiters_are_shared_per_service_and_url() -> None:
    a = limiter_for("motion", "http://x")
    assert limiter_for("motion", "http://x") is a
    assert limiter_for("motion", "http://y") is not a
    assert a.rate == pytest.approx(12 / 60)


@pytest.mark.parametrize(
    ("text", "key"),
    [("", None), ("plain", None), ("body\n\n<!-- pmtui:id=abc123 -->", "abc123")],
)
def test_marker_round_trip(text: str, key: str | None) -> None:
    body, found = split_marker(text)
    assert found == key
    assert "pmtui:id" not in body
    marked = with_marker(body, "k1")
    assert split_marker(marked) == (body, "k1")
    assert split_marker(with_marker(marked, "k2")) == (body, "k2")
