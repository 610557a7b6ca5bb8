"""``docs/walkthroughs.md``, generated from the scripts so that the prose cannot drift from them either."""

from __future__ import annotations

from pathlib import Path

from walkthroughs.steps import Caption, KeyFrame, Pause, Walkthrough
from walkthroughs.stories import WALKTHROUGHS

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "walkthroughs.md"
RECORDINGS = ROOT / "docs" / "walkthroughs"

_INTRO = """\
# Walkthroughs

Four short stories of pmtui at work, each recorded in a real terminal ({width} x {height}) from
`pmtui demo`: the four local emulators with the demo workspace, an empty cache, and the app's first sync
at start. Each picture is a frame of its recording; the `.cast` next to it is the whole session, for
`asciinema play` (or any asciicast v2 player), with the narration on the last line.

The recordings are made by scripts (`walkthroughs/stories.py`): keys to press, text to type, and the
text each step waits for on screen. `tests/tui/test_walkthroughs.py` replays every script headless
against the app as `pmtui demo` builds it and fails when a text it waits for no longer appears, so a
change to the app that makes a walkthrough wrong fails CI instead of leaving the docs stale.

This page is generated from the scripts: `python -m walkthroughs docs`.
"""

_RERECORD = """\
## Re-recording

From a source checkout with the dev install (`pip install -e '.[dev]'`) and `tmux` on the PATH:

```bash
python -m walkthroughs list                      # the scripts
python -m walkthroughs record                    # all of them, into docs/walkthroughs/
python -m walkthroughs record service-down       # one
python -m walkthroughs docs                      # regenerate this page after editing a script
```

The recorder starts `pmtui demo` in a private tmux server (its own socket and settings, status bar off,
truecolor), with `TMPDIR` pointing at a throwaway folder so that the demo's home, its config and the
emulators' addresses are found there; nothing in your own `PMTUI_HOME` is read or written. It sends the
keys with `tmux send-keys`, captures the pane with its colours (`capture-pane -e`) every 0.1 s and writes
each changed frame as a full redraw into the asciicast; the caption is drawn on an extra last line.
Sandbox steps (a service going down, another person's edit) go to the emulators' `/_sandbox` admin
endpoints. A wait that times out aborts the recording with the screen it saw, and nothing is written.
The SVG is the key frame rendered by Rich.
"""


def render_page() -> str:
    """The whole page: an introduction, one section per walkthrough, how to re-record."""
    first = next(iter(WALKTHROUGHS.values()))
    parts = [_INTRO.format(width=first.width, height=first.height)]
    parts.extend(_section(walkthrough) for walkthrough in WALKTHROUGHS.values())
    parts.append(_RERECORD)
    return "\n".join(parts)


def _section(walkthrough: Walkthrough) -> str:
    name = walkthrough.name
    lines = [
        f"## {walkthrough.title}",
        "",
        walkthrough.summary,
        "",
        f"![{walkthrough.title}](walkthroughs/{name}.svg)",
        "",
        f"Recording: [{name}.cast](walkthroughs/{name}.cast) "
        f"(`asciinema play docs/walkthroughs/{name}.cast`)",
        "",
    ]
    number = 0
    for step in walkthrough.steps:
        if isinstance(step, Pause | KeyFrame):
            continue
        if isinstance(step, Caption):
            lines.extend(["", f"*{step.text}*", ""])
            number = 0
            continue
        number += 1
        lines.append(f"{number}. {step.describe()}")
    lines.append("")
    return "\n".join(_squeeze(lines))


def _squeeze(lines: list[str]) -> list[str]:
    """Drop repeated blank lines (a caption right after the header adds one)."""
    result: list[str] = []
    for line in lines:
        if line == "" and result and result[-1] == "":
            continue
        result.append(line)
    return result
