"""Timeline benchmark: the war room on an incident with 100,000 entries, side by side with one of 100.

    python -m bench.bench_timeline            # 100,000 vs 100 entries, 40 PageUp/PageDown each
    python -m bench.bench_timeline --smoke    # 5,000 vs 100 entries, a few keystrokes

Each database is built with the store's own schema (one declared incident, then the entries bulk
inserted in one transaction). The app runs headless (App.run_test) at 120x40 with a frozen clock:

* first paint: from starting the app until the timeline's visible rows are loaded and drawn;
* keystrokes: PageUp xN, PageDown xN, Home, End in the focused timeline; each is timed from the key
  until every visible row is loaded from the store and the screen is repainted (per-key p50/p95/max;
  wall time includes the test pilot's own settling waits, so CPU time of this process is shown too);
* render: the cost of the timeline's render_line for a full screen, cold (strip cache cleared) and
  warm (cached strips).

The figures that matter are the ratios big/small: a line-API ScrollView that pages from the store
should make them close to 1 (only the store's OFFSET walk grows with the size).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SIZE = (120, 40)
AUTHORS = ("alice", "bob", "carol", "dan", "erin", "frank")
KINDS = ("note", "note", "note", "decision", "action", "status", "probe", "system")


async def build_database(path: Path, entries: int) -> str:
    """One incident with `entries` timeline entries, spread over the day before NOW."""
    from warroom.domain.clock import to_stored
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    start = NOW - timedelta(hours=20)
    service = await IncidentService.open(path, PolicyBook.load(), lambda: start)
    try:
        incident = await service.declare("Bulk timeline", "SEV-2", author="alice", commander="alice")
        first = await service.entry_count(incident.id) + 1
        step = timedelta(hours=19) / max(1, entries)
        rows = []
        for index in range(entries):
            moment = to_stored(start + step * (index + 1))
            rows.append((incident.id, first + index, moment, moment, AUTHORS[index % len(AUTHORS)],
                         KINDS[index % len(KINDS)], f"entry {index}: checkout latency p99 {200 + index % 900} ms "
                         f"on pod web-{index % 40}, error ratio {index % 7}.{index % 10}%"))
        async with service.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return incident.id
    finally:
        await service.close()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def _settled(pilot, timeline) -> None:
    """Until every row in view is loaded from the store and drawn."""
    while True:
        top, height = timeline.scroll_offset.y, timeline.size.height
        rows = range(top, min(top + height, timeline.total))
        if timeline.total and all(timeline.entry_at(row) is not None for row in rows):
            break
        await asyncio.sleep(0.001)
    await pilot.pause()


async def measure(path: Path, incident_id: str, presses: int) -> dict:
    from warroom.domain.policy import PolicyBook
    from warroom.ui.app import WarRoomApp
    from warroom.ui.screens.war_room import WarRoomScreen
    from warroom.ui.widgets.timeline import Timeline

    app = WarRoomApp(path, PolicyBook.load(), "bench", incident_id=incident_id, clock=lambda: NOW)
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        while not isinstance(app.screen, WarRoomScreen) or not app.screen.query(Timeline):
            await asyncio.sleep(0.001)
        timeline = app.screen.query_one(Timeline)
        while timeline.total == 0 or timeline.selected is None:
            await asyncio.sleep(0.001)
        await _settled(pilot, timeline)
        first_paint = time.perf_counter() - started
        timeline.focus()
        await pilot.pause()
        keys: dict[str, list[float]] = {"pageup": [], "pagedown": [], "home": [], "end": []}
        cpu: dict[str, list[float]] = {key: [] for key in keys}
        for key, count in (("pageup", presses), ("pagedown", presses), ("home", 1), ("end", 1),
                           ("home", 1), ("end", 1)):
            for _ in range(count):
                begin, begin_cpu = time.perf_counter(), time.process_time()
                await pilot.press(key)
                await _settled(pilot, timeline)
                keys[key].append(time.perf_counter() - begin)
                cpu[key].append(time.process_time() - begin_cpu)
        cold, warm = [], []
        for _ in range(5):
            timeline._strips.clear()
            begin = time.perf_counter()
            for y in range(timeline.size.height):
                timeline.render_line(y)
            cold.append(time.perf_counter() - begin)
            begin = time.perf_counter()
            for y in range(timeline.size.height):
                timeline.render_line(y)
            warm.append(time.perf_counter() - begin)
        total = timeline.total
    return {"entries": total, "first_paint": first_paint, "keys": keys, "cpu": cpu,
            "render_cold": statistics.median(cold), "render_warm": statistics.median(warm)}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def report(big: dict, small: dict) -> None:
    print(f"{'':28}{'big':>11}{'small':>11}{'ratio':>9}")
    print(f"{'entries':28}{big['entries']:>11,}{small['entries']:>11,}")

    def row(label: str, a: float, b: float) -> None:
        print(f"{label:28}{_ms(a):>11}{_ms(b):>11}{a / b if b else float('nan'):>8.2f}x")

    row("first paint", big["first_paint"], small["first_paint"])
    for key in ("pageup", "pagedown", "home", "end"):
        a, b = big["keys"][key], small["keys"][key]
        row(f"{key} p50 ({len(a)} keys)", statistics.median(a), statistics.median(b))
        row(f"{key} p95", _percentile(a, 95), _percentile(b, 95))
        row(f"{key} max", max(a), max(b))
    for measure_name, label in (("keys", "wall"), ("cpu", "CPU")):
        all_big = [t for times in big[measure_name].values() for t in times]
        all_small = [t for times in small[measure_name].values() for t in times]
        row(f"any key p50, {label}", statistics.median(all_big), statistics.median(all_small))
        row(f"any key max, {label}", max(all_big), max(all_small))
    row("render 1 screen, cold", big["render_cold"], small["render_cold"])
    row("render 1 screen, warm", big["render_warm"], small["render_warm"])


async def run(big_entries: int, small_entries: int, presses: int) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as directory:
        results = []
        for entries in (big_entries, small_entries):
            path = Path(directory) / f"timeline-{entries}.db"
            begin = time.perf_counter()
            incident_id = await build_database(path, entries)
            print(f"built {entries:,} entries in {time.perf_counter() - begin:.1f} s", flush=True)
            results.append(await measure(path, incident_id, presses))
        return results[0], results[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_timeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="5,000 vs 100 entries, a few keystrokes")
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the big incident")
    parser.add_argument("--presses", type=int, default=40, help="PageUp and PageDown presses each")
    args = parser.parse_args(argv)
    big, presses = (5_000, 4) if args.smoke else (args.entries, args.presses)
    big_result, small_result = asyncio.run(run(big, 100, presses))
    report(big_result, small_result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
