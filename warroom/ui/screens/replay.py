"""The replay: the war room of a past incident with its clock moving through it.

It is the war-room screen itself, reading through a ReplayService (warroom.service.replay) whose
reads stop at the replay's moment: entries appear when they happened, the header, roles,
countdown and probe states follow. A `ReplayController` composed into the screen moves the clock
(domain.playback.PlaybackClock) and makes the screen look again; the bar under the timeline says
where the replay stands and which keys move it.

Keys: Space pause or play, n the next entry, + / - faster or slower, m jump to a milestone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from warroom.domain.clock import format_moment
from warroom.domain.playback import PlaybackClock, speed_words
from warroom.domain.replay import ReplayPoint, offset_words
from warroom.domain.text import visible
from warroom.service.live import PROBE_STATE
from warroom.ui.messages import RecordChanged
from warroom.ui.screens.war_room import WarRoomScreen
from warroom.ui.session import Session
from warroom.ui.widgets.entry_bar import EntryBar
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline

LOOK_EVERY = 0.2  # seconds between looks at the record while the replay runs
ROLES_EVERY = timedelta(seconds=30)  # of the incident's time: how often the roles' "for how long" is redrawn
KEYS_HINT = "Space pause · n next · +/- speed · m milestone"
KEYS_SHORT = "Space n +/- m"  # under 100 columns


class ReplaySession(Session):
    """A read-only war room through a ReplayService on `clock` (its end: the record's last moment)."""

    def __init__(self, clock: PlaybackClock, first: datetime, last: datetime):
        super().__init__(read_only=True)
        self.clock, self.first, self.last = clock, first, last

    async def open_service(self, app):
        from warroom.service.replay import ReplayService

        return await ReplayService.open(app.db_path, app.policies, self.clock, app.default_policy, config=app.config)

    def screen(self, incident):
        return ReplayScreen(incident, self)

    def sub_title(self, incident) -> str:
        return f"{incident.id} · replay (read-only)"


class ReplayController:
    """Moves one replay: its clock, the screen's looks at the record, the bar and the header mark."""

    def __init__(self, screen: "ReplayScreen", session: ReplaySession):
        self.screen, self.clock = screen, session.clock
        self.first, self.last = session.first, session.last
        self.entries_in_all = 0  # the record's size, read once
        self._looked_at: datetime | None = None
        self._roles_at: datetime | None = None

    def start(self) -> None:
        self.screen.query_one(IncidentHeader).mark = self.mark
        self.screen.set_interval(LOOK_EVERY, self.tick)
        self.tick()

    def mark(self) -> str:
        """The header's first words: 'REPLAY ×60', 'REPLAY ×60 ⏸'."""
        return f"REPLAY {speed_words(self.clock.speed)}" + (" ⏸" if self.clock.paused else "")

    def tick(self) -> None:
        """Look at the record again when the clock moved; pause at its end."""
        moment = self.clock()
        if self.clock.at_end and not self.clock.paused:
            self.clock.pause()
            self.screen.notify("End of the record: m jumps back to a milestone", markup=False)
        if moment != self._looked_at:
            self._looked_at = moment
            self.screen.follow_record()
            self.screen.tick()
            if self._roles_at is None or abs(moment - self._roles_at) >= ROLES_EVERY:
                self._roles_at = moment
                roles = self.screen.query_one(RolesPane)
                roles.show(roles.seats)  # "alice 12m" counts the replay's time, not the wall's
        self.show()

    def show(self) -> None:
        """The replay bar: state, speed, moment, how far in, how many entries shown."""
        clock = self.clock
        moment = self.screen.service.horizon  # the moment the screen shows (the clock runs on between looks)
        state = "■ END" if clock.at_end else ("⏸ PAUSED" if clock.paused else "▶ PLAYING")
        shown = self.screen.query_one(Timeline).total
        narrow = self.screen.size.width < 100
        line = Text()
        line.append(f" {state} ", "bold reverse")
        line.append(f" {speed_words(clock.speed)}  {format_moment(moment, moment)} "
                    f"{offset_words(moment, self.first)}/{offset_words(self.last, self.first).removeprefix('+')}  "
                    f"{shown}/{self.entries_in_all}{'' if narrow else ' entries'}  ")
        line.append(KEYS_SHORT if narrow else KEYS_HINT, "italic")
        self.screen.query_one("#replay-bar", Static).update(line)
        self.screen.query_one(IncidentHeader).refresh()

    def _moved(self) -> None:
        self._looked_at = None
        self.tick()

    def toggle(self) -> None:
        if self.clock.at_end and self.clock.paused:
            self.screen.notify("End of the record: m jumps back to a milestone", markup=False)
            return
        self.clock.toggle()
        self._moved()

    def faster(self) -> None:
        self.clock.faster()
        self._moved()

    def slower(self) -> None:
        self.clock.slower()
        self._moved()

    def jump(self, moment: datetime) -> None:
        self.clock.jump(moment)
        self.screen.query_one(Timeline).follow()
        self._moved()

    async def step(self) -> None:
        """To the moment the next entry happened (paused stays paused)."""
        found = await self.screen.service.next_moment(self.screen.incident.id, self.clock())
        if found is None:
            self.screen.notify("No entry after this moment: the end of the record", markup=False)
            return
        self.jump(found)


class MilestoneChooser(ModalScreen[ReplayPoint | None]):
    """Pick a moment to jump to; Enter jumps, Escape stays."""

    BINDINGS = [Binding("escape", "dismiss_none", "Stay")]
    DEFAULT_CSS = """
    MilestoneChooser { align: center middle; }
    MilestoneChooser > Vertical { width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1; }
    MilestoneChooser OptionList { height: auto; max-height: 16; }
    MilestoneChooser .hint { color: $text-muted; }
    """

    def __init__(self, points: list[ReplayPoint], first: datetime, now: datetime) -> None:
        super().__init__()
        self.points, self.first, self.now = points, first, now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Jump to")
            yield OptionList(*[Option(Text(f"{offset_words(p.at, self.first):>9}  "
                                           f"{format_moment(p.at, self.now)}  {visible(p.label)}"), id=str(i))
                               for i, p in enumerate(self.points)], id="milestones")
            yield Label(Text("Enter: jump there · Esc: stay"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.points[int(event.option.id)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ReplayBar(Static):
    """One line under the timeline: where the replay stands and its keys."""

    DEFAULT_CSS = """
    ReplayBar { height: 1; background: $panel; color: $foreground; text-wrap: nowrap; text-overflow: ellipsis; }
    """


class ReplayScreen(WarRoomScreen):
    """The war room of a past incident, read-only, its clock moving through it."""

    LOOK_FIRST = False  # its controller moves the clock, then looks (on_record_changed)

    BINDINGS = [
        Binding("space", "replay_toggle", "Pause/play", tooltip="Pause or play the replay"),
        Binding("n", "replay_step", "Next entry", tooltip="Jump to the moment of the next entry"),
        Binding("plus,equals_sign", "replay_faster", "Faster", tooltip="Play faster"),
        Binding("minus", "replay_slower", "Slower", tooltip="Play slower"),
        Binding("m", "replay_milestone", "Milestone", tooltip="Jump to a milestone, severity or status change"),
    ]

    def __init__(self, incident, session: ReplaySession, **kwargs) -> None:
        super().__init__(incident, **kwargs)
        self.replay = ReplayController(self, session)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer):
                yield ReplayBar(id="replay-bar")
            yield widget

    async def on_mount(self) -> None:
        self.query_one(EntryBar).display = False  # nothing is written in a replay: the bar says where it is
        self.replay.entries_in_all = await self.service.recorded_entries(self.incident.id)
        self.replay.start()

    def check_clock(self) -> None:
        """Nothing to say: a replay's clock is behind the record by design."""

    def on_record_changed(self, message: RecordChanged) -> None:
        """The countdown at the moment just read; probe states follow the transitions logged by then."""
        self.tick()
        self.replay.show()
        monitor = self.monitor
        if monitor is not None and PROBE_STATE in message.delta:
            self.run_worker(monitor.refresh_board(), group="replay-probes")

    def action_replay_toggle(self) -> None:
        self.replay.toggle()

    @work(group="replay-step", exclusive=True)
    async def action_replay_step(self) -> None:
        await self.replay.step()

    def action_replay_faster(self) -> None:
        self.replay.faster()

    def action_replay_slower(self) -> None:
        self.replay.slower()

    @work(group="dialog")
    async def action_replay_milestone(self) -> None:
        points = await self.service.replay_points(self.incident.id)
        chosen = await self.app.push_screen_wait(MilestoneChooser(points, self.replay.first, self.replay.clock()))
        if chosen is not None:
            self.replay.jump(chosen.at)
            self.notify(f"Jumped to {chosen.label}", markup=False)
