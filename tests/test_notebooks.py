"""The Databricks notebooks: source format, and each one runs as plain Python over a demo mirror."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pmtui.core.mirror import Mirror
from pmtui.core.store import Store
from tests.core.test_mirror import demo_cache_file

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HEADER = "# Databricks notebook source"
SEPARATOR = "\n\n# COMMAND ----------\n\n"
EXPECTED = {
    "01_agent_interface": {
        "tables": ["decision_log", "decision_kinds", "integration_status", "bulk_plans", "error_handling"],
        "plots": ["decision_kinds_chart"],
    },
    "02_daily_planning": {
        "tables": [
            "briefing_counts",
            "briefing_priorities",
            "overdue",
            "todays_priorities",
            "project_progress",
            "status_counts",
            "completed_per_day",
            "tasks_per_service",
        ],
        "plots": ["project_progress_chart", "status_chart", "completed_chart", "service_chart"],
    },
    "03_sync_management": {
        "tables": ["integration_health", "sync_history", "sync_errors", "open_conflicts", "sync_decisions"],
        "plots": ["sync_runs_chart", "sync_volume_chart"],
    },
}


def notebook_files() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.py"))


def test_the_three_notebooks_exist() -> None:
    assert [p.stem for p in notebook_files()] == sorted(EXPECTED)


@pytest.mark.parametrize("path", notebook_files(), ids=lambda p: p.stem)
def test_notebook_source_format(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    assert text.startswith(HEADER + "\n")
    # Every separator is the exact Databricks one, framed by blank lines.
    assert text.count("# COMMAND ----------") == text.count(SEPARATOR)
    cells = text[len(HEADER) + 1 :].split(SEPARATOR)
    assert len(cells) >= 4
    markdown = 0
    for cell in cells:
        lines = cell.strip("\n").splitlines()
        assert lines, "empty cell"
        if lines[0].startswith("# MAGIC"):
            assert lines[0] == "# MAGIC %md", lines[0]
            assert all(line == "# MAGIC" or line.startswith("# MAGIC ") for line in lines), cell
            markdown += 1
        else:
            assert not any(line.startswith("# MAGIC") for line in lines), "MAGIC line in a code cell"
    assert markdown >= 2
    assert cells[0].startswith("# MAGIC %md\n# MAGIC # "), "the first cell is the title"
    compile(text, str(path), "exec")


RUNNER = """
import os, runpy, sys
for path in sys.argv[1:]:
    name = os.path.basename(path)[:-3]
    os.environ["PMTUI_NB_OUTPUT_DIR"] = os.path.join(os.environ["OUT_ROOT"], name)
    runpy.run_path(path, run_name="__main__")
    print("ran", name, flush=True)
"""


def test_each_notebook_runs_locally_over_a_demo_mirror(tmp_path: Path, pmtui_home: Path) -> None:
    cache = tmp_path / "cache.duckdb"
    shutil.copy(demo_cache_file(), cache)
    target = tmp_path / "mirror"
    with Store(cache) as store:
        assert Mirror(store, str(target)).run().ok
    out = tmp_path / "out"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PMTUI_NB_", "DATABRICKS_")) and key != "SPARK_HOME"
    }
    env |= {"PMTUI_NB_MIRROR_TARGET": str(target), "OUT_ROOT": str(out), "PMTUI_HOME": str(pmtui_home)}
    ran = subprocess.run(
        [sys.executable, "-c", RUNNER, *(str(p) for p in notebook_files())],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-4000:]
    assert [line for line in ran.stdout.splitlines() if line.startswith("ran ")] == [
        f"ran {name}" for name in sorted(EXPECTED)
    ]
    for name, expected in EXPECTED.items():
        folder = out / name
        for table in expected["tables"]:
            assert (folder / f"{table}.json").exists(), f"{name}: {table}"
        for plot in expected["plots"]:
            # matplotlib is a dev dependency: the notebooks' real plotting path runs, not the text fallback.
            assert (folder / f"{plot}.png").read_bytes().startswith(b"\x89PNG"), f"{name}: {plot}"
            assert not (folder / f"{plot}.txt").exists(), f"{name}: {plot} fell back to text"
    overdue = [
        json.loads(line) for line in (out / "02_daily_planning" / "overdue.json").read_text().splitlines()
    ]
    assert overdue
    assert all(row["days_overdue"] >= 0 for row in overdue)
    health = (out / "03_sync_management" / "integration_health.json").read_text().splitlines()
    assert {json.loads(line)["service"] for line in health} == {"motion", "linear", "notion", "gitlab"}
    plans = (out / "01_agent_interface" / "bulk_plans.json").read_text()
    assert "Q1 launch" in plans


def test_the_bundle_deploys_the_notebooks_and_the_sync_job_with_secrets_from_a_scope() -> None:
    root = NOTEBOOKS.parent
    bundle = yaml.safe_load((root / "databricks.yml").read_text())
    assert bundle["bundle"]["name"] == "pmtui"
    assert "resources/*.yml" in bundle["include"]
    jobs = {}
    for path in sorted((root / "resources").glob("*.yml")):
        jobs |= yaml.safe_load(path.read_text())["resources"]["jobs"]
    sync_job = jobs["pmtui_sync"]
    env = sync_job["job_clusters"][0]["new_cluster"]["spark_env_vars"]
    for service in ("linear", "motion", "notion", "gitlab"):
        assert (
            env[f"PMTUI_{service.upper()}_API_KEY"]
            == f"{{{{secrets/${{var.secret_scope}}/{service}_api_key}}}}"
        )
    task = sync_job["tasks"][0]
    assert (root / "resources" / task["spark_python_task"]["python_file"]).resolve().exists()
    for job in jobs.values():
        for each in job["tasks"]:
            if "notebook_task" in each:
                assert (root / "resources" / each["notebook_task"]["notebook_path"]).resolve().exists()
    script = (root / "resources" / "headless_sync.py").read_text()
    assert '"sync"' in script
    assert '"mirror"' in script


def test_the_prod_target_has_a_shared_root_and_a_run_identity() -> None:
    bundle = yaml.safe_load((NOTEBOOKS.parent / "databricks.yml").read_text())
    prod = bundle["targets"]["prod"]
    assert prod["mode"] == "production"
    assert prod["workspace"]["root_path"].startswith("/Workspace/Shared/")
    assert "current_user" not in prod["workspace"]["root_path"]
    assert set(prod["run_as"]) == {"service_principal_name"}
    assert "prod_service_principal" in bundle["variables"]


@pytest.mark.parametrize(
    ("synced", "mirrored", "expected"),
    [(0, 0, 0), (3, 0, 0), (1, 0, 1), (2, 0, 2), (4, 0, 4), (5, 0, 5), (0, 1, 1), (3, 4, 4), (2, 1, 2)],
)
def test_the_sync_job_fails_on_every_non_zero_exit(synced: int, mirrored: int, expected: int) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "headless_sync", NOTEBOOKS.parent / "resources" / "headless_sync.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.job_exit(synced, mirrored) == expected


def test_docs_state_the_runtime_range_pyproject_declares() -> None:
    import tomllib

    project = tomllib.loads((NOTEBOOKS.parent / "pyproject.toml").read_text())["project"]
    deps = {d.split(">")[0].split("[")[0]: d for d in project["dependencies"]}
    text = (NOTEBOOKS.parent / "docs" / "databricks.md").read_text()
    for name in ("pyarrow", "pydantic"):
        assert f"`{deps[name]}`" in text, f"docs/databricks.md must state {deps[name]}"
