"""A command's own CPU time and peak memory, as JSON: ``python -m benchmarks.child_usage CMD...``.

Why a separate small process: Linux carries a process's peak RSS (``ru_maxrss``) across ``exec``, and a
child started straight from the benchmark runner begins as a copy of it (hundreds of MB with a sandbox in
memory), so its ``ru_maxrss`` would report the runner's peak. Started from this process instead, the
command's peak is its own (or this wrapper's ~10 MB, whichever is larger). ``os.wait4`` gives the
command's own CPU time, not the wrapper's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run ``argv`` with its output captured; print ``{returncode, user_s, sys_s, maxrss_mb, stderr}``."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    print(
        json.dumps(
            {
                "returncode": child.returncode,
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
                "maxrss_mb": usage.ru_maxrss / 1024,
                "stderr": stderr.decode("utf-8", "replace")[-500:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
