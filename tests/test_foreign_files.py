"""warroom recognises its own database files positively and leaves every other file, and the folder
it is in, exactly as it was: no WAL switch, no migration, no -wal/-shm left behind (issue 9, 2 and 6)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest
from db_files import folder_state, journal_mode, other_user_ids, sqlite_file, warroom_file, wreck_a_page_of
from test_cli import assert_user_error
from test_migrations import make_version_1_file

from warroom.domain.errors import DatabaseError
from warroom.store import open_database
from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, sql_of


def application_id(path: Path) -> int:
    """The file's id: 0 when not set (warroom's own id is store.identity.APPLICATION_ID)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute("PRAGMA application_id").fetchone()[0]
    finally:
        conn.close()


def ours() -> int:
    from warroom.store.identity import APPLICATION_ID

    return APPLICATION_ID


async def opened_and_closed(path: Path) -> None:
    db = await open_database(path)
    await db.close()


# -- recognising our own files ---------------------------------------------------------------------

async def test_files_warroom_creates_carry_its_application_id(tmp_path):
    path = tmp_path / "new.db"
    await opened_and_closed(path)
    assert application_id(path) == ours()


async def test_an_older_warroom_file_is_stamped_when_migrated(tmp_path):
    path = tmp_path / "v1.db"
    make_version_1_file(path)
    assert application_id(path) == 0
    await opened_and_closed(path)
    assert application_id(path) == ours()


async def test_a_current_file_from_before_the_id_is_recognised_by_its_schema_and_stamped(tmp_path):
    path = tmp_path / "before-the-id.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS:
        conn.executescript(sql_of(script))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.commit()
    conn.close()
    await opened_and_closed(path)
    assert application_id(path) == ours()


def test_the_fingerprints_cover_every_version_and_differ():
    from warroom.store.identity import known_fingerprints

    prints = known_fingerprints()
    assert sorted(prints) == list(range(1, SCHEMA_VERSION + 1))
    index_only = {8, 9}  # versions that add an index: the tables and columns are the version's before
    assert all(prints[version] == prints[version - 1] for version in index_only)
    assert len({prints[version] for version in prints if version not in index_only}) == SCHEMA_VERSION - len(index_only)
    assert ("incidents", ("id", "day", "day_seq", "title", "policy", "severity", "status", "services", "impact",
                          "created_at", "created_by")) in prints[1]


async def test_an_empty_sqlite_database_becomes_a_warroom_database(tmp_path):
    path = tmp_path / "empty.sqlite"
    sqlite_file(path, "PRAGMA page_size = 4096; VACUUM;")
    assert path.stat().st_size > 0
    await opened_and_closed(path)
    assert application_id(path) == ours()


# -- other programs' files: refused, untouched -----------------------------------------------------

