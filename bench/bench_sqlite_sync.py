"""What `PRAGMA synchronous = FULL` costs: committed single-entry writes per second through warroom's
real write path (open_database, Database.transaction, queries.insert_entry), WAL mode, with
synchronous FULL, NORMAL and OFF side by side in one run.

    python -m bench.bench_sqlite_sync            # 3 rounds x 1500 writes per level
    python -m bench.bench_sqlite_sync --smoke    # 1 round x 60 writes per level (about a second)
    python -m bench.bench_sqlite_sync --dir PATH # put the databases on the disk you care about

Each write is one BEGIN IMMEDIATE ... COMMIT holding one timeline entry, as `warroom log` or the
entry bar makes it. Every round uses a fresh database per level and rotates the order of the
levels. Reported: median writes/s over the rounds, per-write latency p50/p99, and each level's
rate as a ratio of FULL's. On tmpfs fsync costs nothing and the ratios say nothing: use --dir.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

LEVELS = ("FULL", "NORMAL", "OFF")
LEVEL_NUMBERS = {"OFF": 0, "NORMAL": 1, "FULL": 2}


def filesystem_of(path: Path) -> str:
    """The filesystem type /proc/mounts gives for the mount holding `path` ('?' when unknown)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "?"
    resolved, best = str(path.resolve()), ("", "?")
    for fields in mounts:
        point, kind = fields[1], fields[2]
        if (resolved == point or resolved.startswith(point.rstrip("/") + "/")) and len(point) > len(best[0]):
            best = (point, kind)
    return best[1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def measure(path: Path, level: str, writes: int) -> list[float]:
    """Latencies (seconds) of `writes` committed single-entry transactions at one synchronous level."""
    from warroom.domain.clock import system_clock
    from warroom.domain.models import EntryKind
    from warroom.store import open_database
    from warroom.store import queries as q

    db = await open_database(path)
    try:
        await db.conn.execute(f"PRAGMA synchronous = {level}")
        async with db.conn.execute("PRAGMA synchronous") as cursor:
            assert (await cursor.fetchone())[0] == LEVEL_NUMBERS[level], level
        now = system_clock()
        async with db.transaction() as conn:
            incident_id = await q.insert_incident(conn, title="bench", policy_id="default", severity="SEV-3",
                                                  status="investigating", created_by="bench", created_at=now)
        latencies = []
        for number in range(writes):
            started = time.perf_counter()
            async with db.transaction() as conn:
                moment = system_clock()
                await q.insert_entry(conn, incident_id=incident_id, occurred_at=moment, recorded_at=moment,
                                     author="bench", kind=EntryKind.NOTE, text=f"entry {number} of the benchmark")
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await db.close()


def run(directory: Path, writes: int, rounds: int) -> dict[str, dict[str, float]]:
    rates: dict[str, list[float]] = {level: [] for level in LEVELS}
    latencies: dict[str, list[float]] = {level: [] for level in LEVELS}
    for round_number in range(rounds):
        order = LEVELS[round_number % 3:] + LEVELS[:round_number % 3]
        for level in order:
            path = directory / f"sync-{level.lower()}-{round_number}.db"
            measured = asyncio.run(measure(path, level, writes))
            rates[level].append(len(measured) / sum(measured))
            latencies[level] += measured
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {
        level: {
            "writes_per_s": statistics.median(rates[level]),
            "p50_ms": percentile(latencies[level], 50) * 1000,
            "p99_ms": percentile(latencies[level], 99) * 1000,
        }
        for level in LEVELS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sqlite_sync", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="one tiny round, just check it runs")
    parser.add_argument("--writes", type=int, help="writes per level per round (default 1500; smoke 60)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; smoke 1)")
    parser.add_argument("--dir", type=Path, help="directory for the databases (default: the system temp dir)")
    args = parser.parse_args(argv)
    writes = args.writes or (60 if args.smoke else 1500)
    rounds = args.rounds or (1 if args.smoke else 3)

    with tempfile.TemporaryDirectory(prefix="warroom-bench-sync-", dir=args.dir) as scratch:
        directory = Path(scratch)
        kind = filesystem_of(directory)
        print(f"databases in {directory} ({kind}); {rounds} round(s) x {writes} committed writes per level; "
              f"{os.cpu_count()} CPUs")
        if kind in ("tmpfs", "ramfs"):
            print("warning: fsync is free on tmpfs; these ratios do not describe a disk (use --dir)")
        results = run(directory, writes, rounds)

    full = results["FULL"]["writes_per_s"]
    print(f"{'synchronous':<12} {'writes/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs FULL':>8}")
    for level in LEVELS:
        found = results[level]
        print(f"{level:<12} {found['writes_per_s']:>10.0f} {found['p50_ms']:>8.2f} {found['p99_ms']:>8.2f} "
              f"{found['writes_per_s'] / full:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
