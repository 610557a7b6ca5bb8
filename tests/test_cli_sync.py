"""`pmtui sync` as a user runs it: once, with conflicts, and --watch with webhooks and a clean stop."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmtui.models import Service
from pmtui.sandbox.runner import Sandbox, start_sandbox
from tests.proc import launched_modules, launcher_code, read_line


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", **extra}


def _sync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sync", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_once_prints_json_lines_and_exits_0(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = _sync(pmtui_home, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    runs = [line for line in lines if "event" not in line]
    progress = [line for line in lines if line.get("event") == "progress"]
    assert [r["service"] for r in runs] == ["linear", "gitlab", "notion", "motion"]
    assert {p["service"] for p in progress} == {"linear", "gitlab", "notion", "motion"}
    assert all(p["pages"] >= 1 and p["requests"] >= 1 and "budget_left" in p for p in progress)
    assert all(r["status"] == "ok" and r["pulled"] > 0 for r in runs)


def test_pending_conflicts_exit_3_and_are_listed(sandbox: Sandbox, pmtui_home: Path) -> None:
    assert _sync(pmtui_home).returncode == 0
    from pmtui.core.store import Store, store_path

    with Store(store_path(pmtui_home / "data")) as store:
        task = store.find_tasks("ENG-4")[0]
        ref = next(r for r in store.refs_for(task.id) if r.service.value == "linear")
        store.upsert_tasks([task.model_copy(update={"title": "local title"})])
    sandbox.emulator("linear").admin_mutate(
        {"op": "update", "kind": "issue", "id": ref.external_id, "fields": {"title": "remote title"}}
    )
    sandbox.clock.advance(120)
    assert _sync(pmtui_home, "-s", "linear").returncode == 3
    listed = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "conflicts"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 3
    assert "'local title'" in listed.stdout
    assert "'remote title'" in listed.stdout


def test_bad_service_name_is_a_usage_error(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = _sync(pmtui_home, "-s", "jira")
    assert result.returncode == 2
    assert "--service takes" in result.stderr


def _launch_sync(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``pmtui sync ARGS`` through the console script's entry point, and the top-level modules it imported."""
    code = launcher_code(["sync", *args], top_level=True)
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(home), capture_output=True, text=True, timeout=120
    )
    return done, launched_modules(done.stderr)


def test_the_console_script_syncs_without_typer_and_answers_as_the_typer_command(
    sandbox: Sandbox, pmtui_home: Path
) -> None:
    first, modules = _launch_sync(pmtui_home, "--json")
    assert first.returncode == 0, first.stderr
    # Nor httpx's own command line, which would bring click, rich and pygments (pmtui.integrations).
    assert not {"typer", "click", "rich", "pygments"} & {name.partition(".")[0] for name in modules}
    assert "httpx" in modules
    runs = [line for line in map(json.loads, first.stdout.splitlines()) if "event" not in line]
    assert [r["service"] for r in runs] == ["linear", "gitlab", "notion", "motion"]
    assert all(r["status"] == "ok" and r["pulled"] > 0 for r in runs)
    sandbox.clock.advance(120)
    quiet, _ = _launch_sync(pmtui_home, "--json", "-s", "linear", "--service=GitLab")
    assert quiet.returncode == 0, quiet.stderr
    runs = [line for line in map(json.loads, quiet.stdout.splitlines()) if "event" not in line]
    assert [(r["service"], r["pulled"], r["pushed"]) for r in runs] == [("linear", 0, 0), ("gitlab", 0, 0)]
    # What the launcher does not recognise is Typer's, with its usage errors.
    bad, modules = _launch_sync(pmtui_home, "-s", "jira")
    assert bad.returncode == 2
    assert "--service takes" in bad.stderr
    assert "typer" in modules


def test_verbose_shows_every_services_requests_on_one_http_stack(sandbox: Sandbox, pmtui_home: Path) -> None:
    """``-v`` prints each HTTP request the client libraries send. gql took ``httpx2`` whenever it was
    installed (litellm's MCP extra installs it), whose logger ``-v`` did not listen to: Linear's requests
    went unshown, and every sync process imported a second HTTP stack."""
    done, modules = _launch_sync(pmtui_home, "-v", "--json")
    assert done.returncode == 0, done.stderr
    requests = [line for line in done.stderr.splitlines() if "HTTP Request:" in line or '"POST /' in line]
    hosts = {sandbox.url(name) for name in ("linear", "notion", "motion")}
    for url in hosts:
        assert any(url in line for line in requests), f"no request to {url} in -v's output:\n{done.stderr}"
    assert any("/api/v4/" in line for line in done.stderr.splitlines()), "no GitLab request in -v's output"
    assert "httpx2" not in modules


