"""Reading a child process's output with a deadline: a child that never answers fails its test with a
clear message instead of blocking the run on ``readline()`` forever."""

from __future__ import annotations

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
