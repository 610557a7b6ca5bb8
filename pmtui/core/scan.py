"""A full scan spread over syncs, for a service without an "updated since" filter (Motion).

Motion lists 50 unresolved tasks a request, at 12 requests a minute, and cannot say what changed: a
workspace of 11,000 tasks is 220 requests, 18 minutes of the whole budget. One sync therefore reads at
most :meth:`~pmtui.integrations.base.SpreadScanning.round_pages` pages (``[motion] scan_share`` of a minute's
budget) and the next sync goes on from there. The pass's state lives in the ``tasks-scan`` cursor row:
the service's page cursor to resume at, the pages the pass has read so far, and the length of the last
complete pass (the estimate shown as progress). The ids the pass has listed go to the ``scan_seen``
table, a page's rows at a time (in the cursor row they were rewritten whole with every page, which made a
pass quadratic in its length).

A task missing from the listing is a deletion candidate only once a pass is *complete*: a partial pass
has not read every page, so what it did not see proves nothing.

The listing's order cannot be chosen (creation order; Motion filters by status, assignee, label,
project and name, never by due date or update time), so "most relevant first" comes from elsewhere:
pmtui's own writes read the task back in the write's answer, and a task opened in the app is read
directly; the scan only finds what changed in Motion itself.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pmtui.errors import ValidationError
from pmtui.integrations.base import ChangePage, Integration, SpreadScanning
from pmtui.integrations.limits import DEFAULT_PER_MINUTE, round_pages
from pmtui.models import Service

log = logging.getLogger("pmtui.sync")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SCAN_RESOURCE = "tasks-scan"
"""The cursor row (``sync_cursors.resource``) holding a spread scan's state."""


@dataclass
class ScanState:
    """Where a spread scan stands; stored as JSON in the ``tasks-scan`` cursor row."""

    resume: str | None = None
    """The service's page cursor where the next sync continues; None: the next sync starts a pass."""
    pages: int = 0
    """Pages the current pass has read (0 between passes)."""
    last_pass_pages: int | None = None
    """Pages of the last complete pass: the estimate of the current one's length."""
    passes: int = 0
    """Complete passes so far."""
    legacy_seen: list[str] = field(default_factory=list, compare=False, repr=False)
    """Ids a state written before ``scan_seen`` existed kept inline; moved to the table when read."""

    @classmethod
    def parse(cls, text: str | None) -> ScanState:
        """The stored state; anything unreadable starts a new pass (a scan loses nothing by restarting)."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(
                resume=str(raw["resume"]) if raw.get("resume") else None,
                pages=int(raw.get("pages", 0)),
                legacy_seen=[str(i) for i in raw.get("seen", [])],
                last_pass_pages=int(raw["last_pass_pages"]) if raw.get("last_pass_pages") else None,
                passes=int(raw.get("passes", 0)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("unreadable %s state; the next sync starts a new pass", SCAN_RESOURCE)
            return cls()

    def dump(self) -> str:
        """The JSON kept in the cursor row: a few numbers and the service's resume position."""
        return json.dumps(
            {
                "resume": self.resume,
                "pages": self.pages,
                "last_pass_pages": self.last_pass_pages,
                "passes": self.passes,
            }
        )


class SpreadScan:
    """One sync's share of a pass: its pages, then the state the next sync continues from."""

    def __init__(self, store: Any, service: Service, integration: SpreadScanning, per_round: int) -> None:
        self.store = store
        self.service = service
        self.integration = integration
        self.per_round = per_round
        self.state = ScanState.parse(store.get_cursor(service, SCAN_RESOURCE))
        if self.state.legacy_seen:
            store.scan_seen_add(service, self.state.legacy_seen)
            self.state.legacy_seen = []
        self.completed = False
        """Set when this sync read the pass's last page: ``seen_all`` is then the whole pass's evidence."""
        self.seen_all: set[str] = set()
        self._stamps: dict[str, int | None] | None = None

    @classmethod
    def start(cls, store: Any, service: Service, integration: Integration) -> SpreadScan | None:
        """The spread scan of a service whose listing one sync may not finish; None for the others."""
        if not isinstance(integration, SpreadScanning):
            return None
        return cls(store, service, integration, integration.round_pages())

    @property
    def spreads(self) -> bool:
        """Whether the pass takes more than this sync: one is under way, or the last needed more pages."""
        return self.state.resume is not None or (self.state.last_pass_pages or 0) > self.per_round

    def _known(self, ids: list[str]) -> Mapping[str, datetime | None]:
        """The cache's update time of each listed id that it holds (read once a sync, for all pages)."""
        if self._stamps is None:
            self._stamps = self.store.ref_stamps(self.service)
        known: dict[str, datetime | None] = {}
        for ident in ids:
            if ident in self._stamps:
                micros = self._stamps[ident]
                known[ident] = None if micros is None else _EPOCH + timedelta(microseconds=micros)
        return known

    def _listing(self, cursor: str | None) -> Iterator[ChangePage]:
        return self.integration.scan(
            cursor, resume=self.state.resume, max_pages=self.per_round, known=self._known
        )

    def pages(self, cursor: str | None) -> Iterator[ChangePage]:
        """This sync's pages; a resume position the service no longer accepts restarts the pass."""
        first = True
        try:
            for page in self._listing(cursor):
                first = False
                yield page
        except ValidationError as exc:
            if not first or self.state.resume is None:
                raise
            log.warning(
                "%s refused the scan's resume position (%s); starting a new pass",
                self.service.label,
                exc.message,
                extra={"service": self.service.value},
            )
            self.state = ScanState(last_pass_pages=self.state.last_pass_pages, passes=self.state.passes)
            self.store.scan_seen_clear(self.service)
            yield from self._listing(cursor)

    def record(self, page: ChangePage) -> None:
        """Count a stored page in the pass (called in the page's transaction, so a crash loses neither)."""
        state = self.state
        if state.pages == 0:  # a new pass: what an abandoned one listed proves nothing now
            self.store.scan_seen_clear(self.service)
        state.pages += 1
        self.store.scan_seen_add(self.service, page.seen or [])
        if page.last:
            self.completed = True
            self.seen_all = self.store.scan_seen_ids(self.service)
            self.store.scan_seen_clear(self.service)
            self.state = ScanState(last_pass_pages=state.pages, passes=state.passes + 1)
        else:
            state.resume = page.resume
        self.store.set_cursor(self.service, SCAN_RESOURCE, self.state.dump())


