"""The command palette (Ctrl+P): the current screen's keys, in Chinese."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

# Keys listed in the command palette although the footer has no room for them.
PALETTE_ONLY = frozenset({"app.sync_now", "workbench.refresh"})


class BindingCommands(Provider):
    """Every key of the current screen, listed and searchable in the command palette (Ctrl+P)."""

    def _commands(self) -> Iterable[tuple[str, Callable[[], Any], str]]:
        seen: set[tuple[str, int]] = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            # The footer's keys (cursor keys of tables and inputs are not actions); not the
            # palette's own key, which would only open another palette.
            listed = binding.show or binding.id in PALETTE_ONLY
            if not (listed and binding.description and active.enabled):
                continue
            if binding.action == "command_palette":
                continue
            # One entry per action and node: "space,enter" style bindings appear once.
            if (binding.action, id(active.node)) in seen:
                continue
            seen.add((binding.action, id(active.node)))
            key = self.app.get_key_display(binding)
            text = f"{binding.description}（{key}）"
            yield text, partial(self.app.run_action, binding.action, active.node), binding.tooltip

    async def discover(self) -> Hits:
        """Ctrl+P with nothing typed lists every action of the screen."""
        for text, run, help_text in self._commands():
            yield DiscoveryHit(text, run, help=help_text or None)

    async def search(self, query: str) -> Hits:
        """Match the Chinese descriptions (with the key) and the tooltips."""
        matcher = self.matcher(query)
        for text, run, help_text in self._commands():
            score = max(matcher.match(text), matcher.match(help_text) if help_text else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, help=help_text or None)
