"""No configured secret or credential header reaches a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pmtui.logs import REDACTED, configure_logging, redact

SECRET = "lin_api_0123456789abcdef"


@pytest.mark.parametrize(
    "text",
    [
        f"calling with key {SECRET}",
        "headers={'Authorization': 'Bearer sk-live-abc123'}",
        "X-API-Key: motion-secret-99",
        "PRIVATE-TOKEN=glpat-xyz987",
        '{"authorization": "lin_oauth_zzz"}',
    ],
)
def test_redact_removes_secrets_and_credential_headers(text: str) -> None:
    cleaned = redact(text, [SECRET])
    for leaked in (SECRET, "sk-live-abc123", "motion-secret-99", "glpat-xyz987", "lin_oauth_zzz"):
        assert leaked not in cleaned
    assert REDACTED in cleaned


def test_log_file_never_holds_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(tmp_path, mode="headless", secrets=[SECRET], verbose=True)
    log = logging.getLogger("pmtui.test")
    log.info("request failed for %s", SECRET, extra={"headers": {"Authorization": SECRET}, "url": "u"})
    log.warning("token=%s", "glpat-abcdef")
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError:
        log.exception("boom")
    logging.getLogger("httpx").warning("sending X-API-Key: %s", SECRET)
    for handler in logging.getLogger("pmtui").handlers:
        handler.flush()
    text = (tmp_path / "pmtui.jsonl").read_text()
    captured = capsys.readouterr()
    assert SECRET not in text
    assert SECRET not in captured.err
    assert "glpat-abcdef" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["headers"] == {"Authorization": REDACTED}
    assert lines[0]["level"] == "info"
    assert any("exc" in line for line in lines)
    assert "request failed" in captured.err


def test_tui_mode_writes_nothing_to_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(tmp_path, mode="tui")
    logging.getLogger("pmtui.x").error("visible only in the file")
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""
    for handler in logging.getLogger("pmtui").handlers:
        handler.flush()
    assert "visible only in the file" in (tmp_path / "pmtui.jsonl").read_text()


WRITER = """
import logging, sys
from pathlib import Path
from pmtui.logs import configure_logging

configure_logging(Path(sys.argv[1]), mode="quiet", max_bytes=20_000, backups=200)
log = logging.getLogger("pmtui.writer")
for n in range(int(sys.argv[3])):
    log.info("line", extra={"writer": sys.argv[2], "n": n, "pad": "x" * 100})
"""


def test_processes_sharing_the_log_file_rotate_it_one_at_a_time(tmp_path: Path) -> None:
    """Several pmtui processes (the TUI, `sync --watch`, a cron sync) log to one file: every line survives
    rotation, no line is torn, and no file outgrows the limit by more than a line per writer (each may
    append one line between another's size check and its rotation)."""
    import subprocess
    import sys

    writers, lines = 4, 600
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w), str(lines)])
        for w in range(writers)
    ]
    for child in children:
        assert child.wait(timeout=120) == 0
    files = sorted(tmp_path.glob("pmtui.jsonl*"))
    files = [f for f in files if not f.name.endswith(".lock")]
    seen: set[tuple[str, int]] = set()
    for path in files:
        assert path.stat().st_size <= 20_000 + writers * 300, (
            f"{path.name} grew past the limit: {path.stat().st_size}"
        )
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            seen.add((record["writer"], record["n"]))
    assert len(seen) == writers * lines, f"{writers * lines - len(seen)} lines lost in rotation"


def test_log_file_and_folder_are_private_and_created_only_when_written(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    configure_logging(folder, mode="quiet")
    assert not (folder / "pmtui.jsonl").exists(), "configuring logging alone must not create the file"
    logging.getLogger("pmtui.test").warning("now there is something to keep")
    assert (folder / "pmtui.jsonl").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_an_unwritable_log_folder_is_given_up_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    configure_logging(blocker / "logs", mode="quiet")
    for _ in range(3):
        logging.getLogger("pmtui.test").warning("nowhere to write this")
    captured = capsys.readouterr()
    assert "Logging error" not in captured.err
    assert "Traceback" not in captured.err
