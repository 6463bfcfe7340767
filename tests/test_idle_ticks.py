"""An idle war room draws only what changed, once a second, in one frame: one timer a second drives
the header's clock, the countdown and the Health pane's figures; each draws again only when what it
shows changed; the look at the record on its timer starts no worker; the probe lease holder reads the board
once per batch of results it stores. Mechanisms, counted, not timings (README "Performance")."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App
from textual.widgets import Static

from probe_servers import until as until_true
from test_ui_support import make_app, small_database, wait_for, war_room_ready
from warroom.probes.config import make_http_probe
from warroom.probes.states import ProbeState
from warroom.service import live as live_module
from warroom.service import monitor as monitor_module
from warroom.service.monitor import ProbeMonitor
from warroom.ui.screens.war_room import WarRoomScreen
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane, ProbeRow


class _PaneApp(App):
    def compose(self):
        yield HealthPane(id="health")


def _rows(ago: str, count: int = 8) -> list[ProbeRow]:
    return [ProbeRow(name=f"probe-{n:02d}", glyph="▲", word="UP", severity_rank=5, latency="3ms", uptime="up 100%",
                     last_check=ago, style_class="health--up") for n in range(count)]


def _count_redraws(monkeypatch, pane: HealthPane) -> list[int]:
    redrawn: list[int] = []
    real = HealthPane._redraw_row
    monkeypatch.setattr(HealthPane, "_redraw_row", lambda self, index, prompt: redrawn.append(index) or
                        real(self, index, prompt))
    return redrawn


async def test_a_short_health_pane_redraws_no_row_when_only_the_time_since_a_check_moved(monkeypatch):
    async with _PaneApp().run_test(size=(60, 12)) as pilot:  # 8 probes in 10 rows: one line each, no "ago"
        pane = pilot.app.query_one(HealthPane)
        pane.show(_rows("5s ago"))
        await pilot.pause()
        redrawn = _count_redraws(monkeypatch, pane)
        pane.show(_rows("10s ago"))
        assert redrawn == []  # the rows changed, their drawing did not
        pane.show([replace(row, latency="40ms") if row.name == "probe-02" else row for row in _rows("10s ago")])
        assert redrawn == [2]
        assert "40ms" in str(pane.options[2].prompt)


async def test_a_tall_health_pane_redraws_the_rows_whose_time_since_a_check_moved(monkeypatch):
    async with _PaneApp().run_test(size=(60, 30)) as pilot:  # two lines a probe: the "ago" is shown
        pane = pilot.app.query_one(HealthPane)
        pane.show(_rows("5s ago"))
        await pilot.pause()
        redrawn = _count_redraws(monkeypatch, pane)
        pane.show(_rows("5s ago")[:4] + _rows("10s ago")[4:])
        assert redrawn == [4, 5, 6, 7]
        assert "10s ago" in str(pane.options[7].prompt) and "5s ago" in str(pane.options[3].prompt)


async def test_n_idle_seconds_draw_nothing_and_a_minute_draws_the_header(tmp_path, monkeypatch):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        await wait_for(pilot, lambda: screen.attention.settled and screen.query_one(HealthPane).monitor is not None)
        await pilot.pause()
        header, health = screen.query_one(IncidentHeader), screen.query_one(HealthPane)
        drawn: list[str] = []
        for widget in (header, health):
            real = widget.refresh
            monkeypatch.setattr(widget, "refresh", lambda *a, _real=real, _w=widget, **k:
                                drawn.append(type(_w).__name__) or _real(*a, **k))
        real_update = Static.update
        monkeypatch.setattr(Static, "update", lambda self, *a, **k: drawn.append(self.id or "static") or
                            real_update(self, *a, **k))
        for _ in range(5):  # five seconds of a frozen clock: nothing shown changes
            screen.tick()
        assert drawn == []
        app.clock.advance(minutes=1)  # the header's "⏱ 10m" becomes "⏱ 11m"
        screen.tick()
        assert "IncidentHeader" in drawn and "HealthPane" not in drawn


async def test_the_war_room_runs_one_timer_a_second(tmp_path):
    """The header, the countdown and the Health pane are drawn by the screen's one tick, so a
    second's changes make one frame (three timers made three frames a second)."""
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        nodes = [screen, *screen.walk_children(with_self=False)]
        every_second = [(type(node).__name__, timer) for node in nodes for timer in node._timers
                        if timer._interval == 1.0 and not timer._task.done()]
        assert [name for name, _ in every_second] == ["WarRoomScreen"]
        assert every_second[0][1]._callback == screen.tick
        assert not any(isinstance(node, (IncidentHeader, HealthPane, CountdownPane)) and node._timers
                       for node in nodes)


