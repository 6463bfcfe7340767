"""kill -9 in the middle of writing: every entry a writer was told was saved is there afterwards,
exactly once, and the file passes SQLite's integrity check (README, Durability); on a PostgreSQL
server the killed writer's connection ends with it, its open transaction rolled back by the server.

A worker process calls the real CLI entry point (`warroom.cli.main(["log", ...])`) in a loop and
prints each entry number the moment `log` returned it, i.e. after its transaction committed. The
test reads a (seeded) random number of those acknowledgements, then SIGKILLs the worker while it
is in the middle of its next writes, and opens the database again. Nothing here waits on time:
the kill follows the Nth acknowledgement, whatever the machine's speed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from db_access import is_pg, rows_now

TRIALS = 6

WRITER = r'''
import contextlib, io, sys
from warroom.cli import main

incident_id = sys.argv[1]
for seq in range(100_000):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(["log", incident_id, f"crash-{seq:06d} " + "x" * (seq % 700)])
        except SystemExit as stop:
            if stop.code:
                sys.exit(f"log failed: {stop.code}")
    print(seq, out.getvalue().strip(), flush=True)  # acknowledged: committed
'''


def crash_trial(script: Path, env: dict, cwd: Path, incident_id: str, acknowledgements: int) -> list[tuple[int, int]]:
    """Run a writer, kill -9 it after `acknowledgements` acknowledged entries; return (seq, number) acked."""
    writer = subprocess.Popen([sys.executable, str(script), incident_id], env=env, cwd=cwd, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    acked = []
    try:
        for line in writer.stdout:
            seq, number = line.split()
            acked.append((int(seq), int(number)))
            if len(acked) >= acknowledgements:
                os.kill(writer.pid, signal.SIGKILL)  # mid-way through the next write, or about to begin it
                break
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
        writer.stdout.close()
        err = writer.stderr.read()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL, (writer.returncode, err)
    return acked


def test_kill_9_during_writes_loses_no_acknowledged_entry(run_cli, cli_env, database, tmp_path):
    incident_id = run_cli("declare", "Crash test", "--severity", "SEV-3").stdout.strip()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(9)  # the same trials on every run
    all_acked: dict[int, str] = {}
    for trial in range(TRIALS):
        acked = crash_trial(script, cli_env, tmp_path, incident_id, rng.randint(3, 40))
        for seq, number in acked:
            all_acked[number] = (f"crash-{seq:06d} " + "x" * (seq % 700)).strip()
        if not is_pg(database):
            conn = sqlite3.connect(database)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", trial
            finally:
                conn.close()
        rows = dict(rows_now(database, "SELECT number, text FROM entries WHERE incident_id = ?", (incident_id,)))
        for number, text in all_acked.items():  # every acknowledged entry, with its own text
            assert rows.get(number) == text, (trial, number)
        assert sorted(rows) == list(range(1, len(rows) + 1))  # numbered without gaps or duplicates
        # A write the kill interrupted is either wholly there or not there at all; the next works.
        assert run_cli("log", incident_id, f"after trial {trial}").returncode == 0
