"""Full garbage collections while a person rests, not while they type.

The app holds a large heap for as long as it runs: Textual's widgets, styles and line caches, and the
rows of the screens (240,000 objects tracked by the collector with a 50,000-task board open). Python
collects its oldest generation when enough new objects have survived, whatever is happening, and at
that size one full collection takes 120-160 ms on a 2-core VM: every fourth press of a number key
paid for one. So once the app has been left alone for :data:`IDLE_SECONDS` and objects have survived
since the last time, :class:`IdleCollector` collects everything and freezes what survives
(:func:`gc.freeze`): the collections that still come during typing look only at what is newer, about
15 ms. Frozen objects are never lost: the next idle collection unfreezes them first, so garbage that
became unreachable meanwhile is reclaimed then, and :meth:`IdleCollector.release` hands everything
back when the app ends. Right after a large load (the first frame, the board's rows) the app also
freezes what is alive without collecting (:meth:`IdleCollector.freeze`, no pause at all), so the
collections that come before the first rest skip the load too.

A one-shot command (``pmtui sync``, ``briefing``, ``conflicts``) has the opposite shape: its start-up
imports some 900 modules, whose 70,000 objects nearly all stay alive. The collector ran about 190 times
while a quiet sync made them: 36-45 ms of its 0.6-0.7 s of CPU, for about 1,200 objects of garbage in
all (``gc.callbacks``, three runs). So the launcher pauses the collector for the start-up
(:func:`pause_for_start_up`) and the command turns it back on where its real work begins
(:func:`start_up_over`), with what the start-up made frozen out of its scans. `pmtui sync` builds the
services' integrations, importing their client libraries (gql, python-gitlab, ...), before that: built
in the round, their 45,000 objects were traversed by about 90 collections, 16 ms; 5 ms are left.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("pmtui.idle_gc")

IDLE_SECONDS = 2.0
"""How long without a key or a mouse event before the app collects."""


_paused = False


def pause_for_start_up() -> None:
    """No collections until :func:`start_up_over`: a one-shot command's imports make no garbage."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def start_up_over() -> None:
    """Collect again, with everything alive now frozen (it is the start-up's, and stays): a no-op unless
    :func:`pause_for_start_up` paused the collector."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def _survivals() -> int:
    """How many times the collector has moved objects up into the oldest generation so far."""
    return int(gc.get_stats()[1]["collections"])


class IdleCollector:
    """Collect and freeze at rest; call :meth:`touched` on input and :meth:`tick` about once a second."""

    def __init__(
        self, idle_seconds: float = IDLE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._last_input = clock()
        self._seen: int | None = None

    def touched(self) -> None:
        """A person did something: no collection for the next :attr:`idle_seconds`."""
        self._last_input = self._clock()

    def resting(self) -> bool:
        """Whether :attr:`idle_seconds` have passed since the last input."""
        return self._clock() - self._last_input >= self.idle_seconds

    def tick(self) -> bool:
        """Collect and freeze if the app is at rest and objects survived since last time; True if it did."""
        if not self.resting() or _survivals() == self._seen:
            return False
        started = time.perf_counter()
        gc.unfreeze()
        unreachable = gc.collect()
        gc.freeze()
        self._seen = _survivals()
        log.debug(
            "idle collection",
            extra={
                "unreachable": unreachable,
                "frozen": gc.get_freeze_count(),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return True

    def freeze(self) -> None:
        """Take every object alive now out of the collections to come, with no pause (nothing is collected).

        For the moment right after a large load (the first frame, the board's rows), when nearly all of
        it stays alive: the full collections before the next rest then skip it. Garbage among it is
        reclaimed at that rest, which unfreezes first.
        """
        gc.freeze()

    def release(self) -> None:
        """Give every frozen object back to the collector (the app is ending)."""
        gc.unfreeze()
