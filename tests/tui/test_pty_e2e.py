"""What a new user meets first, end to end in a real pseudo-terminal: `pmtui demo` and bare `pmtui`.

Each runs as its own process on a pty (pexpect), with HOME pointed at an empty folder that stands for the
user's real home: the first frame appears, the number keys switch screens, `q` quits with exit 0, the
demo's throwaway home is removed, and nothing at all is written into HOME (the demo's log lines included).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BOARD = r"Board · \d+ of \d+ tasks"  # the board's title line: only the board shows it


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMTUI_", "XDG_"))}
    home = tmp_path / "real-home"
    scratch = tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env |= {
        "HOME": str(home),
        "TMPDIR": str(scratch),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "PMTUI_NO_KEYRING": "1",
        **extra,
    }
    return env


def _spawn(env: dict[str, str], *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "pmtui", *args],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=120,
    )


def _press_until(child: pexpect.spawn, key: str, shown: str, tries: int = 8) -> None:
    """Press ``key`` until ``shown`` appears: a key sent while the app still settles its first frame (or
    answers the terminal's capability queries) can be dropped, which is not what this test is about."""
    for _ in range(tries):
        child.send(key)
        if child.expect([shown, pexpect.TIMEOUT], timeout=15) == 0:
            return
    raise AssertionError(f"pressing {key!r} never showed {shown!r}")


def _switch_screens_and_quit(child: pexpect.spawn) -> None:
    _press_until(child, "2", BOARD)
    _press_until(child, "1", "Milestones")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, (child.exitstatus, child.signalstatus)


def test_pmtui_demo_in_a_terminal(tmp_path: Path) -> None:
    env = _env(tmp_path)
    child = _spawn(env, "demo")
    try:
        child.expect(r"PMTUI_HOME=(\S+)")
        throwaway = Path(child.match.group(1).strip())
        assert throwaway.parent == tmp_path / "tmp"
        child.expect_exact("Briefing")  # the first frame
        child.expect_exact("Top priorities", timeout=180)  # the demo's first sync has filled it
        _switch_screens_and_quit(child)
    finally:
        child.terminate(force=True)
    assert not throwaway.exists(), "the demo's throwaway home was left behind"
    assert list((tmp_path / "tmp").iterdir()) == []
    created = sorted(str(p.relative_to(tmp_path / "real-home")) for p in (tmp_path / "real-home").rglob("*"))
    assert created == [], f"pmtui demo wrote into the real home: {created}"


def test_bare_pmtui_in_a_terminal(tmp_path: Path) -> None:
    pmtui_home = tmp_path / "pmtui-home"
    env = _env(tmp_path, PMTUI_HOME=str(pmtui_home))
    child = _spawn(env)
    try:
        child.expect_exact("Briefing")
        child.expect_exact("Nothing in the cache yet")  # no config, no cache: the empty state says what to do
        _switch_screens_and_quit(child)
    finally:
        child.terminate(force=True)
    output = child.before or ""
    assert "Traceback" not in output
    created = sorted(str(p.relative_to(tmp_path / "real-home")) for p in (tmp_path / "real-home").rglob("*"))
    assert created == [], f"pmtui wrote into the real home: {created}"


def test_bare_pmtui_on_a_damaged_cache_ends_with_the_caches_error(tmp_path: Path) -> None:
    """The app opens the cache after its first frame (issue #22); a cache it cannot open still ends it
    with the same line and exit code as before, when it was opened before the app started."""
    pmtui_home = tmp_path / "pmtui-home"
    (pmtui_home / "data").mkdir(parents=True)
    (pmtui_home / "data" / "pmtui.duckdb").write_bytes(b"not a duckdb file" * 4096)
    child = _spawn(_env(tmp_path, PMTUI_HOME=str(pmtui_home)))
    try:
        child.expect(pexpect.EOF, timeout=60)
        child.close()
    finally:
        child.terminate(force=True)
    output = child.before or ""
    assert child.exitstatus == 4, (child.exitstatus, output[-2000:])
    assert "error: " in output
    assert "pmtui.duckdb" in output
    assert "Traceback" not in output
