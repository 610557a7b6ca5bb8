"""Scripted walkthroughs of ``pmtui demo``: recorded in a real terminal for the docs, replayed in the tests.

``python -m walkthroughs record`` writes ``docs/walkthroughs/<name>.cast`` (asciicast v2) and ``.svg``;
``tests/tui/test_walkthroughs.py`` replays the same scripts headless (see ``docs/walkthroughs.md``).
"""
