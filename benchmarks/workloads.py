"""Workloads: a seeded sandbox with settings pointing at it, and a directly filled N-task cache.

Sandbox runs go through the real clients and HTTP (rate limits off unless a case turns them on, and
pmtui's own client budget raised out of the way). The directly filled cache is for the cases that
measure reading a big cache (briefing, board, TUI, mirror): building 50,000 tasks through a sync takes
far longer than what those cases measure.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pmtui.config import Settings, load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import EntityType, Priority, Project, Service, Status, SyncRun, Task
from pmtui.sandbox.runner import Sandbox, start_sandbox

SERVICES = ("linear", "gitlab", "notion", "motion")

PAGE_SIZE = {"linear": 250, "gitlab": 100, "notion": 100, "motion": 50}
"""The largest page each API returns (Motion's is fixed)."""

LIST_REQUEST = {
    "linear": "graphql:issues",
    "gitlab": "GET /api/v4/projects/:id/issues",
    "notion": "POST /v1/data_sources/:data_source_id/query",
    "motion": "GET /v1/tasks",
}
"""The emulator's request-count key of each service's task listing."""

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def pages(count: int, service: str) -> int:
    """ceil(count / page size), at least one (an empty listing still costs a request)."""
    return max(1, math.ceil(count / PAGE_SIZE[service]))


@dataclass
class SandboxWorld:
    """A running sandbox and the settings that point pmtui at it."""

    sandbox: Sandbox
    settings: Settings
    per_service: int
    folder: Path

    def engine(self, name: str = "cache.duckdb") -> Engine:
        return Engine(self.settings, Store(self.folder / name))

    def list_requests(self) -> dict[str, int]:
        counts = self.sandbox.request_counts()
        return {s: counts.get(s, {}).get(LIST_REQUEST[s], 0) for s in self.sandbox.running}

    def later(self, seconds: float = 120) -> None:
        self.sandbox.clock.advance(seconds)


def sandbox_settings(sandbox: Sandbox, *, requests_per_minute: float | None = 600_000) -> Settings:
    """Settings for ``sandbox`` with its keys in the environment (the caller's run restores it)."""
    os.environ.update(sandbox.env())
    overrides: dict[str, Any] = sandbox.settings_dict()
    if requests_per_minute is not None:
        for section in overrides.values():
            section["requests_per_minute"] = requests_per_minute
    overrides["timezone"] = "UTC"
    return load_settings(overrides=overrides)


@contextmanager
def sandbox_world(
    per_service: int,
    folder: Path,
    *,
    services: tuple[str, ...] = SERVICES,
    rate_limits: bool = False,
    requests_per_minute: float | None = 600_000,
) -> Iterator[SandboxWorld]:
    """The four (or ``services``) emulators seeded with ``per_service`` bulk tasks each."""
    with start_sandbox(seed=str(per_service), rate_limits=rate_limits, services=services) as sandbox:
        settings = sandbox_settings(sandbox, requests_per_minute=requests_per_minute)
        yield SandboxWorld(sandbox, settings, per_service, folder)


# --------------------------------------------------------------------------------- remote changes


def change_remotely(
    world: SandboxWorld, store: Store, share: float, rng: random.Random
) -> dict[str, list[str]]:
    """Retitle ``share`` of each service's synced tasks as another user would; their ids, by service."""
    changed = {}
    for service in world.sandbox.running:
        refs = store.refs_for_service(Service(service))
        count = max(1, round(len(refs) * share))
        emulator = world.sandbox.emulator(service)
        picked = rng.sample(refs, count)
        for ref in picked:
            title = f"Changed {rng.randrange(10**9)}"
            emulator.admin_mutate(_retitle(service, ref.external_id, title))
        changed[service] = [ref.external_id for ref in picked]
    return changed


def _retitle(service: str, external_id: str, title: str) -> dict[str, Any]:
    if service == "linear":
        return {"op": "update", "kind": "issue", "id": external_id, "fields": {"title": title}}
    if service == "gitlab":
        return {"op": "update", "kind": "issue", "iid": int(external_id), "fields": {"title": title}}
    if service == "notion":
        return {"op": "update", "kind": "page", "id": external_id, "fields": {"Name": title}}
    return {"op": "update", "kind": "task", "id": external_id, "fields": {"name": title}}


# ------------------------------------------------------------------------------------ big caches

_STATUSES = (Status.TODO, Status.TODO, Status.IN_PROGRESS, Status.DONE, Status.TODO, Status.CANCELED)
_PRIORITIES = tuple(Priority)
_LABELS = ("bug", "ops", "docs", "ui", "backend", "blocked", "customer")
_PREFIX = {"linear": "ENG", "gitlab": "GL", "notion": "DOC", "motion": "MOT"}


def generate_tasks(n: int, *, projects: list[Project], now: datetime = NOW, seed: int = 0) -> list[Task]:
    """``n`` varied tasks: a sixth closed, due dates from a month ago to two months ahead, some undated."""
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        status = _STATUSES[i % len(_STATUSES)]
        due = None if i % 7 == 0 else now + timedelta(days=rng.randint(-30, 60), hours=rng.randint(0, 23))
        updated = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
        tasks.append(
            Task(
                id=f"t{i:07d}",
                title=f"Task {i} {rng.choice(('fix', 'write', 'review', 'ship', 'plan'))} "
                f"{rng.choice(('login', 'docs', 'billing', 'search', 'import'))}",
                status=status,
                priority=_PRIORITIES[i % len(_PRIORITIES)],
                due=due,
                due_all_day=i % 3 != 0,
                labels=rng.sample(_LABELS, k=i % 3),
                project_id=projects[i % len(projects)].id if projects and i % 5 else None,
                created_at=updated - timedelta(days=10),
                updated_at=updated,
                completed_at=updated if status is Status.DONE else None,
            )
        )
    return tasks


def make_projects(count: int = 40) -> list[Project]:
    return [Project(id=f"p{i:03d}", name=f"Project {i}") for i in range(count)]


def fill_cache(store: Store, n: int, *, now: datetime = NOW, chunk: int = 10_000) -> list[Task]:
    """Fill ``store`` with ``n`` tasks over 40 projects, a ref each on one of the four services, and one
    recent sync run per service (so the briefing's health section has something to say)."""
    projects = make_projects()
    store.upsert_projects(projects)
    tasks = generate_tasks(n, projects=projects, now=now)
    for start in range(0, n, chunk):
        store.upsert_tasks(tasks[start : start + chunk])
    add_refs(store)
    for service in SERVICES:
        run = SyncRun(
            run_id="bench", service=Service(service), status="ok", started_at=now - timedelta(minutes=5)
        )
        run.finished_at = now - timedelta(minutes=5)
        run.duration_ms = 1200
        store.record_sync_run(run)
    return tasks


def add_refs(store: Store) -> None:
    """One external ref per task, round-robin over the services, in one statement.

    ``Store.upsert_refs`` goes through ``executemany``, which would take minutes for 50,000 rows; the
    benchmark only needs the rows to exist, so it writes them with one INSERT ... SELECT.
    """
    services = "['" + "', '".join(SERVICES) + "']"
    prefixes = "['" + "', '".join(_PREFIX[s] for s in SERVICES) + "']"
    store._exec(
        "INSERT INTO external_refs (entity, entity_id, service, external_id, key, url, container, "
        "remote_updated_at, base, idempotency_key, synced_at) "
        f"SELECT '{EntityType.TASK.value}', id, {services}[n % 4 + 1], 'x' || n, "
        f"{prefixes}[n % 4 + 1] || '-' || n, NULL, NULL, updated_at, '{{}}', NULL, updated_at "
        "FROM (SELECT id, updated_at, row_number() OVER (ORDER BY id) AS n FROM tasks)"
    )
