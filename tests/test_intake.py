"""`warroom intake` over HTTP on loopback: token (401), size cap (413), validation (400), an
Alertmanager firing then resolved, duplicates, paging a declared SEV-1; and the CLI commands
`warroom intake`, `warroom declare --from-alert` and `warroom log` delivering."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import httpx
import pytest
from probe_servers import until
from reach_fakes import HttpFake
from test_alerts import SEED_ALERT, alertmanager

from conftest import REPO_ROOT
from warroom.domain.models import Milestone
from warroom.service.alerts import AlertIntake
from warroom.service.config import AlertRule, Config, Intake, PagerDutyPager, SlackTarget
from warroom.service.intake import IntakeServer, serve
from warroom.service.reach import Reach

TOKEN = "intake-TOKEN-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RULES = [AlertRule(name="api pages", match={"alertname": "APIDown"}, declare=True, severity="SEV-1")]


class Running:
    """An IntakeServer on 127.0.0.1:<free port> for the length of a test."""

    def __init__(self, service, config: Config, follow_up=None):
        self.lines: list[str] = []
        self.server = IntakeServer(AlertIntake(service, config), TOKEN, max_body=config.intake.max_body,
                                   follow_up=follow_up, log=self.lines.append)
        self.stop = asyncio.Event()

    async def __aenter__(self) -> "Running":
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        self.task = asyncio.create_task(serve(self.server, "127.0.0.1", 0, ready=ready.set_result, stop=self.stop))
        self.base = await ready
        self.client = httpx.AsyncClient(base_url=self.base, timeout=10)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()
        self.stop.set()
        await self.task

    async def post(self, payload, path: str = "/alerts", headers=AUTH, **options) -> httpx.Response:
        content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return await self.client.post(path, content=content, headers={"Content-Type": "application/json", **headers},
                                      **options)


async def test_alertmanager_firing_declares_back_dated_and_resolved_is_logged(service, clock):
    async with Running(service, Config(alert_rule=RULES)) as intake:
        fired = await intake.post(alertmanager(), "/alerts/alertmanager")
        assert fired.status_code == 200, fired.text
        [outcome] = fired.json()["alerts"]
        assert (outcome["outcome"], outcome["status"], outcome["rule"]) == ("declared", "firing", "api pages")
        clock.advance(minutes=20)
        resolved = await intake.post(alertmanager("resolved"))
        assert resolved.json()["alerts"][0]["outcome"] == "appended"
    incident = await service.incident(outcome["incident"])
    assert incident.severity == "SEV-1" and incident.services == ("api",)
    assert incident.milestones[Milestone.DETECTED] == datetime(2026, 11, 23, 13, 52, 10, 123456, tzinfo=timezone.utc)
    assert incident.created_at == datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
    texts = [e.text for e in await service.entries(incident.id)]
    assert texts[-1].startswith("Alert resolved (alertmanager): API health checks failing")


async def test_bad_or_missing_token_is_401_and_nothing_is_recorded(service):
    async with Running(service, Config(alert_rule=RULES)) as intake:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            answer = await intake.post(alertmanager(), headers=headers)
            assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
            assert TOKEN not in answer.text
        assert (await intake.client.get("/health")).text == "ok\n"
    assert await service.incidents() == []


async def test_a_1_mb_body_is_413(service):
    async with Running(service, Config(alert_rule=RULES)) as intake:
        huge = json.dumps({**alertmanager(), "pad": "x" * (1024 * 1024)}).encode()
        answer = await intake.post(huge)
        assert answer.status_code == 413 and "over 262144 bytes" in answer.json()["error"]

        async def chunks():  # no Content-Length: the cap holds for a streamed body too
            for _ in range(16):
                yield b"x" * 65536

        streamed = await intake.client.post("/alerts", content=chunks(), headers=AUTH)
        assert streamed.status_code == 413
    assert await service.incidents() == []


async def test_bad_payload_is_400_with_the_reason(service):
    async with Running(service, Config()) as intake:
        answer = await intake.post({"alerts": [{"status": "burning", "labels": {"alertname": "x"}}]})
        assert (answer.status_code, answer.json()) == (400, {"error": "alerts[0].status: must be 'firing' or 'resolved'"})
        assert (await intake.post(b"{nope")).status_code == 400
        assert (await intake.post(SEED_ALERT, "/alerts/nagios")).status_code == 404


async def test_the_same_fingerprint_twice_is_one_entry(service):
    async with Running(service, Config(alert_rule=RULES)) as intake:
        answers = await asyncio.gather(*(intake.post(alertmanager()) for _ in range(3)))
    outcomes = sorted(a.json()["alerts"][0]["outcome"] for a in answers)
    assert outcomes == ["declared", "duplicate", "duplicate"]
    [incident] = await service.incidents()
    assert sum(e.text.startswith("Alert firing") for e in await service.entries(incident.id)) == 1


async def test_hostile_alert_text_is_stored_as_sent_and_logged_inert(service):
    hostile = alertmanager(alertname="x")
    hostile["alerts"][0]["annotations"]["summary"] = "API \x1b]52;c;cGF3bmVk\x07down \u202e"
    async with Running(service, Config(alert_rule=[AlertRule(declare=True)])) as intake:
        answer = await intake.post(hostile)
    assert answer.status_code == 200
    [line] = intake.lines
    assert "\x1b" not in line and "\u202e" not in line and "␛]52;c;cGF3bmVk␇down <U+202E>" in line
    [incident] = await service.incidents()
    assert incident.title == "API \x1b]52;c;cGF3bmVk\x07down \u202e"  # the record keeps what was sent


async def test_a_declared_sev1_pages_once(service):
    async with HttpFake() as pagerduty:
        config = Config(alert_rule=RULES, pager=[PagerDutyPager(name="PD", routing_key_env="WR_PD",
                                                                events_url=pagerduty.url("/v2/enqueue"))])
        reach = Reach(service, config, environ={"WR_PD": "key"}, attempts=1)

        async def page(outcome):
            return await reach.after_declare(await service.incident(outcome.incident_id))

        async with Running(service, config, follow_up=page) as intake:
            await intake.post(alertmanager())
            await intake.post(alertmanager())  # a repeat: no second page
            await intake.server.settled()
    [event] = [r.body for r in pagerduty.received]
    assert event["event_action"] == "trigger" and event["payload"]["severity"] == "critical"


# ---- the command line ----------------------------------------------------------------------------


def test_declare_from_alert_file_and_stdin(run_cli, tmp_path, cli_env):
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(SEED_ALERT))
    done = run_cli("declare", "--from-alert", str(alert))
    assert done.returncode == 0, done.stderr
    incident_id = done.stdout.strip()
    assert "firing alert 'API Service Unavailable' declared " + incident_id in done.stderr
    shown = run_cli("show", incident_id)
    assert "SEV-1" in shown.stdout and "api.parsify.dev" in shown.stdout
    again = subprocess.run([sys.executable, "-m", "warroom", "declare", "--from-alert", "-"], input=json.dumps(SEED_ALERT),
                           env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout.strip() == incident_id and "already taken by" in again.stderr
    bad = run_cli("declare", "--from-alert", str(alert), "--severity", "SEV-2")
    assert bad.returncode == 2 and "--from-alert takes title" in bad.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"incident": {"title": ""}}')
    failed = run_cli("declare", "--from-alert", str(broken))
    assert failed.returncode == 2 and failed.stderr.strip() == (
        "warroom: error: incident.title: must be a non-empty string")


def test_log_update_delivers_like_the_screen_and_says_so(run_cli, tmp_path, cli_env):
    (tmp_path / "config" / "config.toml").write_text(
        f'updates_dir = "{tmp_path / "updates"}"\n'
        '[[target]]\nname = "Slack #incident"\nkind = "slack"\naudiences = ["internal"]\nurl_env = "WR_SLACK_URL"\n')
    incident_id = run_cli("declare", "Checkout 502s", "-s", "SEV-2").stdout.strip()

    async def scenario():
        async with HttpFake() as slack:
            env = {**cli_env, "WR_SLACK_URL": slack.url()}
            done = await asyncio.to_thread(run_cli, "log", incident_id, "/update rolling back now", env=env)
            return done, slack.received

    done, received = asyncio.run(scenario())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert done.stderr.strip() == "warroom: update 1 delivered to 2 of 2: updates folder, Slack #incident"
    [hook] = received
    assert hook.body["text"].startswith(f"*[SEV-2] {incident_id} Checkout 502s*")
    assert (tmp_path / "updates" / f"{incident_id}-1.md").exists()


def test_intake_command_serves_until_terminated(tmp_path, cli_env):
    (tmp_path / "config" / "config.toml").write_text(
        '[intake]\nport = 0\n[[alert_rule]]\nmatch = { alertname = "APIDown" }\ndeclare = true\n')
    missing = subprocess.run([sys.executable, "-m", "warroom", "intake"], env=cli_env, capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "set WARROOM_INTAKE_TOKEN" in missing.stderr
    env = {**cli_env, "WARROOM_INTAKE_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "warroom", "intake"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = process.stdout.readline()
        assert "warroom intake listening on http://127.0.0.1:" in first, process.stderr.read()
        base = first.split("listening on ")[1].split()[0]
        answer = httpx.post(f"{base}/alerts", json=alertmanager(), headers=AUTH, timeout=10)
        assert answer.json()["alerts"][0]["outcome"] == "declared"
        logged = process.stdout.readline()
        assert "firing a1b2c3 API health checks failing -> declared INC-" in logged
        assert TOKEN not in first + logged
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0 and "stopped" in process.stdout.read()
