"""Procedures benchmark: the update composer (F2) and the report (F6) on 100,000 entries and 50
probes, under a pseudo-terminal (the real driver, as in tmux), in interleaved rounds.

    python -m bench.bench_procedures            # 100,000 entries, 5 rounds
    python -m bench.bench_procedures --smoke    # 2,000 entries, 1 round

* composer: F2 until the draft is drawn ("INCIDENT UPDATE ..." in the text area, less its first
  letter, which carries the cursor), then Esc.
  Floor: the SQL the draft needs (the incident, its updates and actions, how many changes of the
  draft's kinds since the last update and the last 12 of them), run by a bare sqlite3 connection.
* report: F6 until the report file is complete, typing a key into the entry bar every 30 ms meanwhile;
  each key timed until its echo is drawn. Peer: the same keys typed with nothing running (the
  terminal round trip of any key). The probes: the longest gap between two stored checks during
  the report, beside the same over an idle stretch as long (a stalled event loop stalls checks).

Targets (issue 14): composer painted <= 100 ms; no key delayed more than 100 ms by F6.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

from bench import table
from bench.scale import ScaleIncident
from bench.terminal import Terminal

READY = b"Enter to log"
DRAFT_KINDS = ("decision", "action", "status", "severity", "milestone", "root_cause")
KEYS = "abcdefghijklmnopqrstuvwxyz0123456789"


def draft_sql(path: Path, incident_id: str) -> float:
    """Seconds for the queries a draft needs, on a fresh bare connection."""
    begin = time.perf_counter()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchall()
        conn.execute("SELECT * FROM milestones WHERE incident_id = ?", (incident_id,)).fetchall()
        updates = conn.execute("SELECT posted_at FROM status_updates WHERE incident_id = ? AND audience = 'internal'"
                               " ORDER BY posted_at DESC LIMIT 1", (incident_id,)).fetchall()
        since = updates[0][0] if updates else ""
        conn.execute("SELECT * FROM action_items WHERE incident_id = ?", (incident_id,)).fetchall()
        marks = ", ".join("?" * len(DRAFT_KINDS))
        where = f"incident_id = ? AND kind IN ({marks}) AND recorded_at > ?"
        conn.execute(f"SELECT COUNT(*) FROM entries WHERE {where}", (incident_id, *DRAFT_KINDS, since)).fetchall()
        conn.execute(f"SELECT * FROM entries WHERE {where} ORDER BY occurred_at DESC, number DESC LIMIT 12",
                     (incident_id, *DRAFT_KINDS, since)).fetchall()
    finally:
        conn.close()
    return time.perf_counter() - begin


def _cursor_after(typed: str) -> list[bytes]:
    """Where the driver puts the cursor once the bar holds `typed` (row 38 of 40, or 37 while a
    notice line such as the report's progress sits under the bar; after the bar's border, padding
    and text): each frame ends with it, so it shows when the key was drawn."""
    return [f"\x1b[{row};{4 + len(typed) + 1}H".encode() for row in (38, 37)]


def _key_delays(terminal: Terminal, count: int, every: float,
                until: Callable[[], bool] | None = None) -> tuple[list[float], float]:
    """Type up to `count` keys into the bar, one per `every` s, each timed until its echo is drawn
    (the cursor moved past it). With `until`, stop a few keys after it came true; returns the
    delays and when it came true (perf_counter; nan without `until`)."""
    delays, typed, done = [], "", float("nan")
    give_up = time.perf_counter() + 300
    for index in range(count):
        if time.perf_counter() > give_up:
            raise TimeoutError("the report was not written within 300 s")
        typed += KEYS[index % len(KEYS)]
        if len(typed) > 40:
            terminal.write(b"\x15")
            terminal.idle(0.1)
            typed = KEYS[index % len(KEYS)]
        begin = time.perf_counter()
        terminal.write(typed[-1].encode())
        terminal.read_until_any(_cursor_after(typed), 30)
        delays.append(time.perf_counter() - begin)
        if until is not None and done != done and until():
            done = time.perf_counter()
        if done == done and len(delays) >= 5 and time.perf_counter() > done + 0.2:
            break
        terminal.idle(max(0.0, every - (time.perf_counter() - begin)))
    return delays, done


def _written(path: Path) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with open(path, "rb") as report:
                report.seek(max(0, path.stat().st_size - 200))
                return b"by warroom._" in report.read()
        except OSError:
            return False
    return check


def _check_gap(path: Path, incident_id: str, start: float, end: float) -> float:
    """The longest gap (s) between stored probe checks in [start, end] (wall clock, time.time())."""
    from datetime import datetime, timezone

    def stored(moment: float) -> str:
        return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = [row[0] for row in conn.execute(
            "SELECT checked_at FROM probe_results WHERE checked_at BETWEEN ? AND ? ORDER BY checked_at",
            (stored(start), stored(end)))]
    times = [start] + [datetime.fromisoformat(row.replace("Z", "+00:00")).timestamp() for row in rows] + [end]
    return max(b - a for a, b in zip(times, times[1:]))


def measure(entries: int, rounds: int, keys: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}

    def note(name: str, value: float | list[float]) -> None:
        results.setdefault(name, []).extend(value if isinstance(value, list) else [value])

    with ScaleIncident(entries=entries, probes=50) as scale:
        terminal = Terminal(scale.warroom_argv("open", scale.incident_id), scale.env)
        try:
            terminal.read_until(READY, 120)
            terminal.idle(5.0)  # past the start-up work (the probes' first checks)
            for _ in range(rounds):
                note("sql", draft_sql(scale.database, scale.incident_id))
                terminal.seen = b""
                begin = time.perf_counter()
                terminal.write(b"\x1bOQ")  # F2
                # The text area's cursor sits on the draft's first letter, drawn in the cursor's style
                # until it blinks off (half a second or more later): the rest of the word is the paint.
                terminal.read_until(b"NCIDENT UPDATE", 60)
                note("composer", time.perf_counter() - begin)
                terminal.idle(0.5)
                terminal.write(b"\x1b")  # Esc
                terminal.idle(1.0)
                terminal.write(b"\x15")
                terminal.idle(0.3)
                quiet_start = time.time()
                delays, _ = _key_delays(terminal, keys, 0.03)
                note("idle keys", delays)
                quiet_end = time.time()
                note("idle gap", _check_gap(scale.database, scale.incident_id, quiet_start, quiet_end))
                terminal.write(b"\x15")
                terminal.idle(0.3)
                written = scale.folder / "updates" / f"{scale.incident_id}-report.md"
                written.unlink(missing_ok=True)
                report_start, begin = time.time(), time.perf_counter()
                terminal.write(b"\x1b[17~")  # F6
                delays, done = _key_delays(terminal, 100_000, 0.03, until=_written(written))
                report_end = time.time()
                note("report keys", delays)
                note("report seconds", done - begin)
                note("report gap", _check_gap(scale.database, scale.incident_id, report_start, report_end))
                terminal.write(b"\x15")
                terminal.idle(2.0)
        finally:
            terminal.close()
    return results


def report(results: dict[str, list[float]], smoke: bool) -> None:
    composer = statistics.median(results["composer"]) * 1000
    sql = statistics.median(results["sql"]) * 1000
    table.add("composer (F2) to painted draft", composer, sql, "ms", "the SQL the draft needs", max_value=100.0,
              smoke=smoke)
    worst, floor = max(results["report keys"]) * 1000, max(results["idle keys"]) * 1000
    table.add("F6 report: slowest key echo meanwhile", worst, floor, "ms", "slowest key echo, idle", max_value=100.0,
              smoke=smoke)
    table.add("F6 report: longest gap between probe checks", max(results["report gap"]),
              max(results["idle gap"]), "s", "same, idle")
    print(f"composer: {composer:.0f} ms to the painted draft (SQL it needs: {sql:.1f} ms)")
    print(f"report: written in {statistics.median(results['report seconds']):.2f} s; key echo meanwhile "
          f"p50 {statistics.median(results['report keys']) * 1000:.0f} ms, max {worst:.0f} ms "
          f"(idle: p50 {statistics.median(results['idle keys']) * 1000:.0f} ms, max {floor:.0f} ms); longest gap "
          f"between probe checks {max(results['report gap']):.2f} s (idle {max(results['idle gap']):.2f} s)",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_procedures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 entries, one round")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    results = measure(2_000, 1, 10) if args.smoke else measure(args.entries, args.rounds, 60)
    report(results, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
