"""Pilot tests: updates typed in the war room reach three fakes by audience; with the status page
down the others deliver, and F2 shows the failure and retries it; declaring a SEV-1 from the
picker pages, /page pages by hand. Fakes on loopback only, at 80x24."""

from __future__ import annotations

from conftest import NOW, FrozenClock
from reach_fakes import HttpFake, SmtpFake
from test_ui_procedures import POLICIES, SIZE, notices, seeded
from test_ui_support import showing, submit, until, wait_for, war_room_ready
from textual.widgets import Input, OptionList

from warroom.domain.models import DeliveryState
from warroom.service.config import Config, EmailTarget, PagerDutyPager, SlackTarget, StatuspageTarget
from warroom.ui.app import WarRoomApp
from warroom.ui.screens.composer import ComposerScreen
from warroom.ui.widgets.deliveries import DeliveryList


def make_app(tmp_path, path, incident_id, config: Config) -> WarRoomApp:
    return WarRoomApp(path, POLICIES, "scribe", incident_id=incident_id, clock=FrozenClock(), config=config,
                      updates_dir=tmp_path / "updates")


def three_targets(slack: HttpFake, smtp: SmtpFake, page: HttpFake) -> Config:
    return Config(target=[
        SlackTarget(name="Slack #incident", audiences=["internal"], url_env="WR_UI_SLACK", timeout=10),
        EmailTarget(name="Leadership mail", audiences=["executive"], host="127.0.0.1", port=smtp.port,
                    security="none", sender="w@example.test", to=["lead@example.test"], timeout=10),
        StatuspageTarget(name="Status page", audiences=["public"], page_id="P", api_key_env="WR_UI_SP",
                         api_url=page.url("/v1"), timeout=10),
    ])


