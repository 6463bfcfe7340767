"""Drills: the shipped drill files, validation with file:line:field, expected responses scored in
time / late / missed against the file and the policy, the script played on the clock (probes of a
loopback fake service, alerts through the intake, other people's lines), and nothing reaching a
real target unless live (then marked DRILL). No real waiting: the drill's clock is a FrozenClock."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from reach_fakes import HttpFake

from warroom.domain.drill import DrillError, is_drill, load_drill, parse_drill, parse_expectation
from warroom.domain.drill_report import Verdict, to_markdown, to_text
from warroom.domain.models import DeliveryState, EntryKind
from warroom.domain.postmortem import to_markdown as postmortem_markdown
from warroom.domain.report import to_csv, to_json_dict
from warroom.service.config import Config, JsonTarget, PagerDutyPager
from warroom.service.demo import sample_data_dir
from warroom.service.drill import DrillReach, DrillRun, DrillTarget, start_drill

DRILLS = sorted((sample_data_dir() / "drills").glob("*.toml"))
FAST = {"attempts": 1, "backoff": ()}

SMALL = """\
[drill]
name = "Small"
title = "API down"
severity = "SEV-3"
services = ["api"]
length = "10m"

[[probe]]
name = "api"

[[step]]
at = "+1m"
probe = "api"
state = "down"

[[step]]
at = "+1m"
expect = "ack within 5m"

[[step]]
at = "+2m"
alert = { title = "ApiErrors", severity = "critical" }

[[step]]
at = "+3m"
by = "carol"
note = "Support sees errors on every API call"

[[step]]
at = "+0m"
expect = "SEV-1 declared within 4m"

[[step]]
at = "+0m"
expect = "decision within 3m"

