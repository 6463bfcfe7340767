"""The Health pane in the running war room: worst first, check now, fast mode, pause, details by
keyboard, `/probe add` from the entry bar, hostile text rendered literally, and 80x24."""

from __future__ import annotations

from test_ui_support import (
    POLICIES, make_app, screen_text, showing, small_database, submit_and_wait, wait_for, war_room_ready,
)

from warroom.probes.config import make_http_probe
from warroom.service import IncidentService
from warroom.ui.screens.probe_detail import ProbeDetailScreen
from warroom.ui.widgets.health import HealthPane, sparkline


async def attach(path, incident_id, *specs) -> None:
    service = await IncidentService.open(path, POLICIES)
    try:
        for spec in specs:
            await service.attach_probe(incident_id, spec)
    finally:
        await service.close()


def fast(name: str, url: str, **fields):
    """Checked every second, DOWN on the first failure; the 1 s timeout leaves a busy machine room
    (a loopback answer that took longer than a 160 ms timeout made a healthy probe fail)."""
    return make_http_probe(name, url, interval="1s", timeout="1s", failure_threshold=1, **fields)


async def open_with_probes(tmp_path, target, *specs):
    path, incident_id = await small_database(tmp_path)
    await attach(path, incident_id, *specs)
    return make_app(path, incident_id), path, incident_id


def words(pane: HealthPane) -> list[tuple[str, str]]:
    return [(row.word, row.name) for row in pane.rows]


async def test_rows_are_ordered_worst_first_with_glyph_word_and_figures(tmp_path, target):
    app, _, _ = await open_with_probes(
        tmp_path, target, fast("a-good", target.url("/ok")), fast("b-down", target.url("/status/500")),
        fast("c-slow", target.url("/slow?delay=0.05"), degraded_over=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: words(pane) == [("DOWN", "b-down"), ("DEGRADED", "c-slow"), ("UP", "a-good")])
        await wait_for(pilot, lambda: all(row.uptime != "up —" for row in pane.rows))
        text = screen_text(app)
        assert "▼ DOWN     b-down" in text and "◐ DEGRADED c-slow" in text and "▲ UP       a-good" in text
        assert pane.rows[0].uptime == "up 0.0%" and pane.rows[2].uptime == "up 100%"
        assert pane.rows[0].last_check.endswith(" ago")


async def test_check_now_fast_mode_and_pause_keys(tmp_path, target):
    slow_schedule = make_http_probe("api", target.url("/ok"), interval="1m")
    other = make_http_probe("web", target.url("/ok"), interval="1m")
    app, path, incident_id = await open_with_probes(tmp_path, target, slow_schedule, other)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: pane.monitor is not None and len(pane.rows) == 2)
        pane.focus()
        hits = target.hits.get("ok", 0)
        await pilot.press("c")
        await wait_for(pilot, lambda: target.hits.get("ok", 0) >= hits + 2)
        await pilot.press("f")
        await wait_for(pilot, lambda: pane.monitor.fast_remaining() is not None)
        assert all(status.interval == 5.0 for status in pane.monitor.engine.statuses())
        await wait_for(pilot, lambda: pane.border_subtitle.startswith("fast "))
        await pilot.press("f")
        await wait_for(pilot, lambda: pane.monitor.fast_remaining() is None)
        assert all(status.interval == 60.0 for status in pane.monitor.engine.statuses())
        name = pane.selected_name
        await pilot.press("p")
        await wait_for(pilot, lambda: any(row.paused and row.name == name for row in pane.rows))
        assert "⏸ paused" in screen_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: not any(row.paused for row in pane.rows))
    service = await IncidentService.open(path, POLICIES)
    try:
        assert not any(p.paused for p in await service.attached_probes(incident_id))
    finally:
        await service.close()


