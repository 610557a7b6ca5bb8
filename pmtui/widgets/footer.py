"""The key footer under every screen, rebuilt only when the keys it shows change.

Textual's :class:`~textual.widgets.Footer` removes and mounts all its keys (about 20 widgets, 20-35 ms
here) on every "bindings changed" signal, and the screen sends that signal on every focus move, app
focus change and reactive with ``bindings=True``. Right after the first frame that was three rebuilds of
the same keys, about 70 ms of the first half second in which a person starts typing; and each signal
schedules its own rebuild, so a burst of them rebuilds once per signal.

This footer collects a burst into one check after the next refresh, and rebuilds only when what it
would show (each key, its label, whether it is enabled, its tooltip, its group) differs from what it
shows.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[Any, ...]


class KeyFooter(Footer):
    """:class:`~textual.widgets.Footer` without rebuilds that would draw the same keys again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: Shown | None = None
        self._check_pending = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Textual's handler, with one check per burst of signals instead of one rebuild per signal."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    def _what_it_shows(self) -> Shown:
        """Everything :meth:`Footer.compose` reads, in the order it shows it."""
        app = self.app
        keys = tuple(
            (
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                binding.tooltip,
                None if binding.group is None else (binding.group.description, binding.group.compact),
            )
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        palette = (self.show_command_palette, app.ENABLE_COMMAND_PALETTE, app.COMMAND_PALETTE_BINDING)
        return (keys, palette)

    async def _rebuild_if_changed(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        shown = self._what_it_shows()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
