"""The Databricks bundle checked as `databricks bundle validate -t dev` / `-t prod` would check it.

The Databricks CLI (a Go binary from Databricks' own downloads) cannot be installed from the package
registries CI reaches (PyPI's `databricks-cli` is the legacy CLI without `bundle`), so this test reads
databricks.yml and resources/*.yml itself and checks what the CLI's validation rejects: an undeclared
`${var.…}`, a production target without a shared `workspace.root_path` or with other than exactly one
run identity, a task naming a job cluster that does not exist, duplicate task keys, a file path that does
not resolve from the YAML file that names it, and a wheel glob that does not match where the artifact's
build writes. Each job's fields are checked against Databricks' own generated resource models
(``databricks-bundles`` on PyPI, built from the schema the CLI validates against).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")
BUNDLE_REF = re.compile(r"\$\{(bundle|workspace)\.([A-Za-z0-9_.]+)\}")


def _bundle() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "databricks.yml").read_text(encoding="utf-8"))
    return loaded


def _resource_files() -> list[Path]:
    files = sorted(
        path for pattern in _bundle()["include"] for path in ROOT.glob(pattern) if path.suffix == ".yml"
    )
    assert files, "the bundle includes no resource file"
    return files


def _jobs() -> dict[str, tuple[Path, dict[str, Any]]]:
    jobs: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in _resource_files():
        for name, job in yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]["jobs"].items():
            assert name not in jobs, f"job {name} is defined twice"
            jobs[name] = (path, job)
    return jobs


def test_every_variable_used_is_declared() -> None:
    declared = set(_bundle()["variables"])
    for path in [ROOT / "databricks.yml", *_resource_files()]:
        used = set(VARIABLE.findall(path.read_text(encoding="utf-8")))
        assert used <= declared, f"{path.name}: undeclared variables {sorted(used - declared)}"
    for name, target in _bundle()["targets"].items():
        assert set(target.get("variables", {})) <= declared, f"target {name} sets an undeclared variable"


def test_only_known_bundle_references() -> None:
    known = {("bundle", "name"), ("bundle", "target"), ("workspace", "current_user.userName")}
    for path in [ROOT / "databricks.yml", *_resource_files()]:
        for ref in BUNDLE_REF.findall(path.read_text(encoding="utf-8")):
            assert ref in known, f"{path.name}: unknown reference ${{{'.'.join(ref)}}}"


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_target_passes_the_mode_checks(target: str) -> None:
    bundle = _bundle()
    targets = bundle["targets"]
    assert target in targets
    assert sum(1 for t in targets.values() if t.get("default")) == 1, "exactly one default target"
    settings = targets[target]
    mode = settings.get("mode")
    assert mode in ("development", "production")
    if mode == "production":
        # The CLI refuses production mode without a root path shared by every deployer, and without a
        # run identity that is exactly one of a user or a service principal.
        root = settings["workspace"]["root_path"]
        assert root.startswith("/Workspace/"), root
        assert "current_user" not in root, root
        assert "${bundle.target}" in root or target in root, "prod and dev must not share a root"
        identity = settings["run_as"]
        assert len(identity) == 1, identity
        assert set(identity) <= {"service_principal_name", "user_name"}, identity
        value = next(iter(identity.values()))
        names = VARIABLE.findall(value)
        assert names or value.strip(), "run_as names nobody"
        for name in names:
            assert name in bundle["variables"], name


def test_job_tasks_are_wired_to_clusters_files_and_the_wheel() -> None:
    artifact = _bundle()["artifacts"]["pmtui_wheel"]
    wheel_dir = re.search(r"--wheel-dir\s+(\S+)", artifact["build"])
    assert wheel_dir, artifact["build"]
    built_into = (ROOT / artifact["path"] / wheel_dir.group(1)).resolve()
    for name, (path, job) in _jobs().items():
        clusters = {c["job_cluster_key"] for c in job.get("job_clusters", [])}
        keys = [task["task_key"] for task in job["tasks"]]
        assert len(keys) == len(set(keys)), f"{name}: duplicate task keys {keys}"
        for task in job["tasks"]:
            where = f"{name}.{task['task_key']}"
            assert task.get("job_cluster_key") in clusters, (
                f"{where}: no job cluster {task.get('job_cluster_key')}"
            )
            if "spark_python_task" in task:
                assert (path.parent / task["spark_python_task"]["python_file"]).resolve().is_file(), where
            if "notebook_task" in task:
                notebook = (path.parent / task["notebook_task"]["notebook_path"]).resolve()
                assert notebook.is_file() or notebook.with_suffix(".py").is_file(), where
            for library in task.get("libraries", []):
                if "whl" in library:
                    glob = (path.parent / library["whl"]).resolve()
                    assert glob.parent == built_into, (where, glob)
                    assert glob.name.endswith(".whl"), (where, glob)
        for cluster in job.get("job_clusters", []):
            assert {"spark_version", "node_type_id"} <= set(cluster["new_cluster"]), f"{name}: cluster"


def test_every_job_is_what_databricks_own_resource_models_accept() -> None:
    """Each job parses with ``databricks-bundles``' models of a bundle's resources, which Databricks
    generates from the same schema `databricks bundle validate` checks: a misspelled or misplaced field
    (at any depth) or a value of the wrong type is refused here as it would be there."""
    from databricks.bundles.jobs import Job

    for name, (path, job) in _jobs().items():
        parsed = Job.from_dict(job)
        assert parsed.tasks, f"{path.name}: job {name} has no task"
        assert {task.task_key for task in parsed.tasks} == {task["task_key"] for task in job["tasks"]}


@pytest.mark.parametrize(
    ("where", "mistake", "refusal"),
    [
        ("job", {"max_concurent_runs": 1}, "Unexpected field 'max_concurent_runs'"),
        ("task", {"notebook_tsak": {}}, "Unexpected field 'notebook_tsak'"),
        ("job", {"max_concurrent_runs": "x"}, "invalid literal for int"),
    ],
    ids=["misspelled job field", "misspelled task field", "wrong type"],
)
def test_the_resource_models_refuse_a_mistake(where: str, mistake: dict[str, Any], refusal: str) -> None:
    """The check above bites: the same jobs with one mistake each are refused."""
    from databricks.bundles.jobs import Job

    _path, job = next(iter(_jobs().values()))
    broken = dict(job)
    if where == "task":
        broken["tasks"] = [dict(job["tasks"][0], **mistake)]
    else:
        broken.update(mistake)
    with pytest.raises(ValueError, match=refusal):
        Job.from_dict(broken)
