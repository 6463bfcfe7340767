"""What the war room's first frame reads, read by the indexes: the newest recording time by a skip
through the kind index (the same answer as MAX over every entry), the duty entries by kind (in time
order, as before), each without reading every entry of the incident."""

from __future__ import annotations

from warroom.domain.models import EntryKind
from warroom.store import queries as q


SCROLLBARS = str.maketrans("▁▂▃▄▅▆▇█", "        ")


async def _plan(service, sql: str, params: tuple) -> str:
    if service.db.pushes_changes:  # a server plans its own way
        return ""
    rows = await service.db.reader.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
    return " | ".join(row[-1] for row in rows)


async def test_the_newest_recording_time_is_the_maximum_over_every_kind(service, clock):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    for text, minutes in (("note one", 5), ("/decision roll back", 3), ("/status monitoring", -30),
                          ("note two", -20), ("/action page the DBA", 1)):
        clock.advance(minutes=minutes)  # this computer's clock moves back and forth between entries
        await service.execute(incident.id, text, "bob")
    reader = service.db.reader
    rows = await reader.execute_fetchall("SELECT recorded_at FROM entries WHERE incident_id = ?", (incident.id,))
    newest = max(row[0] for row in rows)
    assert (await q.newest_recorded_at(reader, incident.id)).isoformat().startswith(newest[:19])
    assert await q.newest_recorded_at(reader, "INC-20991231-001") is None
    plan = await _plan(service, q._NEWEST_RECORDED, (incident.id,) * 3)
    scans = [step for step in plan.split(" | ") if step.startswith("SCAN") and step != "SCAN kinds"]
    assert scans == [] and "entries_by_kind" in (plan or "entries_by_kind")  # lookups, no walk through the entries


async def test_entries_of_some_kinds_come_in_time_order_through_the_kind_index(service, clock, monkeypatch):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    await service.execute(incident.id, "note one", "bob")
    clock.advance(minutes=2)
    await service.execute(incident.id, "/sev SEV-1 spreading", "bob")
    await service.execute(incident.id, "-10m /sev SEV-2 it was not", "bob")  # back-dated: earlier in time
    asked, real_all = [], q._all
    monkeypatch.setattr(q, "_all", lambda conn, sql, params: asked.append((sql, tuple(params))) or
                        real_all(conn, sql, params))
    found = await q.all_entries(service.db.reader, incident.id, (EntryKind.SEVERITY,))
    assert [e.text for e in found] == [e.text for e in sorted(found, key=lambda e: (e.occurred_at, e.number))]
    assert len(found) == 2 and found[0].text.endswith("it was not") and found[0].number > found[1].number
    plan = await _plan(service, *asked[0])
    assert not plan or "entries_by_kind" in plan  # not every entry of the incident, by the time index


async def test_the_timeline_asks_for_its_tail_when_it_learns_the_total_not_when_it_draws():
    from textual.app import App

    from warroom.ui.widgets.timeline import PAGE_SIZE, Timeline

    class Source:
        asked: list[int] = []

        async def count(self, query: str) -> int:
            return 0

        async def page(self, offset: int, limit: int, query: str):
            self.asked.append(offset // PAGE_SIZE)
            return []

    class TimelineApp(App):
        def compose(self):
            yield Timeline(Source(), lambda: None)

    async with TimelineApp().run_test(size=(80, 30)) as pilot:
        timeline = pilot.app.query_one(Timeline)
        timeline.reset(2 * PAGE_SIZE + 10)  # rows 390-409 are in view: pages 2 and 1
        assert timeline._pending == {1, 2}  # asked at once, before a frame with "loading…" in it
        assert not timeline.tail_shown


async def test_the_probes_start_checking_after_the_first_full_frame(tmp_path, monkeypatch, target):
    from test_ui_support import make_app, small_database, wait_for
    from warroom.probes.config import make_http_probe
    from warroom.service import IncidentService
    from warroom.service.monitor import ProbeMonitor
    from warroom.ui.widgets.health import HealthPane
    from warroom.ui.widgets.timeline import Timeline
    from test_ui_support import POLICIES

    # 40 notes 30 s apart end 20 minutes after the declaration: still before NOW (a later one would
    # be ahead of the clock, and the war room's clock warning, back-dated behind it, reloads the timeline)
    path, incident_id = await small_database(tmp_path, notes=40, declared_minutes_ago=30)
    service = await IncidentService.open(path, POLICIES)
    try:
        await service.attach_probe(incident_id, make_http_probe("api", target.url("/ok"), interval="1s"))
    finally:
        await service.close()
    seen = []
    real_start = ProbeMonitor.start

    async def start(self):
        screen = app.screen
        seen.append((screen.first_frame.is_set(), screen.query_one(Timeline).tail_shown,
                     screen.query_one(HealthPane).board_shown, screen.attention.settled))
        await real_start(self)

    monkeypatch.setattr(ProbeMonitor, "start", start)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: seen)
        assert seen == [(True, True, True, True)]


