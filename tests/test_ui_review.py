"""Pilot tests for what a review of the war room at 80x24 found: unframed quit dialog, a roles pane
whose Enter did nothing, long toasts covering the screen, toasts told apart by colour only, and
keys missing from the help."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._toast import Toast

from conftest import FrozenClock
from test_ui_support import (
    POLICIES, make_app, screen_text, showing, small_database, submit_and_wait, wait_for, war_room_ready,
)
from warroom.ui.screens.dialogs import AskText, Confirm
from warroom.ui.screens.escalation import EscalationScreen
from warroom.ui.screens.help import HelpScreen

SIZE = (80, 24)
HOSTILE = "[bold]x[/] [link=http://a]y"


async def test_quit_with_unsent_text_asks_in_a_framed_centred_dialog_showing_the_text_literally(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        app.screen.query_one("#entry-input").value = HOSTILE
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: showing(app, Confirm))
        await wait_for(pilot, lambda: HOSTILE in screen_text(app))  # laid out and painted
        box = app.screen.query_one("Confirm > Vertical").region
        assert box.x > 0 and box.y > 0 and box.right < SIZE[0]  # centred, not glued to the corner
        assert HOSTILE in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, Confirm))
        assert app.is_running and app.screen.query_one("#entry-input").value == HOSTILE


async def test_roles_pane_selects_a_role_on_focus_so_enter_assigns(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.query_one("RolesPane").highlighted == 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, AskText))
        await pilot.press("escape")  # closes the dialog and lands in the entry bar, as Escape does
        await wait_for(pilot, lambda: not isinstance(app.screen, AskText))
        assert app.focused.id == "entry-input"
        await pilot.press("ctrl+r", "a")
        await wait_for(pilot, lambda: showing(app, AskText))


async def test_toasts_are_small_and_warnings_carry_a_glyph(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # pilots hide toasts unless asked
        await war_room_ready(pilot)
        app.notify("word " * 80, severity="warning", markup=False)
        app.notify("plain news", markup=False)
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) == 2)
        await wait_for(pilot, lambda: "plain news" in screen_text(app))  # laid out and painted
        toasts = list(app.screen.query(Toast))
        assert all(toast.region.width <= 46 and toast.region.height <= 4 for toast in toasts)
        bar = app.screen.query_one("EntryBar").region
        assert all(toast.region.bottom <= bar.y for toast in toasts)  # the scribe's line stays visible
        messages = [str(n.message) for n in app._notifications]
        assert messages[0].startswith("⚠ ") and messages[1] == "plain news"


async def test_escalation_toast_is_one_short_line_and_f5_shows_the_details(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, "/sev 1 all of EU")
        await wait_for(pilot, lambda: any("Now SEV-1" in str(n.message) for n in app._notifications))
        [notice] = [n for n in app._notifications if "Now SEV-1" in str(n.message)]
        assert len(str(notice.message)) <= 60 and notice.timeout <= 10
        await pilot.press("f5")
        await wait_for(pilot, lambda: showing(app, EscalationScreen))
        await wait_for(pilot, lambda: "path" in str(app.screen.query_one("#escalation-text", Static).render()))
        shown = str(app.screen.query_one("#escalation-heading", Static).render())
        assert "Now SEV-1" in shown and "since 15:00 UTC" in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EscalationScreen))


async def test_f5_without_a_severity_change_times_the_notice_from_the_declaration(tmp_path):
    path, incident_id = await small_database(tmp_path, severity="SEV-1", declared_minutes_ago=10)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f5")
        await wait_for(pilot, lambda: showing(app, EscalationScreen))
        await wait_for(pilot, lambda: "since 14:50 UTC" in str(app.screen.query_one("#escalation-heading",
                                                                                   Static).render()))


async def test_f5_shows_the_stored_severity_even_before_the_screen_has_refreshed(tmp_path):
    """F5 right after a severity change (the toast is up, the screen's copy of the incident not yet
    reloaded: a busy machine, a slow disk) shows the new severity, not the one before it."""
    from warroom.service import IncidentService

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        before = screen.incident
        other = await IncidentService.open(path, POLICIES, FrozenClock())
        try:
            await other.execute(incident_id, "/sev 1 all of EU", "bob")
        finally:
            await other.close()
        screen.incident = before  # as if the record had not been reloaded yet
        await pilot.press("f5")
        await wait_for(pilot, lambda: showing(app, EscalationScreen))
        shown = str(app.screen.query_one("#escalation-heading", Static).render())
        assert "Now SEV-1" in shown and "since 15:00 UTC" in shown


async def test_help_names_every_function_key_of_the_war_room(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 60)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: showing(app, HelpScreen))
        await wait_for(pilot, lambda: "Ctrl+R" in screen_text(app))
        shown = screen_text(app)
        for key in ("F2", "F3", "F4", "F5", "F6", "Ctrl+T", "Ctrl+R"):
            assert key in shown, key
