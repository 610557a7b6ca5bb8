"""pmtui: a keyboard-driven terminal command centre over Motion, Linear, Notion and GitLab."""

__version__ = "0.1.0"
