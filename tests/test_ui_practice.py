"""The replay and the drill in the war-room screen (pilot, virtual time: the playback clock moves
only when a test moves its ticker; every wait is on a condition).

Replay: the demo's entries appear in the order they happened, the countdown goes overdue where it
really did, Space pauses the clock, n steps to the next entry, + and - change the speed, m jumps to
a milestone. Drill: DRILL in the header, the scripted probe failure in the Health pane at once, a
late acknowledgement scored late, the report saved, nothing delivered to a real target."""

from __future__ import annotations

from datetime import timedelta

from test_replay import Ticker
from test_ui_support import NOW, POLICIES, demo_database, make_app, screen_text, submit_and_wait, wait_for, war_room

from warroom.domain.drill import parse_drill
from warroom.domain.playback import PlaybackClock
from warroom.service import IncidentService
from warroom.service.config import Config
from warroom.service.drill import DrillTarget, open_drill
from warroom.ui.screens.drill import DrillReportPanel, DrillSession
from warroom.ui.screens.replay import MilestoneChooser, ReplaySession
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.entry_bar import EntryBar
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.timeline import Timeline


async def ready(pilot) -> None:
    """The replay's or the drill's war room is on screen with what happened so far."""
    from warroom.ui.screens.war_room import WarRoomScreen

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, WarRoomScreen) and screen.query_one(Timeline).total > 0

    await wait_for(pilot, shown)
    await pilot.pause()


async def replay_app(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    reader = await IncidentService.open(path, POLICIES)
    try:
        record = sorted(await reader.entries(incident_id), key=lambda e: (e.occurred_at, e.number))
    finally:
        await reader.close()
    first, last = record[0].occurred_at, record[-1].occurred_at
    ticker = Ticker()
    clock = PlaybackClock(first, 60, end=last, ticker=ticker)
    return make_app(path, incident_id, session=ReplaySession(clock, first, last)), clock, ticker, record


async def test_replay_plays_the_demo_in_order_and_goes_overdue_where_it_did(tmp_path):
    app, clock, ticker, record = await replay_app(tmp_path)
    first = record[0].occurred_at
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        screen = war_room(app)
        timeline, countdown = screen.query_one(Timeline), screen.query_one(CountdownPane)
        assert not screen.query_one(EntryBar).display  # nothing is written in a replay
        assert timeline.total == 1 and "REPLAY ×60" in str(screen.query_one(IncidentHeader).render())
        for seconds in range(5, 70, 5):  # at 60x, five minutes of the incident each step
            ticker.seconds = seconds
            moment = min(first + timedelta(minutes=seconds), record[-1].occurred_at)
            expected = sum(entry.occurred_at <= moment for entry in record)
            await wait_for(pilot, lambda: timeline.total == expected and screen.service.horizon >= moment)
            screen.tick()  # what the screen does every second: a replay's clock is behind the record by design
            assert "behind the record" not in str(screen.query_one(IncidentHeader).render())
            assert not str(screen.query_one(IncidentHeader).render()).split("⏱ ")[1].startswith("-")
            if seconds == 45:  # 14:39: the second internal update, due at 14:36, is not posted yet
                ticker.seconds = 43
                await wait_for(pilot, lambda: countdown.has_class("-overdue"))
                assert "Internal update OVERDUE by" in screen_text(app)
                ticker.seconds = 45
                await wait_for(pilot, lambda: not countdown.has_class("-overdue"))
        await pilot.pause()
        shown = [timeline.entry_at(row) for row in range(timeline.total)]
        assert [e.number for e in shown] == [e.number for e in record]  # every entry, in the order it happened
        await wait_for(pilot, lambda: clock.paused)  # it stops at the end of the record
        assert clock.at_end
        assert "■ END" in str(screen.query_one("#replay-bar").render())


async def test_replay_keys_pause_step_speed_and_jump(tmp_path):
    app, clock, ticker, record = await replay_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        screen = war_room(app)
        timeline = screen.query_one(Timeline)
        await pilot.press("space")
        assert clock.paused and "PAUSED" in str(screen.query_one("#replay-bar").render())
        stopped = clock()
        ticker.seconds = 30  # half an hour at 60x: nothing moves while paused
        await pilot.press("n")  # the next entry: at 13:56, the detected milestone
        await wait_for(pilot, lambda: timeline.total == 2)
        assert clock() == record[1].occurred_at and clock.paused and clock() > stopped
        await pilot.press("plus")
        assert clock.speed == 120
        await pilot.press("minus", "minus")
        assert clock.speed == 30
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MilestoneChooser))
        chooser = app.screen
        mitigated = next(i for i, point in enumerate(chooser.points) if point.label == "mitigated")
        chooser.query_one("#milestones").highlighted = mitigated
        await pilot.press("enter")
        moment = chooser.points[mitigated].at
        await wait_for(pilot, lambda: screen.service.horizon == moment)
        assert timeline.total == sum(e.occurred_at <= moment for e in record)
        assert "Mitigated" in screen_text(app)
        await pilot.press("space")
        assert not clock.paused


DRILL = """\
[drill]
name = "Pilot"
title = "API down"
severity = "SEV-2"
services = ["api"]
length = "10m"

[[probe]]
name = "api"

[[step]]
at = "+1m"
probe = "api"
state = "down"

[[step]]
at = "+1m"
expect = "ack within 5m"
"""


async def test_drill_shows_the_probe_failure_and_scores_a_late_ack(tmp_path):
    scenario = parse_drill(DRILL, "pilot.toml", POLICIES)
    ticker = Ticker()
    clock = PlaybackClock(NOW, 60, ticker=ticker)
    target = DrillTarget(["api"])
    await target.start()
    path, outbox, report = tmp_path / "drill.db", tmp_path / "outbox", tmp_path / "drill-report.md"
    try:
        incident = await open_drill(path, POLICIES, clock, Config(), scenario, target, outbox, False)
        session = DrillSession(scenario, clock, incident.created_at, target=target, outbox=outbox, report_path=report)
        app = make_app(path, incident.id, session=session)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            screen = war_room(app)
            assert str(screen.query_one(IncidentHeader).render()).startswith(" DRILL +00:00 ×60 ")
            health = screen.query_one(HealthPane)
            await wait_for(pilot, lambda: [(row.name, row.word) for row in health.rows] == [("api", "UP")])
            ticker.seconds = 1.1  # +1m06s at 60x: the script makes the probe fail; the screen checks it at once
            await wait_for(pilot, lambda: [(row.name, row.word) for row in health.rows] == [("api", "DOWN")])
            assert "▼ DOWN" in screen_text(app)
            ticker.seconds = 7  # +7m: the ack was due at +6m
            await submit_and_wait(pilot, "/ack")
            await submit_and_wait(pilot, "/update internal API down, we are on it")
            ticker.seconds = 10  # +10m: the end
            await wait_for(pilot, lambda: isinstance(app.screen, DrillReportPanel) and app.screen.query("#drill-report"))
            shown = str(app.screen.query_one("#drill-report").render())
            assert "LATE: ack within 5m: due +06:00" in shown and "01:00 late" in shown
            assert "nothing reached a real target" in shown
            assert "DRILL over" in str(screen.query_one(IncidentHeader).render())
    finally:
        await target.close()
    assert session.report_text.startswith("DRILL report: Pilot")
    assert report.read_text(encoding="utf-8").startswith("# DRILL report: Pilot")
    [held] = outbox.iterdir()  # the update went to the drill outbox only
    assert held.read_text(encoding="utf-8").startswith("[DRILL] API down, we are on it")
