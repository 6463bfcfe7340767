"""Issue 10 points 5 and 6 in the war room: escalations are tracked duties (ticked with Space in
F5 or `/notified` from the bar, overdue like updates; the countdown and F5 agree), and after
/resolve the countdown shows the resolution update until it is posted."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from warroom.service import IncidentService
from warroom.ui.screens.escalation import EscalationScreen
from warroom.ui.widgets.countdown import RESOLVED_NOTHING_OWED, CountdownPane
from warroom.ui.widgets.header import IncidentHeader
from test_ui_support import (
    NOW, POLICIES, FrozenClock, make_app, screen_text, small_database, submit_and_wait, wait_for, war_room_ready,
)


def countdown_words(app) -> str:
    return str(app.screen.query_one(CountdownPane).query_one("#countdown-words").render())


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def declared(directory, title: str, severity: str, policy_id: str | None = None, minutes_ago: int = 0):
    path = directory / "duties.db"
    service = await IncidentService.open(path, POLICIES, FrozenClock(NOW - timedelta(minutes=minutes_ago)))
    try:
        incident = await service.declare(title, severity, author="alice", commander="alice", policy_id=policy_id)
    finally:
        await service.close()
    return path, incident.id


async def test_a_p0_countdown_leads_with_every_stakeholder_not_the_next_update(tmp_path):
    path, incident_id = await declared(tmp_path, "All down", "P0", "p-levels-001")
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await wait_for(pilot, lambda: "notify All stakeholders" in countdown_words(app))
        clock.advance(seconds=10)
        await wait_for(pilot, lambda: "⚠ notify All stakeholders OVERDUE by 00:10" in countdown_words(app))
        assert "next update" not in screen_text(app)
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, EscalationScreen))
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)  # three audiences' updates and the stakeholders
        assert rows(table)[0][:3] == ["⚠ OVERDUE +00:10", "15:00", "notify All stakeholders"]  # the same first duty
        await pilot.press("space")
        await wait_for(pilot, lambda: rows(table)[-1][0] == "✓ done")
        assert rows(table)[-1][1:3] == ["done 15:00", "notify All stakeholders"]
        entries = await app.service.entries(incident_id)
        assert (entries[-1].data, entries[-1].author) == ({"duty": "notify:stakeholders", "done": True}, "scribe")
        assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == "notify:stakeholders"
        await pilot.press("space")  # taken back: open (and overdue) again
        await wait_for(pilot, lambda: rows(table)[0][2] == "notify All stakeholders")
        assert (await app.service.entries(incident_id))[-1].data == {"duty": "notify:stakeholders", "done": False}
        await pilot.press("down", "space")  # an update is not ticked: it is done by posting it
        await wait_for(pilot, lambda: any("is done by posting an update" in str(n.message)
                                          for n in app._notifications))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EscalationScreen))
        await submit_and_wait(pilot, "/notified stakeholders all told on the bridge")
        await wait_for(pilot, lambda: "notify All stakeholders" not in countdown_words(app))
        assert "◷ Incident channel update in 29:50" in countdown_words(app)  # the next duty, whatever its kind


async def test_notified_from_the_bar_and_from_warroom_log_show_in_an_open_f5(tmp_path):
    path, incident_id = await small_database(tmp_path, severity="SEV-1")
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        clock.advance(minutes=6)  # executives were due at 15:05 (SEV-1: within 15 minutes of 14:50)
        await wait_for(pilot, lambda: "⚠ 3 OVERDUE: Status page update" in str(
            app.screen.query_one(IncidentHeader).render()))  # its first notice (at once), internal, executives
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, EscalationScreen))
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: any(r[2].startswith("notify Executives") and r[0].startswith("⚠ OVERDUE")
                                          for r in rows(table)))
        other = await IncidentService.open(path, POLICIES, clock)  # another terminal: `warroom log ID /notified exec`
        try:
            await other.execute(incident_id, "/notified exec", "carol")
        finally:
            await other.close()
        await wait_for(pilot, lambda: any(r[2].startswith("notify Executives") and r[0] == "✓ done"
                                          for r in rows(table)))
        frame = app.screen.query_one("Vertical").region
        assert frame.right <= 80 and frame.bottom <= 24


async def test_after_resolve_the_countdown_shows_the_resolution_update_until_posted(tmp_path):
    path, incident_id = await small_database(tmp_path, severity="SEV-2", declared_minutes_ago=30)
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        for line in ("/update public Identified - a fix is rolling out", "/update Fix rolling out",
                     "/notified manager"):
            await submit_and_wait(pilot, line)
        clock.advance(minutes=1)
        await submit_and_wait(pilot, "/resolve rolled back the pool change")
        await wait_for(pilot, lambda: "Internal final update in 15:00" in countdown_words(app))
        header = app.screen.query_one(IncidentHeader)
        assert "⏱ 31m to resolve" in str(header.render())
        clock.advance(minutes=20)
        await wait_for(pilot, lambda: "⚠ Internal final update OVERDUE by 05:00" in countdown_words(app))
        assert "⏱ 31m to resolve" in str(header.render())  # the clock stopped at the resolution
        await submit_and_wait(pilot, "/update Resolved: the pool change is rolled back")
        await submit_and_wait(pilot, "/update public Resolved - logins are fast again")
        await wait_for(pilot, lambda: "Schedule the post-mortem" in countdown_words(app))
        await submit_and_wait(pilot, "/notified schedule")
        await submit_and_wait(pilot, "/notified complete")
        await wait_for(pilot, lambda: RESOLVED_NOTHING_OWED in countdown_words(app))
        assert screen_text(app).count("no more updates due") == 1
        await submit_and_wait(pilot, "/close")
        await wait_for(pilot, lambda: "◎ Closed" in str(header.render()))


async def test_f4_splits_now_from_follow_ups_marks_overdue_and_the_header_counts_them(tmp_path):
    path, incident_id = await small_database(tmp_path)
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        for line in ("/action pull pool metrics @erin due:30m", "/action add a saturation alert group:long-term",
                     "/action roll the canary back @bob due:10m"):
            await submit_and_wait(pilot, line)
        await submit_and_wait(pilot, "/done 3")
        clock.advance(minutes=31)
        header = app.screen.query_one(IncidentHeader)
        await wait_for(pilot, lambda: "▶ 1 action OVERDUE (F4)" in str(header.render()))  # 3 is done, so not late
        await pilot.press("f4")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ActionsScreen")
        now, later = app.screen.query_one("#actions-now", DataTable), app.screen.query_one("#actions-later", DataTable)
        await wait_for(pilot, lambda: now.row_count == 2 and later.row_count == 1)
        assert [r[:2] for r in rows(now)] == [["1", "⚠ OVERDUE"], ["3", "☑ done"]]
        assert rows(later)[0][:2] == ["2", "☐ open"] and rows(later)[0][4] == "Long-term"
        frame = app.screen.query_one("Vertical").region
        assert frame.right <= 80 and frame.bottom <= 24
        assert all(table.virtual_size.width <= table.size.width for table in (now, later))  # texts cut, no scrolling
        await pilot.press("space")  # the first list has the focus: action 1 done
        await wait_for(pilot, lambda: rows(now)[0][1] == "☑ done")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "OVERDUE (F4)" not in str(header.render()))
        await submit_and_wait(pilot, "/undone 1")
        await wait_for(pilot, lambda: "▶ 1 action OVERDUE (F4)" in str(header.render()))