async def test_details_open_from_the_pane_by_keyboard(tmp_path, target):
    app, _, _ = await open_with_probes(tmp_path, target, fast("hostile", target.url("/hostile"),
                                                            conditions=['body contains "never"']))
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: bool(pane.rows) and pane.rows[0].word == "DOWN")
        await pilot.press("tab", "tab", "tab")  # entry bar -> timeline -> roles -> health
        assert app.focused is pane
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, ProbeDetailScreen))
        detail = app.screen
        await wait_for(pilot, lambda: "Recent results" in detail.text.plain)
        assert "Conditions" in screen_text(app)
        text = detail.text.plain
        assert 'body contains "never"' in text
        assert "failing condition: body contains \"never\" failed" in text
        assert "[bold]markup[/bold]" in text  # literal, not styled
        assert "State history" in text and "DOWN" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ProbeDetailScreen))


async def test_probe_add_from_the_entry_bar_starts_the_probe(tmp_path, target):
    app, _, _ = await open_with_probes(tmp_path, target)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: pane.monitor is not None)
        assert "No probes" in screen_text(app)
        await submit_and_wait(pilot, f"/probe add checkout {target.url('/ok')}")
        await wait_for(pilot, lambda: [row.name for row in pane.rows] == ["checkout"])
        await wait_for(pilot, lambda: pane.rows[0].word == "UP")
        assert "Probe checkout added" in screen_text(app)


async def test_the_pane_fits_80x24(tmp_path, target):
    specs = [fast(f"service-{n}", target.url("/ok")) for n in range(4)] + [fast("broken", target.url("/status/503"))]
    app, _, _ = await open_with_probes(tmp_path, target, *specs)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: len(pane.rows) == 5 and pane.rows[0].word == "DOWN")
        await wait_for(pilot, lambda: all(row.uptime != "up —" and row.last_check for row in pane.rows))
        await wait_for(pilot, lambda: "▼ DOWN broken" in screen_text(app))  # worst first, visible
        lines = screen_text(app).splitlines()
        assert sum("▼ DOWN broken" in line for line in lines) == 1  # one line a probe
        assert all(len(line) <= 80 for line in lines)


async def test_an_80x24_header_of_three_lines_leaves_the_health_pane_its_worst_probe(tmp_path, target):
    """An overdue update and a clock behind the record each take a header line: the Roles pane
    scrolls rather than leave the Health pane only its top border."""
    from datetime import timedelta

    from conftest import NOW, FrozenClock
    from warroom.ui.widgets.header import IncidentHeader

    path, incident_id = await small_database(tmp_path, notes=30, severity="SEV-1", declared_minutes_ago=120)
    await attach(path, incident_id, fast("service-ok", target.url("/ok")), fast("broken", target.url("/status/503")))
    app = make_app(path, incident_id, clock=FrozenClock(NOW - timedelta(minutes=110)))  # notes run to 1h45m ago
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(HealthPane)
        await wait_for(pilot, lambda: pane.rows and pane.rows[0].word == "DOWN")
        header = str(app.screen.query_one(IncidentHeader).render())
        assert "OVERDUE" in header and "behind the record" in header, header
        await wait_for(pilot, lambda: "▼ DOWN broken" in screen_text(app))
        assert pane.content_region.height >= 1


def test_sparkline_marks_failures_and_scales_to_the_largest():
    assert sparkline([10.0, 20.0, None, 40.0]) == "▃▅×█"
    assert sparkline([]) == ""
    assert len(sparkline([1.0] * 50)) == 12


async def test_an_empty_pane_says_the_probes_are_starting_until_the_monitor_runs():
    """The demo's probes (and a --probes file) are attached when the monitor starts, after the first
    frame, and a probe is on the board only once the lease holder described it: until then an
    empty board is not "No probes"."""
    from textual.app import App

    class One(App):
        def compose(self):
            yield HealthPane()

    class Defining:  # what the pane asks of a running monitor
        count = 2

        def defined(self) -> int:
            return self.count

    app = One()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show([])
        await pilot.pause()
        assert "Starting the probes" in screen_text(app) and "No probes" not in screen_text(app)
        pane.monitor = monitor = Defining()  # running, its two probes not yet described by the holder
        pane.show([])
        await pilot.pause()
        assert "2 probes: no results yet" in screen_text(app) and "No probes" not in screen_text(app)
        monitor.count = 0
        pane.show([])
        await pilot.pause()
        assert "No probes. Add one" in screen_text(app)
        pane.monitor = None  # nothing to stop
