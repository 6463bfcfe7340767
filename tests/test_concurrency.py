"""Several processes writing one database at once: nothing lost, nothing duplicated, no lock errors,
on a SQLite file and on a PostgreSQL server (the `database` fixture gives each in turn).

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

import pytest
from conftest import cli_environment
from db_access import rows_now

from warroom.domain.models import EntryKind
from warroom.store.schema import MIGRATIONS

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


def check_timeline(database, incident_id: str, workers: int, count: int, printed: list[str]) -> None:
    """Every write is there exactly once, numbered 2..N+1 without gaps, as each worker was told."""
    rows = rows_now(database, "SELECT number, text, kind FROM entries WHERE incident_id = ? ORDER BY number",
                    (incident_id,))
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
    verified = subprocess.run([sys.executable, "-m", "warroom", "--db", str(database), "verify", incident_id],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and " intact, " in verified.stdout, verified.stdout + verified.stderr


def test_4_processes_x_250_cli_calls_lose_and_duplicate_nothing(run_cli, cli_env, database, tmp_path):
    incident_id = run_cli("declare", "Load test", "--severity", "SEV-3").stdout.strip()
    printed = run_workers(IN_PROCESS_WORKER, 4, 250, incident_id, cli_env, tmp_path)
    check_timeline(database, incident_id, 4, 250, printed)


def test_4_processes_x_5_warroom_log_commands(run_cli, cli_env, database, tmp_path):
    incident_id = run_cli("declare", "Shell test", "--severity", "SEV-3").stdout.strip()
    printed = run_workers(SUBPROCESS_WORKER, 4, 5, incident_id, cli_env, tmp_path)
    check_timeline(database, incident_id, 4, 5, printed)


def test_two_processes_declaring_at_the_same_moment_get_distinct_ids(cli_env, tmp_path):
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


# A worker for the race below: for each database path read from stdin, `warroom --db PATH declare`
# in-process, then print "EXITCODE STDERR" (all workers get the path at the same moment).
DECLARE_ON_SIGNAL = r'''
import contextlib, io, sys
from warroom.cli import main

for line in sys.stdin:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["--db", line.strip(), "declare", "race", "--severity", "SEV-3"])
            code = 0
        except SystemExit as stop:
            code = stop.code
    print(code, " ".join(err.getvalue().split()), flush=True)
'''


@pytest.mark.sqlite_only
def test_8_processes_declaring_on_a_file_that_does_not_exist_yet_all_succeed(cli_env, tmp_path):
    """25 rounds of 8 simultaneous `declare` on a new file: none refused (it used to see the tables
    of a migration committing between reading user_version and reading the schema: 'another program')."""
    import sqlite3

    from warroom.store.identity import APPLICATION_ID

    script = tmp_path / "declare_on_signal.py"
    script.write_text(DECLARE_ON_SIGNAL)
    workers = [subprocess.Popen([sys.executable, str(script)], env=cli_env, cwd=tmp_path, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(8)]
    outcomes = []
    try:
        for round_number in range(25):
            path = tmp_path / "rounds" / f"new-{round_number}.db"
            for worker in workers:
                worker.stdin.write(f"{path}\n")
            for worker in workers:
                worker.stdin.flush()
            outcomes += [worker.stdout.readline().strip() for worker in workers]
            conn = sqlite3.connect(path)
            try:
                assert conn.execute("SELECT count(DISTINCT id) FROM incidents").fetchone()[0] == 8
                assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            finally:
                conn.close()
    finally:
        for worker in workers:
            worker.stdin.close()
            worker.wait(timeout=60)
    refused = [outcome for outcome in outcomes if not outcome.startswith("0") or "error" in outcome]
    assert len(outcomes) == 200 and not refused, refused


async def test_a_migration_committing_while_a_new_file_is_looked_at_is_seen_whole(tmp_path, monkeypatch):
    """The race above, made certain: another process commits the first migration right after the
    look at the file has read its first value. The look must see the file before or after, never
    the tables of the migration with the version from before it."""
    import sqlite3

    from warroom.store import open_database
    from warroom.store.identity import APPLICATION_ID
    from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, sql_of

    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # the other process: created and switched to WAL
    other.execute("PRAGMA journal_mode = WAL")

    def migrate_in_the_other_process() -> None:
        other.executescript("BEGIN IMMEDIATE;" + "".join(sql_of(migration) for migration in MIGRATIONS) +
                            f"PRAGMA user_version = {SCHEMA_VERSION}; PRAGMA application_id = {APPLICATION_ID}; COMMIT;")

    real_connect = sqlite3.connect

    class Look:
        """The read-only connection warroom looks through; the other process commits after its first read."""

        def __init__(self, conn):
            self.conn, self.fired = conn, False

        def execute(self, sql, *args):
            cursor = self.conn.execute(sql, *args)
            if not self.fired and sql.strip().upper() != "BEGIN":
                self.fired = True
                migrate_in_the_other_process()
            return cursor

        def __getattr__(self, name):
            return getattr(self.conn, name)

    looks = []

    def connect(database, *args, **kwargs):
        conn = real_connect(database, *args, **kwargs)
        if "mode=ro" in str(database):
            looks.append(Look(conn))
            return looks[-1]
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    try:
        db = await open_database(path)
        await db.close()
    finally:
        other.close()
    assert looks and looks[0].fired


async def test_8_processes_opening_a_new_server_database_at_once_all_succeed(pg_server, tmp_path):
    """The migrations of an empty PostgreSQL database run under an advisory lock: 8 processes
    declaring on it at the same moment take turns; each sees the schema whole, none is refused."""
    script = tmp_path / "declare_on_signal.py"
    script.write_text(DECLARE_ON_SIGNAL)
    env = cli_environment(tmp_path, "")
    workers = [subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(8)]
    outcomes, urls = [], []
    try:
        for _ in range(3):
            urls.append(pg_server.new_database(migrated=False))
            for worker in workers:
                worker.stdin.write(f"{urls[-1]}\n")
            for worker in workers:
                worker.stdin.flush()
            outcomes += [worker.stdout.readline().strip() for worker in workers]
            assert rows_now(urls[-1], "SELECT count(DISTINCT id) FROM incidents") == [(8,)]
            assert rows_now(urls[-1], "SELECT version FROM warroom_schema") == [(len(MIGRATIONS),)]
    finally:
        for worker in workers:
            worker.stdin.close()
            worker.wait(timeout=60)
        for url in urls:
            pg_server.drop_database(url)
    refused = [outcome for outcome in outcomes if not outcome.startswith("0") or "error" in outcome]
    assert len(outcomes) == 24 and not refused, refused