async def test_the_screen_looks_at_the_record_only_when_someone_committed(tmp_path, monkeypatch):
    """No look while the file's version stands still (a thread watches it, not the event loop);
    another process's entry makes one, and is shown."""
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    looks = []
    real_poll = live_module.LiveIncident.poll

    async def poll(self):
        looks.append(1)
        return await real_poll(self)

    monkeypatch.setattr(live_module.LiveIncident, "poll", poll)
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one(HealthPane).monitor is not None)
        await screen.monitor.stop()  # no probe results, no lease renewals: nobody commits
        watch = screen._stop_polling.__self__
        settled = watch.looks
        await wait_for(pilot, lambda: watch.looks >= settled + 2)  # whatever the stop committed, seen
        await wait_for(pilot, lambda: not screen._following)
        before, read = len(looks), watch.looks
        await wait_for(pilot, lambda: watch.looks >= read + 5)
        assert len(looks) == before  # five looks at the version, none at the record
        other = await IncidentService.open(path, PolicyBook.load())
        try:
            entry = (await other.execute(incident_id, "from another terminal", "bob"))[0]
        finally:
            await other.close()
        await wait_for(pilot, lambda: screen.live.last_number >= entry.number)
        assert len(looks) > before


async def test_the_lease_holder_reads_the_board_once_per_batch_it_stores(service, target, monkeypatch):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    await service.attach_probe(incident.id, make_http_probe("api", target.url("/ok"), interval="100ms"))
    batches, reads, polls = [], [], []
    real_insert = monitor_module.insert_results

    async def insert_results(conn, batch, incident_id):
        batches.append(len(batch))
        return await real_insert(conn, batch, incident_id)

    monkeypatch.setattr(monitor_module, "insert_results", insert_results)
    monitor = ProbeMonitor(service, incident.id, jitter=False, flush_every=0.05, reload_every=0.01)
    real_states, real_poll = service.probe_states, monitor.cursor.poll

    async def probe_states(incident_id):
        reads.append(1)
        return await real_states(incident_id)

    async def cursor_poll(incident_id):
        polls.append(1)
        return await real_poll(incident_id)

    monkeypatch.setattr(service, "probe_states", probe_states)
    monkeypatch.setattr(monitor.cursor, "poll", cursor_poll)
    await monitor.start()
    try:
        assert monitor.writing
        # counted once the probe is UP: its changes of state (each one entry, and the board read
        # again) come in the first checks, and on a busy machine the first batch holds only one
        await until_true(lambda: len(batches) >= 1 and getattr(monitor.view("api"), "state", None) is ProbeState.UP)
        start_reads, start_batches, start_polls = len(reads), len(batches), len(polls)
        await until_true(lambda: len(batches) >= start_batches + 5 and len(polls) >= start_polls + 10)
        stored = len(batches) - start_batches
        assert len(reads) - start_reads <= stored + 1  # its own batch read back once, not again by the look after it
    finally:
        await monitor.stop()


async def test_the_entry_bars_cursor_is_steady_shown_while_the_bar_has_the_focus(tmp_path):
    """A blinking cursor would draw a frame twice a second for as long as the war room is open."""
    from warroom.ui.widgets.entry_bar import EntryInput
    from warroom.ui.widgets.timeline import Timeline

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        bar.focus()
        await pilot.pause()
        assert bar.has_focus and not bar.cursor_blink
        assert bar._cursor_visible and not bar._blink_timer._active.is_set()  # shown; its timer never ticks
        app.screen.query_one(Timeline).focus()
        await pilot.pause()
        assert not bar._cursor_visible  # the cursor shows where the keys go


async def test_another_process_entry_is_drawn_when_read_not_at_the_next_frame_slot(tmp_path):
    """As an Enter's entry (tests/test_ui_latency.py): the screen's frame timer never ticks here,
    so only the frame drawn once the entry is read can show it."""
    from test_ui_support import frames_sent

    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one(HealthPane).monitor is not None)
        await screen.monitor.stop()  # nothing else commits, nothing else is drawn
        await wait_for(pilot, lambda: not screen._dirty_widgets and not screen._following)
        frames = frames_sent(app, stop_frame_slots=True)
        other = await IncidentService.open(path, PolicyBook.load())
        try:
            entry = (await other.execute(incident_id, "from another terminal", "bob"))[0]
        finally:
            await other.close()
        await frames.until(lambda: any(f"#{entry.number} " in frame for frame in frames))
        assert any(f"#{entry.number} " in frame and "from another terminal" in frame for frame in frames)
