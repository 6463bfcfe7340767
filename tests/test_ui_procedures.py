"""Pilot tests of issue 5 in the war room: the update composer, delivery, checklists, playbooks,
action items, handoff, resolution, escalation notices and the report key, at 80x24."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from conftest import NOW, FrozenClock
from test_ui_support import screen_text, showing, submit, until, wait_for, war_room_ready
from textual.widgets import DataTable, Input, OptionList, TabbedContent, TextArea

from warroom.service.config import Config, Webhook
from warroom.domain.models import EntryKind
from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService
from warroom.ui.app import WarRoomApp
from warroom.ui.screens.actions import ActionsScreen, HandoffScreen
from warroom.ui.screens.composer import ComposerScreen
from warroom.ui.screens.dialogs import AskText, Choose, Confirm
from warroom.ui.screens.procedures import ProceduresScreen

POLICIES = PolicyBook.load(None)
SIZE = (80, 24)


async def seeded(tmp_path, *lines: str) -> tuple:
    """A SEV-2 incident declared 20 minutes before NOW, with `lines` typed by alice."""
    path = tmp_path / "ui.db"
    clock = FrozenClock(NOW - timedelta(minutes=20))
    service = await IncidentService.open(path, POLICIES, clock)
    try:
        incident = await service.declare("Checkout 502s", "SEV-2", author="alice", commander="alice",
                                         services=("checkout",), impact="EU checkouts fail")
        for line in lines:
            clock.advance(minutes=1)
            await service.execute(incident.id, line, "alice")
    finally:
        await service.close()
    return path, incident.id


def make_app(tmp_path, path, incident_id, config: Config | None = None) -> WarRoomApp:
    return WarRoomApp(path, POLICIES, "scribe", incident_id=incident_id, clock=FrozenClock(), config=config,
                      updates_dir=tmp_path / "updates")


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/services/T000/SECRET"


# ---- the composer ----------------------------------------------------------------------------


async def test_composer_prefills_posts_copies_and_resets_the_countdown(tmp_path):
    path, incident_id = await seeded(tmp_path, "/decision roll back", "/action check pool @erin")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: showing(app, ComposerScreen))
        area = app.screen.query_one(TextArea)
        await wait_for(pilot, lambda: "INCIDENT UPDATE" in area.text)
        assert "- Decision: roll back" in area.text and "check pool (@erin)" in area.text
        assert area.text.endswith("Next update at 15:30 UTC.")
        assert app.screen.query_one("#composer-next", Input).value == "15:30"
        post = app.screen.query_one("#composer-post")
        assert post.region.right <= SIZE[0] and post.region.bottom <= SIZE[1] and post.region.height > 0
        # an earlier promise: the draft's last line follows the field
        app.screen.query_one("#composer-next", Input).value = "15:20"
        await wait_for(pilot, lambda: area.text.endswith("Next update at 15:20 UTC."))
        assert "Post to Internal" in str(post.label)
        await pilot.press("ctrl+s")  # asks first, naming the audience
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm)
                       and "Post this update to Internal (internal)?" in screen_text(app))
        await pilot.press("n")  # back to the draft: nothing posted
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen))
        assert await app.service.updates(incident_id) == []
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (ComposerScreen, Confirm)))
        [update] = await until(pilot, lambda: app.service.updates(incident_id))
        assert update.author == "scribe" and update.audience == "internal"
        assert update.next_update_at == datetime(2026, 11, 23, 15, 20, tzinfo=timezone.utc)
        duties = {d.key: d for d in await app.service.duties(await app.service.incident(incident_id))}
        assert duties["update:internal"].due_at == update.next_update_at
        assert app.clipboard == update.text
        written = tmp_path / "updates" / f"{incident_id}-1.md"
        await wait_for(pilot, written.exists)
        assert written.read_text(encoding="utf-8") == update.text + "\n"
        await wait_for(pilot, lambda: any("and copied" in n for n in notices(app)))


async def test_composer_switches_audience_and_u_opens_it_from_the_timeline(tmp_path):
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+t", "u")
        await wait_for(pilot, lambda: showing(app, ComposerScreen))
        area = app.screen.query_one(TextArea)
        await wait_for(pilot, lambda: "INCIDENT UPDATE (Internal)" in area.text)
        field = app.screen.query_one("#composer-next", Input)
        assert field.value == "15:30"  # the internal cadence at SEV-2
        app.screen.query_one("#composer-audience").value = "public"
        await wait_for(pilot, lambda: area.text.startswith("Investigating - We are investigating"))
        assert field.value == "" and area.text.endswith("Next update when there is news.")  # no status-page cadence
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        assert await app.service.updates(incident_id) == []


async def test_an_edited_draft_keeps_its_text_and_takes_the_audiences_promise(tmp_path):
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: showing(app, ComposerScreen))
        composer = app.screen
        area = composer.query_one(TextArea)
        field = composer.query_one("#composer-next", Input)
        await wait_for(pilot, lambda: field.value == "15:30")
        area.load_text("My own words.\nNext update at 15:30 UTC.")
        composer.query_one("#composer-audience").value = "executive"  # no cadence of its own at SEV-2
        await wait_for(pilot, lambda: isinstance(app.screen, Choose))
        await pilot.press("k")  # keep my text
        await wait_for(pilot, lambda: field.value == "" and area.text.endswith("Next update when there is news."))
        assert area.text.startswith("My own words.")
        assert "Post to Executive" in str(composer.query_one("#composer-post").label)
        composer.query_one("#composer-audience").value = "internal"
        await wait_for(pilot, lambda: isinstance(app.screen, Choose))
        await pilot.press("k")
        await wait_for(pilot, lambda: field.value == "15:30")
        await wait_for(pilot, lambda: area.text.startswith("My own words."))


async def test_switching_audience_after_editing_asks_and_the_post_names_the_audience(tmp_path):
    """Issue 10, trap 2: an edited Internal draft, audience switched to Status page, Ctrl+S would
    have posted the internal text (owners and all) publicly without a word."""
    path, incident_id = await seeded(tmp_path, "/action check pool @erin")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen))
        composer = app.screen
        area = composer.query_one(TextArea)
        await wait_for(pilot, lambda: "check pool (@erin)" in area.text)
        await wait_for(pilot, lambda: app.focused is area and "▶ Text" in screen_text(app))  # a glyph, not colour
        await pilot.press("end", *" (edited)")
        select = composer.query_one("#composer-audience")
        select.focus()
        await wait_for(pilot, lambda: "▶ Audience" in screen_text(app) and "▶ Text" not in screen_text(app))
        select.value = "public"
        await wait_for(pilot, lambda: isinstance(app.screen, Choose)
                       and "You edited the Internal draft. Switch to Status page" in screen_text(app))
        await pilot.press("escape")  # stay: the select goes back, the text is untouched
        await wait_for(pilot, lambda: app.screen is composer and select.value == "internal")
        await wait_for(pilot, lambda: "Posting to: Internal (internal)" in screen_text(app))
        assert "(edited)" in area.text
        select.value = "public"
        await wait_for(pilot, lambda: isinstance(app.screen, Choose))
        await pilot.press("r")  # a new status-page draft: the owners are gone
        await wait_for(pilot, lambda: area.text.startswith("Investigating - "))
        await wait_for(pilot, lambda: "Posting to: Status page (public)" in screen_text(app))
        assert "@erin" not in area.text
        assert app.focused is area  # typing after the switch lands in the draft, on screen
        await pilot.press(*"Z")
        assert "Z" in area.text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm)
                       and "Post this update to Status page (public)?" in screen_text(app))
        await pilot.press("y")
        [update] = await until(pilot, lambda: app.service.updates(incident_id))
        assert update.audience == "public" and "@erin" not in update.text


async def test_failed_webhook_is_logged_and_the_update_kept(tmp_path, monkeypatch):
    monkeypatch.setattr("warroom.service.delivery.BACKOFF_SECONDS", (0.01, 0.01))
    url = closed_port_url()
    monkeypatch.setenv("WARROOM_TEST_SLACK", url)
    config = Config(webhook=[Webhook(kind="slack", url_env="WARROOM_TEST_SLACK", name="Slack #inc", timeout=0.3)])
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id, config)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await submit(pilot, "/update executive EU checkout degraded, fix in progress")

        async def failure_logged():
            entries = await app.service.entries(incident_id)
            return [e for e in entries if e.kind is EntryKind.SYSTEM and "failed" in e.text]

        [logged] = await until(pilot, failure_logged)
        assert logged.text.startswith("Delivery of update 1 (#3) to Slack #inc failed after 3 attempt(s)")
        assert url not in logged.text and "SECRET" not in str(logged.data)
        [update] = await app.service.updates(incident_id)
        assert update.audience == "executive"
        assert (tmp_path / "updates" / f"{incident_id}-1.md").exists()
        await wait_for(pilot, lambda: any("NOT delivered to Slack #inc" in n for n in notices(app)))
        assert not any("SECRET" in n for n in notices(app))


# ---- checklists and playbooks ----------------------------------------------------------------


async def test_ticking_a_checklist_item_and_attaching_a_playbook(tmp_path):
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: showing(app, ProceduresScreen))
        await wait_for(pilot, lambda: not app.screen._loading)
        items = app.screen.query_one("#checklist-items", OptionList)
        assert items.has_focus and items.highlighted == 1  # the first item, under its checklist's title
        assert str(items.get_option_at_index(1).prompt) == "  ☐         Acknowledge the page"
        await pilot.press("space")
        state = await until(pilot, lambda: app.service.checklist_state(incident_id))
        assert state == {("first-minutes", 0): True}
        entries = await app.service.entries(incident_id)
        tick = entries[-1]
        assert (tick.kind, tick.author, tick.occurred_at) == (EntryKind.CHECKLIST, "scribe", NOW)
        assert tick.text == "Ticked Commander: first five minutes: Acknowledge the page"
        await wait_for(pilot, lambda: str(items.get_option_at_index(1).prompt).startswith(
            "  ☑ done    Acknowledge the page  (ticked by scribe 15:00 UTC)"))
        # "Set the severity" is proven by the record: ticked by it, marked so, nothing to tick by hand
        assert str(items.get_option_at_index(2).prompt).startswith(
            "  ☑ record  Set the severity  (by the record: severity SEV-2, 14:40 UTC, #1)")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: any("Ticked by the record (severity SEV-2)" in n for n in notices(app)))
        assert len(await app.service.checklist_state(incident_id)) == 1
        await pilot.press("down", "down", "enter")  # Enter ticks too
        state = await until(pilot, lambda: _two_ticked(app, incident_id))
        await pilot.press("up", "up", "up", "space")  # and again unticks
        await wait_for(pilot, lambda: "unticked by scribe" in str(items.get_option_at_index(1).prompt))
        assert await app.service.checklist_state(incident_id) == {("first-minutes", 0): False,
                                                                  ("first-minutes", 3): True}

        await pilot.press("p")
        playbooks = app.screen.query_one("#playbook-list", OptionList)
        await wait_for(pilot, lambda: playbooks.has_focus and playbooks.option_count > 0)
        assert app.screen.query_one(TabbedContent).active == "tab-playbooks"
        playbooks.highlighted = 5  # high error rate: previewed before it is attached
        steps = app.screen.query_one("#playbook-steps")
        await wait_for(pilot, lambda: "preview: Enter attaches it" in str(steps.render()))
        assert "○ preview" in str(playbooks.get_option_at_index(5).prompt)
        assert await app.service.attached_playbooks(incident_id) == []
        await pilot.press("enter")
        assert await until(pilot, lambda: app.service.attached_playbooks(incident_id)) == ["high-error-rate"]
        await wait_for(pilot, lambda: "✔ attached" in str(playbooks.get_option_at_index(5).prompt))
        await wait_for(pilot, lambda: "attached: tick its steps" in str(steps.render()))
        # its steps are ticked under the checklists, like any item
        await pilot.press("c")
        await wait_for(pilot, lambda: items.has_focus and any(
            "Playbook: High error rate (attached)" in str(items.get_option_at_index(i).prompt)
            for i in range(items.option_count)))
        heading = next(i for i in range(items.option_count)
                       if "Playbook: High error rate" in str(items.get_option_at_index(i).prompt))
        items.highlighted = heading + 1
        await pilot.press("space")
        state = await until(pilot, lambda: _step_ticked(app, incident_id))
        await wait_for(pilot, lambda: str(items.get_option_at_index(heading + 1).prompt).startswith("  ☑ done"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ProceduresScreen))


# ---- action items, handoff, resolve, escalation, report ---------------------------------------


async def test_action_items_list_and_toggle(tmp_path):
    path, incident_id = await seeded(tmp_path, "/action write the post-mortem @alice due:2026-11-25")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: showing(app, ActionsScreen))
        table = app.screen.query_one("#actions-now", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1 and str(table.get_cell_at((0, 0))) == "1")
        assert [str(cell) for cell in table.get_row_at(0)] == [
            "1", "☐ open", "alice", "2026-11-25 00:00", "-", "write the post-mortem"]
        await pilot.press("space")
        await until(pilot, lambda: _first_done(app, incident_id))
        await wait_for(pilot, lambda: str(table.get_cell_at((0, 1))) == "☑ done")
        entries = await app.service.entries(incident_id)
        assert (entries[-1].text, entries[-1].author) == ("Action done: write the post-mortem", "scribe")


async def _two_ticked(app, incident_id) -> bool:
    return sum((await app.service.checklist_state(incident_id)).values()) == 2


async def _step_ticked(app, incident_id) -> bool:
    return (await app.service.checklist_state(incident_id)).get(("playbook:high-error-rate", 0), False)


async def _first_done(app, incident_id) -> bool:
    return (await app.service.actions(incident_id))[0].done


async def test_handoff_shows_the_summary(tmp_path):
    path, incident_id = await seeded(tmp_path, "/assign tl bob", "/action pull metrics @erin")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await submit(pilot, "/handoff ic gina")
        await wait_for(pilot, lambda: showing(app, HandoffScreen))
        shown = str(app.screen.query_one("#handoff-summary").render())
        for part in ("Handoff of Incident Commander to gina", "Actions in flight: pull metrics (erin)",
                     "Open needs: Comms Lead unfilled", "Roster: Incident Commander: gina; Tech Lead: bob"):
            assert part in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, HandoffScreen))
        seats = {seat.role_id: seat.person for seat in await app.service.roster(await app.service.incident(incident_id))}
        assert seats["ic"] == "gina"


async def test_resolve_asks_for_a_summary(tmp_path):
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await submit(pilot, "/resolve")
        await wait_for(pilot, lambda: showing(app, AskText))
        app.screen.query_one(Input).value = "rolled back the gateway config"
        await pilot.press("enter")
        incident = await until(pilot, lambda: _resolved(app, incident_id))
        assert incident.status == "resolved"
        texts = [e.text for e in await app.service.entries(incident_id)]
        assert "Resolved: rolled back the gateway config" in texts


async def _resolved(app, incident_id):
    incident = await app.service.incident(incident_id)
    return None if incident.is_open else incident


async def test_severity_change_notifies_the_escalation(tmp_path):
    path, incident_id = await seeded(tmp_path)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await submit(pilot, "/sev 1 whole EU down")
        await wait_for(pilot, lambda: any("Now SEV-1: 4 owed" in n for n in notices(app)))
        [notice] = [n for n in notices(app) if "Now SEV-1: 4 owed" in n]
        assert "first by 15:00 UTC" in notice and "F5" in notice and len(notice) <= 60  # short; details on F5
        await pilot.press("f5")
        await wait_for(pilot, lambda: showing(app, "EscalationScreen"))
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        rows = [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]
        [executives] = [row for row in rows if row[2].startswith("notify Executives (engineering manage")]
        assert executives[:2] == ["◷ in 15:00", "15:15"] and executives[2].endswith("…")  # cut at 80 columns
        assert rows[0][:3] == ["⏰ due soon 00:00", "15:00", "Status page update"]  # due at once, not yet late
        assert "On-call engineer → " in str(app.screen.query_one("#escalation-text").render())


async def test_report_key_writes_markdown(tmp_path):
    path, incident_id = await seeded(tmp_path, "/rootcause pool too small")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f6")
        report = tmp_path / "updates" / f"{incident_id}-report.md"
        await wait_for(pilot, report.exists)
        assert "## Root cause\n\n- pool too small (alice," in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["f3", "f4"])
async def test_screens_fit_80x24(tmp_path, key):
    path, incident_id = await seeded(tmp_path, "/action one @a")
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: showing(app, (ProceduresScreen, ActionsScreen)))
        await wait_for(pilot, lambda: app.screen.query_one("Vertical").region.area > 0)  # laid out
        frame = app.screen.query_one("Vertical")
        assert frame.region.right <= SIZE[0] and frame.region.bottom <= SIZE[1]
