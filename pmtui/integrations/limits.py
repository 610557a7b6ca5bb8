"""Rate limiting and retries shared by every call to a service in this process.

One :class:`RateLimiter` per service (and base URL): a token bucket refilled at the service's published
rate, which a throttled answer can also *pause* until its Retry-After has passed, so no caller retries
early. Callers say whether they are the user waiting on a write (``Lane.USER``) or background sync
(``Lane.BACKGROUND``); background callers yield while a user call is waiting.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TypeVar

from pmtui.errors import RateLimitedError, TransientError

log = logging.getLogger("pmtui.limits")

T = TypeVar("T")

DEFAULT_PER_MINUTE = {
    "motion": 12.0,  # Motion's individual tier (docs.usemotion.com cookbooks/rate-limits)
    "notion": 180.0,  # an average of 3 requests/second per connection
    "gitlab": 2000.0,  # GitLab.com authenticated API traffic per user
    "linear": 5000.0 / 60,  # request budget; Linear's headers then steer the real remaining budget
}
"""The published request budgets pmtui keeps to unless the config overrides them (API_NOTES.md §5)."""


def round_pages(share: float, per_minute: float) -> int:
    """Pages of a full scan one sync may read: ``share`` of a minute's budget, at least one.

    Shared by the Motion client (what it reads) and the progress line (what it promises), so both agree.
    """
    return max(1, int(share * per_minute + 1e-9))


class Lane(Enum):
    """Who is waiting: the user (a write they asked for) goes before background sync reads."""

    USER = "user"
    BACKGROUND = "background"


_USER_WAITS: contextvars.ContextVar[bool] = contextvars.ContextVar("pmtui_user_waits", default=False)


@contextlib.contextmanager
def user_lane() -> Iterator[None]:
    """Every call made inside (in this thread) is the user's: a write's read-back goes in the user lane
    too, so it is never queued behind a background scan of the same service."""
    token = _USER_WAITS.set(True)
    try:
        yield
    finally:
        _USER_WAITS.reset(token)


def lane_now(lane: Lane) -> Lane:
    """``lane``, or the user's lane inside :func:`user_lane`."""
    return Lane.USER if _USER_WAITS.get() else lane


