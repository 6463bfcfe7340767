"""Alerts in: the three payload shapes, and routing into incidents (append, declare, dedupe)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from warroom.domain.alerts import AlertError, detect_source, parse_alerts
from warroom.domain.models import EntryKind, Milestone
from warroom.service.alerts import AlertIntake
from warroom.service.config import AlertRule, Config

STARTED = "2026-11-23T13:52:10.123456789Z"  # Go writes nanoseconds


def alertmanager(status: str = "firing", fingerprint: str = "a1b2c3", **labels: str) -> dict:
    return {
        "version": "4", "groupKey": "{}:{alertname=\"APIDown\"}", "status": status, "receiver": "warroom",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
        "truncatedAlerts": 0,
        "alerts": [{
            "status": status, "fingerprint": fingerprint, "generatorURL": "http://prom:9090/graph",
            "labels": {"alertname": "APIDown", "severity": "critical", "service": "api", **labels},
            "annotations": {"summary": "API health checks failing", "description": "5 of 5 probes down"},
            "startsAt": STARTED,
            "endsAt": "2026-11-23T14:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        }],
    }


SEED_ALERT = {"incident": {
    "severity": "1", "title": "API Service Unavailable", "description": "API health checks failing for 5 minutes",
    "affected_services": ["api.parsify.dev"], "detected_at": "2026-11-23T13:40:00Z",
    "first_responder": "on-call-engineer",
}}

GRAFANA = {
    "receiver": "warroom", "status": "firing", "orgId": 1, "title": "[FIRING:1] DiskFull", "state": "alerting",
    "message": "disk", "groupKey": "x", "version": "1",
    "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "service": "db"},
                "annotations": {"summary": "Disk 95% full"}, "startsAt": "2026-11-23T13:00:00+01:00",
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "ff01"}],
}


def body(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def test_alertmanager_payload_is_read_with_nanoseconds_and_zero_end():
    [alert] = parse_alerts(body(alertmanager()))
    assert (alert.source, alert.status, alert.fingerprint, alert.title) == (
        "alertmanager", "firing", "a1b2c3", "API health checks failing")
    assert alert.severity == "critical" and alert.services == ("api",)
    assert alert.starts_at == datetime(2026, 11, 23, 13, 52, 10, 123456, tzinfo=timezone.utc)
    assert alert.ends_at is None and alert.link == "http://prom:9090/graph"


def test_grafana_and_seed_shapes_are_detected():
    assert detect_source(GRAFANA) == "grafana" and detect_source(alertmanager()) == "alertmanager"
    [disk] = parse_alerts(body(GRAFANA))
    assert (disk.source, disk.services, disk.starts_at.hour) == ("grafana", ("db",), 12)  # +01:00 -> UTC
    [seed] = parse_alerts(body(SEED_ALERT))
    assert (seed.source, seed.severity, seed.services, seed.first_responder) == (
        "generic", "1", ("api.parsify.dev",), "on-call-engineer")
    legacy = {"ruleId": 7, "orgId": 1, "ruleName": "High latency", "state": "ok", "tags": {"service": "web"}}
    [old] = parse_alerts(body(legacy))
    assert (old.source, old.status, old.services) == ("grafana", "resolved", ("web",))
    assert old.fingerprint == parse_alerts(body({**legacy, "state": "alerting"}))[0].fingerprint


@pytest.mark.parametrize(("payload", "reason"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (body({"alerts": []}), "alerts: must be a non-empty list"),
    (body({**alertmanager(), "alerts": [{"status": "burning", "labels": {"alertname": "x"}}]}),
     "alerts[0].status: must be 'firing' or 'resolved'"),
    (body({"alerts": [{"status": "firing", "labels": {"alertname": 3}}]}), "alerts[0].labels: must be an object of strings"),
    (body({"alerts": [{"status": "firing", "labels": {"alertname": "x"}, "startsAt": "yesterday"}]}),
     "alerts[0].startsAt: must be an RFC 3339 time"),
    (body({"incident": {"severity": "1"}}), "incident.title: must be a non-empty string"),
    (body({"incident": {"title": "x", "affected_services": "api"}}), "incident.affected_services: must be a list"),
])
def test_bad_payloads_say_what_and_where(payload, reason):
    with pytest.raises(AlertError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_alerts(payload)


DECLARE_API = AlertRule(name="api pages", match={"alertname": "API*"}, declare=True, severity="SEV-1")


async def test_firing_alert_declares_with_detected_back_dated_and_resolution_is_logged(service, clock):
    intake = AlertIntake(service, Config(alert_rule=[DECLARE_API]))
    [fired] = await intake.take(parse_alerts(body(alertmanager())))
    assert fired.outcome == "declared"
    incident = await service.incident(fired.incident_id)
    assert (incident.title, incident.severity, incident.services) == ("API health checks failing", "SEV-1", ("api",))
    assert incident.milestones[Milestone.DETECTED] == datetime(2026, 11, 23, 13, 52, 10, 123456, tzinfo=timezone.utc)
    clock.advance(minutes=15)
    [resolved] = await intake.take(parse_alerts(body(alertmanager("resolved"))))
    assert (resolved.outcome, resolved.incident_id) == ("appended", incident.id)
    texts = [e.text for e in await service.entries(incident.id)]
    assert texts[0] == "Detected: from alertmanager alert"  # back-dated: sorted before the declaration
    assert texts[1].startswith("Declared SEV-1 (Critical): API health checks failing | from alertmanager alert"
                               " | Owed: ")  # what the policy now owes follows (domain.duties.owed_note)
    assert texts[2].startswith("Alert firing (alertmanager): API health checks failing | severity critical")
    assert texts[3].startswith("Alert resolved (alertmanager): API health checks failing")
    assert "ended 2026-11-23 14:10:00 UTC" in texts[3]
    assert {e.author for e in await service.entries(incident.id)} == {"alerts"}


async def test_same_fingerprint_twice_is_one_entry_even_at_once(service):
    intake = AlertIntake(service, Config(alert_rule=[DECLARE_API]))
    alerts = parse_alerts(body(alertmanager()))
    first, second = await asyncio.gather(intake.take(alerts), intake.take(alerts))
    outcomes = sorted([first[0].outcome, second[0].outcome])
    assert outcomes == ["declared", "duplicate"]
    assert len(await service.incidents()) == 1
    [again] = await intake.take(alerts)
    assert (again.outcome, again.incident_id) == ("duplicate", first[0].incident_id or second[0].incident_id)
    entries = await service.entries(again.incident_id)
    assert sum(e.text.startswith("Alert firing") for e in entries) == 1


async def test_alert_joins_the_open_incident_listing_its_service(service):
    incident = await service.declare("Checkout slow", "SEV-2", author="alice", services=("db", "checkout"))
    intake = AlertIntake(service, Config())  # no rules: an incident listing the service still takes it
    [outcome] = await intake.take(parse_alerts(body(GRAFANA)))
    assert (outcome.outcome, outcome.incident_id) == ("appended", incident.id)
    [entry] = outcome.entries
    assert entry.kind is EntryKind.SYSTEM and entry.data["alert"]["fingerprint"] == "ff01"


async def test_rule_services_route_and_unmatched_alerts_are_only_noted(service):
    incident = await service.declare("Payments down", "SEV-2", author="alice", services=("payments",))
    rules = [AlertRule(match={"alertname": "Stripe*"}, services=["payments"])]
    intake = AlertIntake(service, Config(alert_rule=rules))
    stripe = {"alerts": [{"status": "firing", "labels": {"alertname": "StripeErrors"}, "fingerprint": "s1"}]}
    [joined] = await intake.take(parse_alerts(body(stripe)))
    assert (joined.outcome, joined.incident_id, joined.rule) == ("appended", incident.id, "rule 1")
    other = {"alerts": [{"status": "firing", "labels": {"alertname": "Other"}, "fingerprint": "o1"}]}
    [noted] = await intake.take(parse_alerts(body(other)))
    assert (noted.outcome, noted.incident_id) == ("unrouted", None)
    assert len(await service.incidents()) == 1


async def test_seed_alert_declares_with_the_policy_severity_it_names(service):
    intake = AlertIntake(service, Config())
    [outcome] = await intake.take(parse_alerts(body(SEED_ALERT)), declare=True)
    incident = await service.incident(outcome.incident_id)
    assert (incident.severity, incident.services) == ("SEV-1", ("api.parsify.dev",))
    assert incident.milestones[Milestone.DETECTED] == datetime(2026, 11, 23, 13, 40, tzinfo=timezone.utc)
    assert "first responder on-call-engineer" in outcome.entries[-1].text
