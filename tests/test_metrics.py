"""Response metrics from milestones (domain/metrics.py) and their place in the JSON export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import NOW

from warroom.domain.metrics import compute_metrics, incident_start, milestone_order_problem
from warroom.domain.models import Incident, Milestone
from warroom.domain.report import to_json_dict

DECLARED = NOW - timedelta(hours=3)


def incident(**offsets_in_minutes: int) -> Incident:
    stones = {Milestone(name): DECLARED + timedelta(minutes=m) for name, m in offsets_in_minutes.items()}
    return Incident(id="INC-20261123-001", title="t", policy_id="default", severity="SEV-2",
                    status="investigating", created_at=DECLARED, created_by="a", milestones=stones)


def minutes(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds() / 60


def test_all_milestones_give_every_interval_from_impact_start():
    metrics = compute_metrics(
        incident(impact_started=-30, detected=-20, acknowledged=-15, mitigated=40, resolved=90, closed=120), NOW)
    assert [minutes(m) for m in (metrics.time_to_detect, metrics.time_to_acknowledge,
                                 metrics.time_to_mitigate, metrics.time_to_resolve)] == [10, 5, 70, 120]
    assert minutes(metrics.duration) == 120 and metrics.measured_from == "impact started"


def test_missing_milestones_give_none_and_the_clock_falls_back():
    bare = compute_metrics(incident(), NOW)
    assert (bare.time_to_detect, bare.time_to_acknowledge, bare.time_to_mitigate, bare.time_to_resolve) == (
        None, None, None, None)
    assert minutes(bare.duration) == 180 and bare.measured_from == "declared"  # still open: up to now

    detected_only = compute_metrics(incident(detected=-10, mitigated=20), NOW)
    assert detected_only.time_to_detect is None  # no impact start: detection cannot be measured
    assert detected_only.measured_from == "detected" and minutes(detected_only.time_to_mitigate) == 30
    assert detected_only.time_to_resolve is None and minutes(detected_only.duration) == 190


def test_acknowledge_is_measured_from_detection_or_declaration():
    assert minutes(compute_metrics(incident(detected=5, acknowledged=12), NOW).time_to_acknowledge) == 7
    assert minutes(compute_metrics(incident(acknowledged=4), NOW).time_to_acknowledge) == 4


def test_duration_ends_at_resolution_or_closure():
    assert minutes(compute_metrics(incident(resolved=50), NOW).duration) == 50
    assert minutes(compute_metrics(incident(closed=70), NOW).duration) == 70


def test_incident_start_prefers_impact_then_detection_then_declaration():
    assert incident_start(incident(impact_started=-5, detected=-1)) == (DECLARED - timedelta(minutes=5), "impact started")
    assert incident_start(incident(detected=-1)) == (DECLARED - timedelta(minutes=1), "detected")
    assert incident_start(incident()) == (DECLARED, "declared")


@pytest.mark.parametrize(("existing", "new", "at", "problem"), [
    ({"detected": 0}, "acknowledged", -1, "would come before detected"),
    ({"mitigated": 10}, "detected", 11, "would come after mitigated"),
    ({"impact_started": 0, "resolved": 60}, "mitigated", 61, "would come after resolved"),
    ({"detected": 0}, "acknowledged", 0, None),  # the same moment is fine
    ({"detected": 0, "mitigated": 30}, "acknowledged", 10, None),
    ({"detected": 5}, "detected", -5, None),  # moving a milestone itself is fine when order holds
])
def test_milestone_order(existing, new, at, problem):
    stones = {Milestone(k): DECLARED + timedelta(minutes=v) for k, v in existing.items()}
    found = milestone_order_problem(stones, Milestone(new), DECLARED + timedelta(minutes=at))
    assert (found is None) if problem is None else (problem in found)


async def test_json_export_carries_the_metrics(service, clock):
    declared = await service.declare("x", "SEV-1", author="a")
    await service.execute(declared.id, "-30m /impact", "a")
    await service.execute(declared.id, "-25m /detected", "a")
    await service.execute(declared.id, "-24m /ack", "a")
    clock.advance(minutes=15)
    await service.execute(declared.id, "/mitigated", "a")
    exported = json.loads(json.dumps(to_json_dict(await service.record(declared.id))))
    assert exported["metrics"] == {
        "time_to_detect_s": 300.0, "time_to_acknowledge_s": 60.0, "time_to_mitigate_s": 45 * 60.0,
        "time_to_resolve_s": None, "duration_s": 45 * 60.0, "measured_from": "impact started",
    }
    assert exported["incident"]["milestones"]["resolved"] is None
