"""The command palette provider: every war-room action, by name."""

from __future__ import annotations

from functools import partial
from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from warroom.domain.text import visible


class WarRoomCommands(Provider):
    """Offers the screen's actions plus severity, status and role commands from the policy."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen
        found: list[tuple[str, Callable[[], object], str]] = []
        if hasattr(screen, "palette_commands"):
            found.extend(screen.palette_commands())
        found.extend(_probe_commands(screen))
        found.extend(self.app.palette_commands())
        return found

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(Content(visible(name)), callback, text=name, help=_plain(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlighted(matcher, visible(name)), callback, text=name, help=_plain(help_text))


def _plain(text: str) -> str:
    """Help text for the palette, which reads it as markup: names from policies are shown as typed."""
    return escape(visible(text))


def _highlighted(matcher, name: str) -> Content:
    """`name` with the matched letters styled, as plain text (Matcher.highlight parses markup)."""
    content = Content(name)
    _, offsets = matcher.fuzzy_search.match(matcher.query, name)
    for offset in offsets:
        if not name[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def run_text(screen, text: str) -> Callable[[], object]:
    """A palette callback that logs `text` as if typed in the entry bar."""
    return partial(screen.write_entry, text)


def _probe_commands(screen) -> list[tuple[str, Callable[[], object], str]]:
    """Health-pane actions, when the screen has the pane."""
    from textual.css.query import NoMatches

    from warroom.ui.widgets.health import HealthPane

    try:
        pane = screen.query_one(HealthPane)
    except NoMatches:
        return []
    return [
        ("Probes: check all now", pane.action_check_now, "Check every probe at once (key c in the Health pane)"),
        ("Probes: fast mode on/off", pane.action_fast_mode, "Every probe every 5 s for 5 minutes (key f)"),
        ("Probes: go to the Health pane", pane.focus, "Enter opens a probe's details; p pauses it"),
    ]
