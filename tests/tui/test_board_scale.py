"""The board with 50,000 tasks: opens with every row, scrolls, and filters.

Behaviour only: how fast it opens and answers a key is the benchmark suite's to measure (`tui.board` in
benchmarks/, docs/performance.md). A timed assertion here failed CI under coverage on a loaded machine.
The test's own pytest-timeout only keeps a hang from stalling the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmtui.app import fixed_clock, make_app
from pmtui.config import load_settings
from pmtui.core.board import BoardFilter, query_board
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.screens.board import BoardScreen
from pmtui.widgets.task_table import TaskTable
from tests.tui.bulk import fill_bulk
from tests.tui.conftest import LARGE, NOW, settle

N = 50_000


@pytest.mark.slow
@pytest.mark.timeout(300)  # the hang guard: a board that never fills fails here, not the CI job
async def test_board_opens_fast_with_50k_tasks(tmp_path: Path) -> None:
    store = Store(tmp_path / "big.duckdb")
    fill_bulk(store, N)
    settings = load_settings(overrides={"timezone": "Europe/Berlin"})
    with Engine(settings, store) as engine:
        rows = query_board(store, BoardFilter(status="all"), now=NOW, tz=settings.tzinfo())
        assert len(rows) == N

        app = make_app(settings, engine, clock=fixed_clock(NOW), auto_sync=False, history_path=tmp_path / "h")
        async with app.run_test(size=LARGE) as pilot:
            await settle(pilot, rounds=1)
            await pilot.press("2")
            screen = app.screen
            assert isinstance(screen, BoardScreen)
            table = screen.query_one("#board-table", TaskTable)
            while len(table.rows) == 0:
                await pilot.pause(0.01)
            assert len(table.rows) == N * 3 // 4  # the open ones

            for _ in range(50):
                table.action_cursor_down()
                for y in range(table.size.height):
                    table.render_line(y)
            assert table.cursor == 50

            await pilot.press("slash", "4", "2")
            await settle(pilot, rounds=2)
            assert 0 < len(table.rows) < N