def _next_run(stream: Any) -> dict[str, Any]:
    """The next run line of `pmtui sync --json`, past the progress lines."""
    while True:
        line = json.loads(read_line(stream))
        if "event" not in line:
            return dict(line)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_watch_syncs_on_a_webhook_and_stops_cleanly(sandbox: Sandbox, pmtui_home: Path) -> None:
    port = _free_port()
    config = pmtui_home / "config" / "config.toml"
    config.write_text(config.read_text() + f"\n[sync]\nwebhook_port = {port}\ninterval_seconds = 300\n")
    secret = "whsec-test-0123456789"
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sync", "--watch", "--json"],
        env=_env(pmtui_home, PMTUI_LINEAR_WEBHOOK_SECRET=secret),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = [_next_run(watcher.stdout) for _ in range(4)]
        assert {r["service"] for r in first} == {"linear", "gitlab", "notion", "motion"}
        body = json.dumps(
            {
                "action": "update",
                "type": "Issue",
                "data": {"id": "x"},
                "webhookTimestamp": int(time.time() * 1000),
            }
        ).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/linear",
            content=body,
            timeout=10,
            headers={
                "Linear-Signature": signature,
                "Linear-Delivery": "d-1",
                "Content-Type": "application/json",
            },
        )
        assert answer.status_code == 200
        woken = _next_run(watcher.stdout)  # well before the 300 s interval
        assert woken["service"] == "linear"
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert "Traceback" not in (watcher.stderr.read() if watcher.stderr else "")


