"""`warroom stats`: the figures of a small set of incidents, each checked against a hand computation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from warroom.domain.charts import bar, bar_chart
from warroom.domain.stats import quantile
from warroom.domain.stats_report import to_csv, to_text

M = timedelta(minutes=1)


async def at(service, clock, moment, incident_id, *typed: str) -> None:
    clock.now = moment
    for text in typed:
        await service.execute(incident_id, text, "alice")


async def declare(service, clock, moment, severity, services=(), policy_id=None):
    clock.now = moment
    return (await service.declare("Incident", severity, author="alice", services=services, policy_id=policy_id)).id


@pytest.fixture
async def history(service, clock):
    """Seven incidents; the comments give each interval by hand (see the test for the figures)."""
    now = clock.now
    a0 = now - timedelta(days=20)
    a = await declare(service, clock, a0, "SEV-2", ("checkout",))
    await at(service, clock, a0, a, "-10m /impact", "-4m /detected")         # TTD 6m
    await at(service, clock, a0 + 6 * M, a, "/ack")                          # TTA 10m (from detected), target 15m
    await at(service, clock, a0 + 10 * M, a, "/update looking")              # due a+15m: on time
    await at(service, clock, a0 + 50 * M, a, "/update still")                # due a+40m: late
    await at(service, clock, a0 + 60 * M, a, "/mitigated", "/action pool alert @bob")  # TTM 70m
    await at(service, clock, a0 + 80 * M, a, "/resolve pool resized")        # TTR 90m

    b0 = now - timedelta(days=15)
    b = await declare(service, clock, b0, "SEV-2", ("checkout", "db", "checkout"))
    await at(service, clock, b0, b, "/detected")                             # no impact: no TTD
    await at(service, clock, b0 + 12 * M, b, "/update a")                    # due b+15m: on time
    await at(service, clock, b0 + 20 * M, b, "/ack")                         # TTA 20m: over target
    await at(service, clock, b0 + 40 * M, b, "/update b", "/action done later")  # due b+42m: on time
    await at(service, clock, b0 + 45 * M, b, "/mitigated")                   # TTM 45m
    await at(service, clock, b0 + 180 * M, b, "/resolve fixed")              # TTR 3h
    [action] = [x for x in await service.actions(b)]
    await service.set_action_done(b, action.id, True, "bob")                 # done: not listed

    c0 = now - timedelta(days=10)
    c = await declare(service, clock, c0, "SEV-2", ("db",))
    await at(service, clock, c0 + 5 * M, c, "/ack")                          # TTA 5m (from declared)
    await at(service, clock, c0 + 20 * M, c, "/update x", "/action open one")  # due c+15m: late; still open

    d0 = now - timedelta(days=5)
    d = await declare(service, clock, d0, "SEV-3", ("checkout",))
    await at(service, clock, d0 + 20 * M, d, "/update one")                  # SEV-3 first due d+30m: on time
    await at(service, clock, d0 + 30 * M, d, "/sev 2 worse")                 # from here SEV-2, every 30m
    await at(service, clock, d0 + 60 * M, d, "/update two")                  # due d+50m under SEV-2: late
    await at(service, clock, d0 + 70 * M, d, "/ack")                         # TTA 70m
    await at(service, clock, d0 + 120 * M, d, "/resolve ok")                 # TTR 2h (from declared)

    e0 = now - timedelta(days=3)
    e = await declare(service, clock, e0, "SEV-1", ("api",))
    await at(service, clock, e0, e, "/ack")                                  # TTA 0: within the 0m target
    await at(service, clock, e0 + 30 * M, e, "/resolve done")                # TTR 30m

    f0 = now - timedelta(days=2)
    f = await declare(service, clock, f0, "P1", (), "p-levels-001")
    await at(service, clock, f0 + 10 * M, f, "/ack")                         # TTA 10m, target 15m
    await at(service, clock, f0 + 60 * M, f, "/resolve done")                # TTR 1h, target 4h

    g = await declare(service, clock, now - timedelta(days=100), "SEV-2", ("old",))  # outside 90 days
    clock.now = now
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}


def test_quantile_interpolates_between_ranks():
    values = [timedelta(seconds=s) for s in range(1, 11)]
    assert quantile(values, 0.9) == timedelta(seconds=9.1)
    assert quantile(values, 0.5) == timedelta(seconds=5.5)
    assert quantile([M], 0.9) == M and quantile([], 0.9) is None


async def test_figures_match_the_hand_computation(service, clock, history):
    stats = await service.stats(clock.now - timedelta(days=90), "default")
    assert (stats.incidents, stats.still_open) == (5, 1)  # a-e; f is another policy, g too old
    sev2, = [row for row in stats.severities if row.severity == "SEV-2"]
    assert sev2.incidents == 4  # d counts under the severity it ended with
    ttd, tta, ttm, ttr = (sev2.metrics[name] for name in
                          ("time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve"))
    assert (ttd.count, ttd.median, ttd.p90, ttd.target, ttd.within) == (1, 6 * M, 6 * M, None, None)
    # acknowledged after 10, 20, 5, 70 minutes: median (10+20)/2, p90 20 + 0.7 x 50
    assert (tta.count, tta.median, tta.p90, tta.target, tta.within) == (4, 15 * M, 55 * M, 15 * M, 2)
    assert (ttm.count, ttm.median, ttm.p90) == (2, 57.5 * M, 67.5 * M)  # 45 and 70: 45 + 0.9 x 25
    assert (ttr.count, ttr.median, ttr.p90, ttr.target, ttr.within) == (3, 120 * M, 168 * M, 240 * M, 3)  # 90, 120, 180; seed 002: SEV-2 within 4h
    assert (sev2.updates_on_time, sev2.updates) == (4, 7)  # a 1/2, b 2/2, c 0/1, d 1/2
    sev1, = [row for row in stats.severities if row.severity == "SEV-1"]
    assert (sev1.metrics["time_to_acknowledge"].within, sev1.metrics["time_to_resolve"].median) == (1, 30 * M)
    assert [row.severity for row in stats.severities] == ["SEV-1", "SEV-2"]
    assert (stats.updates_on_time, stats.updates) == (4, 7)
    assert [(item.incident_id, item.action.text, item.action.owner) for item in stats.open_actions] == [
        (history["a"], "pool alert", "bob")]  # b's is done, c is still open
    assert stats.services == [("checkout", 3), ("db", 2), ("api", 1)]
    assert dict(stats.resolve_histogram) == {"< 15m": 0, "15-30m": 0, "30m-1h": 1, "1-2h": 1, "2-4h": 2,
                                              "4-8h": 0, "8-24h": 0, "1-3d": 0, "> 3d": 0}
    assert sum(count for _, count in stats.weekly) == 5 and len(stats.weekly) == 14  # Mondays 08-24 .. 11-23
    assert (str(stats.weekly[0][0]), str(stats.weekly[-1][0])) == ("2026-08-24", "2026-11-23")
    # a (Tue 11-03) and b (Sun 11-08) share the week of 11-02, c (11-13) is alone, d and e share 11-16
    assert [(str(week), count) for week, count in stats.weekly if count] == [
        ("2026-11-02", 2), ("2026-11-09", 1), ("2026-11-16", 2)]


async def test_every_policy_without_a_filter_and_targets_of_its_own(service, clock, history):
    stats = await service.stats(None)
    assert stats.incidents == 7
    p1, = [row for row in stats.severities if row.policy_id == "p-levels-001"]
    assert (p1.severity, p1.metrics["time_to_acknowledge"].target, p1.metrics["time_to_resolve"].target) == (
        "P1", 15 * M, 4 * 60 * M)
    assert (p1.metrics["time_to_acknowledge"].within, p1.metrics["time_to_resolve"].within) == (1, 1)


async def test_text_and_csv_output(service, clock, history):
    stats = await service.stats(clock.now - timedelta(days=90), "default")
    text = to_text(stats, 80)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "SEV-2 High     MTTD detect         1       6m       6m        -  no target" in text
    assert "\n               MTTA acknowledge    4      15m      55m      15m  2/4 (50%)\n" in text
    assert "SEV-1 Critical MTTD detect         0        -        -        -  no target" in text
    assert "Update punctuality: 4/7 (57%) of the updates posted on time" in text
    assert "  checkout " + "█" * 48 + " 3" in text  # 48 cells: the longest bar
    assert "  db       " + "█" * 32 + " " * 16 + " 2" in text  # two thirds of it
    rows = to_csv(stats).splitlines()
    assert rows[0].startswith("policy,severity,label,incidents,mttd_count,mttd_median_s")
    assert rows[2].startswith("default,SEV-2,High,4,1,360.0,360.0,,,4,900.0,3300.0,900.0,2,")
    assert rows[2].endswith(",4,7")


def test_bars_show_eighths_and_never_hide_a_small_value():
    assert bar(8, 8, 4) == "████" and bar(1, 8, 4) == "▌" and bar(1, 1000, 4) == "▏" and bar(0, 8, 4) == ""
    assert bar_chart([("a", 2), ("bb", 1)], 20) == ["  a  " + "█" * 13 + " 2", "  bb " + "█" * 6 + "▌" + " " * 6 + " 1"]


def test_the_command_prints_table_charts_json_and_csv(run_cli, cli_env):
    for severity in ("SEV-2", "SEV-2", "SEV-1"):
        assert run_cli("declare", "x", "-s", severity, "--service", "=cmd|' /C calc'!A0").returncode == 0
    text = run_cli("stats")
    assert text.returncode == 0, text.stderr
    assert "3 incidents (3 still open)\ndeclared from " in text.stdout and "Time to resolve (0 resolved incidents):" in text.stdout
    assert "Incidents per week (week starting):" in text.stdout and "SEV-2 High" in text.stdout
    data = json.loads(run_cli("stats", "--since", "all", "--json").stdout)
    assert data["incidents"] == 3 and data["services"] == [{"service": "=cmd|' /C calc'!A0", "incidents": 3}]
    csv_text = run_cli("stats", "--csv", "--policy", "default").stdout
    assert csv_text.splitlines()[1].startswith("default,SEV-1,Critical,1,")
    for bad in (("--since", "soon"), ("--policy", "nope"), ("--json", "--csv")):
        done = run_cli("stats", *bad)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (bad, done.stderr)
