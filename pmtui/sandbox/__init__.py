"""Faithful local emulators of the Linear, GitLab, Notion and Motion APIs, served on 127.0.0.1.

The real client libraries talk HTTP to them in the tests, the demo and the benchmarks; see
``pmtui.sandbox.server`` for the shared machinery and ``pmtui.sandbox.runner`` to start all four.
"""
