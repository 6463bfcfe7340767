"""Updates out, by audience: Slack-compatible, SMTP and status-page fakes on loopback, each
delivery recorded, a target that is down retried, secrets never stored."""

from __future__ import annotations

import email
import json
from email import policy as email_policy

import pytest
from probe_servers import until
from reach_fakes import HttpFake, SmtpFake

from probe_servers import self_signed, server_context
from warroom.domain.errors import RuleError
from warroom.domain.models import DeliveryState, EntryKind
from warroom.service.config import (
    Config, EmailTarget, JsonTarget, SlackTarget, StatusFileTarget, StatuspageTarget, Webhook,
)  # fmt: skip
from warroom.service.reach import Reach
from db_access import everything_stored

FAST = {"attempts": 3, "backoff": (0.01, 0.02)}
SECRET_URL_PART = "SECRET-TOKEN"
PASSWORD = "hunter2-SMTP-PASSWORD"
API_KEY = "sp-API-KEY-123"


def three_audiences(slack: HttpFake, smtp: SmtpFake, page: HttpFake, **mail) -> tuple[Config, dict]:
    config = Config(target=[
        SlackTarget(name="Slack #incident", audiences=["internal"], url_env="WR_SLACK", timeout=10),
        EmailTarget(name="Leadership mail", audiences=["executive"], host="127.0.0.1", port=smtp.port,
                    security="none", sender="warroom@example.test", to=["leaders@example.test"], timeout=10, **mail),
        StatuspageTarget(name="Status page", audiences=["public"], page_id="PAGE1", api_key_env="WR_SP_KEY",
                         api_url=page.url("/v1"), timeout=10),
    ])
    environ = {"WR_SLACK": slack.url(), "WR_SP_KEY": API_KEY}
    return config, environ


async def post_three(service, reach, incident_id):
    results = {}
    for audience, text in (("internal", "Rolling back <!channel> deploy 41"), ("executive", "Checkout degraded"),
                           ("public", "We are investigating checkout errors.")):
        posted = await service.post_update(incident_id, audience, text, "alice")
        results[audience] = await reach.deliver(incident_id, posted.entry)
    return results


async def test_three_audiences_reach_three_targets_each_recorded(service, tmp_path):
    incident = await service.declare("Checkout 502s", "SEV-2", author="alice", services=("checkout",))
    async with HttpFake() as slack, SmtpFake() as smtp, HttpFake() as page:
        config, environ = three_audiences(slack, smtp, page)
        reach = Reach(service, config, updates_dir=tmp_path / "updates", environ=environ, **FAST)
        results = await post_three(service, reach, incident.id)
    assert {a: [(d.target, d.state) for d in rows] for a, rows in results.items()} == {
        "internal": [("updates folder", DeliveryState.DELIVERED), ("Slack #incident", DeliveryState.DELIVERED)],
        "executive": [("updates folder", DeliveryState.DELIVERED), ("Leadership mail", DeliveryState.DELIVERED)],
        "public": [("updates folder", DeliveryState.DELIVERED), ("Status page", DeliveryState.DELIVERED)],
    }
    # Slack got the internal update only, escaped, with incident id, title and severity.
    [hook] = slack.received
    text = hook.body["text"]
    assert text.startswith(f"*[SEV-2] {incident.id} Checkout 502s*\nUpdate 1 for Internal · High · Investigating")
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    # The mail: subject with id, title and severity; body with the update.
    [mail] = smtp.mails
    parsed = email.message_from_string(mail.data, policy=email_policy.default)
    assert parsed["Subject"] == f"[SEV-2] {incident.id} Checkout 502s - update 2 (Executive)"
    assert mail.recipients == ["leaders@example.test"] and "Checkout degraded" in parsed.get_content()
    # The status page: created once, with the key in the OAuth header, name, status and reference.
    [created] = page.received
    assert (created.method, created.path) == ("POST", "/v1/pages/PAGE1/incidents")
    assert created.headers["Authorization"] == f"OAuth {API_KEY}"
    assert created.body["incident"]["name"] == "Checkout 502s"
    assert created.body["incident"]["status"] == "investigating"
    assert created.body["incident"]["impact_override"] == "major"
    assert f"Reference: {incident.id} (SEV-2)" in created.body["incident"]["body"]
    recorded = await reach.deliveries(incident.id)
    assert len(recorded) == 6 and all(d.attempts == 1 for d in recorded)
    assert (tmp_path / "updates" / f"{incident.id}-3.md").read_text() == "We are investigating checkout errors.\n"


