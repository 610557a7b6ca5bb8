"""The cache of generated source (:mod:`pmtui.gencode`): the same classes with less compiling, and a cache
that can only ever cost the compile it would have saved (damaged, foreign, unwritable, turned off)."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui import gencode
from pmtui.sandbox.runner import start_sandbox
from tests.proc import launcher_code

COUNT_COMPILES = """
import atexit, json, sys
generated = []
def _hook(event, args):
    cache = sys.modules.get("pmtui.gencode")
    if event == "compile" and args[1] in ("<string>", b"<string>") and getattr(cache, "_path", None):
        # after the cache was installed (what loaded before is not its business), by module
        generated.append(sys._getframe(1).f_globals.get("__name__"))
sys.addaudithook(_hook)
report = lambda: print(f"GENERATED={len(generated)} {json.dumps(sorted(set(generated)))}", file=sys.stderr)
atexit.register(report)
"""
"""Prepended to a child's code: it reports how many snippets of generated source it compiled once the
cache was installed."""

CLASSES = """
import dataclasses, json, sys, typing
from collections import namedtuple
from pathlib import Path

from pmtui import gencode

gencode.enable()
gencode.install(Path(sys.argv[1]), "test")

@dataclasses.dataclass(order=True, frozen=True)
class Point:
    x: int
    tags: "list[str]" = dataclasses.field(default_factory=list, compare=False)

@dataclasses.dataclass
class Box:
    corner: Point
    label: str = "box"

Pair = namedtuple("Pair", "left right", defaults=(0,))
first, second = Point(2, ["a"]), Point(1)
box = Box(first)
box.label = "moved"
print(json.dumps({
    "repr": [repr(first), repr(box), repr(Pair(1))],
    "order": [repr(p) for p in sorted([first, second])],
    "eq": [Point(1) == Point(1, ["z"]), Box(second) == Box(second), hash(Point(3)) == hash(Point(3))],
    "frozen": hasattr(Point, "__setattr__") and "FrozenInstanceError" in repr(
        dataclasses.FrozenInstanceError),
    "pair": Pair(5, 6)._asdict(),
    "hints": sorted(str(v) for v in typing.get_type_hints(Point).values()),
    "fields": [f.name for f in dataclasses.fields(Box)],
    "installed": gencode._path is not None,
}))
"""


def _child(code: str, folder: Path, **env: str) -> tuple[dict[str, object], int]:
    result = subprocess.run(
        [sys.executable, "-c", COUNT_COMPILES + code, str(folder)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), _generated(result.stderr)


def _generated(stderr: str) -> int:
    return int(stderr.split("GENERATED=")[1].split()[0])


def test_a_second_process_compiles_nothing_and_its_classes_behave_the_same(tmp_path: Path) -> None:
    plain, plain_count = _child(CLASSES, tmp_path / "off", PMTUI_NO_CODE_CACHE="1")
    first, first_count = _child(CLASSES, tmp_path / "cache")
    second, second_count = _child(CLASSES, tmp_path / "cache")

    assert plain_count == 0  # turned off: nothing installed, so nothing counted
    assert first_count > 10
    assert second_count == 0
    assert first == second == {**plain, "installed": True}
    assert plain["installed"] is False
    assert not (tmp_path / "off").exists()
    (saved,) = (tmp_path / "cache").iterdir()
    assert saved.name == gencode.cache_file(tmp_path / "cache", "test").name
    assert saved.stat().st_mode & 0o777 == 0o600


def test_a_process_that_did_not_enable_it_keeps_the_stdlib_as_it_was(tmp_path: Path) -> None:
    """This test process, as any that calls a command's function rather than the console script."""
    import collections
    import dataclasses
    import typing

    assert gencode.install(tmp_path, "test") is False
    assert gencode._path is None
    assert "exec" not in vars(dataclasses)
    assert "eval" not in vars(collections)
    assert "compile" not in vars(typing)
    assert not tmp_path.joinpath(gencode.cache_file(tmp_path, "test").name).exists()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-40] + bytes(40), id="zeroed-tail"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[len(gencode.HEADER) :], id="no-header"),
    ],
)
def test_a_damaged_cache_is_compiled_around_and_rewritten(tmp_path: Path, damage: object) -> None:
    folder = tmp_path / "cache"
    expected, count = _child(CLASSES, folder)
    path = gencode.cache_file(folder, "test")
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]

    again, again_count = _child(CLASSES, folder)
    assert again == expected
    assert again_count == count
    _, third_count = _child(CLASSES, folder)
    assert third_count == 0


def test_a_cache_others_can_write_is_not_run(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _child(CLASSES, folder)
    path = gencode.cache_file(folder, "test")
    path.chmod(0o666)
    assert gencode._load(path) == {}
    path.chmod(0o600)
    assert len(gencode._load(path)) > 10


def test_an_unwritable_cache_folder_costs_only_the_compile(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    expected, _ = _child(CLASSES, tmp_path / "cache")
    out, count = _child(CLASSES, blocker / "cache")
    assert out == expected
    assert count > 10
    assert blocker.read_text() == "not a folder"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), header=st.booleans())
