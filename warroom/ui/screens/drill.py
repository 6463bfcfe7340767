"""A drill: the war room of a practice incident, its script playing on the drill's clock.

The war-room screen itself, with a `DrillController` composed into it: it plays the steps as the
clock reaches them (warroom.service.drill.DrillRun), checks the probes at once after a scripted
failure or recovery (so the Health pane shows it without waiting for the next check), says DRILL
first in the header, and when the drill's length is up scores it and shows the drill report (F7
shows the score so far). Updates and pages go where the session's DrillReach sends them: the
drill outbox, unless `--live-delivery`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import work
from textual.binding import Binding

from warroom.domain.drill import DRILL_MARK, Scenario
from warroom.domain.drill_report import to_markdown, to_text
from warroom.domain.playback import PlaybackClock, speed_words
from warroom.domain.replay import offset_words
from warroom.domain.text import visible
from warroom.ui.screens.dialogs import TextPanel
from warroom.ui.screens.war_room import WarRoomScreen
from warroom.ui.session import Session
from warroom.ui.widgets.header import IncidentHeader

log = logging.getLogger("warroom.ui.drill")
PLAY_EVERY = 0.25  # seconds between looks at the script


class DrillSession(Session):
    """The war room of a drill's incident: the drill's clock, its reach (outbox) and screen."""

    probe_file = False  # only the drill's own probes: the user's probe file stays out of it

    def __init__(self, scenario: Scenario, clock: PlaybackClock, started_at: datetime, *, target=None,
                 outbox: Path, live: bool = False, report_path: Path | None = None):
        super().__init__(read_only=False)
        self.scenario, self.clock, self.started_at = scenario, clock, started_at
        self.target, self.outbox, self.live, self.report_path = target, outbox, live, report_path
        self.report_text: str | None = None  # the drill report, once the drill ended

    async def open_service(self, app):
        from warroom.service import IncidentService

        return await IncidentService.open(app.db_path, app.policies, self.clock, app.default_policy, config=app.config)

    def reach(self, app):
        from warroom.service.drill import DrillReach

        return DrillReach(app.service, app.config, outbox=self.outbox, live=self.live)

    def screen(self, incident):
        return DrillScreen(incident, self)

    def sub_title(self, incident) -> str:
        return f"{incident.id} · {DRILL_MARK}"


class DrillReportPanel(TextPanel):
    """The drill report (plain lines, inert)."""

    def __init__(self, report: str, final: bool) -> None:
        hint = "The drill is over. Esc: back to the war room (Ctrl+Q quits; the report is printed too)" if final \
            else "The score so far. Esc: back to the drill"
        super().__init__(Text(report), hint, "drill-report")


class DrillController:
    """Plays one drill in one screen: steps on time, probes checked at once, the report at the end."""

    def __init__(self, screen: "DrillScreen", session: DrillSession):
        self.screen, self.session = screen, session
        self.run = None  # a warroom.service.drill.DrillRun, made once the app's service is open
        self.played = 0
        self._playing = False

    def start(self) -> None:
        from warroom.service.drill import DrillRun

        app, session = self.screen.app, self.session
        self.run = DrillRun(app.service, session.scenario, self.screen.incident.id, session.started_at,
                            target=session.target, reach=app.reach)
        self.screen.query_one(IncidentHeader).mark = self.mark
        where = ("updates and pages go to the real targets, marked DRILL" if session.live
                 else "updates and pages go to the drill outbox, not to real targets")
        app.notify(f"{DRILL_MARK} {session.scenario.spec.name} {speed_words(session.clock.speed)}: {where}. "
                   "F7: the score so far", severity="warning", timeout=10, markup=False)
        self.screen.set_interval(PLAY_EVERY, self.tick)
        self.tick()

    def mark(self) -> str:
        """'DRILL +03:12 ×60', 'DRILL over'."""
        if self.run is None or self.run.finished:
            return f"{DRILL_MARK} over" if self.run is not None else DRILL_MARK
        return f"{DRILL_MARK} {offset_words(self.session.clock(), self.session.started_at)} {speed_words(self.session.clock.speed)}"

    def tick(self) -> None:
        if not self._playing:
            self._playing = True
            self.screen.run_worker(self.play(), group="drill")

    async def play(self) -> None:
        """The steps due now; a probe moved is checked at once; the end makes the report."""
        try:
            events = await self.run.run_due()
            self.played += len(events)
            if any(event.probe for event in events):
                monitor = self.screen.monitor
                if monitor is not None:
                    await monitor.check_now()
            if self.run.finished and self.session.report_text is None:
                await self.finish()
        except Exception as error:  # a bad moment of the disk: the next tick plays it again
            log.warning("drill step failed: %s", error)
        finally:
            self._playing = False

    async def report(self):
        return await self.run.report(speed=self.session.clock.speed, delivery=self.screen.app.reach.describe())

    async def finish(self) -> None:
        """Score the drill, keep the report (Markdown file, text in the session) and show it."""
        report = await self.report()
        text = self.session.report_text = to_text(report)
        if self.session.report_path is not None:
            from warroom.service.files import write_private

            try:
                await asyncio.to_thread(write_private, self.session.report_path, to_markdown(report))
            except OSError as error:
                self.screen.notify(visible(f"drill report not saved: {error.strerror or error}"), severity="error")
        self.screen.query_one(IncidentHeader).refresh()
        self.screen.app.push_screen(DrillReportPanel(text, final=True))


class DrillScreen(WarRoomScreen):
    """The war room of a practice incident while its script plays."""

    BINDINGS = [Binding("f7", "drill_report", "Drill", tooltip="The drill's score so far (the report at its end)")]

    def __init__(self, incident, session: DrillSession, **kwargs) -> None:
        super().__init__(incident, **kwargs)
        self.drill = DrillController(self, session)

    def on_mount(self) -> None:
        self.drill.start()

    @work(group="dialog")
    async def action_drill_report(self) -> None:
        final = self.drill.session.report_text
        text = final or to_text(await self.drill.report())
        await self.app.push_screen_wait(DrillReportPanel(text, final=final is not None))
