"""Refresh benchmark: what one typed note and one pin from elsewhere cost an open war room, on an
incident of 100,000 entries side by side with one of 100.

    python -m bench.bench_refresh            # 100,000 vs 100 entries, 30 notes, 10 pins
    python -m bench.bench_refresh --smoke    # 5,000 vs 100 entries, a few of each

The app runs headless (App.run_test) at 120x40 on a frozen clock, everything in the background
running as in use. For each size:

* note: Enter in the entry bar (a key event posted as the terminal would) until the timeline shows
  the committed note and every refresh worker is idle (wall p50/p95), and the SQL statements the app sent meanwhile (SQLite's trace
  callback on both connections; repeats in a row are one statement: the trace reports trigger
  programs with the statement's text);
* floor: the same note written by a bare IncidentService on the same file (parse + one
  transaction), the least a note can cost; `note / floor` is what the screen adds;
* pin from elsewhere: another connection pins one of the notes on screen (as `warroom log ID
  /pin N` does) until the war room shows the star (it looks every 0.5 s, so this is mostly the
  wait for the next look; "never" when it does not show within 3 s).

The figure that matters is big/small: refreshing by what changed should not grow with the size of
the timeline (no COUNT, no page read at the tail).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual import events

from bench.bench_timeline import NOW, SIZE, _percentile, build_database


def _idle(app) -> bool:
    return not any(worker.is_running and worker.group in ("record", "write", "timeline-pages", "timeline-reload")
                   for worker in app.workers)


async def _until(pilot, condition, timeout: float = 10.0) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await pilot.pause(0.002)
    return True


def _sent(seen: list[str]) -> int:
    return sum(1 for index, sql in enumerate(seen) if index == 0 or seen[index - 1] != sql)


async def measure(path: Path, incident_id: str, notes: int, pins: int) -> dict:
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService
    from warroom.ui.app import WarRoomApp
    from warroom.ui.screens.war_room import WarRoomScreen
    from warroom.ui.widgets.entry_bar import EntryInput
    from warroom.ui.widgets.timeline import Timeline

    policies = PolicyBook.load()
    other = await IncidentService.open(path, policies, lambda: NOW)
    floor = []
    for number in range(notes):
        begin = time.perf_counter()
        await other.execute(incident_id, f"floor note {number}", "bench")
        floor.append(time.perf_counter() - begin)
    app = WarRoomApp(path, policies, "bench", incident_id=incident_id, clock=lambda: NOW)
    note_times, note_statements, pin_times = [], [], []
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, WarRoomScreen) and app.screen.query(Timeline)
                     and app.screen.query_one(Timeline).selected is not None)
        timeline, bar = app.screen.query_one(Timeline), app.screen.query_one(EntryInput)
        await pilot.pause(0.5)
        seen: list[str] = []
        db = app.service.db
        await db.conn.set_trace_callback(seen.append)
        await db.reader.set_trace_callback(seen.append)
        for number in range(notes):
            text = f"bench note {number}"
            bar.focus()
            bar.value = text
            seen.clear()
            begin = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))  # as the terminal delivers it (pilot.press waits ~0.1 s more)
            shown = await _until(pilot, lambda: timeline.selected is not None and timeline.selected.text == text
                                 and _idle(app))
            note_times.append(time.perf_counter() - begin if shown else float("nan"))
            note_statements.append(_sent(seen))
        await db.conn.set_trace_callback(None)
        await db.reader.set_trace_callback(None)
        for index in range(pins):  # the notes just typed: on screen, in the held tail page
            number = timeline.total - index
            await asyncio.sleep(random.uniform(0, 0.5))  # at any point of the screen's half-second cycle
            await other.execute(incident_id, f"/pin {number}", "bench")
            begin = time.perf_counter()
            shown = await _until(pilot, lambda number=number: any(
                e.number == number and e.pinned for page in timeline._pages.values() for e in page), timeout=3.0)
            pin_times.append(time.perf_counter() - begin if shown else float("nan"))
        total = timeline.total
    await other.close()
    return {"entries": total, "note": note_times, "statements": note_statements, "floor": floor, "pin": pin_times}


def _ms(seconds: float) -> str:
    return "    never" if seconds != seconds else f"{seconds * 1000:8.1f} ms"


def report(big: dict, small: dict) -> None:
    print(f"{'':30}{'big':>11}{'small':>11}{'ratio':>9}")
    print(f"{'entries':30}{big['entries']:>11,}{small['entries']:>11,}")

    def row(label: str, a: float, b: float) -> None:
        ratio = a / b if b and a == a and b == b else float("nan")
        print(f"{label:30}{_ms(a):>11}{_ms(b):>11}{ratio:>8.2f}x")

    for key, label in (("note", "note to screen"), ("floor", "floor (bare write)"), ("pin", "pin from elsewhere")):
        row(f"{label} p50 ({len(big[key])})", statistics.median(big[key]), statistics.median(small[key]))
        row(f"{label} p95", _percentile(big[key], 95), _percentile(small[key], 95))
    for result, name in ((big, "big"), (small, "small")):
        overhead = statistics.median(result["note"]) / statistics.median(result["floor"])
        print(f"{'note / floor, ' + name:30}{overhead:>30.2f}x")
    print(f"{'statements per note (median)':30}{statistics.median(big['statements']):>11.0f}"
          f"{statistics.median(small['statements']):>11.0f}")


async def run(big_entries: int, small_entries: int, notes: int, pins: int) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as directory:
        results = []
        for entries in (big_entries, small_entries):
            path = Path(directory) / f"refresh-{entries}.db"
            incident_id = await build_database(path, entries)
            results.append(await measure(path, incident_id, notes, pins))
        return results[0], results[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_refresh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="5,000 vs 100 entries, a few notes and pins")
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the big incident")
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--pins", type=int, default=10)
    args = parser.parse_args(argv)
    big, notes, pins = (5_000, 4, 2) if args.smoke else (args.entries, args.notes, args.pins)
    report(*asyncio.run(run(big, 100, notes, pins)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
