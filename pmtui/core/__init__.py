"""What pmtui does, free of any UI: the cache, sync, routing, plans, recovery and the briefing.

The CLI and the screens call into here; nothing here imports Textual or the UI packages (an
import-linter contract enforces it), so the same engine runs headless, in tests and over the sandbox.
"""