async def test_second_public_update_updates_the_same_status_page_incident(service):
    incident = await service.declare("Login errors", "SEV-3", author="alice")
    async with HttpFake() as page:
        config = Config(target=[StatuspageTarget(name="SP", audiences=["public"], page_id="P", api_key_env="K",
                                                 api_url=page.url("/v1"))])
        reach = Reach(service, config, environ={"K": API_KEY}, **FAST)
        for text in ("Investigating.", "Fixed, watching."):
            posted = await service.post_update(incident.id, "public", text, "alice")
            await reach.deliver(incident.id, posted.entry)
        await service.resolve(incident.id, "rolled back", "alice")
        posted = await service.post_update(incident.id, "public", "Resolved.", "alice")
        await reach.deliver(incident.id, posted.entry)
    assert [(r.method, r.path) for r in page.received] == [
        ("POST", "/v1/pages/P/incidents"), ("PATCH", "/v1/pages/P/incidents/sp1"), ("PATCH", "/v1/pages/P/incidents/sp1")]
    assert page.received[-1].body == {"incident": {"status": "resolved",
                                                   "body": f"Resolved.\n\nReference: {incident.id} (SEV-3)"}}


async def test_with_one_target_down_the_others_deliver_and_it_is_retried(service, database):
    incident = await service.declare("Checkout 502s", "SEV-2", author="alice")
    async with HttpFake() as slack, SmtpFake(password=PASSWORD) as smtp, HttpFake() as page:
        config, environ = three_audiences(slack, smtp, page)
        reach = Reach(service, config, environ=environ, **FAST)
        smtp.down = True
        results = await post_three(service, reach, incident.id)
        assert [d.state for d in results["internal"] + results["public"]] == [DeliveryState.DELIVERED] * 2
        [mail] = results["executive"]
        assert (mail.state, mail.attempts) == (DeliveryState.FAILED, 3)
        assert "421" in mail.error and smtp.sessions == 3
        entries = await service.entries(incident.id)
        [failure] = [e for e in entries if e.kind is EntryKind.SYSTEM and "failed" in e.text]
        assert failure.text.startswith("Delivery of update 2 (#3) to Leadership mail failed after 3 attempt(s)")
        assert len(await service.updates(incident.id)) == 3  # the update itself is kept
        smtp.down = False
        again = await reach.retry(mail.id)
        assert (again.state, again.attempts, again.error) == (DeliveryState.DELIVERED, 4, "")
        assert len(smtp.mails) == 1
        with pytest.raises(RuleError, match="already delivered"):
            await reach.retry(mail.id)
        entries = await service.entries(incident.id)
        assert entries[-1].text == "Delivery of update 2 (#3) to Leadership mail succeeded on retry (attempt 4)"
        assert await reach.retry_failed(incident.id) == []
    stored = everything_stored(database)
    for secret in (SECRET_URL_PART, PASSWORD, API_KEY, slack.url()):
        assert secret.encode() not in stored


async def test_smtp_starttls_login_and_a_server_without_starttls_is_refused(service, tmp_path):
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("openssl is not installed")
    incident = await service.declare("Mail test", "SEV-3", author="alice")
    posted = await service.post_update(incident.id, "executive", "Update by mail", "alice")
    cert, key = made
    async with SmtpFake(tls_context=server_context(cert, key), password=PASSWORD) as smtp, SmtpFake() as plain:
        target = dict(audiences=["executive"], host="127.0.0.1", sender="w@example.test", to=["x@example.test"],
                      security="starttls", username="warroom", password_env="WR_SMTP_PASSWORD", timeout=10)
        config = Config(target=[EmailTarget(name="tls", port=smtp.port, ca_file=str(cert), **target),
                                EmailTarget(name="no tls", port=plain.port, **target)])
        reach = Reach(service, config, environ={"WR_SMTP_PASSWORD": PASSWORD}, **FAST)
        delivered, refused = await reach.deliver(incident.id, posted.entry)
    assert delivered.state is DeliveryState.DELIVERED
    [mail] = smtp.mails
    assert mail.tls and mail.login == "warroom"
    assert refused.state is DeliveryState.FAILED and "does not offer STARTTLS" in refused.error
    assert plain.mails == [] and PASSWORD not in refused.error


