"""Child processes in tests: reading their output with a deadline (a child that never answers fails its
test with a clear message instead of blocking the run on ``readline()`` forever), and running the
console script's launcher with a report of what it imported."""

from __future__ import annotations

import json
import threading
from typing import IO, AnyStr


def read_line(stream: IO[AnyStr] | None, timeout: float = 60) -> AnyStr:
    """The next line of ``stream``, or an AssertionError if none arrives within ``timeout`` seconds.

    A thread does the read because ``select`` does not see what a text wrapper has already buffered.
    """
    assert stream is not None, "the child's stream is not a pipe"
    got: list[AnyStr] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert got, f"the child wrote no line within {timeout:g} s"
    return got[0]


def launcher_code(argv: list[str], *, module: str = "pmtui.launch", top_level: bool = False) -> str:
    """``python -c`` code that runs ``pmtui ARGV`` as the console script does (``python -m MODULE``) and
    prints ``MODULES=<json>`` on stderr as the process ends: every module it imported, or with
    ``top_level`` their top-level packages.

    The line comes from an exit handler, not from code after the run: the launcher ends a finished
    command with ``os._exit`` once the exit handlers ran (:func:`pmtui.launch.exit_without_teardown`),
    so a line after it would never be printed.
    """
    names = "{m.split('.')[0] for m in sys.modules}" if top_level else "sys.modules"
    return (
        "import atexit, json, runpy, sys\n"
        f"atexit.register(lambda: print('MODULES=' + json.dumps(sorted({names})), file=sys.stderr))\n"
        f"sys.argv = ['pmtui', *{argv!r}]\n"
        f"runpy.run_module({module!r}, run_name='__main__')\n"
    )


def launched_modules(stderr: str) -> set[str]:
    """What :func:`launcher_code` reported the process imported (empty when it printed nothing)."""
    marker = [line for line in stderr.splitlines() if line.startswith("MODULES=")]
    return set(json.loads(marker[-1].removeprefix("MODULES="))) if marker else set()
