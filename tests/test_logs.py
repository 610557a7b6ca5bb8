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
