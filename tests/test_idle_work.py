"""What an open war room does while nothing happens, kept small: the Health pane redraws only the
rows that changed, the countdown asks for a layout only when a line's length changes, stored probe
configs are validated once, and no HTTP client is imported until a probe is checked."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from textual.app import App
from textual.widgets import Static

from conftest import NOW
from warroom.service import probe_board
from warroom.ui.widgets.health import HealthPane, ProbeRow


class _PaneApp(App):
    def compose(self):
        yield HealthPane(id="health")


def _rows(ago: str) -> list[ProbeRow]:
    return [ProbeRow(name=f"probe-{n:02d}", glyph="▲", word="UP", severity_rank=5, latency="3ms", uptime="up 100%",
                     last_check=ago, style_class="health--up") for n in range(8)]


async def test_the_health_pane_redraws_only_the_rows_that_changed():
    async with _PaneApp().run_test(size=(80, 30)) as pilot:
        pane = pilot.app.query_one(HealthPane)
        pane.show(_rows("1s ago"))
        await pilot.pause()
        options = list(pane.options)
        changed = _rows("1s ago")
        changed[3] = replace(changed[3], last_check="2s ago")
        pane.show(changed)
        await pilot.pause()
        assert list(pane.options) == options and all(a is b for a, b in zip(pane.options, options))  # not rebuilt
        assert "2s ago" in str(pane.options[3].prompt) and "1s ago" in str(pane.options[2].prompt)
        pane.show(changed[:5])  # another set of probes: rebuilt
        assert pane.option_count == 5


async def test_the_countdown_lays_out_again_only_when_a_line_changes_length(monkeypatch):
    from warroom.ui.widgets.countdown import CountdownPane

    class CountdownApp(App):
        def compose(self):
            yield CountdownPane()

    layouts = []
    real = Static.update

    def update(self, content="", *, layout=True):
        layouts.append(layout)
        real(self, content, layout=layout)

    async with CountdownApp().run_test(size=(60, 20)) as pilot:
        pane = pilot.app.query_one(CountdownPane)
        monkeypatch.setattr(Static, "update", update)
        pane._put("#countdown-reason", "due 15:00 · in 12:00")
        pane._put("#countdown-reason", "due 15:00 · in 11:59")  # a tick: same length
        pane._put("#countdown-reason", "due 15:00 · in 11:59")  # nothing new: not even a redraw
        pane._put("#countdown-reason", "due 15:00 · OVERDUE by 00:01")
        assert layouts == [True, False, True]
        assert "OVERDUE" in str(pilot.app.query_one("#countdown-reason", Static).render())


def test_a_stored_probe_config_is_validated_once(monkeypatch):
    from warroom.probes.config import make_http_probe
    from warroom.store.probe_states import StoredProbeState

    calls = []
    real = probe_board.spec_from_dict
    monkeypatch.setattr(probe_board, "spec_from_dict", lambda config, source: calls.append(1) or real(config, source))
    config = make_http_probe("api", "http://127.0.0.1:9/health").redacted()
    row = StoredProbeState(probe="api", config=config, state="up", health="up", since=NOW, paused=False, interval=30.0,
                           last_result=None, consecutive_failures=0, consecutive_successes=1, first_failure_at=None,
                           recent=[], uptime_checks=0, uptime_ok=0, attached=True)
    specs = probe_board.SpecCache()
    for _ in range(5):
        [view] = probe_board.board_of([row], "incident X", specs)
    assert view.name == "api" and len(calls) == 1
    changed = replace(row, config={**config, "interval": "10s"})
    probe_board.board_of([changed], "incident X", specs)
    assert len(calls) == 2  # a changed config is validated again


def test_no_http_client_is_imported_until_a_probe_is_checked():
    code = ("import sys, warroom.cli, warroom.service, warroom.service.monitor\n"
            "from warroom.probes.engine import ProbeEngine\n"
            "engine = ProbeEngine()\n"
            "print(sorted(m for m in ('httpx', 'aiohttp') if m in sys.modules))\n"
            "engine.checker\n"
            "print(sorted(m for m in ('httpx', 'aiohttp') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "['aiohttp', 'httpx']"]


def test_the_time_since_a_check_moves_in_steps_of_five_seconds_under_a_minute():
    from datetime import timedelta

    from warroom.ui.widgets.health import checked_ago

    shown = [checked_ago(timedelta(seconds=s)) for s in (0, 4.9, 5, 9, 10, 59, 60, 185)]
    assert shown == ["<5s ago", "<5s ago", "5s ago", "5s ago", "10s ago", "55s ago", "1m ago", "3m ago"]
