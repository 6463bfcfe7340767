"""Latency benchmark: how soon an entry is on screen, typed here or written by another process,
on 100,000 entries and 50 probes, under a pseudo-terminal (the real driver, as in tmux).

    python -m bench.bench_latency            # 100 notes typed, 60 written from elsewhere
    python -m bench.bench_latency --smoke    # 2,000 entries, a few of each

* Enter -> committed -> visible: a note is typed into `warroom open` (its echo waited for), then
  Enter; timed until the new entry's number is drawn (the timeline row or the detail heading:
  nothing shows an entry before its transaction committed). Floor, interleaved: the same insert
  committed by a bare aiosqlite connection on the same file (synchronous=FULL, BEGIN IMMEDIATE,
  the schema's triggers), the least a committed entry costs.
* another process's entry -> visible: this process writes a note (IncidentService on its own
  connection, as `warroom log` does) at a random moment; timed from its commit until the war room
  draws the number. Peer, watching the same commits in the same run: a bare Python process that
  polls `PRAGMA data_version` every 2 ms and prints the newest number when it moves.

Targets (issue 14): Enter -> visible p99 <= 50 ms; another process's entry p99 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench import table
from bench.bench_timeline import _percentile
from bench.scale import ScaleIncident
from bench.terminal import Terminal

POLLER = r'''
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA query_only = ON")
seen = None
while True:
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    if version != seen:
        seen = version
        number = conn.execute("SELECT MAX(number) FROM entries WHERE incident_id = ?", (sys.argv[2],)).fetchone()[0]
        sys.stdout.write(f"#{number} \r\n")
        sys.stdout.flush()
    time.sleep(0.002)
'''
READY = b"Enter to log"


def _newest(path: Path, incident_id: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT MAX(number) FROM entries WHERE incident_id = ?", (incident_id,)).fetchone()[0]


async def _floor_writer(path: Path, incident_id: str):
    """A bare aiosqlite connection committing one entry-shaped insert per call (seconds each)."""
    import aiosqlite

    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA busy_timeout = 15000")
    async with conn.execute("SELECT COALESCE(MAX(number), 0) FROM entries WHERE incident_id = ?",
                            (incident_id,)) as cursor:
        number = (await cursor.fetchone())[0]

    async def commit_one() -> float:
        nonlocal number
        number += 1
        moment = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        begin = time.perf_counter()
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
                           " VALUES (?, ?, ?, ?, 'floor', 'note', ?)", (incident_id, number, moment, moment,
                                                                         f"floor note {number}"))
        await conn.execute("COMMIT")
        return time.perf_counter() - begin

    return conn, commit_one


async def _typed(scale: ScaleIncident, floor_incident: str, notes: int) -> tuple[list[float], list[float]]:
    terminal = Terminal(scale.warroom_argv("open", scale.incident_id), scale.env)
    conn, commit_one = await _floor_writer(scale.database, floor_incident)
    shown, floor = [], []
    try:
        terminal.read_until(READY, 120)
        terminal.idle(3.0)  # past the start-up work (the probes' first checks)
        for index in range(notes):
            text = f"typed note {index:04d} zq"
            terminal.write(text.encode())
            terminal.read_until(text.encode(), 10)
            terminal.idle(random.uniform(0.05, 0.3))
            terminal.seen = b""
            number = _newest(scale.database, scale.incident_id) + 1
            begin = time.perf_counter()
            terminal.write(b"\r")
            terminal.read_until(f"#{number} ".encode(), 10)
            shown.append(time.perf_counter() - begin)
            floor.append(await commit_one())
    finally:
        terminal.close()
        await conn.close()
    return shown, floor


async def _from_elsewhere(scale: ScaleIncident, writes: int) -> tuple[list[float], list[float]]:
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "poller.py"
        script.write_text(POLLER)
        terminal = Terminal(scale.warroom_argv("open", scale.incident_id), scale.env)
        poller = Terminal([sys.executable, str(script), str(scale.database), scale.incident_id], scale.env)
        writer = await IncidentService.open(scale.database, PolicyBook.load())  # now: after the notes typed
        ours, peer = [], []
        try:
            terminal.read_until(READY, 120)
            terminal.idle(3.0)
            for index in range(writes):
                terminal.idle(random.uniform(0.05, 0.6))  # at any point of the screen's own cycle
                poller.drain()
                terminal.seen = poller.seen = b""
                entries = await writer.execute(scale.incident_id, f"note from elsewhere {index}", "other")
                committed = time.perf_counter()
                needle = f"#{entries[0].number} ".encode()
                seen_at: dict[str, float] = {}
                deadline = committed + 10
                while len(seen_at) < 2 and time.perf_counter() < deadline:
                    for name, term in (("ours", terminal), ("peer", poller)):
                        if name not in seen_at:
                            term.pump(0.001)
                            if needle in term.seen:
                                seen_at[name] = time.perf_counter() - committed
                ours.append(seen_at.get("ours", float("nan")))
                peer.append(seen_at.get("peer", float("nan")))
        finally:
            await writer.close()
            terminal.close()
            poller.close()
    return ours, peer


async def _declare_floor_incident(path: Path) -> str:
    from bench.bench_timeline import NOW
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    service = await IncidentService.open(path, PolicyBook.load(), lambda: NOW)
    try:
        return (await service.declare("Floor writes", "SEV-3", author="bench")).id
    finally:
        await service.close()


def measure(entries: int, notes: int, writes: int) -> dict[str, list[float]]:
    with ScaleIncident(entries=entries, probes=50) as scale:
        floor_incident = asyncio.run(_declare_floor_incident(scale.database))
        typed, floor = asyncio.run(_typed(scale, floor_incident, notes))
        ours, peer = asyncio.run(_from_elsewhere(scale, writes))
    return {"typed": typed, "floor": floor, "elsewhere": ours, "poller": peer}


def _p(values: list[float], pct: float) -> float:
    values = [value for value in values if value == value]
    return _percentile(values, pct) * 1000 if values else float("nan")


def report(results: dict[str, list[float]], smoke: bool) -> None:
    for name, peer, label, peer_name, limit in (
            ("typed", "floor", "Enter -> committed -> visible", "raw aiosqlite commit", 50.0),
            ("elsewhere", "poller", "another process's entry -> visible", "bare data_version poller", 150.0)):
        for pct in (50, 99):
            ours, theirs = _p(results[name], pct), _p(results[peer], pct)
            table.add(f"{label}, p{pct}", ours, theirs, "ms", peer_name, smoke=smoke,
                      max_value=limit if pct == 99 else None)
            print(f"{label} p{pct}: {ours:.1f} ms, {peer_name} {theirs:.1f} ms "
                  f"({len(results[name])} samples; never shown: {sum(v != v for v in results[name])})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 entries, a few notes")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--writes", type=int, default=60)
    args = parser.parse_args(argv)
    results = measure(2_000, 4, 4) if args.smoke else measure(args.entries, args.notes, args.writes)
    report(results, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