[[step]]
at = "+0m"
expect = "first update within 20m"
"""


def test_three_drills_ship_and_validate(policies):
    names = {load_drill(path, policies).spec.name for path in DRILLS}
    assert names == {"API outage", "Database failure", "Security incident"}
    for path in DRILLS:
        scenario = load_drill(path, policies)
        actions = {step.action for step in scenario.file.step}
        assert actions == {"probe", "alert", "note", "expect"}, path.name  # each uses every kind of step
        assert any(e.what == "acknowledged" for e in scenario.expectations)


@pytest.mark.parametrize(("change", "where", "words"), [
    (('at = "+3m"\nby', 'att = "+3m"\nby'), "25: field step[3].att", "unknown field"),
    (('at = "+2m"', 'at = "2m"'), "21: field step[2].at", "+2m"),
    (('"SEV-1 declared within 4m"', '"SEV-9 declared within 4m"'), "31: field step[4].expect", "unknown severity"),
    (('by = "carol"\n', ''), "24: field step[3].by", "`by`"),
    (('probe = "api"\nstate', 'probe = "db"\nstate'), "13: field step[0].probe", "no [[probe]] named 'db'"),
    (('state = "down"', 'state = "down"\nnote = "x"'), "11: field step[0]", "exactly one of"),
    (('severity = "SEV-3"', 'severity = "SEV-7"'), "4: field drill.severity", "unknown severity"),
    (('at = "+3m"', 'at = "+11m"'), "25: field step[3].at", "after the drill's end"),
    (('note = "Support', 'note = "/sev nine Support'), "27: field step[3].note", "unknown severity"),
    (('"ack within 5m"', '"ack within soon"'), "18: field step[1].expect", "not a duration"),
])
def test_a_mistake_names_file_line_and_field(policies, change, where, words):
    old, new = change
    assert old in SMALL
    with pytest.raises(DrillError) as raised:
        parse_drill(SMALL.replace(old, new, 1), "small.toml", policies)
    message = str(raised.value)
    assert message.startswith(f"small.toml:{where}: "), message
    assert words in message and "\n" not in message


def test_expectations_read_the_policy(policies):
    policy = policies.default
    assert parse_expectation("ack within 5m", policy).within == timedelta(minutes=5)
    assert (parse_expectation("SEV-1 declared", policy).what, parse_expectation("sev 1", policy).target) == \
        ("severity", "SEV-1")
    assert parse_expectation("first update public within 15m", policy).target == "public"
    assert parse_expectation("first update", policy).target == "internal"
    assert parse_expectation("notify executives", policy).target == "notify:executives"
    assert parse_expectation("role comms lead", policy).target == "cl"
    for wrong in ("ack within", "update nobody", "status sleeping", "dance"):
        with pytest.raises(ValueError):
            parse_expectation(wrong, policy)


async def drill_on(service, clock, policies, text: str = SMALL, target=None):
    scenario = parse_drill(text, "small.toml", policies)
    incident = await start_drill(service, scenario, target)
    return scenario, incident, DrillRun(service, scenario, incident.id, clock.now, target=target)


async def test_the_script_plays_on_the_clock(service, clock, policies):
    import httpx

    target = DrillTarget(["api"])
    await target.start()
    try:
        scenario, incident, run = await drill_on(service, clock, policies, target=target)
        assert is_drill(incident) and incident.title == "DRILL: API down"
        [probe] = await service.attached_probes(incident.id)
        assert probe.config["target"] == target.url("api")
        assert await run.run_due() == []  # nothing is due at +0
        async with httpx.AsyncClient() as client:
            assert (await client.get(target.url("api"))).status_code == 200
            clock.advance(minutes=1)
            [moved] = await run.run_due()
            assert (moved.action, moved.probe) == ("probe", "api")
            assert (await client.get(target.url("api"))).status_code == 503
        clock.advance(minutes=5)
        played = await run.run_due()  # the alert at +2m and carol's line at +3m, in order
        assert [event.action for event in played] == ["alert", "note"]
    finally:
        await target.close()
    entries = await service.entries(incident.id)
    alert = next(e for e in entries if e.author == "alerts")
    assert alert.text.startswith("Alert firing (drill): ApiErrors")
    line = next(e for e in entries if e.author == "carol")
    assert line.kind is EntryKind.NOTE and line.text == "Support sees errors on every API call"
    assert not run.finished
    clock.advance(minutes=4)
    assert run.finished


async def test_a_refused_line_is_logged_and_the_drill_goes_on(service, clock, policies):
    text = SMALL.replace('note = "Support sees errors on every API call"', 'note = "/assign tl bob"')
    scenario, incident, run = await drill_on(service, clock, policies, text)
    await service.execute(incident.id, "/assign tl bob", "alice")  # the script did not foresee it
    clock.advance(minutes=3)
    played = await run.run_due()
    assert played[-1].text.startswith("step 4 refused: bob already holds Tech Lead")
    entries = await service.entries(incident.id)
    assert entries[-1].author == "drill" and "DRILL step 4 by carol was refused" in entries[-1].text


async def test_a_late_acknowledgement_is_scored_late(service, clock, policies):
    scenario, incident, run = await drill_on(service, clock, policies)
    start = clock.now
    clock.advance(minutes=2)
    await service.execute(incident.id, "/decision roll back", "alice")  # +2m: in time (within 3m)
    clock.advance(minutes=5, seconds=30)
    await service.execute(incident.id, "-4m /ack", "alice")  # typed at +7m30s: back-dated, still late
    clock.advance(minutes=1)
    await service.execute(incident.id, "/update internal API down, rolling back", "alice")  # +8m30s
    clock.advance(minutes=1, seconds=30)
    report = await run.report(speed=60, delivery="outbox")
    verdicts = {s.label: (s.verdict, s.done_at - start if s.done_at else None) for s in report.expected}
    assert verdicts == {
        "ack within 5m": (Verdict.LATE, timedelta(minutes=7, seconds=30)),  # due +6m
        "SEV-1 declared within 4m": (Verdict.MISSED, None),
        "decision within 3m": (Verdict.IN_TIME, timedelta(minutes=2)),
        "first update within 20m": (Verdict.IN_TIME, timedelta(minutes=8, seconds=30)),
    }
    policy = {s.label: s.verdict for s in report.policy}
    assert policy["Acknowledged"] is Verdict.IN_TIME  # SEV-3 responds within the hour
    assert policy["Internal update (update 1)"] is Verdict.IN_TIME  # SEV-3 owes it within 30m
    text = to_text(report)
    assert "LATE: ack within 5m: due +06:00" in text and "01:30 late" in text
    assert "MISSED: SEV-1 declared within 4m" in text
    assert text.splitlines()[0] == "DRILL report: Small"
    markdown = to_markdown(report)
    assert markdown.startswith("# DRILL report: Small\n")
    assert "**DRILL score: 4 in time, 1 late, 1 missed, 2 not due yet (of 8).**" in markdown


async def test_the_policy_scores_what_it_owes(service, clock, policies):
    scenario, incident, run = await drill_on(service, clock, policies)
    await service.execute(incident.id, "/sev 1 everything is down", "alice")
    clock.advance(minutes=7)  # SEV-1: an internal update within 5m, the status page at once
    await service.execute(incident.id, "/update internal all hands on it", "alice")
    customers = "notify Affected customers: a proactive email"  # SEV-1 owes it, with no deadline
    early = {s.label: s.verdict for s in (await run.report(speed=1, delivery="")).policy}
    assert early[customers] is Verdict.NOT_DUE  # due by the end of the drill
    clock.advance(minutes=3)
    report = await run.report(speed=1, delivery="outbox")
    policy = {s.label: s.verdict for s in report.policy}
    assert policy[customers] is Verdict.MISSED
    assert policy["Internal update (update 1)"] is Verdict.LATE
    assert policy["Status page update"] is Verdict.MISSED
    assert policy["notify Executives (engineering manager, VP Engineering)"] is Verdict.NOT_DUE  # 15m
    assert policy["Acknowledged"] is Verdict.NOT_DUE  # declared SEV-3: an hour to respond


async def test_exports_of_a_drill_say_drill(service, clock, policies):
    scenario, incident, run = await drill_on(service, clock, policies)
    record = await service.record(incident.id)
    assert "> **DRILL**: a practice incident" in postmortem_markdown(record)
    exported = to_json_dict(record)
    assert exported["incident"]["drill"] is True and exported["incident"]["title"].startswith("DRILL: ")
    assert "DRILL" in to_csv(record).splitlines()[1]
    real = await service.declare("Real outage", "SEV-2", author="alice")
    assert "drill" not in to_json_dict(await service.record(real.id))["incident"]


def reach_config(hook: HttpFake, pager: HttpFake) -> tuple[Config, dict]:
    config = Config(target=[JsonTarget(name="Slack-ish hook", audiences=["*"], url_env="WR_HOOK", timeout=2)],
                    pager=[PagerDutyPager(name="on-call", routing_key_env="WR_ROUTING",
                                          events_url=pager.url("/v2/enqueue"), timeout=2)])
    return config, {"WR_HOOK": hook.url(), "WR_ROUTING": "ROUTING-KEY-1"}


async def test_nothing_reaches_a_real_target_in_a_drill(service, clock, policies, tmp_path):
    scenario, incident, run = await drill_on(service, clock, policies)
    outbox = tmp_path / "outbox"
    async with HttpFake() as hook, HttpFake() as pager:
        config, environ = reach_config(hook, pager)
        reach = DrillReach(service, config, outbox=outbox, environ=environ, **FAST)
        escalated = await service.execute(incident.id, "/sev 1 all down", "alice")  # SEV-1 pages
        posted = await service.execute(incident.id, "/update internal Rolling back", "alice")
        done = await reach.follow_up(incident.id, [*escalated, *posted])
        assert hook.received == [] and pager.received == []
    assert {(d.target, d.state) for d in done.deliveries} == {
        ("updates folder", DeliveryState.DELIVERED), ("Slack-ish hook", DeliveryState.DELIVERED)}
    [page] = done.pages
    assert page.state is DeliveryState.DELIVERED
    held = {path.name: path.read_text(encoding="utf-8") for path in outbox.iterdir()}
    hook_file = next(text for name, text in held.items() if "Slack-ish_hook" in name)
    assert hook_file.startswith("DRILL: not delivered.") and "[DRILL] Rolling back" in hook_file
    page_file = next(text for name, text in held.items() if "page-trigger-on-call" in name)
    assert page_file.startswith("DRILL: not paged.") and "DRILL: API down" in page_file
    folder_copies = [text for text in held.values() if not text.startswith("DRILL:")]  # the updates folder's
    assert len(folder_copies) == 1 and folder_copies[0].startswith("[DRILL] Rolling back")
    timeline = " ".join(e.text for e in await service.entries(incident.id))
    assert "drill outbox" in timeline and "ROUTING-KEY-1" not in timeline
    assert "nothing reached a real target" in reach.describe()


async def test_live_delivery_goes_out_marked_drill(service, clock, policies, tmp_path):
    scenario, incident, run = await drill_on(service, clock, policies)
    async with HttpFake() as hook, HttpFake() as pager:
        config, environ = reach_config(hook, pager)
        reach = DrillReach(service, config, outbox=tmp_path / "outbox", live=True, environ=environ, **FAST)
        escalated = await service.execute(incident.id, "/sev 1 all down", "alice")
        posted = await service.execute(incident.id, "/update internal Rolling back", "alice")
        await reach.follow_up(incident.id, [*escalated, *posted])
        [update] = hook.received
        [paged] = pager.received
    assert update.body["title"] == "DRILL: API down" and update.body["text"] == "[DRILL] Rolling back"
    assert paged.body["payload"]["summary"].startswith(f"[SEV-1] {incident.id} DRILL: API down: DRILL: ")
    assert "--live-delivery" in reach.describe()


def test_drill_file_errors_exit_2_in_one_line(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace('at = "+2m"', 'at = "2m"'), encoding="utf-8")
    done = run_cli("drill", str(bad))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"warroom: error: {bad}:21: field step[2].at: ")
    missing = run_cli("drill", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "no such drill file" in missing.stderr
    assert "shipped drills: api-outage, database-failure, security-incident" in missing.stderr
    assert not list(tmp_path.glob("warroom-drill-*"))  # nothing was started
    chosen = run_cli("--db", str(tmp_path / "mine.db"), "drill", str(DRILLS[0]))
    assert chosen.returncode == 2 and "a database of its own" in chosen.stderr and not (tmp_path / "mine.db").exists()
    fast = run_cli("drill", str(DRILLS[0]), "--speed", "0")
    assert fast.returncode == 2 and "speed" in fast.stderr and fast.stderr.count("\n") == 1


async def test_without_a_deadline_it_is_due_by_the_end_of_the_drill(service, clock, policies):
    text = SMALL.replace('expect = "decision within 3m"', 'expect = "decision"')
    scenario, incident, run = await drill_on(service, clock, policies, text)
    clock.advance(minutes=4)
    early = {s.label: s for s in (await run.report(speed=1, delivery="")).expected}
    assert early["decision"].verdict is Verdict.NOT_DUE and early["decision"].basis == "by the end of the drill"
    clock.advance(minutes=6)
    assert {s.label: s.verdict for s in (await run.report(speed=1, delivery="")).expected}["decision"] \
        is Verdict.MISSED


async def test_hostile_text_in_a_drill_file_stays_inert(service, clock, policies, tmp_path):
    from hostile_corpus import NAMES, unsafe_in

    hostile = " ".join(NAMES.values())
    quoted = json.dumps(hostile).replace("\x7f", "\\u007f")  # a TOML basic string (its escapes are JSON's)
    text = SMALL.replace('name = "Small"', f"name = {quoted}").replace('title = "API down"', f"title = {quoted}")
    text = text.replace('note = "Support sees errors on every API call"', f"note = {quoted}")
    scenario, incident, run = await drill_on(service, clock, policies, text)
    clock.advance(minutes=4)
    await run.run_due()
    reach = DrillReach(service, Config(target=[JsonTarget(name=hostile, audiences=["*"], url_env="WR_NONE")]),
                       outbox=tmp_path / "outbox", environ={}, **FAST)
    await reach.follow_up(incident.id, await service.execute(incident.id, f"/update internal {hostile}", "alice"))
    report = await run.report(speed=1, delivery=reach.describe())
    assert unsafe_in(to_text(report)) == [] and unsafe_in(to_markdown(report)) == []
    held = list((tmp_path / "outbox").glob("*.txt"))  # what the drill held back (the .md is the updates folder's)
    assert held and all(unsafe_in(path.read_text(encoding="utf-8")) == [] for path in held)
    with pytest.raises(DrillError) as raised:
        parse_drill(text.replace('severity = "SEV-3"', f"severity = {quoted}"), "hostile.toml", policies)
    assert unsafe_in(str(raised.value)) == [] and "\n" not in str(raised.value)


def test_a_shipped_drill_is_found_by_its_name(tmp_path, monkeypatch):
    from warroom.service.drill import drill_path, shipped_drills

    assert set(shipped_drills()) == {"api-outage", "database-failure", "security-incident"}
    monkeypatch.chdir(tmp_path)  # wherever the user is
    assert drill_path("api-outage") == drill_path("api-outage.toml") == shipped_drills()["api-outage"]
    own = tmp_path / "api-outage.toml"
    own.write_text("# the user's own", encoding="utf-8")
    assert drill_path("api-outage.toml") == Path("api-outage.toml")  # a file of that name comes first
    assert drill_path("elsewhere/api-outage") == Path("elsewhere/api-outage")  # a path is a path
