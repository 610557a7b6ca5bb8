"""Fill a cache with N generated tasks straight in SQL (for the 50,000-task board checks)."""

from __future__ import annotations

from pmtui.core.store import Store

_EPOCH = "TIMESTAMPTZ '2026-01-01 00:00:00+00'"


def fill_bulk(store: Store, n: int) -> None:
    """N tasks over 40 projects, 4 services (keys like MOT-12), labels, due dates around 2026-11-24."""
    store._exec(
        "INSERT INTO projects (id, name, description, status, start, due, created_at, updated_at, deleted) "
        f"SELECT 'p' || i, 'Project ' || i, '', 'active', NULL, NULL, {_EPOCH}, {_EPOCH}, FALSE "
        "FROM range(40) r(i)"
    )
    store._exec(
        "INSERT INTO tasks (id, title, description, status, priority, due, due_all_day, duration_minutes, "
        "labels, kind, project_id, milestone_id, assignee, scheduled_start, scheduled_end, created_at, "
        "updated_at, completed_at, deleted) "
        "SELECT 't' || lpad(i::VARCHAR, 6, '0'), 'Bulk task number ' || i, '', "
        "(['todo', 'in_progress', 'done', 'todo'])[i % 4 + 1], "
        "(['none', 'low', 'medium', 'high', 'urgent'])[i % 5 + 1], "
        "CASE WHEN i % 7 = 0 THEN NULL "
        "ELSE TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_days((i % 60)::INTEGER) END, "
        "TRUE, NULL, [(['bug', 'ops', 'docs', 'ui'])[i % 4 + 1]], 'general', 'p' || (i % 40), NULL, NULL, "
        f"NULL, NULL, {_EPOCH}, {_EPOCH}, NULL, FALSE "
        f"FROM range({int(n)}) r(i)"
    )
    store._exec(
        "INSERT INTO external_refs (entity, entity_id, service, external_id, key, url, container, "
        "remote_updated_at, base, idempotency_key, synced_at) "
        "SELECT 'task', 't' || lpad(i::VARCHAR, 6, '0'), "
        "(['motion', 'linear', 'notion', 'gitlab'])[i % 4 + 1], 'x' || i, "
        "(['MOT', 'ENG', 'DOC', 'GL'])[i % 4 + 1] || '-' || i, NULL, NULL, NULL, '{}', NULL, NULL "
        f"FROM range({int(n)}) r(i)"
    )
