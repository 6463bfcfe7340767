"""The warroom Textual application."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Callable

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.worker import WorkerFailed

from warroom.domain.clock import system_clock
from warroom.domain.errors import DatabaseUnavailable
from warroom.domain.policy import PolicyBook
from warroom.domain.text import size_words, visible
from warroom.service import IncidentService
from warroom.ui.heap import EVERY as HEAP_EVERY, QuietCollector
from warroom.ui.driver import TerminalGone, UndecodableInput, WarRoomDriver
from warroom.ui.palette import WarRoomCommands
from warroom.ui.themes import DEFAULT_THEME, MONOCHROME_THEME, load_themes


log = logging.getLogger("warroom.ui")
SWITCH_INTERVAL = 0.001  # seconds a thread holds the interpreter while another waits (Python: 0.005)
TOAST_GLYPHS = {"warning": "⚠", "error": "✗"}
LEAVING_SIGNALS = {signal.SIGHUP: 128 + signal.SIGHUP, signal.SIGTERM: 128 + signal.SIGTERM}
DRAWN_AT_THE_LATEST = 3.0  # seconds after start: `drawn()` if no war room said so (the picker)
EARLY_KEY_TRIES = 20  # refreshes a first screen of ours may take to give the focus before held keys go anyway


def _ours(screen) -> bool:
    """Whether `screen` is one of warroom's (not Textual's own: its blank first screen, the palette)."""
    return type(screen).__module__.startswith("warroom.")


class WarRoomApp(App):
    """Opens an incident's war room, or the picker."""

    CSS_PATH = "warroom.tcss"
    TITLE = "warroom"
    COMMANDS = App.COMMANDS | {WarRoomCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", tooltip="Quit (asks only when the entry bar has unsent text)", priority=True),
    ]

    def __init__(
        self, db_path: Path, policies: PolicyBook, user: str, *, incident_id: str | None = None,
        theme: str | None = None, clock: Callable[[], datetime] = system_clock,
        on_theme_change: Callable[[str], None] | None = None, extra_theme_dirs: list[Path] = (),
        config=None, updates_dir: Path | None = None, default_policy: str | None = None,
        read_only: bool = False, drafts=None, session=None, quiet: bool = False, own_process: bool = False,
    ) -> None:
        # A driver named in the environment (textual-serve's web driver for `warroom serve`) wins;
        # in a terminal, WarRoomDriver survives bad bytes and notices the terminal going away.
        terminal_driver = os.name == "posix" and not os.environ.get("TEXTUAL_DRIVER")
        super().__init__(driver_class=WarRoomDriver if terminal_driver else None)
        from warroom.ui.session import Session  # noqa: PLC0415

        self.session = session or Session(read_only)  # a replay or a drill opens its own service and screen
        self.read_only = self.session.read_only  # the service refuses every write; the screens say so
        self.quiet = quiet  # `--quiet`: no terminal bell, whatever the config says
        self.db_path, self.policies, self.user = db_path, policies, user
        self.incident_id, self.clock = incident_id, clock
        self.default_policy = default_policy
        self.requested_theme = theme
        self.on_theme_change = on_theme_change
        self.extra_theme_dirs = list(extra_theme_dirs)
        self.service: IncidentService | None = None
        self.theme_names: set[str] = set()  # loaded from themes/ and the user's config dir
        from warroom.service.config import Config, resolve_updates_dir  # noqa: PLC0415

        self.config = config or Config()
        self.updates_dir = updates_dir or resolve_updates_dir(self.config, db_path)
        self.probes_path: Path | None = None  # the probe file (launch sets it); see warroom.service.monitor
        self._reach = None
        self.drafts = drafts  # a warroom.service.drafts.DraftStore, or None: no drafts kept
        self.gone_reason: str | None = None  # why the app left by itself (terminal gone, a signal)
        self.undecodable_bytes = 0  # bytes from the terminal that were not UTF-8, so far
        self.on_leaving: Callable[[int], None] | None = None  # launch arms its exit deadline here
        self.key_in_hand: str | None = None  # the key being handled now (see pop_screen)
        self.own_process = own_process  # alone in its process (`warroom open`): see settle_heap, on_mount
        self.heap = QuietCollector()  # full collections in the keyboard's pauses (own process only)
        self._heap_timer = None
        self.on_drawn: Callable[[], None] | None = None  # run once the first screen is drawn (see drawn)
        self._drawn = False
        self._early_keys: list[events.Key] | None = []  # typed before the first screen of ours (see on_event)
        self._early_key_tries = 0

    @property
    def bell_setting(self) -> str:
        """From which duty state on the bell rings: the config's `[attention] bell`, "off" when quiet."""
        return "off" if self.quiet else self.config.attention.bell

    @property
    def reach(self):
        """Update delivery and paging (warroom.service.reach), made once the service is open."""
        if self._reach is None:
            self._reach = self.session.reach(self)
        return self._reach

    def drawn(self) -> None:
        """The first screen is drawn in full (a war room's first frame, or DRAWN_AT_THE_LATEST
        seconds after start): run `on_drawn`, once (launch turns the garbage collector on there)."""
        if self._drawn:
            return
        self._drawn = True
        self.settle_heap()  # what starting made lives on: out of the collector's sight first
        callback, self.on_drawn = self.on_drawn, None
        if callback is not None:
            callback()

    async def on_mount(self) -> None:
        if self.own_process:
            # A thread that wants the interpreter (the database's, a report's) gets it within 1 ms
            # instead of Python's 5: a key, or the read a frame waits for, is not held that long
            # behind a thread that computes.
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.set_timer(DRAWN_AT_THE_LATEST, self.drawn)
        if not self.is_headless:
            loop = asyncio.get_running_loop()
            for signum, code in LEAVING_SIGNALS.items():
                loop.add_signal_handler(signum, self.leave_now, f"signal {signal.Signals(signum).name}", code)
        themes, problems = load_themes(self.extra_theme_dirs)
        for theme in themes:
            self.register_theme(theme)
        names = self.theme_names = {theme.name for theme in themes}
        # NO_COLOR: Textual turns colours into greys; the high-contrast theme stays readable that way.
        wanted = self.requested_theme or (MONOCHROME_THEME if self.no_color else DEFAULT_THEME)
        if wanted not in names and wanted not in self.available_themes:
            problems.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        if problems:
            self.notify("Theme problem: " + "; ".join(problems), severity="warning", timeout=8, markup=False)
        self.service = await self.session.open_service(self)
        if self.incident_id:
            self.open_incident(self.incident_id)
        else:
            self.choose_start()

    async def on_unmount(self) -> None:
        if self.service is not None:
            await self.service.close()

    def _handle_exception(self, error: Exception) -> None:
        """A worker that failed because the database server is away does not end the war room: the
        header says "reconnecting", and everything is read again when the server is back."""
        if isinstance(error, WorkerFailed) and isinstance(error.error, DatabaseUnavailable):
            log.warning("not read while the database server is away: %s", error.error)
            return
        super()._handle_exception(error)

    async def on_event(self, event: events.Event) -> None:
        """Keys: a dialog's own Escape (or Enter, see `_closes_now`) is run here, in key order,
        before the keys typed behind it are dispatched: Textual would queue it on the dialog's
        focused widget and hand the next keys to the same widget, to be lost with the dialog."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        if self._early_keys is not None:
            if self._starting():  # Textual would hand it to its blank first screen, or to no widget: lost
                self._early_keys.append(event)
                return
            await self.release_early_keys()
        await self._dispatch_key(event)

    def _starting(self) -> bool:
        """No screen of ours is shown yet, or it has not given a widget the focus yet."""
        return not _ours(self.screen) or self.focused is None

    async def release_early_keys(self) -> None:
        """The keys typed while warroom was starting (a scribe who types as `warroom open` comes
        up), in order, to the first screen of ours once it has the focus where it wants it, before
        any key typed after (asked again after each refresh until then, EARLY_KEY_TRIES at most)."""
        if self._early_keys is None:
            return
        if self._starting() and self._early_key_tries < EARLY_KEY_TRIES:
            self._early_key_tries += 1
            self.call_after_refresh(self.release_early_keys)
            return
        early, self._early_keys = self._early_keys, None
        for held in early:  # (a new event for each: Textual has finished with the one it delivered)
            event = events.Key(held.key, held.character)
            event.set_sender(self)
            await self._dispatch_key(event)

    async def _dispatch_key(self, event: events.Key) -> None:
        self.key_in_hand = event.key
        self.heap.keyed()
        try:
            if not await self._closes_now(event):
                await super().on_event(event)
        finally:
            self.key_in_hand = None

    async def _closes_now(self, event: events.Key) -> bool:
        """Run the key's binding at once when it is one of warroom's dialogs' own (on the screen,
        not on a widget inside it such as an open drop-down); True when it was run."""
        screen = self.screen
        if not isinstance(screen, ModalScreen) or not _ours(screen):
            return False
        active = screen.active_bindings.get(event.key)
        if active is None or active.node is not screen or not active.enabled:
            return False
        if event.key != "escape" and not getattr(active.binding, "priority", False):
            return False
        await self.run_action(active.binding.action, screen)
        return True

    def pop_screen(self):
        """Pop as Textual does; a dialog closed by Escape hands the focus to the screen below at
        once (`escape_returned`), before the keys queued behind the Escape are dispatched, so what
        is typed right after it goes where Escape leads (the war room's entry bar), not to a pane
        where letters are shortcuts."""
        closed_by_escape = self.key_in_hand == "escape"
        done = super().pop_screen()
        returned = getattr(self.screen, "escape_returned", None)
        if closed_by_escape and returned is not None:
            returned()
        return done

    def settle_heap(self) -> None:
        """Take everything alive now (the modules, the screen as composed, the HTTP clients once
        imported) out of the garbage collector's sight (gc.freeze): its full collections then scan
        only what was made since, instead of pausing the screen 50-170 ms every few seconds while
        entries are typed. Only in a process of its own (`own_process`, as `warroom open` runs):
        in a process that opens many apps, such as the tests, it would keep their garbage forever.
        Then full collections wait for a pause of the keyboard (warroom.ui.heap)."""
        if self.own_process:
            gc.freeze()  # (no collection first: what starting made lives on, and it took 70 ms)
            if self._heap_timer is None:
                self.heap.start()
                self._heap_timer = self.set_interval(HEAP_EVERY, self.heap.look)

    def on_terminal_gone(self, message: TerminalGone) -> None:
        self.leave_now(message.reason, 128 + signal.SIGHUP)

    def leave_now(self, reason: str, code: int) -> None:
        """The terminal is gone or we were told to stop: keep every draft now, then exit (screens
        unmount: probe lease released, database closed). `on_leaving` bounds how long that takes."""
        if self.gone_reason is not None:
            return
        self.gone_reason = reason
        for screen in self.screen_stack:
            keeper = getattr(screen, "drafts", None)
            if keeper is not None:
                keeper.save_now()
        if self.on_leaving is not None:
            self.on_leaving(code)
        self.exit(return_code=code)

    def on_undecodable_input(self, message: UndecodableInput) -> None:
        self.undecodable_bytes += message.count
        total = self.undecodable_bytes
        text = f"{total} byte{'s' if total != 1 else ''} from the terminal {'were' if total != 1 else 'was'} not UTF-8: shown as \ufffd."
        bars = self.screen.query("EntryBar")
        if bars:
            bars.first().show_notice(text + " Check your terminal's character set (it should be UTF-8).")
        else:
            self.notify(text, severity="warning", markup=False)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Warnings and errors start with a glyph, so the toast's colour is not the only sign.

        Toasts quote names, errors and typed text: they are always plain (never markup, whatever
        `markup` says) and pass through visible(), so nothing in them can style or move the screen."""
        glyph = TOAST_GLYPHS.get(severity)
        message = visible(message)
        super().notify(f"{glyph} {message}" if glyph else message, title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    def watch_theme(self, theme: str) -> None:
        """Remember a theme picked while running (the one chosen at start-up is not a new choice)."""
        if self.on_theme_change and self.service is not None:
            self.on_theme_change(theme)

    @work(exclusive=True, group="start")
    async def choose_start(self) -> None:
        open_incidents = await self.service.incidents()
        if len(open_incidents) == 1:
            self.open_incident(open_incidents[0].id)
        else:
            from warroom.ui.screens.picker import PickerScreen

            await self.push_screen(PickerScreen())
            self.call_later(self.release_early_keys)

    @work(exclusive=True, group="start")
    async def open_incident(self, incident_id: str) -> None:
        """The war room of `incident_id`, instead of whatever was open (the war room left keeps its
        draft and gives its probe lease up as it closes); back to it if it is the one open."""
        from warroom.ui.screens.war_room import WarRoomScreen

        incident = await self.service.incident(incident_id)
        self.sub_title = self.session.sub_title(incident)
        showing = next((s for s in self.screen_stack if isinstance(s, WarRoomScreen)), None)
        if showing is not None and showing.incident.id == incident_id:
            while self.screen is not showing:
                await self.pop_screen()
            return
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        screen = self.session.screen(incident)
        prepare = getattr(screen, "prepare", None)
        if prepare is not None:
            await prepare()  # what its first frame shows, read before it is drawn
        await self.push_screen(screen)
        self.call_later(self.release_early_keys)  # (or the next key does, whichever comes first)

    def choose_incident(self, current: str | None = None, declare: bool = False) -> None:
        """The picker over the war room: switch to another open incident, or declare one."""
        from warroom.ui.screens.picker import PickerScreen

        self.push_screen(PickerScreen(current, declare=declare))

    @work(group="reach")
    async def announce_declared(self, incident) -> None:
        """What the new incident owes at once, in one toast (its declaration entry and F5 hold it all)."""
        from warroom.ui.screens.war_room_procedures import owed_toast

        from warroom.domain.models import EntryKind

        declared = await self.service.entries(incident.id, [EntryKind.SYSTEM])
        started = next(((e.data or {})["started"] for e in declared if (e.data or {}).get("started")), [])
        if started:
            self.notify(owed_toast(f"Declared {incident.severity}", started, self.service.now()),
                        severity="warning", timeout=8, markup=False)

    @work(group="reach")
    async def page_declared(self, incident) -> None:
        """Page on-call in the background when the new incident's severity pages."""
        done = await self.reach.after_declare(incident)
        for page in done.pages:
            if page.state.value == "delivered":
                self.notify(f"Paged {page.pager}", markup=False)
            else:
                self.notify(f"Page to {page.pager} FAILED: page by hand (why: timeline)", severity="error",
                            timeout=15, markup=False)

    def action_help(self) -> None:
        from warroom.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    @work(exclusive=True, group="quit")
    async def action_quit(self) -> None:
        screen = self.screen
        unsent = screen.unsent_text() if hasattr(screen, "unsent_text") else ""
        if unsent:
            from warroom.ui.screens.dialogs import Confirm

            shown = visible(unsent[:200]) + (f"… ({size_words(unsent)})" if len(unsent) > 200 else "")
            kept = getattr(getattr(screen, "drafts", None), "slot", None) is not None and self.drafts.lasting
            question = ("It is kept as a draft and put back in the bar the next time this incident is opened."
                        "\nQuit?" if kept else "Quit and lose it?")
            leave = await self.push_screen_wait(
                Confirm(f"The entry bar has unsent text:\n{shown}\n{question}", yes="Quit", no="Stay"))
            if not leave:
                return
        self.exit()

    def palette_commands(self):
        found = [("Quit", self.action_quit, "Leave warroom")]
        for name in sorted(self.theme_names | {"textual-dark", "textual-light"}):
            if name in self.available_themes:
                found.append((f"Theme: {name}", lambda n=name: setattr(self, "theme", n), "Switch and remember"))
        return found

