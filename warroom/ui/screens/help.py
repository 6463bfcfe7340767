"""Help: every key and every entry-bar command."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from warroom.domain.grammar import COMMANDS

KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "log what is typed in the entry bar (a paste of many lines: ONE entry)"),
    ("Up / Down", "entry bar: walk the history of what you typed"),
    ("Right / End", "entry bar: accept the suggested completion"),
    ("Tab / Shift+Tab", "entry bar: complete (again: the next match); empty bar or a pane: next pane"),
    ("Esc", "back to the entry bar; closes a dialog (keys typed after it reach the bar)"),
    ("j / k, Up / Down", "timeline: move the selection"),
    ("PageUp / PageDown", "timeline: a page at a time"),
    ("Home / End (g / G)", "timeline: first entry / last entry and follow"),
    ("/ (or Ctrl+F)", "filter the timeline by text, kind or author"),
    ("p / c / y / v", "timeline: pin or unpin / correct (a new entry points at it) / copy / view (Enter too) the entry"),
    ("a or Enter", "roles: assign or hand over the selected role"),
    ("Enter", "health: details of the selected probe (conditions, last error, history)"),
    ("c / f / p", "health: check all now / fast mode (every 5 s for 5 min) / pause or resume"),
    ("F2 / F3 / F4", "stakeholder update, its deliveries and retries (u too, outside the bar) / checklists and playbooks / actions"),
    ("F5 / F6", "duties: every update, notice and review owed, by when, and the escalation paths / the report"),
    ("Space", "F5: a party notified, a review held (or not after all) · F4: an action done or open again"),
    ("Ctrl+O / Ctrl+N", "switch to another open incident (what each owes first) / declare a new one (Esc: back)"),
    ("Ctrl+T / Ctrl+R", "go to the timeline / the roles pane"),
    ("F1 or ?", "this help"),
    ("Ctrl+P", "command palette: every action, themes"),
    ("Ctrl+Q", "quit (asks first if the bar has unsent text; it is kept as a draft)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 98%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        keys = Table(title="Keys", show_header=False, expand=True, box=None, padding=(0, 1))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(Text(key), Text(what))
        commands = Table(title="Entry-bar commands", show_header=False, expand=True, box=None, padding=(0, 1))
        commands.add_column(style="bold", no_wrap=True)
        commands.add_column()
        commands.add_row(Text("plain text"), Text("a note"))
        for spec in COMMANDS:
            names = "/" + spec.name + "".join(f", /{alias}" for alias in spec.aliases)
            commands.add_row(Text(f"{names} {spec.synopsis}".strip()), Text(spec.help))
        commands.add_row(Text("-5m TEXT, @14:02 TEXT"), Text("back-date any entry (UTC)"))
        with VerticalScroll():
            yield Static(keys)
            yield Static(commands)
            yield Static(Text("Esc closes this help.", style="italic"))