async def test_json_target_carries_the_incident_facts_inert(service):
    incident = await service.declare("API \x1b[31mdown\u202e", "SEV-1", author="alice", services=("api",))
    posted = await service.post_update(incident.id, "internal", "bidi \u202e and C1 \x9b here", "alice")
    async with HttpFake() as hook:
        reach = Reach(service, Config(target=[JsonTarget(name="bot", audiences=["*"], url_env="WR_JSON")]),
                      environ={"WR_JSON": hook.url()}, **FAST)
        await reach.deliver(incident.id, posted.entry)
    [got] = hook.received
    assert b"\\u202e" in got.raw and "\u202e".encode() not in got.raw and "\x9b".encode() not in got.raw
    assert (got.body["incident"], got.body["title"], got.body["severity"], got.body["update"]) == (
        incident.id, "API \x1b[31mdown\u202e", "SEV-1", 1)
    assert got.body["text"] == "bidi \u202e and C1 \x9b here"  # the same data, escaped on the wire


async def test_older_webhook_form_serves_every_audience(service):
    incident = await service.declare("Old config", "SEV-3", author="alice")
    posted = await service.post_update(incident.id, "public", "All good", "alice")
    async with HttpFake() as hook:
        config = Config(webhook=[Webhook(kind="slack", url_env="WR_OLD", name="old slack")])
        [row] = await Reach(service, config, environ={"WR_OLD": hook.url()}, **FAST).deliver(incident.id, posted.entry)
    assert (row.target, row.state) == ("old slack", DeliveryState.DELIVERED) and len(hook.received) == 1


async def test_static_status_page_is_written_escaped_and_foreign_files_are_left_alone(service, tmp_path):
    site = tmp_path / "site"
    incident = await service.declare("<script>alert(1)</script>", "SEV-2", author="alice")
    posted = await service.post_update(incident.id, "public", "We are <b>on it</b> \x1b]8;;x\x07", "alice")
    config = Config(target=[StatusFileTarget(name="static", audiences=["public"], directory=str(site))])
    reach = Reach(service, config, **FAST)
    [row] = await reach.deliver(incident.id, posted.entry)
    assert row.state is DeliveryState.DELIVERED
    page = (site / "status.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x1b" not in page
    assert "1 open incident" in page and f"ref {incident.id}" in page
    document = json.loads((site / "status.json").read_text())
    assert document["incidents"][0]["updates"][0]["text"] == "We are <b>on it</b> \x1b]8;;x\x07"
    (site / "status.html").write_text("<html>someone else's page</html>")
    posted = await service.post_update(incident.id, "public", "Second", "alice")
    [row] = await reach.deliver(incident.id, posted.entry)
    assert row.state is DeliveryState.FAILED and "not written by warroom" in row.error
    assert (site / "status.html").read_text() == "<html>someone else's page</html>"


async def test_a_target_without_its_variable_fails_by_name_only(service):
    incident = await service.declare("x", "SEV-3", author="alice")
    posted = await service.post_update(incident.id, "internal", "hello", "alice")
    config = Config(target=[SlackTarget(name="Slack", audiences=["internal"], url_env="WR_MISSING")])
    [row] = await Reach(service, config, environ={}, **FAST).deliver(incident.id, posted.entry)
    assert (row.state, row.attempts, row.error) == (DeliveryState.FAILED, 0, "environment variable WR_MISSING is not set")


async def test_follow_up_summary_lines(service, tmp_path):
    incident = await service.declare("x", "SEV-3", author="alice")
    [entry] = await service.execute(incident.id, "/update internal all calm", "alice")
    config = Config(target=[SlackTarget(name="Slack", audiences=["internal"], url_env="WR_MISSING")])
    done = await Reach(service, config, updates_dir=tmp_path, environ={}, **FAST).follow_up(incident.id, [entry])
    assert done.summary() == ["update 1 delivered to 1 of 2: updates folder; NOT delivered to Slack "
                              "(environment variable WR_MISSING is not set)"]
    await until(lambda: (tmp_path / f"{incident.id}-1.md").exists())
