"""Replay: the playback clock, and the record as it stood at a moment (ReplayService): entries by
when they happened, the incident row rewound, roles, updates, duties overdue as they really were,
probe states from their logged transitions; `--from` and the replay command's mistakes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import NOW

from warroom.domain.duties import DutyState, derive_duties, open_duties
from warroom.domain.models import EntryKind, Milestone
from warroom.domain.playback import PlaybackClock, parse_speed
from warroom.domain.replay import replay_start
from warroom.probes.states import ProbeState, Transition
from warroom.service.demo import seed_demo_database
from warroom.service.replay import ReplayService
from warroom.store import probe_states as ps

DEMO_NOW = NOW  # the demo seeded an hour before it: its entries run from 13:54 to 14:56


class Ticker:
    """The seconds a playback clock moves by: only when a test says so (the replay and drill UI
    tests use it too)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def at(minutes_before: float) -> datetime:
    return DEMO_NOW - timedelta(minutes=minutes_before)


def test_the_playback_clock_runs_pauses_jumps_and_stops_at_the_end():
    ticker = Ticker()
    clock = PlaybackClock(at(60), 60, end=at(0), ticker=ticker)
    ticker.seconds = 10
    assert clock() == at(50)  # 10 s at 60x: ten minutes
    clock.pause()
    ticker.seconds = 100
    assert clock() == at(50) and clock.paused  # paused: the clock stands still
    clock.resume()
    ticker.seconds = 101
    assert clock() == at(49)
    assert clock.faster() == 120 and clock.slower() == 60 and clock.slower() == 30
    ticker.seconds = 103
    assert clock() == at(48)  # 2 s at 30x
    clock.jump(at(5))
    ticker.seconds = 1000
    assert clock() == at(0) and clock.at_end  # never past the end
    for wrong in ("0", "-2x", "fast", "20000x"):
        with pytest.raises(ValueError):
            parse_speed(wrong)
    assert parse_speed("10x") == 10 and parse_speed("0.5") == 0.5


@pytest.fixture
async def demo(tmp_path, policies):
    path, incident_id = await seed_demo_database(str(tmp_path / "demo.db"), DEMO_NOW)
    ticker = Ticker()
    clock = PlaybackClock(at(70), 60, ticker=ticker)
    service = await ReplayService.open(path, policies, clock)
    yield service, incident_id, clock
    await service.close()


async def test_reads_stop_at_the_horizon(demo):
    service, incident_id, clock = demo
    everything = await ReplayService.entries(service, incident_id)  # the horizon is 14:50: before any entry
    assert everything == []
    clock.jump(at(57))
    service.advance()
    entries = await service.entries(incident_id)
    assert entries and all(e.occurred_at <= at(57) for e in entries)
    assert [e.occurred_at for e in entries] == sorted(e.occurred_at for e in entries)
    assert await service.entry_count(incident_id) == len(entries)
    assert [e.number for e in await service.entries_page(incident_id, 0, 3)] == [e.number for e in entries[:3]]
    incident = await service.incident(incident_id)
    assert (incident.severity, incident.status) == ("SEV-3", "investigating")  # /sev 2 came at -56
    assert set(incident.milestones) == {Milestone.IMPACT_STARTED, Milestone.DETECTED, Milestone.ACKNOWLEDGED}
    seats = {seat.role_id: seat.person for seat in await service.roster(incident)}
    assert seats == {"ic": "alice", "tl": "bob", "cl": None, "scribe": "dan"}
    assert await service.updates(incident_id) == []
    clock.jump(at(17))
    service.advance()
    incident = await service.incident(incident_id)
    assert (incident.severity, incident.status) == ("SEV-2", "monitoring")
    assert Milestone.MITIGATED in incident.milestones
    seats = {seat.role_id: seat.person for seat in await service.roster(incident)}
    assert seats["ic"] == "gina"  # handed over at -18
    assert len(await service.updates(incident_id)) == 3
    assert await service.recorded_entries(incident_id) == 58  # the whole demo, facts and review included


async def test_the_countdown_is_overdue_where_it_really_was(demo):
    """The second internal update was due at 14:36 and posted at 14:39 (the demo's late one)."""
    service, incident_id, clock = demo
    states = {}
    for minutes_before in (27, 23, 22, 21):
        clock.jump(at(minutes_before))
        service.advance()
        incident = await service.incident(incident_id)
        duties = open_duties(derive_duties(service.policy_for(incident), await service.duty_record(incident)))
        states[minutes_before] = (duties[0].what, duties[0].state(clock()))
    assert states == {27: ("Internal update", DutyState.DUE_SOON), 23: ("Internal update", DutyState.OVERDUE),
                      22: ("Internal update", DutyState.OVERDUE), 21: ("Internal update", DutyState.ON_TRACK)}


