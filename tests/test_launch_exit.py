"""How the launcher runs a one-shot command's process: the collector paused for the start-up
(:mod:`pmtui.idle_gc`), and the end without the interpreter's teardown of every module, with exit
handlers, streams and the cache as at a normal exit (:func:`pmtui.launch.exit_without_teardown`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmtui.sandbox.runner import start_sandbox
from tests.proc import launcher_code

# A module-level object whose finaliser prints: Python's teardown runs it, os._exit does not. Then the
# command's own output, an exit handler registered after the launcher was imported, and the exit code.
PROBE = """\
import atexit, sys, threading
from pmtui.launch import exit_without_teardown

class Finalised:
    def __del__(self):
        print("finalised", flush=True)

kept = Finalised()
atexit.register(lambda: print("handler ran"))
print("answer", end="")  # buffered: only a flush writes it
{before}
exit_without_teardown(3)
"""


def _probe(before: str = "") -> subprocess.CompletedProcess[str]:
    code = PROBE.format(before=before)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_finished_command_skips_the_teardown_but_not_the_exit_handlers_or_its_output() -> None:
    done = _probe()
    assert done.returncode == 3
    assert done.stdout == "answerhandler ran\n"  # flushed, the handler ran after, nothing finalised


def test_a_thread_still_running_gets_the_normal_exit_which_waits_for_it() -> None:
    done = _probe(
        'threading.Thread(target=lambda: (__import__("time").sleep(0.3), print("thread done")), daemon=False)'
        ".start()"
    )
    assert done.returncode == 3
    assert done.stdout.startswith("answer")
    assert "thread done" in done.stdout  # Python waited for it, as a normal exit does
    assert "handler ran" in done.stdout


def _into_closed_pipe(code: str) -> subprocess.CompletedProcess[str]:
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-c", code], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write)


def test_a_closed_pipe_gets_pythons_own_exit() -> None:
    """A reader that went away (``pmtui briefing | head -0``): the output cannot be written, and the
    process ends exactly as ``sys.exit`` ends it, with Python's own report and exit code."""
    ours = _into_closed_pipe(PROBE.format(before=""))
    plain = _into_closed_pipe(PROBE.format(before="").replace("exit_without_teardown(3)", "sys.exit(3)"))
    assert ours.returncode == plain.returncode != 0
    assert "BrokenPipeError" in ours.stderr
    assert "in __del__" in ours.stderr  # the teardown ran: the finaliser's print met the closed pipe


def _env(home: Path) -> dict[str, str]:
    return {
        "PMTUI_HOME": str(home),
        "PMTUI_NO_KEYRING": "1",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NO_COLOR": "1",
    }


@pytest.mark.slow
def test_a_sync_leaves_its_cache_closed_its_runs_printed_and_the_collector_on(pmtui_home: Path) -> None:
    """The real command, twice: every run printed, the exit handlers run, the cache closed (no
    write-ahead log left for the next process to replay), and the collector, paused for the start-up,
    back on for the round with the start-up's objects frozen: the client libraries' among them, imported
    before the round (they were imported in it, and traversed by some 90 collections)."""
    code = (
        "import atexit, gc, sys\n"
        "def unfrozen():\n"
        "    import gql, gitlab\n"
        "    from pmtui.integrations.linear import LinearIntegration\n"
        "    from pmtui.integrations.gitlab import GitLabIntegration\n"
        "    tracked = {id(o) for o in gc.get_objects()}  # the frozen are in no generation\n"
        "    classes = (gql.Client, gitlab.Gitlab, LinearIntegration, GitLabIntegration)\n"
        "    return ','.join(c.__name__ for c in classes if id(c) in tracked) or '-'\n"
        "atexit.register(lambda: print(f'GC={gc.isenabled()} {gc.get_freeze_count()} {unfrozen()}',"
        " file=sys.stderr))\n" + launcher_code(["sync", "--json", "-s", "linear", "-s", "gitlab"])
    )
    with start_sandbox(seed="demo") as sandbox:
        sandbox.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", code],
                env=_env(pmtui_home),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            runs = [line for line in map(json.loads, done.stdout.splitlines()) if "event" not in line]
            assert [run["service"] for run in runs] == ["linear", "gitlab"]
            *_, modules, collector = done.stderr.rstrip().splitlines()  # handlers run last first
            assert modules.startswith("MODULES=")  # the exit handlers ran
            enabled, frozen, unfrozen = collector.removeprefix("GC=").split()
            assert enabled == "True"
            assert int(frozen) > 50_000
            assert unfrozen == "-"  # gql, python-gitlab and their integrations: imported, then frozen
            cache = next((pmtui_home / "data").glob("*.duckdb"))
            assert not cache.with_name(cache.name + ".wal").exists()


def test_the_collector_paused_by_the_launcher_and_no_other(tmp_path: Path) -> None:
    """Only a pause made by :func:`pause_for_start_up` is ended by :func:`start_up_over`: a collector
    someone else turned off stays off, and a second end is a no-op."""
    code = (
        "import gc\n"
        "from pmtui.idle_gc import pause_for_start_up, start_up_over\n"
        "pause_for_start_up(); paused = gc.isenabled()\n"
        "start_up_over(); back = gc.isenabled(); frozen = gc.get_freeze_count()\n"
        "gc.disable(); start_up_over(); stays = gc.isenabled()\n"
        "print(paused, back, frozen > 1000, stays)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "True", "True", "False"], done.stderr
