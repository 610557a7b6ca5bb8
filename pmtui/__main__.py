"""``python -m pmtui``: the same entry point as the ``pmtui`` command (errors become a line and an exit code)."""

from pmtui.cli import main

main()
