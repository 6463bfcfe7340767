"""Stats benchmark: `warroom stats` over 200 generated incidents, side by side with its floor.

    python -m bench.bench_stats            # 200 incidents (40 entries each), 15 runs of each measure
    python -m bench.bench_stats --smoke    # 20 incidents, 3 runs

The database is built with the store's own write functions (hash-chained entries, milestones,
updates at and off cadence, severity changes, actions), all within the last 90 days. Measured:

* floor: the five SQL statements `warroom stats` needs (warroom.store.stats.STATEMENTS), run bare
  with the sqlite3 module and fetched, nothing else;
* service.stats(): the same reads through the service layer plus every computation;
* render: the table and charts as text from the computed figures;
* `warroom stats` as a process (what a person waits for), beside `warroom --version` as a process
  (interpreter, imports and click, no database): the process floor; wall time and CPU time (on a
  shared machine the wall time includes waiting for a core).

Ratios are to the floor of the same kind. The target: `warroom stats` under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

UTC = timezone.utc
NOW = datetime.now(UTC).replace(microsecond=0)
SERVICES = ("checkout", "payments", "search", "auth", "db", "edge", "mail", "images")
SEVERITIES = ("SEV-1", "SEV-2", "SEV-2", "SEV-3", "SEV-3", "SEV-3", "SEV-4")
CADENCE = {"SEV-1": 15, "SEV-2": 30, "SEV-3": 240, "SEV-4": 1440}


async def build_database(path: Path, incidents: int, entries: int, seed: int = 7) -> None:
    """`incidents` incidents spread over the last 88 days, each with about `entries` entries."""
    from warroom.domain.models import EntryKind, Milestone
    from warroom.store import open_database
    from warroom.store import queries as q
    from warroom.store import team_queries as team

    rng = random.Random(seed)
    db = await open_database(path)
    minute = timedelta(minutes=1)
    try:
        async with db.transaction() as conn:
            for index in range(incidents):
                start = NOW - timedelta(days=88) + timedelta(days=88) * (index / incidents) + minute * rng.randint(0, 600)
                severity = rng.choice(SEVERITIES)
                incident_id = await q.insert_incident(
                    conn, title=f"Incident {index}", policy_id="default", severity=severity, status="investigating",
                    created_by="bench", created_at=start, services=tuple(rng.sample(SERVICES, rng.randint(1, 3))))

                async def entry(at, kind=EntryKind.NOTE, text="note", data=None):
                    return await q.insert_entry(conn, incident_id=incident_id, occurred_at=at, recorded_at=at,
                                                author=rng.choice(("alice", "bob", "carol")), kind=kind,
                                                text=text, data=data)

                await entry(start, EntryKind.SYSTEM, f"Declared {severity}", {"severity": severity})
                stones = {Milestone.IMPACT_STARTED: start - minute * rng.randint(1, 30), Milestone.DETECTED: start,
                          Milestone.ACKNOWLEDGED: start + minute * rng.randint(0, 40)}
                if rng.random() < 0.9:
                    stones[Milestone.MITIGATED] = stones[Milestone.ACKNOWLEDGED] + minute * rng.randint(5, 300)
                    if rng.random() < 0.9:
                        stones[Milestone.RESOLVED] = stones[Milestone.MITIGATED] + minute * rng.randint(5, 600)
                for milestone, at in stones.items():
                    await q.set_milestone(conn, incident_id, milestone, at)
                    await entry(at, EntryKind.MILESTONE, milestone.label, {"milestone": milestone.value})
                posted = start
                for _ in range(rng.randint(1, 6)):
                    posted += minute * round(CADENCE[severity] * rng.uniform(0.5, 1.3))
                    update = await entry(posted, EntryKind.UPDATE, "update")
                    await team.insert_update(conn, incident_id=incident_id, audience="internal", text="update",
                                          posted_at=posted, author="alice", next_update_at=None, entry_id=update.id)
                if rng.random() < 0.3:
                    change = await entry(start + minute * 20, EntryKind.SEVERITY, "Severity change",
                                         {"from": severity, "to": "SEV-1"})
                    await q.update_incident(conn, incident_id, severity="SEV-1")
                    assert change
                for number in range(rng.randint(0, 3)):
                    action = await entry(start + minute, EntryKind.ACTION, f"action {number}")
                    await team.insert_action(conn, incident_id=incident_id, text=f"follow-up {number}", owner="bob",
                                          due=start + timedelta(days=7), created_at=start, entry_id=action.id)
                for number in range(max(0, entries - 12)):
                    await entry(start + minute * number, text=f"note {number}: checked the dashboards")
    finally:
        await db.close()


def _median_time(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def _median_child_cpu(work, runs: int) -> float:
    """Median CPU time (user + system) of the child processes `work` runs: on a busy machine the
    wall time waits for a core, this does not."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        work()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times)


