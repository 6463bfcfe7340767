"""Issue 10 point 4: a duty that becomes due soon or overdue gets attention (a toast, the bell
unless quiet, and the header, which keeps an overdue duty in view until it is done). The clock is
a FrozenClock moved past the deadlines: nothing waits for real time."""

from __future__ import annotations

from warroom.service.config import Attention, Config
from warroom.ui.widgets.header import IncidentHeader
from test_ui_support import (
    FrozenClock, make_app, screen_text, small_database, submit_and_wait, wait_for, war_room_ready,
)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def header_text(app) -> str:
    return str(app.screen.query_one(IncidentHeader).render())


async def test_overdue_rings_toasts_and_stays_in_the_header_until_done(tmp_path):
    # SEV-2 declared at 14:50: the internal and status-page first updates are due at 15:05 (due soon at 15:00)
    path, incident_id = await small_database(tmp_path)
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    rings: list[str] = []
    app.bell = lambda: rings.append("bell")
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await wait_for(pilot, lambda: "⏰ 2 DUE SOON: Internal update 05:00" in header_text(app))
        assert rings == [] and not any("Due soon" in t for t in toasts(app))  # already due soon on opening
        clock.advance(minutes=5, seconds=1)
        await wait_for(pilot, lambda: len(rings) == 2)  # one per duty that went overdue
        # a toast is posted to the app (it lands in its list a moment after the bell rang)
        await wait_for(pilot, lambda: any(t.startswith("✗ OVERDUE: Internal update (was due 15:05 UTC)")
                                          for t in toasts(app)))
        await wait_for(pilot, lambda: any(t.startswith("✗ OVERDUE: Status page update") for t in toasts(app)))
        assert "⚠ 2 OVERDUE: Internal update +00:01" in header_text(app)
        clock.advance(minutes=10)
        await wait_for(pilot, lambda: "+10:01" in header_text(app))
        assert len(rings) == 2  # rung once, then kept in view
        await submit_and_wait(pilot, "/update Investigating the login latency")
        await wait_for(pilot, lambda: "⚠ OVERDUE Status page update +10:01" in header_text(app))
        await submit_and_wait(pilot, "/update public Investigating - logins are slow")
        await wait_for(pilot, lambda: "OVERDUE" not in header_text(app))
        assert "OVERDUE" not in screen_text(app).splitlines()[0]


async def test_due_soon_rings_by_default_and_not_when_quiet_or_set_to_overdue(tmp_path):
    path, incident_id = await small_database(tmp_path, declared_minutes_ago=1)  # first updates due 15:14
    for options, expected in (({}, 1), ({"quiet": True}, 0),
                              ({"config": Config(attention=Attention(bell="overdue"))}, 0)):
        clock = FrozenClock()
        app = make_app(path, incident_id, clock=clock, **options)
        rings: list[str] = []
        app.bell = lambda: rings.append("bell")
        async with app.run_test(size=(120, 40)) as pilot:
            await war_room_ready(pilot)
            clock.advance(minutes=9, seconds=30)
            await wait_for(pilot, lambda: any(t.startswith("⚠ Due soon: Internal update, in 04:30")
                                              for t in toasts(app)))
            await wait_for(pilot, lambda: "⏰ 2 DUE SOON" in header_text(app))
            await pilot.pause()
            assert len(rings) == (expected and 2), options  # internal and status page, both due soon


async def test_header_at_80x24_keeps_the_alarm_and_cuts_the_title(tmp_path):
    path, incident_id = await small_database(tmp_path)
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        clock.advance(minutes=6)
        await wait_for(pilot, lambda: "⚠ 2 OVERDUE: Internal update +01:00" in screen_text(app))
        lines = screen_text(app).splitlines()
        assert incident_id in lines[0] and "Login page slow" in "\n".join(lines[:2])
        assert "╭─ Timeline" in lines[2]  # the header is two lines, not more


def test_quiet_reaches_the_app_and_the_config_sets_the_bell(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from warroom import cli
    from warroom.ui import launch

    made = []
    monkeypatch.setattr(launch, "launch", lambda context, incident_id=None: made.append(launch.build_app(context)))
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('[attention]\nbell = "overdue"\n')
    env = {"WARROOM_CONFIG_DIR": str(config_dir), "WARROOM_DB": str(tmp_path / "w.db"), "WARROOM_USER": "t"}
    for args, setting in ((["--quiet"], "off"), ([], "overdue")):
        result = CliRunner().invoke(cli.cli, args, env=env)
        assert result.exit_code == 0, result.output
        assert made[-1].bell_setting == setting


async def test_a_look_at_the_other_incidents_that_ends_as_the_screen_goes_shows_nothing(tmp_path):
    """The look is a worker: under load it can end while the screen is being taken down (a drill
    dismissed), when the header is gone; it raised NoMatches there and failed the worker."""
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        found = await screen.attention.read_others()
        await screen.query_one(IncidentHeader).remove()
        screen.attention.show_others(found)  # nothing to show it in: nothing raised


async def test_a_reload_of_the_duties_that_ends_as_the_screen_goes_shows_nothing(tmp_path):
    """The duties' and actions' reloads are workers too, and end in tick(): as the screen is taken
    down its panes go one by one, and with the countdown still there and the header gone it
    raised NoMatches (a timeline test failed so, on a busy machine)."""
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        await screen.query_one(IncidentHeader).remove()
        screen.attention.tick()  # the countdown is there, the header is not: nothing raised

