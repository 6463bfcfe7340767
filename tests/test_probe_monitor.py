"""The monitor and the store: results stored in batches and pruned, transitions on the timeline
(with the `detected` offer), /probe add picked up live, a broken file keeps the last good probes,
and env-var secrets never written to the database."""

from __future__ import annotations

import re

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW
from probe_servers import until

from warroom.domain.errors import WarroomError
from warroom.domain.models import EntryKind, Milestone
from warroom.service.monitor import ProbeMonitor
from warroom.service.probe_sources import probe_file
from warroom.probes.config import make_http_probe
from warroom.probes.result import ProbeResult
from warroom.store.probes import ProbeStore
from db_access import everything_stored


async def declare(service):
    return await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")


def probe_toml(name: str, url: str, **extra: str) -> str:
    lines = [f'[[probe]]\nname = "{name}"\ntype = "http"\ntarget = "{url}"\ninterval = "1s"']
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


async def test_store_writes_batches_reads_recent_and_uptime_and_prunes(service):
    incident = await declare(service)
    store = ProbeStore(service.db)
    now = NOW
    batch = [ProbeResult(probe="api", checked_at=now - timedelta(hours=h), ok=h % 2 == 0, latency_ms=float(h))
             for h in range(30)]
    assert await store.sink(incident.id)(batch) == 30
    recent = await store.recent("api", 3, incident.id)
    assert [r.latency_ms for r in recent] == [0.0, 1.0, 2.0]
    uptime = await store.uptime("api", now - timedelta(hours=9.5), incident_id=incident.id)
    assert (uptime.checks, uptime.ok, uptime.percent()) == (10, 5, "50.00%")
    assert await store.prune(now - timedelta(hours=24)) == 5
    assert (await store.uptimes(now - timedelta(days=2)))["api"].checks == 25


async def run_until_down(service, incident_id: str, target, folder: Path) -> list:
    """A monitor on one probe, `payments`, that fails every check, run until its DOWN entry is
    logged (two failures in a row): the entries it logged."""
    target.flap_pattern = [500]
    path = folder / "probes.toml"
    path.write_text(probe_toml("payments", target.url("/flap"), failure_threshold="2",
                               conditions='["status == 200"]'))
    logged = []
    monitor = ProbeMonitor(service, incident_id, probes_path=path, on_entry=logged.append, jitter=False,
                           flush_every=0.05)
    await monitor.start()
    try:
        await until(lambda: any("DOWN" in entry.text for entry in logged))
    finally:
        await monitor.stop()
    return logged


async def test_transitions_become_probe_entries_and_down_offers_the_detected_time(service, target, tmp_path):
    incident = await declare(service)
    await run_until_down(service, incident.id, target, tmp_path)
    entries = [e for e in await service.entries(incident.id) if e.kind is EntryKind.PROBE]
    pending, down = entries[0], entries[1]
    assert pending.text.startswith("payments … PENDING (was ? UNKNOWN): status == 200 failed: got 500")
    assert down.text.startswith("payments ▼ DOWN (was … PENDING): status == 200 failed: got 500; "
                                "2 checks in a row failed since ")
    first = down.data["transition"]["first_failure_at"]
    assert "No detected milestone yet" in down.text and "/detected" in down.text
    assert re.search(r"[0-9] ms\. No detected milestone yet: ", down.text), down.text  # not "5 ms No detected"
    assert down.data["transition"]["status_code"] == 500 and down.author == "probe"
    stored = await ProbeStore(service.db).recent("payments", 50, incident.id)
    assert stored and not any(r.ok for r in stored)
    # what the entry offers is a command the entry bar accepts, and it back-dates `detected`
    offered = down.text.split("type: ", 1)[1]
    await service.execute(incident.id, offered, "alice")
    again = await service.incident(incident.id)
    assert again.milestones[Milestone.DETECTED].strftime("%Y-%m-%dT%H:%M:%S") == first[:19]


async def test_no_detected_offer_once_the_milestone_exists(service, target, tmp_path):
    incident = await declare(service)
    await service.execute(incident.id, "/detected", "alice")
    target.flap_pattern = [503]
    path = tmp_path / "probes.toml"
    path.write_text(probe_toml("api", target.url("/flap"), failure_threshold="1"))
    logged = []
    monitor = ProbeMonitor(service, incident.id, probes_path=path, on_entry=logged.append, jitter=False)
    await monitor.start()
    try:
        async def down_logged():
            return any("DOWN" in entry.text for entry in logged)
        await until(down_logged)
    finally:
        await monitor.stop()
    assert "detected" not in logged[0].text.lower()


async def test_probe_add_is_stored_logged_and_picked_up_by_the_running_monitor(service, target):
    incident = await declare(service)
    monitor = ProbeMonitor(service, incident.id, reload_every=0.05, jitter=False)
    await monitor.start()
    try:
        assert monitor.views() == []
        written = await service.execute(incident.id, f"/probe add checkout {target.url('/ok')}", "alice")
        assert written[0].kind is EntryKind.PROBE
        assert written[0].text.startswith(f"Probe checkout added: GET {target.url('/ok')} every 30s")

        async def picked_up():
            views = monitor.views()
            return bool(views) and views[0].last_result is not None
        await until(picked_up)
        assert monitor.views()[0].attached
        assert await monitor.toggle_pause("checkout") is True
        assert (await service.attached_probes(incident.id))[0].paused
        with pytest.raises(WarroomError):
            await monitor.toggle_pause("nope")
    finally:
        await monitor.stop()
    again = await service.execute(incident.id, f"/probe add checkout {target.url('/status/204')}", "alice")
    assert again[0].text.startswith("Probe checkout updated")
    with pytest.raises(WarroomError, match="field target"):
        await service.execute(incident.id, "/probe add bad http:///no-host", "alice")


