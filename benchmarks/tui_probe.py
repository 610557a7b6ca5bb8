"""One TUI measurement in its own process (so its peak memory is the app's): ``python -m
benchmarks.tui_probe CACHE FOLDER``; prints one JSON object.

It builds the app with ``make_app(settings, engine)`` over the cache, drives it with Pilot in a
headless 160x45 terminal, and times frames by wrapping ``App._display``: the compositor has rendered
the update when it is called (headless mode then skips only the terminal write).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

SIZE = (160, 45)
SCROLL_KEYS = 40
REST_S = 3.0
"""A pause with no input after the first keys, as a person reading (the app collects garbage then)."""
TIMEOUT = 30.0


async def probe(cache: Path, folder: Path) -> dict[str, Any]:
    from pmtui.app import make_app
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine
    from pmtui.core.store import Store

    started = time.perf_counter()
    settings = load_settings(overrides={"timezone": "UTC"})
    engine = Engine(settings, Store(cache))
    app = make_app(settings, engine, auto_sync=False, history_path=folder / "history.txt")
    frames: list[float] = []
    board_frames: list[tuple[float, int]] = []
    """Frames drawn while the board table held rows: the first one is when the user sees the board."""
    display = app._display

    def board_state() -> tuple[int, int]:
        """(rows, cursor) of the board table, (0, -1) when it is not on screen yet."""
        try:
            table: Any = app.screen.query_one("#board-table")
        except Exception:  # noqa: BLE001 - not on the board (yet): no rows to see
            return 0, -1
        return len(table.rows), int(table.cursor)

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None:
            now = time.perf_counter()
            frames.append(now)
            rows, cursor = board_state()
            if rows:
                board_frames.append((now, cursor))

    app._display = timed_display  # type: ignore[method-assign]

    async def frame_after(moment: float) -> float:
        deadline = time.perf_counter() + TIMEOUT
        while not frames or frames[-1] <= moment:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame came")
            await asyncio.sleep(0.0005)
        return next(f for f in frames if f > moment)

    async def cursor_frame_after(moment: float, old_cursor: int) -> float:
        """The first frame after ``moment`` that shows the cursor moved (not any unrelated repaint)."""
        deadline = time.perf_counter() + TIMEOUT
        while True:
            seen = [f for f, cursor in board_frames if f > moment and cursor != old_cursor]
            if seen:
                return seen[0]
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame showed the cursor move")
            await asyncio.sleep(0.0005)

    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await frame_after(started)
        result["first_frame_s"] = frames[0] - started
        await pilot.pause()
        pressed = time.perf_counter()
        await pilot.press("2")
        deadline = time.perf_counter() + TIMEOUT
        while not board_frames:
            if time.perf_counter() > deadline:
                raise TimeoutError("the board never showed rows")
            await asyncio.sleep(0.001)
        result["board_open_s"] = board_frames[0][0] - pressed
        table = app.screen.query_one("#board-table")
        result["board_rows"] = len(table.rows)  # type: ignore[attr-defined]
        await pilot.pause()
        rows = len(table.rows)  # type: ignore[attr-defined]

        async def scroll() -> list[float]:
            """SCROLL_KEYS keys, each timed from the press to the frame that shows the cursor moved."""
            latencies = []
            downwards = True
            for index in range(SCROLL_KEYS):
                old_cursor = int(table.cursor)  # type: ignore[attr-defined]
                # Turn at either end, so every key moves the cursor (a small board would stop scrolling).
                if old_cursor >= rows - 1:
                    downwards = False
                elif old_cursor <= 0:
                    downwards = True
                if index % 10 == 9:
                    key = "pagedown" if downwards else "pageup"
                else:
                    key = "down" if downwards else "up"
                pressed = time.perf_counter()
                await pilot.press(key)
                latencies.append((await cursor_frame_after(pressed, old_cursor) - pressed) * 1000)
            return sorted(latencies)

        latencies = await scroll()
        result["key_to_frame_ms_p50"] = latencies[len(latencies) // 2]
        result["key_to_frame_ms_max"] = latencies[-1]
        # A person reads before scrolling on: the app rests, then the same keys again.
        await asyncio.sleep(REST_S)
        rested = await scroll()
        result["rested_key_to_frame_ms_p50"] = rested[len(rested) // 2]
        result["rested_key_to_frame_ms_max"] = rested[-1]
    engine.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's own peak resident memory.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries it across ``execve``, so a probe started by a
    benchmark runner that had a 50,000-task sandbox in memory reported the runner's peak (472-535 MB),
    not the app's. ``VmHWM`` is the high-water mark of this process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    cache, folder = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(asyncio.run(probe(cache, folder))))


if __name__ == "__main__":
    main()
