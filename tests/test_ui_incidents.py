"""Issue 10 point 7: several incidents at once. From inside the war room, ctrl+o (or the palette)
switches to another open incident and ctrl+n declares one, choosing its policy; the header has a
badge when another open incident owes something overdue or due soon; the picker shows what each
incident owes first, and at 80x24 cuts titles with '…' and keeps the Declare button whole."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Button, DataTable, Input, Select

from warroom.service import IncidentService
from warroom.service.drafts import DraftStore
from warroom.ui.screens.picker import PickerScreen
from warroom.ui.screens.war_room import WarRoomScreen
from warroom.ui.widgets.entry_bar import EntryInput
from warroom.ui.widgets.header import IncidentHeader
from test_ui_support import NOW, POLICIES, FrozenClock, make_app, screen_text, small_database, wait_for, war_room_ready

LONG_TITLE = "Checkout API returning 502s for EU customers after the Tuesday gateway deploy"


async def two_incidents(directory) -> tuple:
    """A SEV-2 declared 10 minutes before NOW (alice) and a SEV-1 declared 20 minutes before it,
    whose first status-page notice (owed at once) is long overdue."""
    path, first = await small_database(directory)
    service = await IncidentService.open(path, POLICIES, FrozenClock(NOW - timedelta(minutes=20)))
    try:
        second = (await service.declare(LONG_TITLE, "SEV-1", author="bob", commander="bob")).id
    finally:
        await service.close()
    return path, first, second


async def picker_table(pilot) -> DataTable:
    """The picker's incident table once it is on screen and filled."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.query("#incidents")
                   and app.screen.query_one("#incidents", DataTable).row_count > 0)
    return app.screen.query_one("#incidents", DataTable)


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_ctrl_o_switches_incident_and_the_header_badge_names_the_overdue_one(tmp_path):
    path, first, second = await two_incidents(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    app = make_app(path, first, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        header = app.screen.query_one(IncidentHeader)
        await wait_for(pilot, lambda: f"⧉ 1 other open · ⚠ {second} overdue (ctrl+o)" in str(header.render()))
        app.screen.query_one(EntryInput).value = "half a thought about the pool"
        await pilot.press("ctrl+o")
        table = await picker_table(pilot)
        rows = {row[0]: row for row in table_rows(table)}
        assert rows[second][3].startswith("⚠ OVERDUE +20:00 Status page update")
        assert rows[first][3].startswith("⏰ due soon 05:00 Internal update")
        assert rows[first][-1] == "◉ Login page slow"  # the war room it was opened from
        await pilot.press("escape")  # back, nothing changed
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen))
        assert app.screen.incident.id == first
        await pilot.press("ctrl+o")
        table = await picker_table(pilot)
        table.move_cursor(row=[row[0] for row in table_rows(table)].index(second))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen) and app.screen.incident.id == second)
        await war_room_ready(pilot)
        assert sum(isinstance(s, WarRoomScreen) for s in app.screen_stack) == 1  # switched, not stacked
        await wait_for(pilot, lambda: f"⧉ 1 other open · ⏰ {first} due soon" in str(
            app.screen.query_one(IncidentHeader).render()))
        from warroom.ui.palette import war_room_commands

        palette = {name: callback for name, callback, _ in war_room_commands(app.screen)}
        palette["Switch incident…"]()  # and back, by the palette
        table = await picker_table(pilot)
        table.move_cursor(row=[row[0] for row in table_rows(table)].index(first))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen) and app.screen.incident.id == first)
        await wait_for(pilot, lambda: app.screen.query_one(EntryInput).value == "half a thought about the pool")


async def test_ctrl_n_declares_with_the_policy_chosen(tmp_path):
    path, first = await small_database(tmp_path)
    app = make_app(path, first)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "declare-title-input")
        await pilot.press(*"Search is down")
        app.screen.query_one("#declare-policy", Select).value = "p-levels-001"
        severity = app.screen.query_one("#declare-severity", Select)
        await wait_for(pilot, lambda: severity.value == "P2")  # that policy's default severity
        severity.value = "P1"
        app.screen.query_one("#declare-title-input", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen) and app.screen.incident.id != first)
        incident = app.screen.incident
        assert (incident.title, incident.policy_id, incident.severity) == ("Search is down", "p-levels-001", "P1")
        await wait_for(pilot, lambda: any(str(n.message).startswith("⚠ Declared P1: 5 owed, first by 15:15 UTC")
                                          for n in app._notifications))


async def test_the_picker_at_80x24_cuts_titles_and_keeps_the_declare_button_whole(tmp_path):
    path, first, second = await two_incidents(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await picker_table(pilot)
        await wait_for(pilot, lambda: second in screen_text(app) and first in screen_text(app))
        lines = screen_text(app).splitlines()
        [row] = [line for line in lines if second in line]
        assert row.rstrip().endswith("…") and "Checkout API" in row and len(row.rstrip()) <= 78
        assert "⚠ OVERDUE +20:00" in row  # glyph and word, narrow: without the what
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        button = app.screen.query_one(Button).region
        assert button.right <= 80 and button.bottom <= 23 and "Declare" in screen_text(app)
        assert not app.screen.check_action("back", ())  # no war room to go back to