async def test_a_look_hands_out_what_happened_since_and_a_jump_back_reloads(demo):
    service, incident_id, clock = demo
    clock.jump(at(62))
    live = service.live(incident_id)
    first = await live.load()
    assert first.everything and first.total == len(await service.entries(incident_id))
    assert await live.poll() is None  # the clock did not move
    clock.jump(at(56))
    delta = await live.poll()
    assert delta.appended and all(at(62) < e.occurred_at <= at(56) for e in delta.appended)
    assert "incident" in delta.parts and delta.incident.severity == "SEV-2"  # the raise happened in between
    assert "roles" in delta.parts and delta.total == first.total + len(delta.appended)
    clock.jump(at(60))
    again = await live.poll()
    assert again.everything and again.incident.severity == "SEV-3"


async def test_milestones_to_jump_to_and_where_a_replay_starts(demo):
    service, incident_id, clock = demo
    first, last = await service.replay_span(incident_id)
    assert (first, last) == (at(66), at(4))
    points = await service.replay_points(incident_id)
    labels = [point.label for point in points]
    assert labels[:4] == ["impact started", "detected", f"declared {incident_id}", "acknowledged"]
    assert "severity SEV-3 -> SEV-2" in labels and "mitigated" in labels
    assert replay_start("+10m", first, points) == at(56)
    assert replay_start("14:00", first, points) == at(60)
    assert replay_start("2026-11-23T14:30:30", first, points) == at(29.5)
    assert replay_start("mitigated", first, points) == at(29)
    assert await service.next_moment(incident_id, at(66)) == at(64)
    for wrong in ("soon", "25:00", "2026-02-30T10:00"):
        with pytest.raises(ValueError):
            replay_start(wrong, first, points)


async def test_probe_states_follow_their_logged_transitions(tmp_path, policies, clock):
    from warroom.service import IncidentService

    path = tmp_path / "probes.db"
    writer = await IncidentService.open(path, policies, clock)
    incident = await writer.declare("API down", "SEV-2", author="alice")
    start = clock.now
    config = {"name": "api", "type": "http", "target": "http://127.0.0.1:9/health"}
    for minutes, old, new in ((2, ProbeState.UP, ProbeState.DOWN), (9, ProbeState.DOWN, ProbeState.UP)):
        moment = start + timedelta(minutes=minutes)
        clock.now = moment
        change = Transition("api", "", old, new, moment, "", consecutive_failures=1 if new is ProbeState.DOWN else 0)
        await writer.record_system(incident.id, change.describe(), {"transition": change.to_dict()},
                                   kind=EntryKind.PROBE, author="probe")
    async with writer.db.transaction() as conn:
        await ps.put_state(conn, incident.id, "api", config=config, interval=30.0, attached=True, state="up",
                           health="up", since=clock.now, first_failure_at=None, consecutive_failures=0,
                           consecutive_successes=2, last_result=None)
    await writer.close()
    ticker = Ticker()
    replay_clock = PlaybackClock(start, 60, ticker=ticker)
    service = await ReplayService.open(path, policies, replay_clock)
    try:
        seen = {}
        for minutes in (1, 3, 10):
            replay_clock.jump(start + timedelta(minutes=minutes))
            service.advance()
            [row] = await service.probe_states(incident.id)
            seen[minutes] = (row.state, row.since)
        assert seen == {1: ("up", None), 3: ("down", start + timedelta(minutes=2)),
                        10: ("up", start + timedelta(minutes=9))}
    finally:
        await service.close()


def test_replay_mistakes_exit_2_in_one_line(run_cli, tmp_path):
    declared = run_cli("declare", "API down", "--severity", "SEV-2")
    incident_id = declared.stdout.strip()
    for args, words in ((["replay", "INC-19990101-001"], "INC-19990101-001"),
                        (["replay", incident_id, "--speed", "0x"], "speed"),
                        (["replay", incident_id, "--from", "soon"], "--from"),
                        (["replay", incident_id, "--from", "+3h"], "outside the record")):
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and words in done.stderr and "Traceback" not in done.stderr
