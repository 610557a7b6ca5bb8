"""Messages that must say what is wrong: a missing model key, a typo in --faults, a bad config line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmtui.core.agent.llm import model_error


class InternalServerError(Exception):
    """Named like litellm's: the exception's class name is what the mapping looks at."""


class AuthenticationError(Exception):
    pass


@pytest.mark.parametrize(
    "exc",
    [
        InternalServerError("litellm.InternalServerError: AnthropicException - something went wrong"),
        AuthenticationError(
            "Missing Anthropic API Key - A call is being made to anthropic but no key is set"
        ),
    ],
)
def test_a_missing_model_key_is_reported_as_a_missing_key(
    exc: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    error = model_error(exc, "anthropic/claude-3-5-haiku-latest", None)
    assert "no API key for anthropic: ANTHROPIC_API_KEY is not set" in str(error)
    assert error.hint is not None
    assert "set ANTHROPIC_API_KEY" in error.hint
    assert "try again" not in str(error) + error.hint


def test_a_server_error_with_a_key_set_is_still_a_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-000")
    error = model_error(InternalServerError("upstream 500"), "openai/gpt-4o-mini", None)
    assert "the model call failed (InternalServerError" in str(error)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            "linear:ratelimit=2x3",
            "error: --faults: bad fault 'linear:ratelimit=2x3': unknown kind 'ratelimit'; expected one of "
            "latency, rate_limit, error, reset, commit_drop",
        ),
        ("jira:error=503", "unknown service 'jira'; expected one of linear, gitlab, notion, motion"),
        ("linear", "bad fault 'linear': expected SERVICE:KIND"),
    ],
)
def test_sandbox_faults_typo_is_a_clear_error(pmtui_home: Path, faults: str, message: str) -> None:
    result = _cli(pmtui_home, "sandbox", "serve", "--faults", faults)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_hint_does_not_point_to_the_failing_command(pmtui_home: Path) -> None:
    config = pmtui_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[motion]\nrequests_per_minute = "lots"\n')
    result = _cli(pmtui_home, "config", "show")
    assert result.returncode == 2
    assert "config.toml:2: motion.requests_per_minute" in result.stderr
    assert "pmtui config show" not in result.stderr
    assert "`pmtui config reference`" in result.stderr