async def test_a_broken_probe_file_is_reported_and_the_last_good_probes_keep_running(service, target, tmp_path):
    incident = await declare(service)
    path = tmp_path / "probes.toml"
    path.write_text(probe_toml("one", target.url("/ok")))
    problems = []
    monitor = ProbeMonitor(service, incident.id, probes_path=path, on_problem=problems.append,
                           reload_every=0.05, jitter=False)
    await monitor.start()
    try:
        assert [v.name for v in monitor.views()] == ["one"]
        path.write_text(probe_toml("one", target.url("/ok")) + '\n[[probe]]\nname = "two"\ntype = "ftp"\n')

        async def reported():
            return bool(problems)
        await until(reported)
        assert problems[0].startswith(f"{path}:")
        assert "probe two" in problems[0] and "keeping the last good probes" in problems[0]
        assert [v.name for v in monitor.views()] == ["one"]
        path.write_text(probe_toml("one", target.url("/ok")) + probe_toml("two", target.url("/ok")))

        async def reloaded():
            return sorted(v.name for v in monitor.views()) == ["one", "two"]
        await until(reloaded)
    finally:
        await monitor.stop()


async def test_views_are_worst_first_with_uptime(service, target, tmp_path):
    incident = await declare(service)
    path = tmp_path / "probes.toml"
    path.write_text(probe_toml("good", target.url("/ok"))
                    + probe_toml("bad", target.url("/status/500"), failure_threshold="1"))
    monitor = ProbeMonitor(service, incident.id, probes_path=path, jitter=False, flush_every=0.05)
    await monitor.start()
    try:
        async def counted():
            return all(view.uptime.checks >= 2 for view in monitor.views())
        await until(counted)
        views = monitor.views()
        assert [v.name for v in views] == ["bad", "good"]
        assert views[0].uptime.ok == 0 and views[1].uptime.ratio == 1.0
        assert await monitor.prune() == 0
    finally:
        await monitor.stop()


async def test_env_secrets_are_used_but_never_stored(service, target, tmp_path, monkeypatch, database):
    secret = "tok-9f8e7d6c5b4a"
    monkeypatch.setenv("API_TOKEN", secret)
    incident = await declare(service)
    path = tmp_path / "probes.toml"
    # /echo reflects the request headers into the body; a failing condition quotes the body
    path.write_text(probe_toml("echo", target.url("/echo?status=500"), failure_threshold="1",
                               headers='{ Authorization = "Bearer ${API_TOKEN}" }',
                               conditions='["status == 200", "body contains \\"nothing\\""]'))
    spec_with_header = make_http_probe("attached", target.url("/echo"),
                                       headers={"X-Token": "${API_TOKEN}"},
                                       conditions=['body contains "nothing"'], interval="1s",
                                       failure_threshold=1)
    await service.attach_probe(incident.id, spec_with_header)
    logged = []
    monitor = ProbeMonitor(service, incident.id, probes_path=path, on_entry=logged.append, jitter=False,
                           flush_every=0.05)
    await monitor.start()
    try:
        async def both_down():
            return {e.text.split()[0] for e in logged if "DOWN" in e.text} == {"echo", "attached"}
        try:
            await until(both_down)
        except AssertionError:
            raise AssertionError([e.text for e in logged], [v.last_result for v in monitor.views()])
        view = monitor.view("echo")
        assert "${API_TOKEN}" in (view.last_result.excerpt or "")
        assert secret not in repr(view)
    finally:
        await monitor.stop()
    everything = everything_stored(database)
    assert secret.encode() not in everything
    rows = await ProbeStore(service.db).recent("echo", 5, incident.id)
    assert any("${API_TOKEN}" in (r.excerpt or "") for r in rows)
    stored = json.dumps([p.config for p in
                         await service.attached_probes(incident.id)])
    assert "${API_TOKEN}" in stored and secret not in stored


def test_the_probe_file_comes_from_the_option_the_config_or_the_config_dir(tmp_path):
    assert probe_file("a.toml", "b.toml", tmp_path) == Path("a.toml")
    assert probe_file(None, "b.toml", tmp_path) == Path("b.toml")
    assert probe_file(None, None, tmp_path) is None
    (tmp_path / "probes.toml").write_text("")
    assert probe_file(None, None, tmp_path) == tmp_path / "probes.toml"


def test_retention_setting_from_the_config():
    from warroom.service.probe_sources import retention_setting

    assert retention_setting("7d") == (timedelta(days=7), None)
    assert retention_setting(None) == (timedelta(hours=24), None)
    kept, problem = retention_setting("soon")
    assert kept == timedelta(hours=24) and problem.startswith("probe_retention:")
