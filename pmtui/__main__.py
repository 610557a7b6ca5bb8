"""``python -m pmtui``: the same entry point as the ``pmtui`` command (errors: a line and an exit code).

The launcher, not the Typer app directly: the instant commands (``briefing``, ``conflicts``, ``sync``)
skip importing Typer, Click and Rich on this path too.
"""

from pmtui.launch import main

main()
