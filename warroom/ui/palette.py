"""The command palette provider: every war-room action, by name."""

from __future__ import annotations

from functools import partial
from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from warroom.domain.text import visible

from warroom.domain.policy import update_cadences


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


def war_room_commands(screen) -> list[tuple[str, Callable[[], object], str]]:
    """Every war-room action, and the severity, status and role commands of its policy."""
    from warroom.ui.widgets.timeline import Timeline

    timeline, procedures, policy = screen.query_one(Timeline), screen.procedures, screen.policy
    prefill = lambda text: partial(screen.prefill, text)  # noqa: E731
    found = [
        ("Help: keys and commands", screen.action_help, "Every key and entry-bar command"),
        ("Filter timeline", screen.action_filter, "Show only entries matching text, author or kind"),
        ("Clear timeline filter", lambda: setattr(timeline, "query", ""), "Show every entry"),
        ("Jump to latest entry", timeline.action_last, "Select the newest entry and follow the tail"),
        ("Pin / unpin selected entry", timeline.action_pin, "Pinned entries lead the report's key timeline"),
        ("Correct selected entry", timeline.action_correct, "Log a correction that points at the entry"),
        ("Copy selected entry", timeline.action_copy, "Copy to the clipboard (OSC 52)"),
        ("Compose update…", procedures.compose_update, "Draft from the record, edit, post and deliver"),
        ("Quick update…", prefill("/update "), "Post a one-line update and reset the countdown"),
        ("Checklists and playbooks", procedures.checklists, "Tick checklist items, attach playbooks"),
        ("Action items", procedures.actions, "Owners, due dates, done"),
        ("Write post-incident report", procedures.export_report, "Markdown report into the updates folder"),
        ("Escalation: who to tell now", procedures.escalation, "Parties and deadlines for this severity (F5)"),
        ("Switch incident…", screen.action_switch_incident, "The other open incidents and what each owes (ctrl+o)"),
        ("Declare a new incident…", screen.action_declare_incident, "Title, policy, severity, commander (ctrl+n)"),
        ("Log decision…", prefill("/decision "), "Record a decision"),
        ("Add action item…", prefill("/action "), "A follow-up with @owner and due:DATE"),
    ]
    for level in policy.severity:
        found.append((f"Set severity {level.id} ({level.label})", run_text(screen, f"/sev {level.id}"),
                      update_cadences(policy, level.id)))
    for status in policy.status:
        found.append((f"Set status {status.label}", run_text(screen, f"/status {status.id}"), status.description))
    for role in policy.role:
        found.append((f"Assign {role.name}…", prefill(f"/assign {role.id} "), role.duties))
    for name, command in (("Acknowledged", "/ack"), ("Detected", "/detected"), ("Mitigated", "/mitigated"),
                          ("Impact started", "/impact"), ("Closed", "/close")):
        found.append((f"Milestone: {name} now", run_text(screen, command), "Back-date with -5m or @HH:MM in the entry bar"))
    found.append(("Resolve incident…", lambda: procedures.resolve_with_summary("/resolve"),
                  "Asks for a resolution summary"))
    return found


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
