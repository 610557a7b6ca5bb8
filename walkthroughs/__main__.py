"""``python -m walkthroughs list | record [NAME ...] | docs``: the scripted walkthroughs of ``pmtui demo``."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from walkthroughs.docs import DOCS_PAGE, RECORDINGS, render_page
from walkthroughs.stories import WALKTHROUGHS


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _default_pmtui() -> str:
    """The pmtui next to this Python (the checkout's venv), else the one on the PATH."""
    beside = Path(sys.executable).with_name("pmtui")
    return str(beside) if beside.exists() else (shutil.which("pmtui") or "pmtui")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m walkthroughs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the walkthroughs")
    rec = commands.add_parser("record", help="record walkthroughs in tmux (all when none is named)")
    rec.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(WALKTHROUGHS)}")
    rec.add_argument("--out", type=Path, default=RECORDINGS, help="folder for the .cast and .svg files")
    rec.add_argument("--pmtui", default=None, help="the pmtui executable (default: this venv's)")
    commands.add_parser("docs", help=f"regenerate {DOCS_PAGE.relative_to(DOCS_PAGE.parent.parent)}")
    args = parser.parse_args(argv)

    if args.command == "list":
        for walkthrough in WALKTHROUGHS.values():
            _say(f"{walkthrough.name:<20} {walkthrough.summary}")
        return 0
    if args.command == "docs":
        DOCS_PAGE.write_text(render_page(), encoding="utf-8")
        _say(f"wrote {DOCS_PAGE}")
        return 0

    from walkthroughs.recorder import RecordingError, record

    unknown = [name for name in args.names if name not in WALKTHROUGHS]
    if unknown:
        parser.error(f"no walkthrough named {', '.join(unknown)} (have: {', '.join(WALKTHROUGHS)})")
    pmtui = args.pmtui or _default_pmtui()
    for name in args.names or list(WALKTHROUGHS):
        _say(f"recording {name} …")
        try:
            cast, svg = record(WALKTHROUGHS[name], args.out, pmtui=pmtui)
        except RecordingError as exc:
            _say(f"error: {exc}")
            return 1
        _say(f"  wrote {cast} and {svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
