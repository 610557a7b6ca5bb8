"""Terminal rendering for the command-line front end: core data in, Rich renderables out (no Textual)."""
