"""The benchmark harness and one tiny run of every case: it checks that they run and what they report,
never how fast anything is (a test checks behaviour; the benchmark measures)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.cases import CASES
from benchmarks.harness import Case, Metric, Run, Sample, Skip, Target, run_all, run_case

TINY = {
    "sync.full": 40,
    "sync.noop": 40,
    "sync.changed_1pct": 40,
    "cli.sync_noop": 40,
    "cli.sync_noop_engine": 40,
    "motion.budget": 20,
    "cli.briefing": 200,
    "cli.briefing_vs_task_5k": 200,
    "cli.briefing_vs_task_5k_changed": 200,
    "cli.briefing_vs_task_5k_engine": 200,
    "cli.briefing_vs_task_5k_oneshot": 200,
    "cli.briefing_vs_task_oneshot": 200,
    "cli.briefing_vs_task": 200,
    "store.upsert": 200,
    "store.briefing_query": 200,
    "store.board_query": 200,
    "tui.board": 200,
    "tui.first_frame": 200,
    "tui.first_frame_cold": 200,
    "mirror.merge_1pct": 300,
    "mirror.files": 3,
    "agent.rules": 50,
    "agent.llm": 50,
    "agent.providers": 50,
}


def _steady(run: Run) -> Iterator[Sample]:
    for index in range(run.reps):
        yield {"seconds": 2.0 + index, "rate": 100.0}


def _skipping(run: Run) -> Iterator[Sample]:
    raise Skip("the thing is not built")
    yield {}  # pragma: no cover - makes this a generator


def _broken(run: Run) -> Iterator[Sample]:
    yield {"seconds": 1.0}
    raise RuntimeError("boom")


FAKES = (
    Case(
        "fake.steady",
        "two metrics, one judged",
        _steady,
        (Metric("seconds", "s", Target("<=", 2.5)), Metric("rate", "row/s", Target(">=", 200))),
        full_n=100,
        quick_n=10,
        target_n=100,
    ),
    Case("fake.skip", "not built", _skipping, (Metric("seconds", "s"),), full_n=1, quick_n=1),
    Case("fake.broken", "crashes", _broken, (Metric("seconds", "s"),), full_n=1, quick_n=1, quick_reps=3),
)


def test_the_harness_summarises_judges_and_saves(tmp_path: Path) -> None:
    out = io.StringIO()
    document = run_all(FAKES, quick=True, reps=3, out=out, save_to=tmp_path)

    steady, skipped, broken = document["results"]
    seconds, rate = steady["metrics"]
    assert seconds["samples"] == [2.0, 3.0, 4.0]
    assert (seconds["median"], seconds["min"], seconds["max"]) == (3.0, 2.0, 4.0)
    assert seconds["spread_pct"] == pytest.approx(200 / 3)
    assert seconds["ratio"] == pytest.approx(3.0 / 2.5)
    assert (seconds["verdict"], rate["verdict"]) == ("FAIL", "FAIL")
    assert steady["scaled_down"] is True  # quick N=10 against targets stated for 100
    assert skipped["status"] == "skipped"
    assert skipped["reason"] == "the thing is not built"
    assert broken["status"] == "error"
    assert "RuntimeError: boom" in broken["reason"]
    assert broken["metrics"][0]["samples"] == [1.0]  # what it measured before crashing is kept
    assert len(document["misses"]) == 2

    saved = json.loads((tmp_path / "latest-quick.json").read_text(encoding="utf-8"))
    assert saved["mode"] == "quick"
    assert {"cores", "memory_mb", "cpu_model", "python", "packages"} <= set(saved["machine"])
    text = out.getvalue()
    assert "FAIL~" in text
    assert "SKIP" in text
    assert "missed targets:" in text


def test_the_command_lists_the_cases_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(case.name in listed for case in CASES)


def test_every_case_has_a_tiny_size_here() -> None:
    assert set(TINY) == {case.name for case in CASES}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_case_runs_at_a_tiny_size(case: Case) -> None:
    result = run_case(case, quick=True, reps=1, n=TINY[case.name])

    assert result.status in ("ok", "skipped"), result.notes.get("traceback") or result.reason
    if result.status == "ok":
        assert [m.metric.name for m in result.metrics] == [m.name for m in case.metrics]
        assert all(len(m.samples) == 1 for m in result.metrics)
        document = result.to_json()
        json.dumps(document)
        assert document["n"] == TINY[case.name]
        assert {"median", "spread_pct", "target", "ratio", "verdict"} <= set(document["metrics"][0])


def test_a_case_starts_its_processes_as_an_installed_pmtui_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip compiles pmtui's bytecode; a shell with PYTHONDONTWRITEBYTECODE set made every process a case
    started compile each module that had no .pyc yet, in every run (for a fresh second checkout, the
    "before" of a comparison, that is all of pmtui)."""
    from benchmarks.harness import child_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = child_env(PYTHONPATH="/checkout", NO_COLOR="1")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPATH"] == "/checkout"
    assert env["NO_COLOR"] == "1"
    assert env["PATH"] == os.environ["PATH"]
    cases = Path(__file__).resolve().parent.parent / "benchmarks" / "cases"
    for source in cases.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "dict(os.environ" not in text or "TASKRC" in text.split("dict(os.environ", 1)[1][:40], source


@pytest.mark.slow
def test_a_syncs_local_cpu_counts_every_thread_of_pmtui_but_not_the_emulators(tmp_path: Path) -> None:
    """DuckDB runs parts of a statement on its own threads: the sync's threads alone missed them."""
    import threading
    import time

    from benchmarks.cases import sync as sync_case
    from benchmarks.workloads import sandbox_world

    with sandbox_world(10, tmp_path) as world, world.engine() as engine:
        with sync_case._emulator_cpu() as answered:
            timed = sync_case._timed_sync(world, engine)
        assert len(answered) >= sum(r.requests for r in timed.runs) > 0
        assert timed.threads_cpu > 0
        assert timed.local_cpu > 0

        # Work on a thread the sync does not own (as DuckDB's are) is counted in local CPU, not in the
        # sync's threads; what an emulator spends answering is in neither.
        def spin(seconds: float) -> None:
            end = time.thread_time() + seconds
            while time.thread_time() < end:
                pass

        original = engine.sync

        def with_side_work(*args: object, **kwargs: object) -> object:
            side = threading.Thread(target=spin, args=(0.3,))
            side.start()
            try:
                return original(*args, **kwargs)  # type: ignore[arg-type]
            finally:
                side.join()

        engine.sync = with_side_work  # type: ignore[method-assign,assignment]
        world.later()
        busy = sync_case._timed_sync(world, engine)
        assert busy.local_cpu >= busy.threads_cpu + 0.25

        engine.sync = original  # type: ignore[method-assign]
        linear = world.sandbox.emulator("linear")
        answer = linear.handle

        def slow_answer(request: object) -> object:
            spin(0.3)
            return answer(request)  # type: ignore[arg-type]

        linear.handle = slow_answer  # type: ignore[method-assign,assignment]
        world.later()
        slow = sync_case._timed_sync(world, engine)
        assert slow.runs[0].requests > 0
        assert slow.local_cpu < slow.threads_cpu + 0.25
