"""Full garbage collections happen while the app rests, never while a person types (pmtui.idle_gc)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from pmtui.idle_gc import IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Node:
    """An object in a reference cycle: only the cyclic collector can reclaim it."""

    def __init__(self) -> None:
        self.me = self


def _survive() -> None:
    """Make objects survive into the oldest generation, as a running app does."""
    keep = [Node() for _ in range(2000)]
    gc.collect(1)
    del keep


@pytest.fixture
def collector() -> Iterator[tuple[IdleCollector, Clock]]:
    clock = Clock()
    idle = IdleCollector(idle_seconds=2.0, clock=clock)
    try:
        yield idle, clock
    finally:
        idle.release()


def test_no_collection_while_a_person_types(collector: tuple[IdleCollector, Clock]) -> None:
    idle, clock = collector
    for _ in range(10):
        clock.now += 1.5
        idle.touched()
        _survive()
        assert not idle.tick()
    assert gc.get_freeze_count() == 0


def test_at_rest_it_collects_once_and_freezes_the_survivors(collector: tuple[IdleCollector, Clock]) -> None:
    idle, clock = collector
    _survive()
    clock.now += 2.5
    assert idle.tick()
    frozen = gc.get_freeze_count()
    assert frozen > 1000
    assert not idle.tick()  # nothing survived since: no second collection
    _survive()
    assert idle.tick()


def test_garbage_among_the_frozen_is_reclaimed_at_the_next_rest(
    collector: tuple[IdleCollector, Clock],
) -> None:
    idle, clock = collector
    node = Node()
    gone = weakref.ref(node)
    clock.now += 2.5
    assert idle.tick()
    del node  # unreachable now, but frozen: no automatic collection looks at it
    gc.collect()
    assert gone() is not None
    _survive()
    assert idle.tick()
    assert gone() is None


def test_release_hands_every_object_back(collector: tuple[IdleCollector, Clock]) -> None:
    idle, clock = collector
    clock.now += 2.5
    _survive()
    assert idle.tick()
    assert gc.get_freeze_count() > 0
    idle.release()
    assert gc.get_freeze_count() == 0


def test_a_freeze_after_a_load_collects_nothing(collector: tuple[IdleCollector, Clock]) -> None:
    idle, _clock = collector
    full = gc.get_stats()[2]["collections"]
    idle.freeze()
    assert gc.get_freeze_count() > 1000
    assert gc.get_stats()[2]["collections"] == full
