"""kill -9 while the cache of generated code is being saved: the next process finds the whole old cache,
the whole new one, or none, and its classes behave the same in every case (:mod:`pmtui.gencode`)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pmtui import gencode

MAKE = """
import dataclasses, hashlib, json, sys
from pathlib import Path
from pmtui import gencode

gencode.enable()
gencode.install(Path(sys.argv[1]), "kill")
before = len(gencode._cache)
made = []
for n in range(int(sys.argv[2])):  # many classes: a save long enough to be killed in
    cls = dataclasses.make_dataclass(
        f"C{n}", [(f"f{n}_{k}", int, dataclasses.field(default=k)) for k in range(n % 7 + 1)], order=True
    )
    made.append(repr(cls()) + str(cls() == cls()) + str(cls() < cls()))
digest = hashlib.sha256("|".join(made).encode()).hexdigest()  # short: a full pipe would block the exit
print(json.dumps({"loaded": before, "digest": digest}), flush=True)
import atexit
atexit.register(lambda: print("saving", file=sys.stderr, flush=True))  # runs just before the cache's save
"""


def _start(folder: Path, classes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", MAKE, str(folder), str(classes)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(folder: Path, classes: int) -> dict[str, object]:
    child = _start(folder, classes)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return json.loads(out)


def _kill(folder: Path, classes: int, moment: str) -> None:
    """Start a process that makes ``classes`` dataclasses and saves them; kill -9 it at ``moment``:
    ``temporary`` as soon as its save's temporary file exists, ``saving`` a random 0-20 ms into its
    save."""
    child = _start(folder, classes)
    try:
        if moment == "saving":
            assert child.stderr is not None
            assert child.stderr.readline().strip() == "saving"
            time.sleep(random.uniform(0, 0.02))
        else:
            while child.poll() is None and not list(folder.glob("*.tmp")):
                pass  # no sleep: the window is a few milliseconds wide
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGKILL)
    finally:
        child.communicate(timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["temporary", "saving"])
def test_a_save_killed_at_any_moment_leaves_a_whole_cache_or_none(tmp_path: Path, moment: str) -> None:
    folder = tmp_path / "cache"
    expected = _finish(tmp_path / "reference", 600)["digest"]
    path = gencode.cache_file(folder, "kill")
    sizes: set[int] = set()
    for round_ in range(12):
        classes = 600 + 50 * (round_ % 3)  # new classes each round: every run has something to save
        _kill(folder, classes, moment)
        loaded = gencode._load(path) if path.exists() else {}
        sizes.add(len(loaded))
        assert not path.exists() or loaded, "a killed save left a cache file that is not whole"
        run = _finish(folder, 600)
        assert run["digest"] == expected
        assert run["loaded"] == len(loaded)  # what a process finds is exactly what was there: whole
    assert max(sizes) > 0, "no save ever completed: the kills came too early to test anything"
    assert _finish(folder, 600)["loaded"] >= 3000


def test_a_later_save_removes_what_killed_saves_left(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    path = gencode.cache_file(folder, "kill")
    old = folder / f"{path.name}.4242.tmp"
    fresh = folder / f"{path.name}.4343.tmp"
    for leftover in (old, fresh):
        leftover.write_bytes(b"half a save")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))

    _finish(folder, 20)
    assert not old.exists()  # abandoned long ago
    assert fresh.exists()  # may be another process's save in progress
    assert path.exists()
