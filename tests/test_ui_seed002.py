"""A whole SEV-1 incident under seed 002's procedure (policy sev-levels-002), driven only by the
keyboard from the declaration in the picker to the report (F6): the report has every section of
the seed's post-mortem template filled from the record (issue 10, Done means)."""

from __future__ import annotations

import re

import pytest
from textual import events
from textual.keys import _character_to_key
from test_ui_support import FrozenClock, NOW, POLICIES, make_app, screen_text, wait_for, war_room, war_room_ready

from warroom.service import IncidentService
from warroom.ui.screens.composer import ComposerScreen
from warroom.ui.screens.dialogs import AskText, Confirm
from warroom.ui.screens.picker import PickerScreen
from warroom.ui.screens.procedures import ProceduresScreen
from warroom.ui.widgets.entry_bar import EntryBar

# (minutes since the declaration, what the scribe types)
SCRIPT = [
    (1, "-4m /impact first 5xx from the EU edge"),
    (1, "-3m /detected pager: checkout 5xx above 5% for 2 minutes"),
    (1, "/ack"),
    (2, "/assign tl bob"),
    (2, "/assign cl carol"),
    (2, "/assign scribe dan"),
    (3, "/set users every EU customer at checkout, about 40% of orders"),
    (3, "/service add payments-gateway"),
    (4, "/update public Investigating - EU checkout is failing; we are on it."),
    (6, "deploy 4411 went out at 14:52, 3 minutes before the first 5xx"),
    (7, "/decision roll back deploy 4411"),
    (7, "/status mitigating rolling back deploy 4411"),
    (9, "/rootcause deploy 4411 shipped a config without the EU payment endpoint"),
    (12, "/mitigated rollback done, EU 5xx under 1%"),
    (13, "/action add a canary stage for config changes @bob due:3d group:short-term"),
    (13, "/action alert on EU 5xx above 2% @carol group:immediate"),
    (14, "/factor config changes skip the canary stage code changes go through"),
    (14, "/went-well the rollback took 5 minutes from the decision"),
    (14, "/went-badly the status page update came 8 minutes after impact"),
    (15, "/lesson a config change is a deploy"),
    (18, "/resolve rolled back deploy 4411; error rates normal for 5 minutes"),
]


def keys(app, text: str) -> None:
    """Every key of `text`, queued as the terminal delivers a fast typist's keys (Pilot's press()
    waits for the screen after each key: 1,500 keys took 90 s)."""
    for character in text:
        app.post_message(events.Key(_character_to_key(character), character))


async def type_line(pilot, text: str) -> None:
    """Type `text` into the entry bar key by key, then Enter, and wait for the write."""
    app = pilot.app
    keys(app, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
    bar = war_room(app).query_one(EntryBar)
    assert not bar.has_class("-error"), (text, screen_text(app))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_seed_002_sev1_from_the_picker_to_the_report_by_keyboard(tmp_path, size):
    path = tmp_path / "seed002.db"
    clock = FrozenClock(NOW)
    service = await IncidentService.open(path, POLICIES, clock)
    await service.close()
    app = make_app(path, clock=clock)
    declared_at = NOW
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        # ---- declare, in the picker: title, policy, severity, commander, impact, services
        keys(app, "EU checkout failing after deploy 4411")
        await pilot.press("tab")
        ids = [policy.id for policy in POLICIES]
        await pilot.press("enter", *["down"] * ids.index("sev-levels-002"), "enter")
        severity = app.screen.query_one("#declare-severity")
        await wait_for(pilot, lambda: app.screen.query_one("#declare-policy").value == "sev-levels-002")
        await pilot.press("tab", "enter", "home", "enter")
        await wait_for(pilot, lambda: severity.value == "SEV-1")
        await pilot.press("tab", "ctrl+u")
        keys(app, "alice")
        await pilot.press("tab")
        keys(app, "EU checkout returns 502 for every order")
        await pilot.press("tab")
        keys(app, "checkout-api")
        await pilot.press("enter")
        await war_room_ready(pilot)
        room = war_room(app)
        incident_id = room.incident.id
        assert (room.incident.policy_id, room.incident.severity) == ("sev-levels-002", "SEV-1")
        # ---- the incident, typed
        for minute, text in SCRIPT:
            clock.now = declared_at.replace(minute=minute) if minute < 60 else clock.now
            await type_line(pilot, text)
            if text.startswith("/resolve"):
                break
        # ---- an internal update through the composer: F2, Ctrl+S, y
        clock.now = declared_at.replace(minute=19)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen))
        await wait_for(pilot, lambda: "INCIDENT UPDATE" in app.screen.query_one("#composer-text").text)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is room)
        await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
        # ---- a checklist item by hand: F3, the first item not proven by the record, Space
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ProceduresScreen) and not app.screen._loading)
        items = app.screen.query_one("#checklist-items")
        await wait_for(pilot, lambda: "☑ record  Acknowledge the alert or page" in str(items.get_option_at_index(1).prompt))
        await pilot.press("down", "down", "down", "space")  # "Page the on-call engineer if that has not happened"
        await wait_for(pilot, lambda: "☑ done" in str(items.get_option_at_index(4).prompt))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is room)
        # ---- the report
        await pilot.press("f6")
        report_file = app.updates_dir / f"{incident_id}-report.md"
        await wait_for(pilot, report_file.exists)
    report = report_file.read_text(encoding="utf-8")
    template = [section.title for section in POLICIES.get("sev-levels-002").postmortem]
    assert template == ["Summary", "Impact", "Metrics", "Timeline", "Root cause", "Resolution", "Action items"]
    for title in template:
        body = report.split(f"\n## {title}\n")[1].split("\n## ")[0]
        assert "TO BE WRITTEN" not in body and "_not recorded_" not in body, (title, body)
    review = report.split("\n## Review\n")[1].split("\n## ")[0]
    assert "TO BE WRITTEN" not in review
    assert "- **Severity:** SEV-1 (Critical)" in report
    assert "- **Impact:** EU checkout returns 502 for every order" in report
    assert "- **Who is affected:** every EU customer at checkout, about 40% of orders" in report
    assert "- **Services:** checkout-api, payments-gateway" in report
    assert "| Time to detect | 1m | under 5m | met |" in report
    assert re.search(r"\| Time to resolve \| 2[0-9]m \| under 1h 00m \(SEV-1, highest reached\) \| met \|", report)
    assert "deploy 4411 shipped a config without the EU payment endpoint" in report
    assert "- Resolved: rolled back deploy 4411; error rates normal for 5 minutes" in report
    assert "- [ ] alert on EU 5xx above 2% (@carol)" in report.split("### Immediate")[1]
    assert "- [ ] add a canary stage for config changes (@bob" in report.split("### Short-term")[1]
    assert "Roles held" in report and "Technical Lead: bob" in report
    assert "  - [x] Page the on-call engineer if that has not happened (ticked by scribe" in report
    assert "  - [x] Name the commander and the tech lead (ticked by the record: Incident Commander: alice" in report
    assert "### Update 2: Incident channel" in report
