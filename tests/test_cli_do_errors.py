"""`pmtui do` with requests it must refuse: a clear message naming the part, exit 2, nothing planned.

These need no services: a refused request is refused before anything is routed or sent. The run uses
an empty PMTUI_HOME, so nothing could be sent anywhere even by mistake.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BAD_REQUESTS: list[tuple[str, str]] = [
    (
        "task Call mom due 31/02",
        "error: could not read the date: '31/02' is not a date: there is no 31 February",
    ),
    (
        "task X due 2026-02-30",
        "error: could not read the date: '2026-02-30' is not a date: there is no 30 February 2026",
    ),
    ("task X due 5/12", "error: could not read the date: '5/12' is ambiguous: could be dec 5 or may 12"),
    ("task X due feb 30", "'feb 30' is not a date: there is no 30 February"),
    ("task X due 13pm", "'13pm' is not a date: an hour with am or pm goes from 1 to 12"),
    ("task X due at 25:00", "'at 25:00' is not a date: a time goes from 00:00 to 23:59"),
    (
        "task X due tomorrow @jira",
        "error: unknown service '@jira': use one of @motion, @linear, @notion, @gitlab, @local",
    ),
    ("task X #-bug", "error: could not read the label '#-bug': a label is # and a word, like #bug or #ops-2"),
    ("task X #", "error: could not read the label '#'"),
    (
        "task X due the week after next",
        "error: could not read the date in 'due the week after next': "
        "did not understand 'the week after next'",
    ),
    ("task X due next blursday", "did not understand 'next blursday'"),
    ("ENG-12 due 31/02", "'31/02' is not a date: there is no 31 February"),
    ("push ENG-12 to 2026-02-30", "'2026-02-30' is not a date: there is no 30 February 2026"),
    ("sync jira", "error: unknown service 'jira' to sync"),
    ('project "Launch" with tasks: spec due 31/02; docs', "there is no 31 February"),
    ("blorp the wibble", "Understood: nothing I can act on. Try: task Fix login redirect"),
]  # fmt: skip


def pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.parametrize(("request_text", "message"), BAD_REQUESTS)
def test_bad_request_prints_what_it_could_not_read_and_exits_2(
    pmtui_home: Path, request_text: str, message: str
) -> None:
    result = pmtui(pmtui_home, "do", "--yes", request_text)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Plan:" not in result.stdout  # nothing planned, nothing run


def test_a_pure_query_asks_no_confirmation(pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "do", "what is overdue?")  # no --yes, no terminal
    assert result.returncode == 0, result.stderr
    assert "pass --yes" not in result.stderr
    assert "overdue" in result.stdout


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31", "error: --date '9999-12-31': the year must be between 1000 and 9000"),
        ("2026-02-30", "error: --date '2026-02-30': there is no 30 February 2026"),
        ("someday", "error: --date 'someday': not a day pmtui can read; use a date like 2026-11-24"),
    ],
)
def test_briefing_date_errors_are_clear(pmtui_home: Path, value: str, message: str) -> None:
    result = pmtui(pmtui_home, "briefing", "--date", value)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["today", "tomorrow", "yesterday", "friday", "mon", "2026-12-05"])
def test_briefing_accepts_day_words(pmtui_home: Path, value: str) -> None:
    result = pmtui(pmtui_home, "briefing", "--json", "--date", value)
    assert result.returncode == 0, result.stderr
    assert '"date": "' in result.stdout
