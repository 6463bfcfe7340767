"""The scriptable command-line paths stay lean (issue 14): what `warroom log`, `log-command` and
`show` load, the one committed transaction a note costs, the record opened without an event loop
(warroom.store.blocking) writing as the war room writes, and policies read when first wanted.
Mechanisms, not timings: bench/bench_cli.py measures the time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.domain.errors import PolicyError
from warroom.domain.policy import PolicyBook, builtin_policy_dir

LOADED = ("import json, sys\nfrom warroom.cli import run\ncode = run(sys.argv[1:])\n"
          "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)\n")
NEVER_FOR_SCRIPTS = ("textual", "warroom.ui", "warroom.ui.launch", "warroom.domain.report", "warroom.service.reach",
                     "warroom.service.live", "warroom.probes", "warroom.cli_serving", "aiohttp", "httpx")
NO_EVENT_LOOP = ("asyncio", "aiosqlite", "concurrent.futures")


def loaded_by(cli_env, *argv: str, stdin: str = "") -> set[str]:
    """The modules a real `warroom ARGV...` process has imported when it is done."""
    done = subprocess.run([sys.executable, "-c", LOADED, *argv], env=cli_env, input=stdin, capture_output=True,
                          text=True, timeout=60)
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stderr
    return set(modules)


def declared(run_cli) -> str:
    done = run_cli("declare", "Queue backlog", "--severity", "SEV-3")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_log_and_log_command_load_neither_the_screens_nor_the_report_nor_delivery(run_cli, cli_env, database):
    incident_id = declared(run_cli)
    for argv, stdin in ((("log", incident_id, "a plain note"), ""),
                        (("log-command", incident_id, "--exit", "0"), "kubectl get pods")):
        modules = loaded_by(cli_env, *argv, stdin=stdin)
        assert "warroom.service.incidents" in modules  # it did write, through the service
        assert sorted(m for m in NEVER_FOR_SCRIPTS if m in modules) == []
        if isinstance(database, Path):  # a file is written without an event loop; a server needs one
            assert sorted(m for m in NO_EVENT_LOOP if m in modules) == []
    shown = run_cli("show", incident_id)
    assert "a plain note" in shown.stdout and "kubectl get pods" in shown.stdout


@pytest.mark.sqlite_only
def test_show_on_a_file_runs_without_an_event_loop(run_cli, cli_env):
    incident_id = declared(run_cli)
    modules = loaded_by(cli_env, "show", incident_id)
    assert "warroom.domain.report" in modules
    assert sorted(m for m in (*NO_EVENT_LOOP, "textual", "warroom.ui") if m in modules) == []


def test_an_entry_that_calls_for_a_follow_up_still_gets_it(run_cli, cli_env):
    """An update is delivered (to the updates folder), on an event loop opened for it alone."""
    incident_id = declared(run_cli)
    done = run_cli("log", incident_id, "/update internal all calm")
    assert done.returncode == 0 and done.stderr == "warroom: update 1 delivered to 1 of 1: updates folder\n"
    assert "warroom.service.reach" in loaded_by(cli_env, "log", incident_id, "/update internal still calm")


@pytest.mark.sqlite_only
def test_a_note_is_one_committed_transaction_and_the_incident_read_once(db_path, policies, clock):
    from warroom.service.incidents import IncidentService
    from warroom.store.blocking import run_to_end

    async def declare():
        service = await IncidentService.open(db_path, policies, clock)
        try:
            return (await service.declare("Disk full", "SEV-3", author="alice")).id
        finally:
            await service.close()

    incident_id = asyncio.run(declare())
    statements: list[str] = []

    async def log():
        service = await IncidentService.open(db_path, policies, clock, blocking=True)
        try:
            for connection in (service.db.conn, service.db.reader):
                connection.connection.set_trace_callback(statements.append)
            command = await service.parse(incident_id, "a plain note")
            return await service.apply(incident_id, command, "bob")
        finally:
            await service.close()

    [entry] = run_to_end(log())
    assert entry.number == 2
    # (a trigger's program is traced as the statement that fired it, again)
    statements = [s for index, s in enumerate(statements) if not index or s != statements[index - 1]]
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    assert sum("FROM incidents" in s for s in statements) == 1  # parsed against its policy, not read again
    assert len(statements) == 5, statements  # the incident's policy, BEGIN, the last entry, INSERT, COMMIT


@pytest.mark.sqlite_only
def test_a_file_opened_blocking_writes_as_the_war_room_writes(db_path, policies, clock):
    from warroom.domain.errors import DatabaseError
    from warroom.store.blocking import run_to_end
    from warroom.store.database import open_sqlite

    async def check():
        db = await open_sqlite(db_path, blocking=True)
        try:
            writer = db.conn.connection
            assert writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: the WAL fsynced at each commit
            assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.reader.connection.execute("PRAGMA query_only").fetchone()[0] == 1
            other = sqlite3.connect(db_path, timeout=0)
            async with db.transaction() as conn:  # BEGIN IMMEDIATE: the write lock is taken at once
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                await conn.execute("INSERT INTO changes (incident_id, part, number) VALUES ('x', 'entries', 1)")
            with pytest.raises(DatabaseError, match="nothing was saved"):
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO changes (incident_id, part, number) VALUES ('y', 'entries', 1)")
                    await conn.execute("INSERT INTO no_such_table VALUES (1)")
            rows = other.execute("SELECT incident_id FROM changes WHERE incident_id IN ('x', 'y')").fetchall()
            other.close()
            return rows
        finally:
            await db.close()

    assert run_to_end(check()) == [("x",)]  # committed, and the failed one rolled back whole


def test_a_coroutine_that_waits_is_refused_without_an_event_loop():
    from warroom.store.blocking import NoWaitLock, run_to_end

    class Waits:
        def __await__(self):
            yield

    async def waits():
        await Waits()

    with pytest.raises(RuntimeError, match="waited"):
        run_to_end(waits())

    async def twice():
        lock = NoWaitLock()
        async with lock:
            async with lock:
                pass

    with pytest.raises(RuntimeError, match="already held"):
        run_to_end(twice())

    async def answers():
        return "done"

    assert run_to_end(answers()) == "done"


def test_policies_are_read_when_first_wanted_and_the_users_at_once(tmp_path, monkeypatch):
    import warroom.domain.policy as policy_module

    read: list[str] = []
    real = policy_module.load_policy_file
    monkeypatch.setattr(policy_module, "load_policy_file", lambda path: read.append(path.name) or real(path))
    mine = tmp_path / "policies"
    mine.mkdir()
    (mine / "mine.toml").write_text((builtin_policy_dir() / "p-levels-001.toml").read_text()
                                    .replace('id = "p-levels-001"', 'id = "mine"', 1))
    book = PolicyBook.load(mine)
    assert read == ["mine.toml"] and len(book) == len(list(builtin_policy_dir().glob("*.toml"))) + 1
    assert book.default.id == "default" and read == ["mine.toml", "default.toml"]
    assert book.get("default") is book.default and read.count("default.toml") == 1
    with pytest.raises(PolicyError, match="known: default, mine, p-levels-001"):
        book.get("nope")
    assert len(list(book)) == len(book) and sorted(read) == sorted({*read})  # each file read once
    (mine / "broken.toml").write_text("id = 1\n")
    with pytest.raises(PolicyError, match="broken.toml"):  # the user's files are checked before anything else
        PolicyBook.load(mine)


def test_a_packaged_policy_is_found_by_its_file_name(tmp_path, monkeypatch):
    import warroom.domain.policy as policy_module

    (tmp_path / "default.toml").write_text((builtin_policy_dir() / "default.toml").read_text())
    (tmp_path / "misnamed.toml").write_text((builtin_policy_dir() / "p-levels-001.toml").read_text())
    monkeypatch.setattr(policy_module, "builtin_policy_dir", lambda: tmp_path)
    book = PolicyBook.load()
    assert book.default.id == "default"
    with pytest.raises(PolicyError, match="misnamed.toml: a packaged policy file is named after its id"):
        book.get("misnamed")
    for path in builtin_policy_dir().glob("*.toml"):  # and every shipped one is
        assert policy_module.load_policy_file(path).id == path.stem


@pytest.mark.sqlite_only
def test_log_migrates_an_old_file_without_an_event_loop(run_cli, tmp_path):
    """Every migration step (the hash chain's included) runs on a file opened blocking."""
    from tests.test_migrations import make_version_1_file

    path = tmp_path / "v1.db"
    make_version_1_file(path)
    logged = run_cli("--db", str(path), "log", "INC-20261120-001", "after the upgrade")
    assert (logged.returncode, logged.stdout) == (0, "3\n"), logged.stderr
    verified = run_cli("--db", str(path), "verify", "INC-20261120-001")
    assert verified.returncode == 0 and "intact, 3 entries" in verified.stdout


@pytest.mark.sqlite_only
@pytest.mark.parametrize("kinds", [None, ("decision", "status")])
def test_a_chunk_of_the_timeline_is_read_in_time_order_by_the_index_never_sorted(db_path, kinds):
    """A streamed export's chunks (the first too) walk the time index: no chunk sorts the timeline."""
    from warroom.domain.models import EntryKind
    from warroom.store import record_reads
    from warroom.store.blocking import run_to_end
    from warroom.store.database import open_sqlite

    async def plans():
        db = await open_sqlite(db_path, blocking=True)
        try:
            traced: list[str] = []
            db.reader.connection.set_trace_callback(traced.append)
            wanted = None if kinds is None else [EntryKind(kind) for kind in kinds]
            for after in (None, ("2026-11-23T15:00:00.000000Z", 3)):
                await record_reads.entry_rows_after(db.reader, "INC-1", 10, after, 2000, wanted)
            db.reader.connection.set_trace_callback(None)
            return [" ".join(row[3] for row in db.reader.connection.execute("EXPLAIN QUERY PLAN " + sql))
                    for sql in traced]
        finally:
            await db.close()

    found = run_to_end(plans())
    assert len(found) == 2 and all("entries_by_time" in plan and "TEMP B-TREE" not in plan for plan in found), found


@pytest.mark.sqlite_only
def test_the_files_look_begun_ahead_is_the_look_the_open_takes(tmp_path, monkeypatch):
    """`warroom log --db FILE` begins the read-only look (quick_check: the whole file) before its
    modules load; opening the file judges what that look gathered, refusals included, and reads
    the file once."""
    import warroom.store.database as database
    import warroom.store.first_look as first_look
    from warroom.cli_context import CliContext
    from warroom.domain.errors import DatabaseError
    from warroom.store.blocking import run_to_end

    looks: list[Path] = []
    real = first_look.gather
    monkeypatch.setattr(first_look, "gather", lambda path, **kw: looks.append(path) or real(path, **kw))
    path = tmp_path / "w.db"
    run_to_end(run_to_end(database.open_sqlite(path, blocking=True)).close())  # a new file: made, not looked at
    assert looks == []
    forget = CliContext(str(path), None, None).look_ahead()
    db = run_to_end(database.open_sqlite(path, blocking=True))
    run_to_end(db.close())
    assert looks == [str(path)] and first_look._AHEAD == {}
    forget()  # taken already: nothing to drop
    CliContext(str(path), None, None).look_ahead()()  # a command that failed before opening drops its look
    assert first_look._AHEAD == {} and len(looks) == 2

    foreign = tmp_path / "other.db"
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    monkeypatch.setenv("WARROOM_DB", str(foreign))
    forget = CliContext(None, None, None).look_ahead()
    with pytest.raises(DatabaseError, match="another program"):
        run_to_end(database.open_sqlite(foreign, blocking=True))
    forget()
    assert first_look._AHEAD == {} and len(looks) == 3