def measure(path: Path, runs: int) -> dict[str, float]:
    from warroom.domain.policy import PolicyBook
    from warroom.domain.stats_report import to_text
    from warroom.service import IncidentService
    from warroom.store.stats import STATEMENTS, window_parameters

    since = NOW - timedelta(days=90)
    params = window_parameters(since, None)

    def floor() -> None:
        conn = sqlite3.connect(path)
        try:
            for sql in STATEMENTS:
                conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    async def in_service() -> tuple[float, float, object]:
        service = await IncidentService.open(path, PolicyBook.load(), lambda: NOW)
        try:
            times = []
            for _ in range(runs):
                begin = time.perf_counter()
                figures = await service.stats(since)
                times.append(time.perf_counter() - begin)
            render = _median_time(lambda: to_text(figures, 100), runs)
            return statistics.median(times), render, figures
        finally:
            await service.close()

    env = {**os.environ, "WARROOM_DB": str(path), "WARROOM_USER": "bench"}
    env.pop("WARROOM_CONFIG_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once (the warm-up run), then cached

    def process(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "warroom", *args], env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr

    stats_time, render_time, figures = asyncio.run(in_service())
    process("stats")  # warm-up: byte-code written, file in the page cache
    return {
        "incidents": figures.incidents,
        "floor": _median_time(floor, runs),
        "service": stats_time,
        "render": render_time,
        "process_floor": _median_time(lambda: process("--version"), runs),
        "process": _median_time(lambda: process("stats"), runs),
        "process_floor_cpu": _median_child_cpu(lambda: process("--version"), runs),
        "process_cpu": _median_child_cpu(lambda: process("stats"), runs),
    }


def report(result: dict[str, float]) -> bool:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:9.1f} ms"

    print(f"{result['incidents']} incidents in the window")
    print(f"{'':34}{'time':>12}{'floor':>12}{'ratio':>9}")
    print(f"{'reads (raw SQL, the floor)':34}{ms(result['floor']):>12}")
    print(f"{'service.stats() (reads + figures)':34}{ms(result['service']):>12}{ms(result['floor']):>12}"
          f"{result['service'] / result['floor']:>8.1f}x")
    print(f"{'render table and charts':34}{ms(result['render']):>12}")
    print(f"{'warroom stats (process)':34}{ms(result['process']):>12}{ms(result['process_floor']):>12}"
          f"{result['process'] / result['process_floor']:>8.2f}x")
    print(f"{'warroom stats (process), CPU':34}{ms(result['process_cpu']):>12}{ms(result['process_floor_cpu']):>12}"
          f"{result['process_cpu'] / result['process_floor_cpu']:>8.2f}x")
    print(f"{'  of which beyond warroom --version':34}{ms(result['process'] - result['process_floor']):>12}")
    fast = result["process"] < 1.0
    print(f"warroom stats under a second: {'yes' if fast else 'NO'}")
    return fast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="20 incidents, 3 runs")
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--entries", type=int, default=40, help="entries per incident")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    incidents, runs = (20, 3) if args.smoke else (args.incidents, args.runs)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as directory:
        path = Path(directory) / "stats.db"
        begin = time.perf_counter()
        asyncio.run(build_database(path, incidents, args.entries))
        print(f"built {incidents} incidents in {time.perf_counter() - begin:.1f} s", flush=True)
        fast = report(measure(path, runs))
    return 0 if fast or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
