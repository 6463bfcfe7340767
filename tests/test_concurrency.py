"""Several processes writing one database at once: nothing lost, nothing duplicated, no lock errors.

The large run uses 4 worker processes that each call the CLI's code (`warroom.cli.run`, what the
entry point runs) 250 times in-process: the same code path as `warroom log`, including opening and
closing the database on every call, without paying for 1000 interpreter start-ups. A smaller run launches
`python -m warroom log` itself, 4 x 5 times.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from warroom.domain.models import EntryKind

# A worker: calls warroom.cli.run([...]) COUNT times as `warroom log ID "wWORKER-SEQ ..."`, printing
# one line per call: "SEQ EXITCODE ENTRY_NUMBER", and anything the CLI wrote to stderr.
IN_PROCESS_WORKER = r'''
import contextlib, io, sys
from warroom.cli import run

worker, count, incident_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for seq in range(count):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["log", incident_id, f"w{worker}-{seq:04d} status check from worker {worker}"])
    print(seq, code, out.getvalue().strip(), flush=True)
    sys.stderr.write(err.getvalue())
'''

SUBPROCESS_WORKER = r'''
import subprocess, sys

worker, count, incident_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for seq in range(count):
    done = subprocess.run([sys.executable, "-m", "warroom", "log", incident_id, f"w{worker}-{seq:04d} from a shell"],
                          capture_output=True, text=True)
    print(seq, done.returncode, done.stdout.strip(), flush=True)
    sys.stderr.write(done.stderr)
'''

TAG = re.compile(r"^w(\d+)-(\d{4}) ")


def run_workers(script: str, workers: int, count: int, incident_id: str, env: dict, tmp_path: Path) -> list[str]:
    """Run the workers at once; return their stdout lines. Fails on any stderr output."""
    path = tmp_path / "worker.py"
    path.write_text(script)
    procs = [
        subprocess.Popen([sys.executable, str(path), str(worker), str(count), incident_id], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for worker in range(workers)
    ]
    lines, errors = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        lines += out.splitlines()
        errors.append(err)
    assert "database is locked" not in "".join(errors)
    assert errors == [""] * workers, errors
    return lines


def check_timeline(db_path: Path, incident_id: str, workers: int, count: int, printed: list[str]) -> None:
    """Every write is there exactly once, numbered 2..N+1 without gaps, as each worker was told."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT number, text, kind FROM entries WHERE incident_id = ? ORDER BY number",
                            (incident_id,)).fetchall()
    finally:
        conn.close()
    notes = [(number, text) for number, text, kind in rows if kind == EntryKind.NOTE.value]
    assert len(rows) == workers * count + 1 and len(notes) == workers * count
    assert [number for number, _, _ in rows] == list(range(1, workers * count + 2))
    tags = Counter(TAG.match(text).groups() for _, text in notes)
    expected = {(str(w), f"{s:04d}") for w in range(workers) for s in range(count)}
    assert set(tags) == expected and set(tags.values()) == {1}
    # Each call exited 0 and printed the number its entry got; no two calls got the same number.
    outcomes = [line.split() for line in printed]
    assert len(outcomes) == workers * count and {code for _, code, _ in outcomes} == {"0"}
    assert sorted(int(number) for _, _, number in outcomes) == list(range(2, workers * count + 2))
    # Concurrent writers never chain two entries to the same predecessor.
    verified = subprocess.run([sys.executable, "-m", "warroom", "--db", str(db_path), "verify", incident_id],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and " intact, " in verified.stdout, verified.stdout + verified.stderr


def test_4_processes_x_250_cli_calls_lose_and_duplicate_nothing(run_cli, cli_env, db_path, tmp_path):
    incident_id = run_cli("declare", "Load test", "--severity", "SEV-3").stdout.strip()
    printed = run_workers(IN_PROCESS_WORKER, 4, 250, incident_id, cli_env, tmp_path)
    check_timeline(db_path, incident_id, 4, 250, printed)


def test_4_processes_x_5_warroom_log_commands(run_cli, cli_env, db_path, tmp_path):
    incident_id = run_cli("declare", "Shell test", "--severity", "SEV-3").stdout.strip()
    printed = run_workers(SUBPROCESS_WORKER, 4, 5, incident_id, cli_env, tmp_path)
    check_timeline(db_path, incident_id, 4, 5, printed)


def test_two_processes_declaring_at_the_same_moment_get_distinct_ids(cli_env, db_path, tmp_path):
    script = tmp_path / "declare.py"
    script.write_text(
        "import sys\nfrom warroom.cli import run\n"
        "for n in range(int(sys.argv[2])):\n"
        "    code = run(['declare', f'outage {sys.argv[1]}-{n}', '--severity', 'SEV-2'])\n"
        "    assert code == 0, code\n"
    )
    procs = [subprocess.Popen([sys.executable, str(script), str(k), "15"], env=cli_env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(2)]
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        # stderr holds only what each new incident owes, one block per declaration
        assert proc.returncode == 0 and all(line.startswith(("INC-", "  ")) for line in err.splitlines()), err
        printed += out.split()
    assert len(printed) == 30 and len(set(printed)) == 30
    # Numbered 1, 2, 3... per day without gaps (the wall clock may pass midnight during the test).
    by_day: dict[str, list[str]] = {}
    for incident_id in sorted(printed):
        by_day.setdefault(incident_id[4:12], []).append(incident_id)
    assert all(ids == [f"INC-{day}-{n:03d}" for n in range(1, len(ids) + 1)] for day, ids in by_day.items())


async def test_many_connections_opening_a_new_file_at_once_all_succeed(tmp_path):
    """Switching a brand-new file to WAL and migrating it take locks SQLite does not wait for;
    openers that race for them must take turns instead of failing with 'database is locked'."""
    import asyncio

    from warroom.store import open_database

    for round_number in range(15):
        path = tmp_path / f"race-{round_number}.db"
        opened = await asyncio.gather(*(open_database(path) for _ in range(6)), return_exceptions=True)
        failures = [repr(item) for item in opened if isinstance(item, BaseException)]
        for item in opened:
            if not isinstance(item, BaseException):
                await item.close()
        assert not failures, failures