@dataclass(frozen=True)
class ScanProgress:
    """How far the current pass is, and when it completes at the configured budget and interval."""

    service: Service
    pages_done: int
    pages_total: int | None
    """The last complete pass's length (None before the first pass completes)."""
    per_round: int
    per_minute: float
    interval_seconds: int
    passes: int

    @property
    def in_progress(self) -> bool:
        """A pass has started and not completed: the line then promises when it will."""
        return self.pages_done > 0

    @property
    def spreads(self) -> bool:
        """A pass takes more than one sync (worth showing even between passes)."""
        return self.pages_total is not None and self.pages_total > self.per_round

    def syncs_left(self) -> int | None:
        """Syncs until the pass completes (None when the pass's length is not known yet)."""
        if self.pages_total is None:
            return None
        left = max(self.pages_total - self.pages_done, 1)
        return math.ceil(left / self.per_round)

    def seconds_left(self) -> float | None:
        """Until the pass completes: the syncs left, one interval apart (the reading is within each)."""
        syncs = self.syncs_left()
        return None if syncs is None else float(syncs * self.interval_seconds)

    def line(self) -> str:
        """What the sync screen and `pmtui doctor` print, e.g. "Motion: full scan 3 of 12 pages, complete
        in ~10 min (2 more syncs, 6 pages each at 12 req/min)"."""
        label, rate = self.service.label, f"{_pages(self.per_round)} each at {self.per_minute:g} req/min"
        total = self.pages_total
        if self.in_progress:
            seconds, syncs = self.seconds_left(), self.syncs_left()
            if seconds is None or syncs is None or total is None:
                return f"{label}: first full scan, {_pages(self.pages_done)} so far ({rate})"
            shown = max(total, self.pages_done + 1)
            return (
                f"{label}: full scan {self.pages_done} of {_pages(shown)}, complete in "
                f"~{_minutes(seconds)} ({syncs} more sync{'s' if syncs != 1 else ''}, {rate})"
            )
        if total is None:
            return f"{label}: no full scan yet ({rate})"
        syncs = math.ceil(total / self.per_round)
        if syncs <= 1:  # "1 sync, 3000 pages each" read oddly for a pass of one page
            one = f"read in one sync at {self.per_minute:g} req/min"
            return f"{label}: full scan complete ({_pages(total)}, {one})"
        return f"{label}: full scan complete ({_pages(total)}; a pass takes {syncs} syncs, {rate})"


def _pages(count: int) -> str:
    return f"{count} page{'s' if count != 1 else ''}"


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))} min"


def scan_progress(store: Any, settings: Any, service: Service = Service.MOTION) -> ScanProgress | None:
    """The spread scan's progress from the cache alone (no request); None if no scan was ever stored."""
    text = store.get_cursor(service, SCAN_RESOURCE)
    if text is None:
        return None
    state = ScanState.parse(text)
    section = settings.service(service)
    per_minute = float(section.requests_per_minute or DEFAULT_PER_MINUTE.get(service.value, 60.0))
    share = float(getattr(section, "scan_share", 1.0))
    return ScanProgress(
        service=service,
        pages_done=state.pages,
        pages_total=state.last_pass_pages,
        per_round=round_pages(share, per_minute),
        per_minute=per_minute,
        interval_seconds=int(settings.sync.interval_seconds),
        passes=state.passes,
    )
