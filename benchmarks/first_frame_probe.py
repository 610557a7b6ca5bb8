"""The app's first frame with data, as a user waits for it: ``python -m benchmarks.first_frame_probe``.

Run in a fresh process with PMTUI_HOME pointing at a filled cache. It goes the way ``pmtui`` does (the
settings, then :func:`pmtui.app.make_app` opening the engine over the cache), drives the app headless
with Pilot, and prints, as JSON, the wall-clock instant (``time.time()``) of the first frame drawn after
the briefing screen holds its data. The parent subtracts the instant it started the process, so the
interpreter's start and every import are counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

SIZE = (160, 45)
TIMEOUT = 60.0


async def probe() -> dict[str, Any]:
    from pmtui import gencode, paths

    gencode.enable()  # as pmtui.launch.main and open_app, before the app's imports
    gencode.install(paths.cache_dir(), "app")
    from pmtui.app import make_app
    from pmtui.config import load_settings

    settings = load_settings()
    app = make_app(settings, auto_sync=False)
    frames: list[float] = []
    display = app._display

    def has_data() -> bool:
        briefing = getattr(app.screen, "briefing", None)
        return briefing is not None

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if has_data():
            frames.append(time.time())

    app._display = timed_display  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.perf_counter() + TIMEOUT
        while not frames:
            if time.perf_counter() > deadline:
                raise TimeoutError("the briefing never showed its data")
            await asyncio.sleep(0.001)
        await pilot.pause()
    return {"first_data_frame_at": frames[0]}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe())))
