"""Replay benchmark: what one look of a playing replay costs (ReplayIncident.poll after the clock
moved by one look's worth, 0.2 s at 60x: 12 s of the incident), early and late in an incident of
100,000 entries (19 hours of them, about 17 entries a look), and in one of 100 for scale.

    python -m bench.bench_replay            # 100,000 entries, 200 looks an hour in and 18 hours in
    python -m bench.bench_replay --smoke    # 5,000 entries, 20 looks

p50/p95 wall per look and how many entries the looks handed out; the floor is the one indexed
query a look cannot do without (the entries between the last look and now, raw sqlite3). The
figure that matters is late/early: a look should cost what happened since the last one, not how
much of the record lies before it (no count, no page read; the incident row is rewound by a
binary search over its changes, read once).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.bench_timeline import NOW, _percentile, build_database

LOOK = timedelta(seconds=12)  # 0.2 s of a 60x replay


class _Ticker:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


async def measure(path: Path, incident_id: str, looks: int, hours_in: float) -> dict:
    from warroom.domain.clock import to_stored
    from warroom.domain.playback import PlaybackClock
    from warroom.domain.policy import PolicyBook
    from warroom.service.replay import ReplayService

    ticker = _Ticker()
    start = NOW - timedelta(hours=20) + timedelta(hours=hours_in)
    clock = PlaybackClock(start, 60, ticker=ticker)
    service = await ReplayService.open(path, PolicyBook.load(), clock)
    times, handed, floor = [], 0, []
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        live = service.live(incident_id)
        await live.load()
        for _ in range(looks):
            before = clock()
            ticker.seconds += LOOK.total_seconds() / 60
            began = time.perf_counter()
            delta = await live.poll()
            times.append(time.perf_counter() - began)
            handed += len(delta.appended) if delta else 0
            began = time.perf_counter()
            raw.execute("SELECT * FROM entries WHERE incident_id = ? AND occurred_at > ? AND occurred_at <= ?"
                        " ORDER BY occurred_at, number", (incident_id, to_stored(before), to_stored(clock()))).fetchall()
            floor.append(time.perf_counter() - began)
    finally:
        raw.close()
        await service.close()
    return {"p50": statistics.median(times), "p95": _percentile(times, 95), "handed": handed,
            "floor": statistics.median(floor)}


def run(entries: int, looks: int, moments: tuple[float, ...]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as directory:
        path = Path(directory) / "replay.db"
        incident_id = asyncio.run(build_database(path, entries))
        return [asyncio.run(measure(path, incident_id, looks, hours)) for hours in moments]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="5,000 entries, 20 looks")
    args = parser.parse_args(argv)
    big, looks = (5_000, 20) if args.smoke else (100_000, 200)
    early, late = run(big, looks, (1.0, 18.0))
    [small] = run(100, looks, (1.0,))
    print(f"{'record':>24} {'look p50':>9} {'look p95':>9} {'floor':>8} {'look/floor':>10} {'handed out':>10}")
    for name, found in ((f"{big:,} entries, 1 h in", early), (f"{big:,} entries, 18 h in", late),
                        ("100 entries, 1 h in", small)):
        print(f"{name:>24} {found['p50'] * 1000:>7.2f}ms {found['p95'] * 1000:>7.2f}ms {found['floor'] * 1000:>6.2f}ms "
              f"{found['p50'] / max(found['floor'], 1e-9):>9.1f}x {found['handed']:>10}")
    ratio = late["p50"] / early["p50"]
    print(f"late/early (p50): {ratio:.2f}x")
    return 0 if ratio < 3 or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