def test_briefing_refresh_syncs_first(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "briefing", "--refresh"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Linear: ok (48 pulled, 0 pushed)" in result.stderr
    assert "Fix login redirect loop" in result.stdout


def test_linear_retry_after_600_is_reported_and_the_others_finish(sandbox: Sandbox, pmtui_home: Path) -> None:
    """Linear throttled for 600 s is not slept through: the others sync, Linear says until when."""
    from datetime import UTC, datetime, timedelta

    from pmtui.sandbox.server import Fault

    sandbox.emulator("linear").add_fault(Fault("rate_limit", value=600, count=None))
    before = datetime.now(UTC)
    started = time.monotonic()
    result = _sync(pmtui_home, "--json")  # 120 s timeout: a generous hang guard, not a timing assert
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    runs = {r["service"]: r for r in lines if "event" not in r}
    assert result.returncode == 1, result.stderr
    assert {s: runs[s]["status"] for s in ("gitlab", "notion", "motion")} == dict.fromkeys(
        ("gitlab", "notion", "motion"), "ok"
    )
    assert runs["linear"]["status"] == "rate-limited"
    retry_at = datetime.fromisoformat(runs["linear"]["retry_at"])
    assert before + timedelta(seconds=590) <= retry_at <= datetime.now(UTC) + timedelta(seconds=610)
    assert "rate-limited until" in runs["linear"]["error"]
    assert time.monotonic() - started < 120
    from pmtui.core.store import Store, store_path

    with Store(store_path(pmtui_home / "data"), read_only=True) as store:
        recorded = store.last_sync_runs()
    assert {run.status for run in recorded.values()} == {"ok", "rate-limited"}


def test_ctrl_c_stops_after_the_current_write_and_a_rerun_resumes(sandbox: Sandbox, pmtui_home: Path) -> None:
    """Against a slow GitLab with thousands of issues: one Ctrl-C ends the run "cancelled" at a page
    boundary, a second one quits at once, and the next sync goes on from the stored pages."""
    from pmtui.core.store import Store, store_path
    from pmtui.sandbox.server import Fault

    gitlab = sandbox.emulator("gitlab")
    gitlab.seed({"kind": "bulk", "n": 3000})
    config = pmtui_home / "config" / "config.toml"
    config.write_text(re.sub(r"(?m)^board = .*$", "", config.read_text()))  # the bulk project has none
    gitlab.add_fault(Fault("latency", value=300, count=None))

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pmtui.cli", "sync", "-s", "gitlab", "--json"],
            env=_env(pmtui_home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    once = start()
    try:
        assert once.stdout is not None
        first_line = once.stdout.readline()
        assert json.loads(first_line).get("event") == "progress", first_line  # a page is stored
        once.send_signal(signal.SIGINT)
        out, err = once.communicate(timeout=60)
    finally:
        if once.poll() is None:
            once.kill()
    assert once.returncode == 130, err
    runs = [json.loads(line) for line in out.splitlines() if "event" not in json.loads(line)]
    assert [r["status"] for r in runs] == ["cancelled"]
    assert "Traceback" not in err
    with Store(store_path(pmtui_home / "data"), read_only=True) as store:
        assert store.last_sync_runs()[Service.GITLAB].status == "cancelled"
        first_count = store.count_tasks()
    assert 0 < first_count < 3000 + 100

    twice = start()
    try:
        assert twice.stdout is not None
        assert json.loads(twice.stdout.readline())["event"] == "progress"
        twice.send_signal(signal.SIGINT)
        time.sleep(0.2)
        twice.send_signal(signal.SIGINT)
        twice.wait(timeout=5)  # a hang guard; the second Ctrl-C exits at once
    finally:
        if twice.poll() is None:
            twice.kill()
    assert twice.returncode == 130

    gitlab.clear_faults()
    rerun = _sync(pmtui_home, "-s", "gitlab", "--json")
    assert rerun.returncode in (0, 3), rerun.stderr
    with Store(store_path(pmtui_home / "data"), read_only=True) as store:
        assert store.last_sync_runs()[Service.GITLAB].status == "ok"
        assert store.count_tasks() >= 3000
        statuses = [run.status for run in store.sync_runs(service=Service.GITLAB)]
        # The run the second Ctrl-C abandoned was ended by the next sync of the service, not left running.
        assert "running" not in statuses
        assert statuses.count("cancelled") == 1
        assert "failed" in statuses


def test_q_in_the_app_quits_during_a_sync_and_a_rerun_resumes(sandbox: Sandbox, pmtui_home: Path) -> None:
    """The real app in tmux, syncing a slow GitLab with thousands of issues: `q` ends the process, the
    run is recorded cancelled (stopped at a page boundary), and the next sync completes it."""
    import shutil
    import uuid

    from pmtui.core.store import Store, store_path
    from pmtui.sandbox.server import Fault

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    gitlab = sandbox.emulator("gitlab")
    gitlab.seed({"kind": "bulk", "n": 3000})
    gitlab.add_fault(Fault("latency", value=300, count=None))
    config = pmtui_home / "config" / "config.toml"
    text = re.sub(r"(?m)^board = .*$", "", config.read_text())
    for other in ("linear", "notion", "motion"):  # only GitLab: the app syncs it at start
        text = text.replace(f"[{other}]\nenabled = true\n", f"[{other}]\nenabled = false\n", 1)
    config.write_text(text)
    socket_name = f"pmtui-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket_name, "-f", "/dev/null"]
    env = " ".join(f"{k}={v}" for k, v in {"PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1"}.items())
    command = f"cd {os.getcwd()} && exec env {env} {sys.executable} -m pmtui.cli"
    subprocess.run([*tmux, "new-session", "-d", "-s", "app", "-x", "120", "-y", "40", command], check=True)
    try:
        pid = int(
            subprocess.run(
                [*tmux, "list-panes", "-t", "app", "-F", "#{pane_pid}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[0]
        )
        cache = store_path(pmtui_home / "data")
        started = time.monotonic()
        while True:  # until the app's sync has stored a page or two
            time.sleep(0.3)
            if time.monotonic() - started > 120:
                pane = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-t", "app"], capture_output=True, text=True
                )
                pytest.fail(f"the app never started syncing:\n{pane.stdout}\n{config.read_text()}")
            if not cache.exists():
                continue
            with Store(cache, read_only=True) as store:
                runs = store.sync_runs(service=Service.GITLAB)
                if runs and runs[0].status == "running" and store.count_tasks() > 0:
                    break
        subprocess.run([*tmux, "send-keys", "-t", "app", "q"], check=True)
        started = time.monotonic()
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
            assert time.monotonic() - started < 30, "the app did not quit"  # a hang guard
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    with Store(cache, read_only=True) as store:
        assert store.sync_runs(service=Service.GITLAB)[0].status == "cancelled"
        stored = store.count_tasks()
    assert stored > 0
    gitlab.clear_faults()
    rerun = _sync(pmtui_home, "-s", "gitlab", "--json")
    assert rerun.returncode in (0, 3), rerun.stderr
    with Store(cache, read_only=True) as store:
        assert store.last_sync_runs()[Service.GITLAB].status == "ok"
        assert store.count_tasks() >= 3000


def test_watch_files_the_briefing_so_the_next_one_skips_duckdb(sandbox: Sandbox, pmtui_home: Path) -> None:
    """Issue #22, "with an engine running": after each run `sync --watch` files the briefing's answer."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sync", "--watch", "--json"],
        env=_env(pmtui_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    answer = pmtui_home / "cache" / "briefing-answer.json"
    try:
        assert watcher.stdout is not None
        first = [_next_run(watcher.stdout) for _ in range(4)]
        assert {r["status"] for r in first} == {"ok"}
        deadline = time.monotonic() + 60
        while not answer.exists():  # filed just after the round's output
            assert time.monotonic() < deadline, "the watch never filed the briefing"
            time.sleep(0.1)
        done = subprocess.run(
            [sys.executable, "-c", launcher_code(["briefing"])],
            env=_env(pmtui_home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        modules = launched_modules(done.stderr)
        assert "duckdb" not in modules
        assert "Sync" in done.stdout
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()


# ------------------------------------------------------------------ what a person sees on a terminal


def _sync_on_a_terminal(home: Path, *args: str) -> tuple[str, int]:
    """`pmtui sync` on a real pseudo-terminal, where it draws its live progress and the summary lines (on a
    pipe it prints JSON lines instead, which is what every other test here reads)."""
    import pexpect

    child = pexpect.spawn(
        sys.executable,
        ["-m", "pmtui.cli", "sync", *args],
        env=_env(home, TERM="xterm-256color", COLUMNS="120", LINES="40"),
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=120,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
    return child.before or "", child.exitstatus


SUMMARY = re.compile(
    r"^\[(?P<mark>ok  |FAIL|WAIT|SKIP|STOP)\] (?P<service>\w+)\s+"
    r"(?P<pulled>\d+) pulled · (?P<pushed>\d+) pushed · "
    r"(?P<conflicts>\d+) conflicts · (?P<requests>\d+) requests · \d+\.\d s$"
)


def _summary(output: str) -> dict[str, re.Match[str]]:
    lines = [line.strip() for line in output.replace("\r\n", "\n").replace("\r", "\n").splitlines()]
    found = {}
    for line in lines:
        match = SUMMARY.match(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line))
        if match:
            found[match["service"]] = match
    return found


def test_on_a_terminal_shows_progress_then_one_summary_line_per_service(
    sandbox: Sandbox, pmtui_home: Path
) -> None:
    output, code = _sync_on_a_terminal(pmtui_home)
    assert code == 0, output
    assert "Traceback" not in output
    assert '{"' not in output, "a terminal gets the human-readable output, not JSON lines"
    summary = _summary(output)
    assert set(summary) == {"Linear", "GitLab", "Notion", "Motion"}, output
    for service, line in summary.items():
        assert line["mark"] == "ok  ", (service, line.group(0))
        assert int(line["pulled"]) > 0, line.group(0)
        assert int(line["requests"]) > 0, line.group(0)
    # The live display's last frame, drawn before it is taken down: each service with its status.
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    for label in summary:
        assert re.search(rf"{label}\s+ok\b", plain.split("] Linear  ")[0]), (label, plain)
    assert "conflict(s) wait for you" not in output


def test_on_a_terminal_a_failing_service_is_named_with_its_error_and_exits_1(
    sandbox: Sandbox, pmtui_home: Path
) -> None:
    from pmtui.sandbox.server import Fault

    sandbox.emulator("gitlab").add_fault(Fault("error", value=401, count=None))
    output, code = _sync_on_a_terminal(pmtui_home)
    assert code == 1, output
    assert "Traceback" not in output
    summary = _summary(output)
    assert summary["GitLab"]["mark"] == "FAIL", output
    assert all(summary[s]["mark"] == "ok  " for s in ("Linear", "Notion", "Motion")), output
    lines = [
        re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).rstrip()
        for line in output.replace("\r\n", "\n").replace("\r", "\n").splitlines()
    ]
    failed = next(i for i, line in enumerate(lines) if line.startswith("[FAIL] GitLab"))
    error = next(line for line in lines[failed + 1 :] if line.strip())
    assert error.startswith("       "), error
    assert "GitLab refused the token" in error, error
    assert "hint:" in lines[lines.index(error) + 1], lines[failed:]
    assert sandbox.api_key("gitlab") not in output
