"""SQLite vs PostgreSQL side by side (team mode, issue 11): committed one-entry writes per second
through warroom's write path (IncidentService.execute, as `warroom log` or the entry bar), and
cross-process visibility latency: from an entry committed by another process to a follower
having read it, as the war room follows (a file: a look every POLL_SECONDS, as the screen does;
a server: the LISTEN that NOTIFY wakes, then the same read).

    python -m bench.bench_team            # 3 rounds x 400 writes per backend, 60 followed entries
    python -m bench.bench_team --smoke    # 1 round x 30 writes, 6 followed entries (a few seconds)

The server is a throwaway one (tests/pg_server.py, fsync on), or WARROOM_TEST_PG_URL; the file is
in the temp dir with synchronous FULL. Reported: median writes/s, p50/p99 per write, visibility
p50/p99, and PostgreSQL's figures as ratios of SQLite's. Floors (full runs only; exit 1 below
them): a server follower sees another process's entry within 100 ms (p50), and a server takes at
least 50 committed entries a second (far more than a team types).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VISIBLE_FLOOR_MS = 100.0
WRITES_FLOOR = 50.0
WRITER = """
import asyncio, sys, time
from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService

async def main(location, incident_id, count, pace):
    service = await IncidentService.open(location, PolicyBook.load())
    try:
        for number in range(int(count)):
            [entry] = await service.execute(incident_id, f"from the other laptop {number}", "bob")
            print(entry.number, time.time(), flush=True)
            await asyncio.sleep(float(pace))
    finally:
        await service.close()

asyncio.run(main(*sys.argv[1:]))
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def writes(location, count: int) -> list[float]:
    """Latencies (s) of `count` committed single-entry writes."""
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    service = await IncidentService.open(location, PolicyBook.load())
    try:
        incident = await service.declare("bench writes", "SEV-3", author="bench")
        latencies = []
        for number in range(count):
            started = time.perf_counter()
            await service.execute(incident.id, f"entry {number} of the benchmark", "bench")
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await service.close()


async def visibility(location, count: int, pace: float) -> list[float]:
    """Seconds from another process's commit to this follower having read the entry."""
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService
    from warroom.ui.screens.war_room import POLL_SECONDS

    service = await IncidentService.open(location, PolicyBook.load())
    try:
        incident = await service.declare("bench visibility", "SEV-3", author="bench")
        live = service.live(incident.id)
        await live.load()
        told = asyncio.Event()
        stop = service.on_commit(told.set) if service.pushes_changes else (lambda: None)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        writer = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(location), incident.id,
                                                      str(count), str(pace), env=env, stdout=subprocess.PIPE)
        seen: dict[int, float] = {}
        while len(seen) < count:
            if service.pushes_changes:
                await told.wait()
                told.clear()
            else:
                await asyncio.sleep(POLL_SECONDS)
            delta = await live.poll()
            now = time.time()
            for entry in delta.appended if delta else []:
                seen.setdefault(entry.number, now)
        stop()
        committed = {}
        for line in (await writer.communicate())[0].decode().splitlines():
            number, when = line.split()
            committed[int(number)] = float(when)
        return [seen[number] - committed[number] for number in committed]
    finally:
        await service.close()


def start_server():
    sys.path.insert(0, str(REPO / "tests"))
    from pg_server import PgServer

    return PgServer(durable=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_team", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="one tiny round, just check it runs")
    args = parser.parse_args(argv)
    count, rounds, followed = (30, 1, 6) if args.smoke else (400, 3, 60)
    try:
        server = start_server()
    except Exception as error:  # noqa: BLE001 - no server: say so (CI=true fails)
        print(f"no PostgreSQL server: {error}")
        return 1 if os.environ.get("CI") == "true" or not args.smoke else 0
    results: dict[str, dict[str, list[float]]] = {"sqlite": {"rates": [], "writes": [], "seen": []},
                                                  "postgresql": {"rates": [], "writes": [], "seen": []}}
    try:
        with tempfile.TemporaryDirectory(prefix="warroom-bench-team-") as scratch:
            from bench.bench_sqlite_sync import filesystem_of

            print(f"{rounds} round(s) x {count} committed writes per backend, {followed} entries followed; "
                  f"SQLite in {scratch} ({filesystem_of(Path(scratch))}); PostgreSQL {server.url('')} (fsync on, "
                  f"data in {server.folder or 'its own place'}); {os.cpu_count()} CPUs")
            for round_number in range(rounds):
                order = ("sqlite", "postgresql") if round_number % 2 == 0 else ("postgresql", "sqlite")
                for backend in order:
                    location = (Path(scratch) / f"team-{round_number}.db" if backend == "sqlite"
                                else server.new_database())
                    measured = asyncio.run(writes(location, count))
                    results[backend]["rates"].append(len(measured) / sum(measured))
                    results[backend]["writes"] += measured
                    results[backend]["seen"] += asyncio.run(visibility(location, max(1, followed // rounds), 0.03))
    finally:
        server.stop()
    table = {backend: {"writes_per_s": statistics.median(found["rates"]),
                       "p50_ms": percentile(found["writes"], 50) * 1000, "p99_ms": percentile(found["writes"], 99) * 1000,
                       "seen_p50_ms": percentile(found["seen"], 50) * 1000,
                       "seen_p99_ms": percentile(found["seen"], 99) * 1000}
             for backend, found in results.items()}
    print(f"{'backend':<11} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'seen p50 ms':>12} {'seen p99 ms':>12}")
    for backend, row in table.items():
        print(f"{backend:<11} {row['writes_per_s']:>9.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
              f"{row['seen_p50_ms']:>12.1f} {row['seen_p99_ms']:>12.1f}")
    sqlite, pg = table["sqlite"], table["postgresql"]
    print(f"PostgreSQL / SQLite: writes/s {pg['writes_per_s'] / sqlite['writes_per_s']:.2f}x, "
          f"visibility p50 {pg['seen_p50_ms'] / sqlite['seen_p50_ms']:.3f}x "
          f"(SQLite's screen looks every POLL_SECONDS; a server tells it)")
    if args.smoke:
        return 0
    below = []
    if pg["seen_p50_ms"] > VISIBLE_FLOOR_MS:
        below.append(f"visibility p50 {pg['seen_p50_ms']:.1f} ms > {VISIBLE_FLOOR_MS:.0f} ms")
    if pg["writes_per_s"] < WRITES_FLOOR:
        below.append(f"{pg['writes_per_s']:.0f} writes/s < {WRITES_FLOOR:.0f}")
    for line in below:
        print(f"below the floor: {line}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