class RateLimiter:
    """A token bucket with a pause, safe across threads.

    ``per_minute`` tokens per minute with a burst of ``burst`` (default: a tenth of a minute's budget,
    or exactly 1 below 60/min), so a fresh process does not spend a whole minute's budget in one second.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        if burst is None:
            # Under 60/min a burst above 1 lets a fresh process fit one request too many into a
            # service's fixed one-minute window (Motion: 13 in 60 s at 12/min); space calls evenly instead.
            burst = 1.0 if per_minute < 60 else per_minute / 10.0
        self.capacity = max(1.0, burst)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._paused_until = 0.0
        self._user_waiting = 0
        self.requests = 0
        """Tokens taken so far: the number of requests sent through this limiter (for SyncRun.requests)."""
        self.service = ""
        self.max_wait: float | None = None
        """Longest pause a caller sleeps through; beyond it :meth:`acquire` raises RateLimitedError at once
        (``[sync] max_retry_after_seconds``), so one throttled service never holds a sync. None: no cap."""
        self._lock = threading.Condition()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def pause_until(self, moment: float) -> None:
        """Hold every caller until ``moment`` (this limiter's clock), e.g. a Retry-After."""
        with self._lock:
            self._paused_until = max(self._paused_until, moment)
            self._tokens = 0.0
            self._lock.notify_all()

    def pause_for(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now."""
        self.pause_until(self._clock() + max(0.0, seconds))

    def observe_remaining(self, remaining: float, reset_in: float) -> None:
        """Trust the service's own count: when it says the budget is spent, wait for its reset."""
        if remaining <= 0 and reset_in > 0:
            self.pause_for(reset_in)

    def wait_time(self) -> float:
        """Seconds until a token would be available (0 if one is)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            pause = max(0.0, self._paused_until - now)
            need = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            return max(pause, need)

    @property
    def remaining(self) -> float:
        """Tokens available now (fractional, refilled to this moment); takes none and ignores a pause."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def acquire(self, lane: Lane = Lane.BACKGROUND) -> float:
        """Take one token, sleeping as needed; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            if lane is Lane.USER:
                self._user_waiting += 1
            try:
                while True:
                    now = self._clock()
                    self._refill(now)
                    pause = self._paused_until - now
                    if self.max_wait is not None and pause > self.max_wait:
                        raise rate_limited_until(self.service or "the service", pause, self.max_wait)
                    blocked_by_user = lane is Lane.BACKGROUND and self._user_waiting > 0
                    if pause <= 0 and self._tokens >= 1 and not blocked_by_user:
                        self._tokens -= 1
                        self.requests += 1
                        return waited
                    delay = max(pause, (1 - self._tokens) / self.rate if self._tokens < 1 else 0.0, 0.01)
                    delay = min(delay, 1.0) if blocked_by_user else delay
                    self._lock.release()
                    try:
                        self._sleep(delay)
                    finally:
                        self._lock.acquire()
                    waited += delay
            finally:
                if lane is Lane.USER:
                    self._user_waiting -= 1
                    self._lock.notify_all()


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(service: str, base_url: str, per_minute: float | None = None) -> RateLimiter:
    """The process-wide limiter of one service at one base URL (created on first use)."""
    key = (service, base_url)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = RateLimiter(per_minute or DEFAULT_PER_MINUTE.get(service, 60.0))
            limiter.service = service
            _LIMITERS[key] = limiter
        return limiter


def rate_limited_until(service: str, seconds: float, cap: float) -> RateLimitedError:
    """The error for a wait beyond the cap: it names the moment the service may be called again."""
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    error = RateLimitedError(
        f"rate-limited until {until.astimezone():%H:%M:%S} "
        f"(asked to wait {seconds:.0f} s, more than the {cap:g} s pmtui waits)",
        service=service,
        retry_after=seconds,
    )
    error.until = until
    return error


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header value (delta seconds or an HTTP date), or None.

    Never negative: a date already past means "now". Shared by every integration whose service sends
    the standard header, so they all wait the same way.
    """
    if not value:
        return None
    text = value.strip()
    with contextlib.suppress(ValueError):
        return max(0.0, float(text))
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def backoff_delay(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(cap, base*2^n)]."""
    upper = min(cap, base * (2**attempt))
    return (rng or random).uniform(0, upper)


def with_retries(
    call: Callable[[], T],
    *,
    limiter: RateLimiter | None,
    service: str,
    lane: Lane = Lane.BACKGROUND,
    attempts: int = 5,
    retry_transient: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, Exception, float], None] | None = None,
    base_delay: float = 0.5,
) -> T:
    """Run ``call`` under the limiter, retrying throttling always and transient failures when allowed.

    A throttled answer pauses the whole limiter for exactly its Retry-After, so no other caller
    retries early either. ``retry_transient=False`` is for writes whose outcome would be unknown
    (a create without a client id): the caller recovers through the idempotency key instead.
    """
    attempt = 0
    lane = lane_now(lane)
    while True:
        if limiter is not None:
            limiter.acquire(lane)
        try:
            return call()
        except RateLimitedError as exc:
            attempt += 1
            if attempt >= attempts:
                raise
            delay = (
                exc.retry_after if exc.retry_after is not None else backoff_delay(attempt, base=base_delay)
            )
            cap = limiter.max_wait if limiter is not None else None
            if limiter is not None:
                limiter.pause_for(delay)
            if cap is not None and delay > cap:
                raise rate_limited_until(service, delay, cap) from exc
            else:
                sleep(delay)
            log.info(
                "%s throttled; waiting %.1fs (attempt %d)",
                service,
                delay,
                attempt,
                extra={"service": service, "retry_after": delay},
            )
            if on_retry:
                on_retry(attempt, exc, delay)
        except TransientError as exc:
            attempt += 1
            if not retry_transient or attempt >= attempts:
                raise
            delay = backoff_delay(attempt, base=base_delay)
            log.info(
                "%s transient failure (%s); retrying in %.1fs",
                service,
                exc.message,
                delay,
                extra={"service": service},
            )
            if on_retry:
                on_retry(attempt, exc, delay)
            sleep(delay)


def create_once(
    post: Callable[[], T],
    find: Callable[[], T | None],
    *,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Create; after an unknown outcome look for what was created, and create again only if it is absent.

    For services that keep no client-chosen id (Motion, Notion, GitLab): ``find`` looks the object up
    by the idempotency marker the create carried, so a dropped connection never makes a duplicate.
    """
    attempt = 0
    while True:
        try:
            return post()
        except TransientError:
            attempt += 1
            found = find()
            if found is not None:
                return found
            if attempt >= attempts:
                raise
            sleep(backoff_delay(attempt))