async def test_three_audiences_with_the_status_page_down_then_retried_from_f2(tmp_path, monkeypatch):
    monkeypatch.setattr("warroom.service.delivery.BACKOFF_SECONDS", (0.01, 0.01))
    path, incident_id = await seeded(tmp_path)
    async with HttpFake() as slack, SmtpFake() as smtp, HttpFake() as page:
        monkeypatch.setenv("WR_UI_SLACK", slack.url())
        monkeypatch.setenv("WR_UI_SP", "key")
        page.down = True
        app = make_app(tmp_path, path, incident_id, three_targets(slack, smtp, page))
        async with app.run_test(size=SIZE) as pilot:
            await war_room_ready(pilot)
            for line in ("/update internal rolling back", "/update executive checkout degraded",
                         "/update public We are investigating checkout errors."):
                await submit(pilot, line)

            async def settled():
                rows = await app.reach.deliveries(incident_id)
                return len(rows) == 6 and all(r.state is not DeliveryState.PENDING for r in rows) and rows

            rows = await until(pilot, settled)
            states = {(r.update_number, r.target): r.state for r in rows}
            assert states[(1, "Slack #incident")] is DeliveryState.DELIVERED
            assert states[(2, "Leadership mail")] is DeliveryState.DELIVERED
            assert states[(3, "Status page")] is DeliveryState.FAILED
            assert len(slack.received) == 1 and len(smtp.mails) == 1
            await wait_for(pilot, lambda: any("NOT delivered to Status page (saved; F2 to retry)" in n
                                              for n in notices(app)))

            page.down = False
            await pilot.press("escape", "f2")
            await wait_for(pilot, lambda: showing(app, ComposerScreen))
            listing = app.screen.query_one(DeliveryList)
            await wait_for(pilot, lambda: listing.rows)
            options = listing.query_one(OptionList)
            first = str(options.get_option_at_index(0).prompt)
            assert first == "✗ FAILED    update 3 → Status page (3 tries, 15:00 UTC): HTTP 503"
            assert listing.has_class("has-rows") and listing.region.height > 0  # it is on screen
            await pilot.press("ctrl+r")

            async def retried():
                found = [r for r in await app.reach.deliveries(incident_id) if r.target == "Status page"]
                return found and found[0].state is DeliveryState.DELIVERED and found[0]

            done = await until(pilot, retried)
            assert done.attempts == 4
            prompts = lambda: [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
            await wait_for(pilot, lambda: any(p.startswith("✓ delivered update 3 → Status page (4 tries")
                                              for p in prompts()))
            assert not any(p.startswith("✗") for p in prompts())
            assert [r.method for r in page.received if not page.down][-1] == "POST"
            assert isinstance(app.screen, ComposerScreen)  # retrying did not post or close anything
            assert len(await app.service.updates(incident_id)) == 3


async def test_enter_on_a_failed_row_retries_it(tmp_path, monkeypatch):
    monkeypatch.setattr("warroom.service.delivery.BACKOFF_SECONDS", (0.01, 0.01))
    path, incident_id = await seeded(tmp_path)
    async with HttpFake() as slack:
        monkeypatch.setenv("WR_UI_SLACK", slack.url())
        slack.down = True
        config = Config(target=[SlackTarget(name="Slack #incident", audiences=["internal"], url_env="WR_UI_SLACK")])
        app = make_app(tmp_path, path, incident_id, config)
        async with app.run_test(size=(120, 40)) as pilot:
            await war_room_ready(pilot)
            await submit(pilot, "/update internal still looking")

            async def failed():
                return any(r.state is DeliveryState.FAILED for r in await app.reach.deliveries(incident_id))

            await until(pilot, failed)
            slack.down = False
            await pilot.press("escape", "f2")
            await wait_for(pilot, lambda: showing(app, ComposerScreen))
            listing = app.screen.query_one(DeliveryList)
            await wait_for(pilot, lambda: listing.rows)
            options = listing.query_one(OptionList)
            options.focus()
            failed_at = next(i for i, row in enumerate(listing.rows) if row.state is DeliveryState.FAILED)
            options.highlighted = failed_at
            await pilot.press("enter")

            async def delivered():
                return all(r.state is DeliveryState.DELIVERED for r in await app.reach.deliveries(incident_id))

            await until(pilot, delivered)
            entries = await app.service.entries(incident_id)
            assert entries[-1].text == "Delivery of update 1 (#3) to Slack #incident succeeded on retry (attempt 4)"


async def test_sev1_declared_in_the_picker_pages_and_slash_page_pages(tmp_path, monkeypatch):
    async with HttpFake() as pagerduty:
        monkeypatch.setenv("WR_UI_PD", "routing-key")
        config = Config(pager=[PagerDutyPager(name="PD on-call", routing_key_env="WR_UI_PD",
                                              events_url=pagerduty.url("/v2/enqueue"), timeout=10)])
        app = WarRoomApp(tmp_path / "p.db", POLICIES, "scribe", clock=FrozenClock(), config=config,
                         updates_dir=tmp_path / "updates")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: showing(app, "PickerScreen"))
            await wait_for(pilot, lambda: app.screen.query("#declare-severity")
                           and getattr(app.focused, "id", None) == "declare-title-input")  # loaded
            app.screen.query_one("#declare-severity").value = "SEV-1"
            title = app.screen.query_one("#declare-title-input", Input)
            title.focus()
            title.value = "Checkout down"
            await pilot.press("enter")
            await war_room_ready(pilot)
            await wait_for(pilot, lambda: len(pagerduty.received) == 1)
            assert pagerduty.received[0].body["event_action"] == "trigger"
            await wait_for(pilot, lambda: any("Paged PD on-call" in n for n in notices(app)))
            await submit(pilot, "/page checkout need the payments team")
            bar = app.screen.query_one("#entry-input", Input)
            await wait_for(pilot, lambda: "no pager named or covering 'checkout'" in str(
                app.screen.query_one("#entry-error").render()))
            assert bar.value == "/page checkout need the payments team"  # refused, and the text kept
            await submit(pilot, '/page "pd on-call" need the payments team')
            await wait_for(pilot, lambda: len(pagerduty.received) == 2)
            assert pagerduty.received[1].body["dedup_key"] != pagerduty.received[0].body["dedup_key"]
            incident_id = app.screen.incident.id

            async def paged() -> list[str] | None:  # the entry is written once the pager has answered
                texts = [e.text for e in await app.service.entries(incident_id)]
                return texts if any(t.startswith("Paged PD on-call (paged by scribe: need the payments team)")
                                    for t in texts) else None

            texts = await until(pilot, paged)
            assert "Paging PD on-call: need the payments team" in texts


def test_a_delivery_line_says_state_in_words_and_the_date_when_not_today():
    from datetime import timedelta

    from warroom.domain.models import Delivery
    from warroom.ui.widgets.deliveries import delivery_line

    row = Delivery(id=1, incident_id="INC-1", update_id=1, update_number=2, audience="public",
                   target="Status\x1b[31m page", kind="statuspage", state=DeliveryState.FAILED, attempts=1,
                   error="HTTP 503", detail="", created_at=NOW, updated_at=NOW - timedelta(days=1))
    assert delivery_line(row, NOW) == "✗ FAILED    update 2 → Status␛[31m page (1 try, 2026-11-22 15:00 UTC): HTTP 503"
