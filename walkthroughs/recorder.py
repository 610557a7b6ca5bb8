"""Record a walkthrough in a real terminal: ``pmtui demo`` in tmux, frames into an asciicast and an SVG.

tmux is the terminal: it runs the real app at a fixed size, takes keys (``send-keys``) and hands back
the screen with its colours (``capture-pane -e``). The recorder writes each changed frame as a full
redraw, so the cast needs no terminal emulation to play, and adds the narration on one extra line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from walkthroughs.admin import SandboxAdmin
from walkthroughs.steps import (
    Caption,
    KeyFrame,
    Pause,
    Press,
    Type,
    WaitFor,
    Walkthrough,
)

FRAME_INTERVAL = 0.1
"""Seconds between captures: smooth enough for a terminal UI, cheap enough for tmux."""

KEY_GAP = 0.35
"""Seconds after each pressed key, so a viewer sees what each key did."""

CHAR_GAP = 0.06
"""Seconds between typed characters."""

IDLE_TIME_LIMIT = 2.5
"""Players shorten any longer stillness (a retrying sync) to this (asciicast ``idle_time_limit``)."""

_ANSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")

# Textual key names -> tmux key names (anything else is sent as a literal character).
_TMUX_KEYS = {
    "enter": "Enter",
    "escape": "Escape",
    "tab": "Tab",
    "space": "Space",
    "backspace": "BSpace",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "home": "Home",
    "end": "End",
    "colon": ":",
    "slash": "/",
    "question_mark": "?",
}

_TMUX_CONF = """\
set -g default-terminal "tmux-256color"
set -ga terminal-overrides ",*:RGB"
set -g status off
set -g remain-on-exit on
set -g escape-time 0
"""


class RecordingError(RuntimeError):
    """A walkthrough could not be recorded (a wait timed out, the app exited, tmux is missing)."""


def plain(frame: str) -> str:
    """A captured frame without its colour escapes."""
    return _ANSI.sub("", frame)


def tmux_key(key: str) -> tuple[str, bool]:
    """The tmux name for a Textual key name, and whether it must be sent literally."""
    if key in _TMUX_KEYS:
        return _TMUX_KEYS[key], False
    if key.startswith("ctrl+"):
        return f"C-{key[5:]}", False
    return key, True


@dataclass
class Cast:
    """An asciicast v2 being written: a header, then ``[time, "o", text]`` and ``[time, "m", label]``."""

    width: int
    height: int
    title: str
    events: list[tuple[float, str, str]] = field(default_factory=list)

    def render(self, timestamp: int) -> str:
        header = {
            "version": 2,
            "width": self.width,
            "height": self.height,
            "timestamp": timestamp,
            "idle_time_limit": IDLE_TIME_LIMIT,
            "title": self.title,
            "env": {"TERM": "xterm-256color"},
        }
        lines = [json.dumps(header)]
        lines.extend(
            json.dumps([round(t, 3), kind, data], ensure_ascii=False) for t, kind, data in self.events
        )
        return "\n".join(lines) + "\n"


def redraw(frame: str, caption: str, width: int, height: int, previous: list[str] | None = None) -> str:
    """Draw a frame: every row that differs from ``previous`` (all rows when None), then the caption.

    Rows are positioned absolutely and erased to their end, so each event stands alone from the last
    full frame; skipping unchanged rows keeps a cast small (a moving cursor changes one or two rows).
    """
    rows = frame_rows(frame, height)
    out = ["\x1b[?25l"]
    for number, row in enumerate(rows, start=1):
        if previous is None or previous[number - 1] != row:
            out.append(f"\x1b[{number};1H\x1b[0m{row}\x1b[0m\x1b[K")
    text = f" {caption}"[:width].ljust(width)
    out.append(f"\x1b[{height + 1};1H\x1b[0;1;7m{text}\x1b[0m")
    return "".join(out)


def frame_rows(frame: str, height: int) -> list[str]:
    """A captured frame as exactly ``height`` rows."""
    rows = frame.split("\n")[:height]
    return rows + [""] * (height - len(rows))


def frame_svg(frame: str, width: int, title: str) -> str:
    """An SVG of a captured frame (colour escapes and all), drawn by Rich like Textual's screenshots."""
    console = Console(
        width=width,
        file=open(os.devnull, "w"),  # noqa: SIM115 - Rich only records; the stream is never read
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    for row in frame.split("\n"):
        console.print(Text.from_ansi(row, no_wrap=True, end=""), crop=True, overflow="crop", no_wrap=True)
    svg = console.export_svg(title=title)
    console.file.close()
    return svg


class Tmux:
    """One private tmux server (own socket, own settings) running one command in one pane."""

    def __init__(self, socket: str, workdir: Path, env: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            raise RecordingError("tmux is not on the PATH; the recorder needs it as its terminal")
        self.socket = socket
        self.conf = workdir / "tmux.conf"
        self.conf.write_text(_TMUX_CONF, encoding="utf-8")
        self.env = env

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", str(self.conf), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RecordingError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str], width: int, height: int) -> None:
        self._run("new-session", "-d", "-s", "walk", "-x", str(width), "-y", str(height), *command)

    def send(self, key: str) -> None:
        name, literal = tmux_key(key)
        self._run("send-keys", "-t", "walk", *(["-l", name] if literal else [name]))

    def capture(self) -> str:
        return self._run("capture-pane", "-p", "-e", "-N", "-t", "walk").rstrip("\n")

    def exited(self) -> bool:
        return self._run("display-message", "-p", "-t", "walk", "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        """Stop this server and remove its socket file (tmux leaves it behind)."""
        try:
            socket_path = Path(self._run("display-message", "-p", "#{socket_path}").strip())
        except RecordingError:
            socket_path = None
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, check=False
        )
        if socket_path is not None and socket_path.name == self.socket:
            socket_path.unlink(missing_ok=True)


class Recorder:
    """Runs one walkthrough against ``pmtui demo`` in tmux and keeps its frames."""

    def __init__(self, walkthrough: Walkthrough, pmtui: str) -> None:
        self.walkthrough = walkthrough
        self.pmtui = pmtui
        self.cast = Cast(walkthrough.width, walkthrough.height + 1, walkthrough.title)
        self.caption = ""
        self.frame = ""
        self.key_frame: str | None = None
        self._drawn = ("", "")
        self._started = 0.0

    def run(self) -> None:
        w = self.walkthrough
        workdir = Path(tempfile.mkdtemp(prefix=f"walk-{w.name}-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMTUI_", "TMUX"))}
        # The demo makes its throwaway home with mkdtemp: TMPDIR puts it where the recorder can find it.
        env.update(
            TMPDIR=str(workdir), PMTUI_NO_KEYRING="1", COLORTERM="truecolor", LANG=env.get("LANG", "C.UTF-8")
        )
        tmux = Tmux(f"walk-{w.name}-{os.getpid()}", workdir, env)
        try:
            tmux.start([self.pmtui, "demo"], w.width, w.height)
            self._started = time.monotonic()
            self.cast.events.append((0.0, "o", "\x1b[2J\x1b[?25l"))
            admin: SandboxAdmin | None = None
            for number, step in enumerate(w.steps, start=1):
                if isinstance(step, Caption):
                    self.caption = step.text
                    self.cast.events.append((self._now(), "m", step.text))
                    self._tick(tmux)
                elif isinstance(step, Press):
                    for key in step.keys:
                        tmux.send(key)
                        self._idle(tmux, KEY_GAP)
                elif isinstance(step, Type):
                    for char in step.text:
                        tmux.send(char)
                        self._idle(tmux, CHAR_GAP)
                elif isinstance(step, WaitFor):
                    self._wait_for(tmux, step, number)
                elif isinstance(step, Pause):
                    self._idle(tmux, step.seconds)
                elif isinstance(step, KeyFrame):
                    self._tick(tmux)
                    self.key_frame = self.frame
                else:
                    admin = admin or self._admin(workdir)
                    admin.apply(step)
            self.key_frame = self.key_frame or self.frame
            tmux.send("q")
            deadline = time.monotonic() + 10
            while not tmux.exited() and time.monotonic() < deadline:
                time.sleep(FRAME_INTERVAL)
        finally:
            tmux.close()
            shutil.rmtree(workdir, ignore_errors=True)

    def _admin(self, workdir: Path) -> SandboxAdmin:
        configs = sorted(workdir.glob("pmtui-demo-*/config/config.toml"))
        if not configs:
            raise RecordingError(f"the demo wrote no config under {workdir}; did it start?")
        return SandboxAdmin.from_config(configs[0])

    def _now(self) -> float:
        return time.monotonic() - self._started

    def _tick(self, tmux: Tmux) -> None:
        self.frame = tmux.capture()
        if (self.frame, self.caption) != self._drawn:
            w = self.walkthrough
            previous = frame_rows(self._drawn[0], w.height) if self._drawn[0] else None
            self._drawn = (self.frame, self.caption)
            self.cast.events.append(
                (self._now(), "o", redraw(self.frame, self.caption, w.width, w.height, previous))
            )

    def _idle(self, tmux: Tmux, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self._tick(tmux)
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(FRAME_INTERVAL, left))

    def _wait_for(self, tmux: Tmux, step: WaitFor, number: int) -> None:
        deadline = time.monotonic() + step.timeout
        while True:
            self._tick(tmux)
            if step.text in plain(self.frame):
                return
            if time.monotonic() > deadline or tmux.exited():
                raise RecordingError(
                    f"{self.walkthrough.name}, step {number}: {step.text!r} did not appear within "
                    f"{step.timeout:g} s; the screen was:\n{plain(self.frame)}"
                )
            time.sleep(FRAME_INTERVAL)


def record(walkthrough: Walkthrough, out_dir: Path, *, pmtui: str) -> tuple[Path, Path]:
    """Record ``walkthrough``; write ``<name>.cast`` and ``<name>.svg`` only when every step passed."""
    recorder = Recorder(walkthrough, pmtui)
    recorder.run()
    out_dir.mkdir(parents=True, exist_ok=True)
    cast_path = out_dir / f"{walkthrough.name}.cast"
    svg_path = out_dir / f"{walkthrough.name}.svg"
    cast_path.write_text(recorder.cast.render(int(time.time())), encoding="utf-8")
    svg_path.write_text(
        frame_svg(recorder.key_frame or "", walkthrough.width, f"pmtui · {walkthrough.title}"),
        encoding="utf-8",
    )
    return cast_path, svg_path
