"""`warroom log ID TEXT` for a plain note without click or msgspec (warroom.cli_note, issue 14):
real processes of the entry point against the full command (warroom.cli.main) on the same file,
the same clock and the same argv, compared byte for byte: stdout, stderr, the exit code and
every row of every table. And the mechanism: what the plain path takes never imports click or
msgspec, and everything else goes to click."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from db_files import warroom_file
from hostile_corpus import INVALID_UTF8, TEXTS

REPO_ROOT = Path(__file__).resolve().parent.parent

# One process of `warroom ARGV...` on a frozen clock (the conftest's NOW: both paths stamp the same
# moment, so even the chain's hashes compare), through the entry point (`plain`) or straight into
# the click command (`full`); what it imported goes to $WATCHED_MODULES.
PROCESS = r'''
import json, os, sys
from datetime import datetime, timezone
import warroom.domain.clock as clock
moment = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
clock.system_clock = lambda: moment
os._exit = sys.exit  # (the plain path's quick exit would skip the note of the modules below)
way, sys.argv = sys.argv[1], ["warroom", *sys.argv[2:]]
if way == "plain":
    from warroom.cli_start import main
else:
    from warroom.cli import main
try:
    main()
finally:
    with open(os.environ["WATCHED_MODULES"], "w", encoding="utf-8") as out:
        json.dump(sorted(sys.modules), out)
'''


class Place:
    """A folder with a config dir and a warroom file whose pristine copy is put back before each run."""

    def __init__(self, tmp_path: Path):
        self.folder = tmp_path
        self.config = tmp_path / "config"
        self.config.mkdir()
        self.db = tmp_path / "w.db"
        self.incident_id = warroom_file(self.db)
        self.pristine = tmp_path / "pristine.db"
        shutil.copyfile(self.db, self.pristine)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        self.env.update(WARROOM_CONFIG_DIR=str(self.config), WARROOM_USER="tester", PYTHONPATH=str(REPO_ROOT),
                        XDG_DATA_HOME=str(tmp_path / "data"), WATCHED_MODULES=str(tmp_path / "modules.json"))

    def reset(self) -> None:
        for side in ("-wal", "-shm"):
            Path(f"{self.db}{side}").unlink(missing_ok=True)
        shutil.copyfile(self.pristine, self.db)

    def run(self, way: str, argv: list, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, list]:
        done = subprocess.run([sys.executable, "-c", PROCESS, way, *argv], env={**self.env, **(env or {})},
                              cwd=self.folder, capture_output=True, timeout=60)
        modules = json.loads((self.folder / "modules.json").read_text(encoding="utf-8"))
        return done, modules

    def rows(self) -> dict[str, list[tuple]] | None:
        """Every row of every table (None: no file)."""
        if not self.db.exists():
            return None
        conn = sqlite3.connect(self.db)
        try:
            tables = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in tables}
        finally:
            conn.close()


@pytest.fixture
def place(tmp_path):
    return Place(tmp_path)


ID = "{id}"
DB = "{db}"
HOSTILE = " ".join(text for name, text in TEXTS.items() if name != "nul")  # (argv holds no NUL)

TARGETS = '[[target]]\nkind = "slack"\nname = "ops"\naudiences = ["internal"]\nurl_env = "OPS_SLACK_URL"\n'
PACKAGED = Path(__file__).resolve().parents[1] / "warroom" / "policies"
MY_POLICY = (PACKAGED / "p-levels-001.toml").read_text(encoding="utf-8").replace('id = "p-levels-001"', 'id = "mine"', 1)
# (argv with {id} and {db}, environment, config files, the path expected: "plain" or "full").
CASES = {
    "a note": (["--db", DB, "log", ID, "checkout p99 back under 300 ms"], {}, {}, "plain"),
    "words joined": (["--db", DB, "log", ID, "several", "words,", " spaced  "], {}, {}, "plain"),
    "back-dated by offset": (["--db", DB, "log", ID, "-5m", "rolled", "back"], {}, {}, "plain"),
    "back-dated to a moment": (["--db", DB, "log", ID, "@2026-11-23T14:02", "paged", "db"], {}, {}, "plain"),
    "a slash kept": (["--db", DB, "log", ID, "//etc/hosts was edited"], {}, {}, "plain"),
    "hostile text": (["--db", DB, "log", ID, HOSTILE], {}, {}, "plain"),
    "dashes that are text": (["--db", DB, "log", ID, "-h", "-x=y", "-", "-1", "not options"], {}, {}, "plain"),
    "group options": (["--as", "carol", "--quiet", f"--db={DB}", "log", ID, "from carol"], {}, {}, "plain"),
    "WARROOM_DB": (["log", ID, "named by the environment"], {"WARROOM_DB": DB}, {}, "plain"),
    "a blank --as": (["--as", " ", "--db", DB, "log", ID, "who?"], {}, {}, "plain"),
    "the user's default file": (["log", ID, "made, then no such incident"], {}, {}, "full"),
    "unknown incident": (["--db", DB, "log", "INC-20991231-999", "lost"], {}, {}, "full"),
    "no incident id given": (["--db", DB, "log"], {}, {}, "full"),
    "nothing to record": (["--db", DB, "log", ID, "  "], {}, {}, "full"),
    "nothing after the back-date": (["--db", DB, "log", ID, "-5m"], {}, {}, "full"),
    "a back-date in the future": (["--db", DB, "log", ID, "@2099-01-01T00:00", "later"], {}, {}, "full"),
    "read-only": (["--read-only", "--db", DB, "log", ID, "refused"], {}, {}, "full"),
    "invalid UTF-8": (["--db", DB, "log", ID, INVALID_UTF8], {}, {}, "full"),
    "invalid UTF-8 user": (["--db", DB, "log", ID, "x"],
                           {"WARROOM_USER": INVALID_UTF8.decode("utf-8", "surrogateescape")}, {}, "full"),
    "a /command": (["--db", DB, "log", ID, "/status", "monitoring"], {}, {}, "full"),
    "an unknown /command": (["--db", DB, "log", ID, "/nope"], {}, {}, "full"),
    "help": (["--db", DB, "log", ID, "--help"], {}, {}, "full"),
    "--as after log": (["--db", DB, "log", ID, "note", "--as", "dave"], {}, {}, "full"),
    "--": (["--db", DB, "log", ID, "--", "-note"], {}, {}, "full"),
    "another group option": (["--theme", "warroom-light", "--db", DB, "log", ID, "x"], {}, {}, "full"),
    "an option given twice": (["--db", DB, "--db", DB, "log", ID, "x"], {}, {}, "full"),
    "a config file": (["--db", DB, "log", ID, "signed by the config"], {"WARROOM_USER": ""},
                      {"config.toml": 'user = "from-config"\n'}, "plain"),
    "the config's database": (["log", ID, "to the configured file"], {},
                              {"config.toml": f'database = "{DB}"\n'}, "plain"),
    "the config's [database]": (["log", ID, "to the configured file"], {},
                                {"config.toml": f'[database]\nurl = "{DB}"\n'}, "plain"),
    "a config with targets": (["--db", DB, "log", ID, "x"], {}, {"config.toml": TARGETS}, "plain"),
    "a target's unknown audience": (["--db", DB, "log", ID, "x"], {},
                                    {"config.toml": TARGETS.replace('"internal"', '"nobody"')}, "full"),
    "a config's unknown field": (["--db", DB, "log", ID, "x"], {}, {"config.toml": 'usr = "typo"\n'}, "full"),
    "a config naming a server": (["log", ID, "x"], {},
                                 {"config.toml": 'database = "postgresql://warroom:s3cret-pw@127.0.0.1:9/none"\n'},
                                 "full"),
    "a broken config file": (["--db", DB, "log", ID, "x"], {}, {"config.toml": "user = [\n"}, "full"),
    "a broken policy of the user's": (["--db", DB, "log", ID, "x"], {}, {"policies/mine.toml": "id = [\n"}, "full"),
    "a policy of the user's": (["--db", DB, "log", ID, "x"], {}, {"policies/mine.toml": MY_POLICY}, "plain"),
    "a server URL": (["--db", "postgresql://warroom:s3cret-pw@127.0.0.1:9/none", "log", ID, "x"], {}, {}, "full"),
    "another URL": (["--db", "mysql://ops:s3cret-pw@127.0.0.1/shop", "log", ID, "x"], {}, {}, "full"),
}


def _filled(value, place: Place):
    if isinstance(value, bytes):
        return value
    return value.replace(ID, place.incident_id).replace(DB, str(place.db))


@pytest.mark.sqlite_only
@pytest.mark.parametrize("case", list(CASES))
def test_the_plain_path_says_and_writes_what_the_full_command_does(place, case):
    argv, env, files, expected_way = CASES[case]
    argv = [_filled(word, place) for word in argv]
    env = {name: _filled(value, place) for name, value in env.items()}
    for name, text in files.items():
        (place.config / name).parent.mkdir(parents=True, exist_ok=True)
        (place.config / name).write_text(_filled(text, place), encoding="utf-8")
    outcomes = {}
    for way in ("full", "plain"):
        place.reset()
        done, modules = place.run(way, argv, env)
        outcomes[way] = (done.returncode, done.stdout, done.stderr, place.rows())
        assert b"Traceback" not in done.stderr and b"s3cret" not in done.stderr, done.stderr
        if way == "plain":
            took = "full" if "click" in modules else "plain"
            assert took == expected_way, (case, done.stderr)
            if took == "plain":  # nor what it needs no more than a note does (each some ms of its start)
                unneeded = {"asyncio", "logging", "warroom.service.incidents", "warroom.service.reach"}
                if not files:  # (the config and the policies need these to be read and checked)
                    unneeded |= {"msgspec", "warroom.domain.models", "typing", "dataclasses", "warroom.store.backend"}
                assert not unneeded & set(modules), unneeded & set(modules)
    assert outcomes["plain"] == outcomes["full"]
    code, stdout, stderr, rows = outcomes["plain"]
    if expected_way == "plain":
        assert (code, stderr) == (0, b"") and stdout.strip().isdigit(), stderr
        assert rows["entries"][-1][2] == int(stdout)  # (id, incident_id, number, ...): the number printed


@pytest.mark.sqlite_only
def test_a_plain_note_is_refused_by_a_file_that_is_not_ours_as_the_full_command_refuses_it(place):
    foreign = place.folder / "theirs.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    said = {}
    for way in ("full", "plain"):
        done, _ = place.run(way, ["--db", str(foreign), "log", place.incident_id, "x"])
        said[way] = (done.returncode, done.stdout, done.stderr)
    assert said["plain"] == said["full"] and said["plain"][0] == 2 and b"\n" == said["plain"][2][-1:]
    assert foreign.read_bytes() == before and sorted(p.name for p in place.folder.glob("theirs.db*")) == ["theirs.db"]


@pytest.mark.sqlite_only
def test_a_plain_note_on_a_missing_file_or_a_closed_incident_does_what_the_full_command_does(place):
    missing = place.folder / "new" / "w.db"
    said = {}
    for way in ("full", "plain"):
        shutil.rmtree(missing.parent, ignore_errors=True)
        done, _ = place.run(way, ["--db", str(missing), "log", "INC-20261123-001", "x"])
        said[way] = (done.returncode, done.stdout, done.stderr, missing.exists())
    assert said["plain"] == said["full"]
    closed = [place.run("full", ["--db", str(place.db), "log", place.incident_id, f"/{word}", "done"])[0].returncode
              for word in ("resolve", "close")]
    assert closed == [0, 0]
    shutil.copyfile(place.db, place.pristine)  # the closed incident is where each run starts
    written = {}
    for way in ("full", "plain"):
        place.reset()
        done, modules = place.run(way, ["--db", str(place.db), "log", place.incident_id, "a note after closing"])
        written[way] = (done.returncode, done.stdout, done.stderr, place.rows())
    assert written["plain"] == written["full"] and written["plain"][0] == 0 and "click" not in modules


def test_the_plain_path_takes_only_argv_it_understands_whole():
    from warroom.cli_note import plain_log

    taken = plain_log(["--as", "bob", "--read-only", "--db", "a.db", "log", "INC-1", "-5m", "two", "words"])
    assert (taken.db, taken.as_user, taken.read_only, taken.incident_id, taken.text) == (
        "a.db", "bob", True, "INC-1", "-5m two words")
    for argv in (["log", "INC-1"], ["log", "-x", "text"], ["show", "INC-1"], ["--db", "--as", "log", "I", "t"],
                 ["--db"], ["-h", "log", "I", "t"], ["log", "I", "t", "--help"], ["--version"], []):
        assert plain_log(argv) is None, argv


@pytest.mark.sqlite_only
def test_a_url_of_another_database_is_refused_not_made_a_folder(place):
    for way in ("full", "plain"):
        done, _ = place.run(way, ["--db", "mysql://ops:s3cret-pw@127.0.0.1/shop", "log", place.incident_id, "x"])
        assert done.returncode == 2 and b"a file path or a postgresql:// URL" in done.stderr, done.stderr
        assert b"s3cret" not in done.stderr and len(done.stderr.splitlines()) == 1
        assert not (place.folder / "mysql:").exists()


@pytest.mark.sqlite_only
def test_a_config_that_passed_its_check_is_remembered_until_a_file_of_it_changes(place):
    config, memo = place.config / "config.toml", place.config / "checked-config.json"
    argv, env = ["--db", str(place.db), "log", place.incident_id, "from the config's user"], {"WARROOM_USER": ""}

    def note(expected_parser: bool) -> str:
        done, modules = place.run("plain", argv, env)
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        assert "click" not in modules and ("msgspec" in modules) == expected_parser
        conn = sqlite3.connect(place.db)
        try:
            return conn.execute("SELECT author FROM entries ORDER BY id DESC LIMIT 1").fetchone()[0]
        finally:
            conn.close()

    config.write_text('user = "first"\n' + TARGETS, encoding="utf-8")
    assert note(expected_parser=True) == "first"  # checked, then remembered
    assert memo.stat().st_mode & 0o777 == 0o600 and b"first" in memo.read_bytes()
    assert note(expected_parser=False) == "first"  # the same files: the parser is not loaded
    config.write_text('user = "second"\n' + TARGETS, encoding="utf-8")
    assert note(expected_parser=True) == "second"  # changed: checked again
    (place.config / "policies").mkdir()
    (place.config / "policies" / "mine.toml").write_text(MY_POLICY, encoding="utf-8")
    assert note(expected_parser=True) == "second"  # a policy of the user's is part of what was checked
    assert note(expected_parser=False) == "second"
    memo.write_text("{not a memo", encoding="utf-8")
    assert note(expected_parser=True) == "second"  # a memo that cannot be read is no memo
    config.write_text('usr = "typo"\n', encoding="utf-8")  # never remembered as good: the full command says it
    done, _ = place.run("plain", argv, env)
    assert done.returncode == 2 and b"usr" in done.stderr and b"Traceback" not in done.stderr
    assert b"second" in memo.read_bytes()  # (the last good check is still the one kept)


@pytest.mark.sqlite_only
def test_a_server_url_in_the_config_is_not_copied_into_the_memo(place):
    (place.config / "config.toml").write_text(
        'database = "postgresql://warroom:s3cret-pw@127.0.0.1:9/none"\n', encoding="utf-8")
    done, _ = place.run("plain", ["log", place.incident_id, "x"])
    assert b"s3cret" not in done.stderr
    memo = place.config / "checked-config.json"
    assert not memo.exists() or b"s3cret" not in memo.read_bytes()


def test_the_memos_digest_moves_with_the_check_itself(tmp_path, monkeypatch):
    """An upgrade or an edit of the code that checks a config (or of a packaged policy) is a new
    digest: what passed the old check is checked again by the new one."""
    from warroom.service import config_memo

    checker = tmp_path / "config.py"
    checker.write_text("# the check\n", encoding="utf-8")
    monkeypatch.setattr(config_memo, "CHECKERS", (str(checker),))  # (an absolute name: this file)
    before = config_memo.digest('user = "a"\n', [])
    assert config_memo.digest('user = "a"\n', []) == before
    info = checker.stat()
    os.utime(checker, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000))
    assert config_memo.digest('user = "a"\n', []) != before
    assert config_memo.digest('user = "b"\n', []) != config_memo.digest('user = "a"\n', [])