def test_any_bytes_load_as_nothing(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, header: bool
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "cache.marshal"
    path.write_bytes((gencode.HEADER if header else b"") + data)
    path.chmod(0o600)
    assert gencode._load(path) == {}


def test_a_save_past_the_limit_keeps_what_this_process_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gencode.cache_file(tmp_path, "test")
    monkeypatch.setattr(gencode, "_path", path)
    monkeypatch.setattr(gencode, "_cache", {})
    monkeypatch.setattr(gencode, "_used", set())
    monkeypatch.setattr(gencode, "_new", 0)
    old = {("eval", f"{n} + 1"): compile(f"{n} + 1", "<string>", "eval") for n in range(5)}
    gencode._cache.update(old)
    monkeypatch.setattr(gencode, "MAX_ENTRIES", 3)

    assert eval(gencode.compiled("40 + 2", "eval")) == 42
    gencode.save()
    assert set(gencode._load(path)) == {("eval", "40 + 2")}

    monkeypatch.setattr(gencode, "MAX_ENTRIES", 100)
    gencode._cache.update(old)
    gencode.compiled("6 * 7", "eval")
    gencode.save()
    assert set(gencode._load(path)) == {*old, ("eval", "40 + 2"), ("eval", "6 * 7")}
    assert gencode._new == 0
    before = path.stat().st_mtime_ns
    gencode.save()  # nothing new: no write
    assert path.stat().st_mtime_ns == before
    payload = path.read_bytes()[len(gencode.HEADER) + 4 :]
    assert isinstance(marshal.loads(payload), dict)


@pytest.mark.slow
def test_a_quiet_pmtui_sync_compiles_no_generated_source(tmp_path: Path) -> None:
    """The real command, as a user runs it: after one sync has filled the cache, the next quiet one
    compiles none of the thousands of snippets its libraries generate, and the cache is the user's alone."""
    home = tmp_path / "home"
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}
    with start_sandbox(seed="demo") as sandbox:
        sandbox.write_config(home / "config" / "config.toml", local_budgets=True)
        counts: list[int] = []
        modules: list[list[str]] = []
        services = ["-s", "linear", "-s", "gitlab"]
        for _ in range(3):
            result = subprocess.run(
                [sys.executable, "-c", COUNT_COMPILES + launcher_code(["sync", *services])],
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert result.returncode == 0, result.stderr
            counts.append(_generated(result.stderr))
            modules.append(json.loads(result.stderr.split("GENERATED=")[1].split(" ", 1)[1].splitlines()[0]))
            sandbox.clock.advance(120)
    assert counts[0] > 1000
    # typing_inspection compiles 30 checks as it loads, with its own exec: beyond the cache's reach
    assert set(modules[2]) <= {"typing_inspection.typing_objects"}, modules
    path = gencode.cache_file(home / "cache", "sync")
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(gencode._load(path)) >= counts[0] // 2


def _run_counted(home: Path, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``pmtui ARGV`` through the console script, with the generated source it compiled by module."""
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", COUNT_COMPILES + launcher_code(argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 3), done.stderr
    return done, json.loads(done.stderr.split("GENERATED=")[1].split(" ", 1)[1].splitlines()[0])


def test_a_briefing_computed_from_the_cache_compiles_what_the_last_one_did_not(pmtui_home: Path) -> None:
    """Where the answer cache misses (a bare store wrote), `pmtui briefing` and `pmtui conflicts` open
    DuckDB and Rich; the second such run takes their generated methods from the cache."""
    from datetime import UTC, datetime

    from pmtui.core.store import Store, store_path
    from pmtui.models import Task

    path = store_path(pmtui_home / "data")
    for title in ("first", "second", "third"):
        with Store(path) as store:  # a write no pmtui command made: the filed answers are stale
            store.upsert_tasks([Task(id="a", title=f"Write the {title} guide", due=datetime.now(UTC))])
        shown, modules = _run_counted(pmtui_home, ["briefing"])
        assert f"Write the {title} guide" in shown.stdout
        _, conflict_modules = _run_counted(pmtui_home, ["conflicts"])
    assert set(modules) <= {"typing_inspection.typing_objects"}, modules
    assert set(conflict_modules) <= {"typing_inspection.typing_objects"}, conflict_modules
    assert gencode.cache_file(pmtui_home / "cache", "briefing").is_file()
    assert gencode.cache_file(pmtui_home / "cache", "conflicts").is_file()


def test_a_compile_it_passes_through_carries_none_of_its_future_flags() -> None:
    """typing's other calls to ``compile`` get typing's flags (none), not gencode's ``annotations``."""
    import __future__

    source = "def f(x: int): pass"
    passed = gencode._cached_compile(source, "elsewhere.py", "exec")
    assert passed.co_flags & __future__.annotations.compiler_flag == 0
    assert passed.co_flags == compile(source, "elsewhere.py", "exec", dont_inherit=True).co_flags