FOREIGN = {
    # The two files: one with an incidents table of its own, one with only incidents(x).
    "own-incidents-table": "CREATE TABLE incidents (id INTEGER PRIMARY KEY, summary TEXT, opened TEXT);"
                           "INSERT INTO incidents VALUES (1, 'db outage', '2026-01-01'); PRAGMA user_version = 1;",
    "incidents-x-version-2": "CREATE TABLE incidents (x); PRAGMA user_version = 2;",
    "another-application-id": "PRAGMA application_id = 1234; CREATE TABLE songs (title TEXT);",
    "no-tables-but-a-version": "PRAGMA user_version = 7;",
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_another_programs_file_is_refused_in_one_line_and_left_as_it_was(run_cli, tmp_path, name):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "f.db"
    sqlite_file(path, FOREIGN[name])
    before = folder_state(folder)
    for argv in (["list"], ["declare", "x", "--severity", "SEV-3"], ["log", "INC-20260101-001", "hi"]):
        assert_user_error(run_cli("--db", str(path), *argv), str(path), "another program", "refusing to touch it")
    assert folder_state(folder) == before
    assert journal_mode(path) == "delete"


async def test_a_file_with_warroom_tables_and_one_of_its_own_is_not_ours(tmp_path):
    path = tmp_path / "lookalike.db"
    make_version_1_file(path)
    sqlite_file(path, "CREATE TABLE songs (title TEXT);")
    before = folder_state(tmp_path)
    with pytest.raises(DatabaseError, match="another program"):
        await open_database(path)
    assert folder_state(tmp_path) == before


async def test_a_file_with_warroom_tables_but_another_id_is_not_ours(tmp_path):
    path = tmp_path / "claimed.db"
    make_version_1_file(path)
    sqlite_file(path, "PRAGMA application_id = 42;")
    with pytest.raises(DatabaseError, match=r"another program \(application id 0x2a\)"):
        await open_database(path)


async def test_a_file_missing_one_warroom_column_is_not_ours(tmp_path):
    path = tmp_path / "almost.db"
    make_version_1_file(path)
    sqlite_file(path, "ALTER TABLE action_items DROP COLUMN owner;")
    with pytest.raises(DatabaseError, match="another program"):
        await open_database(path)


# -- refused files leave their folder exactly as it was --------------------------------------------

def _future(path: Path) -> None:
    warroom_file(path)  # a real, closed warroom file: WAL mode, no -wal beside it
    sqlite_file(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1};")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # sqlite_file's connection may have checkpointed it to delete
    conn.close()


def _truncated(path: Path) -> None:
    warroom_file(path, notes=300)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size * 6 // 10)


def _foreign_in_wal_mode(path: Path) -> None:
    sqlite_file(path, "PRAGMA journal_mode = WAL; CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('la');")


def _damaged(path: Path) -> None:
    warroom_file(path, notes=300)
    wreck_a_page_of(path)


REFUSED = {
    "future schema": (_future, "newer warroom"),
    "truncated": (_truncated, "is damaged"),
    "another program's WAL file": (_foreign_in_wal_mode, "another program"),
    "damaged page": (_damaged, "is damaged"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_file_leaves_no_wal_or_shm_and_changes_nothing(tmp_path, case):
    make, message = REFUSED[case]
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "warroom.db"
    make(path)
    assert sorted(os.listdir(folder)) == ["warroom.db"]
    before = folder_state(folder)
    for _ in range(2):
        with pytest.raises(DatabaseError, match=message):
            asyncio.run(open_database(path))
    assert folder_state(folder) == before


def _open_as(ids: tuple[int, int], path: Path) -> str:
    """open_database(path) in a forked child running as another user: 'opened' or the error."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become the other user, try, report, leave without cleanup handlers
        message = "child failed"
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
            try:
                asyncio.run(opened_and_closed(path))
                message = "opened"
            except DatabaseError as error:
                message = str(error)
        finally:
            os.write(write, message.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_a_read_only_file_of_another_user_is_refused_and_left_as_it_was(tmp_path):
    """The owner can still use it afterwards: no -shm of the other user is left to block it."""
    ids = other_user_ids()
    folder = Path(tempfile.mkdtemp(prefix="shared-")) if ids else tmp_path / "shared"
    try:
        folder.mkdir(exist_ok=True)
        folder.chmod(0o777)  # a shared folder anyone may write in
        path = folder / "warroom.db"
        incident_id = warroom_file(path)
        path.chmod(0o644)  # readable by the other user, writable only by its owner
        before = folder_state(folder)
        if ids:
            ancestors = [folder, *folder.parents]
            if not all(p.stat().st_mode & stat.S_IXOTH for p in ancestors[1:]):
                pytest.skip("the temporary folder's parents are not open to other users")
            outcome = _open_as(ids, path)
        else:
            path.chmod(0o444)  # not root: the closest we get to another user's file
            try:
                asyncio.run(opened_and_closed(path))
                outcome = "opened"
            except DatabaseError as error:
                outcome = str(error)
            path.chmod(0o644)
            before = folder_state(folder)
        assert "is not readable and writable by you" in outcome, outcome
        assert folder_state(folder) == before
        path.chmod(0o600)  # the owner locks it down and goes on logging

        async def log() -> int:
            from warroom.domain.policy import PolicyBook
            from warroom.service import IncidentService

            service = await IncidentService.open(path, PolicyBook.load())
            try:
                [entry] = await service.execute(incident_id, "still writable by its owner", "alice")
                return entry.number
            finally:
                await service.close()

        assert asyncio.run(log()) > 1
    finally:
        if ids:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def test_a_refused_file_is_one_line_and_exit_2_for_every_command(run_cli, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "w.db"
    _future(path)
    before = folder_state(folder)
    for argv in (["list"], ["show", "INC-20261123-001"], ["log", "INC-20261123-001", "x"], ["export", "INC-20261123-001"]):
        assert_user_error(run_cli("--db", str(path), *argv), "newer warroom")
    assert folder_state(folder) == before
