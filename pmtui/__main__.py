"""``python -m pmtui``: the same entry point as the ``pmtui`` command (errors: a line and an exit code)."""

from pmtui.cli import main

main()