async def test_the_war_room_is_mounted_with_everything_its_first_frame_shows(tmp_path, monkeypatch):
    """Read before the screen is put up (war_room_first_look), shown by on_mount: the first frame
    needs no read after it, and is laid out for the terminal's size (the header's facts line)."""
    from test_ui_support import make_app, small_database, war_room_ready
    from warroom.ui.screens.war_room import WarRoomScreen
    from warroom.ui.widgets.header import IncidentHeader
    from warroom.ui.widgets.health import HealthPane
    from warroom.ui.widgets.roles import RolesPane
    from warroom.ui.widgets.timeline import Timeline

    path, incident_id = await small_database(tmp_path, notes=30, declared_minutes_ago=20)  # all before NOW
    at_mount = []
    real = WarRoomScreen.on_mount

    async def on_mount(self):
        await real(self)
        timeline = self.query_one(Timeline)
        at_mount.append((self._record_shown, timeline.total, timeline.tail_shown, self.query_one(HealthPane).board_shown,
                         self.attention.settled, bool(self.query_one(RolesPane).seats),
                         self.query_one(IncidentHeader).facts))

    monkeypatch.setattr(WarRoomScreen, "on_mount", on_mount)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
    assert at_mount == [(True, 32, True, True, True, True, True)]  # the declaration, its commander, 30 notes


async def test_the_app_says_it_is_drawn_once_the_war_rooms_first_full_frame_is(tmp_path):
    from test_ui_support import make_app, small_database, war_room_ready

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    calls = []
    app.on_drawn = lambda: calls.append(app.screen.first_frame.is_set() and app.screen.query_one("Timeline").tail_shown)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        app.drawn()  # once only
    assert calls == [True]


async def test_the_first_frame_of_the_war_room_is_its_picture_not_a_draft_of_it(tmp_path, monkeypatch, target):
    """The Health pane cuts its rows and the detail pane its entry during the layout (the rows as
    they are once the scrollbar shows): the first frame drawn is what the screen then keeps showing
    (each was cut for no size first, and a second frame followed the Resize). Only the scrollbars
    come a frame later (Textual lays a scrollbar out after the layout that finds it needed: so do
    the bare app's); the probes here are all one line (no sparkline)."""
    from textual.screen import Screen

    from test_ui_support import POLICIES, make_app, small_database, war_room_ready
    from warroom.probes.config import make_http_probe
    from warroom.service import IncidentService
    from warroom.service.monitor import ProbeMonitor
    from warroom.ui.screens.war_room import WarRoomScreen

    path, incident_id = await small_database(tmp_path, notes=30, declared_minutes_ago=20)  # all before NOW
    service = await IncidentService.open(path, POLICIES)
    try:
        for number in range(20):  # more probes than the pane has lines: one line each, and a scrollbar
            await service.attach_probe(incident_id, make_http_probe(f"probe-{number:02d}", target.url("/ok")))
        monitor = ProbeMonitor(service, incident_id)
        await monitor.start()  # the holder stores the probes' states, as a war room open before did
        await monitor.stop()
    finally:
        await service.close()
    frames = []
    real = Screen._compositor_refresh

    def compositor_refresh(self):
        real(self)
        drawn = [strip.text.translate(SCROLLBARS) for strip in self._compositor.render_strips()] \
            if isinstance(self, WarRoomScreen) else []
        if drawn:  # (the footer's keys come later, as in any app)
            frames.append(drawn[:-1])

    monkeypatch.setattr(Screen, "_compositor_refresh", compositor_refresh)
    checking = []  # the frames drawn before the probes start checking (their states then change)
    real_start = ProbeMonitor.start

    async def start(self):
        checking.append(len(frames))
        await real_start(self)

    monkeypatch.setattr(ProbeMonitor, "start", start)
    from datetime import timedelta

    from conftest import NOW, FrozenClock

    for size in ((120, 40), (80, 24)):
        frames.clear()
        checking.clear()
        # the notes run to 15:05: a clock at 15:00 is behind the record, and its warning line in the
        # header leaves an 80x24 Health pane no room (test_a_clock_behind_the_record_is_in_the_first_frame_... has it)
        app = make_app(path, incident_id, clock=FrozenClock(NOW + timedelta(minutes=10)))
        async with app.run_test(size=size) as pilot:
            await war_room_ready(pilot)
        still = frames[:checking[0]]
        changed = [[(line, still[-1][n]) for n, line in enumerate(frame) if line != still[-1][n]] for frame in still]
        assert len(still) >= 2 and not any(changed), (size, changed)
        # the probes in the first frame (worst first: which of them are in view depends on how far
        # the holder above got with their first checks)
        assert any("probe-" in line for line in still[0]), "\n".join(still[0])


async def test_a_clock_behind_the_record_is_in_the_first_frame_and_told_to_the_timeline(tmp_path, monkeypatch):
    """The header's warning comes with the first frame (it came at the first tick, a second and a
    frame later), and the timeline is told once."""
    from datetime import timedelta

    from textual.screen import Screen

    from conftest import NOW, FrozenClock
    from test_ui_support import make_app, screen_text, small_database, wait_for, war_room_ready
    from warroom.ui.screens.war_room import WarRoomScreen

    path, incident_id = await small_database(tmp_path, notes=3)
    frames = []
    real = Screen._compositor_refresh

    def compositor_refresh(self):
        real(self)
        drawn = "\n".join(strip.text for strip in self._compositor.render_strips()) if isinstance(self, WarRoomScreen) else ""
        if drawn.strip():
            frames.append(drawn)

    monkeypatch.setattr(Screen, "_compositor_refresh", compositor_refresh)
    app = make_app(path, incident_id, clock=FrozenClock(NOW - timedelta(hours=2)))
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert "behind the record" in frames[0]
        await wait_for(pilot, lambda: "Clock warning from" in screen_text(app))  # the timeline told, once
