"""How a scripted `warroom log` starts (issue 14): the file's look begins in the command's first
milliseconds, before click and the service are imported, its thread imports nothing, and a plain
note reads no policy file (a /command reads its incident's policy as before)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from db_files import warroom_file

from warroom.cli_start import named_ahead

REPO_ROOT = Path(__file__).resolve().parent.parent

# Runs the entry point's main() as the `warroom` program would, noting what was imported when the
# look's thread started and what the whole command imported.
WATCHED_MAIN = r'''
import json, sys, threading
seen = {}
start = threading.Thread.start
def noted_start(thread):
    if thread.name == "warroom-look":
        seen["at_look"] = sorted(name for name in sys.modules if name.split(".")[0] in ("warroom", "click", "msgspec"))
    start(thread)
threading.Thread.start = noted_start
import os
os._exit = sys.exit  # (the plain path's quick exit would skip the note of what was imported)
sys.argv = ["warroom", *sys.argv[1:]]
from warroom.cli_start import main
try:
    main()
except SystemExit as stop:
    seen["code"] = stop.code
seen["modules"] = sorted(sys.modules)
print(json.dumps(seen), file=sys.stderr)
'''


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_CONFIG_DIR=str(config), WARROOM_USER="tester", PYTHONPATH=str(REPO_ROOT))
    return env


def _watched(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run([sys.executable, "-c", WATCHED_MAIN, *argv], env=_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    return done, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.sqlite_only
def test_warroom_log_begins_the_files_look_before_click_or_the_service_is_imported(tmp_path):
    path = tmp_path / "w.db"
    incident_id = warroom_file(path)
    done, seen = _watched(tmp_path, "--db", str(path), "log", incident_id, "a plain note")
    assert seen["code"] == 0, done.stderr
    assert done.stdout.strip().isdigit()
    assert seen["at_look"] == ["warroom", "warroom.cli_start", "warroom.store", "warroom.store.first_look"]
    # A plain note: no policy file parsed (tomllib), no config file (there is none), no screen, no logger.
    assert not {"tomllib", "textual", "logging"} & set(seen["modules"])  # (nothing logs on this path)
    # ... nor the policy's procedures, which a note does not touch (imported where they are used).
    later = {f"warroom.domain.{name}" for name in ("duties", "standing", "checklists", "escalation", "metrics")}
    assert not later & set(seen["modules"])


@pytest.mark.sqlite_only
def test_a_look_named_by_warroom_db_begins_as_early_and_other_commands_begin_none(tmp_path):
    path = tmp_path / "w.db"
    incident_id = warroom_file(path)
    env_done = subprocess.run([sys.executable, "-c", WATCHED_MAIN, "show", incident_id],
                              env={**_env(tmp_path), "WARROOM_DB": str(path)}, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
    seen = json.loads(env_done.stderr.strip().splitlines()[-1])
    assert seen["code"] == 0 and "at_look" in seen and "click" not in seen["at_look"]
    done, seen = _watched(tmp_path, "--db", str(path), "list")
    assert seen["code"] == 0 and "at_look" not in seen, done.stderr


def test_the_look_begun_ahead_imports_nothing_in_its_thread(tmp_path):
    """What the thread runs needs only what warroom.store.first_look imported before it started:
    an import in the thread would wait for the GIL behind the main thread's imports."""
    path = tmp_path / "w.db"
    warroom_file(path)
    code = ("import sys\nfrom warroom.store import first_look\nbefore = set(sys.modules)\n"
            f"first_look.begin({str(path)!r})\nseen = first_look.take({str(path)!r})()\n"
            "print(sorted(set(sys.modules) - before), seen.error, seen.problems, seen.application_id == "
            "first_look.APPLICATION_ID)\n")
    done = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "[] None ok True", done.stderr


def test_the_entry_point_is_the_module_that_begins_the_look():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["warroom"] == "warroom.cli_start:main"
    assert "from warroom.cli_start import main" in (REPO_ROOT / "warroom" / "__main__.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(("argv", "environment", "named"), [
    (["--db", "a.db", "log", "INC-1", "text"], {}, "a.db"),
    (["--as", "bob", "--db=b.db", "show", "INC-1"], {}, "b.db"),
    (["--read-only", "--db", "c.db", "--theme", "x", "export", "INC-1"], {}, "c.db"),
    (["log", "INC-1", "--db", "not-an-option-here"], {"WARROOM_DB": "env.db"}, "env.db"),
    (["--db", "a.db", "declare", "T", "-s", "SEV-1"], {}, None),
    (["--as", "log", "list"], {"WARROOM_DB": "env.db"}, None),  # "log" is --as's value; the command is list
    (["log", "INC-1", "text"], {}, None),  # nothing named: the config's file is looked at when opened
    (["--help"], {"WARROOM_DB": "env.db"}, None),
])
def test_the_peek_finds_the_file_the_command_will_open(argv, environment, named, monkeypatch):
    monkeypatch.delenv("WARROOM_DB", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert named_ahead(argv) == named


@pytest.mark.sqlite_only
def test_a_note_reads_no_policy_file_and_a_command_reads_its_incidents(run_cli, cli_env, tmp_path, monkeypatch):
    import warroom.domain.policy as policy_module

    path = tmp_path / "w.db"
    incident_id = warroom_file(path)
    read: list[str] = []
    real = policy_module.load_policy_file
    monkeypatch.setattr(policy_module, "load_policy_file", lambda file: read.append(file.name) or real(file))
    env = {**cli_env, "WARROOM_DB": str(path)}
    noted = run_cli("log", incident_id, "-5m", "checkout p99 back under 300 ms", env=env)
    assert noted.returncode == 0 and noted.stdout.strip().isdigit(), noted.stderr
    assert read == []
    changed = run_cli("log", incident_id, "/status", "monitoring", env=env)
    assert changed.returncode == 0 and changed.stdout.strip().isdigit(), changed.stderr
    assert read == ["default.toml"]
    refused = run_cli("log", incident_id, "/status", "no-such-status", env=env)
    assert refused.returncode == 2 and "unknown status 'no-such-status'" in refused.stderr


def test_the_look_at_a_file_with_our_id_is_one_statement(tmp_path, monkeypatch):
    """In the look's thread every return from SQLite waits for the GIL behind the main thread's
    imports: id, version and quick_check come in one statement (one snapshot, no BEGIN/COMMIT),
    after the small cache that spares the check the memory it would fault in."""
    import sqlite3

    from warroom.store import first_look

    path = tmp_path / "w.db"
    warroom_file(path)
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(first_look.sqlite3, "connect", traced)
    seen = first_look.gather(path)
    assert (seen.application_id, seen.problems, seen.error) == (first_look.APPLICATION_ID, "ok", None)
    ours = [sql for sql in statements if not sql.startswith("--")]  # ("-- PRAGMA x": the pragmas it reads)
    assert len(ours) == 2 and ours[0] == first_look._SMALL_CACHE and "pragma_quick_check" in ours[1]


@pytest.mark.parametrize("name", ["w.db", "a space.db", "per%cent?q#f.db", "caf\u00e9 \u202e.db", "\\b;c:d.db"])
def test_the_looks_uri_is_pathlibs_without_pathlib(tmp_path, name):
    """first_look begins before pathlib is imported: its file URI is the one pathlib gives."""
    from warroom.store import first_look

    folder = tmp_path / "a link"
    folder.symlink_to(tmp_path, target_is_directory=True)
    path = folder / name
    path.write_bytes(b"")
    assert first_look.file_uri(path) == path.resolve().as_uri() == first_look.file_uri(str(path))


def test_a_look_begun_for_one_spelling_of_a_file_is_taken_by_another(tmp_path):
    from warroom.store import first_look

    path = tmp_path / "w.db"
    warroom_file(path)
    (tmp_path / "link").symlink_to(tmp_path, target_is_directory=True)
    drop = first_look.begin(str(tmp_path / "link" / "." / "w.db"))
    try:
        assert first_look.begun(path)
        seen = first_look.take(path)()
        assert (seen.application_id, seen.problems) == (first_look.APPLICATION_ID, "ok")
        assert not first_look.begun(path)
    finally:
        drop()


def test_the_peek_skips_the_value_of_every_group_option_that_takes_one():
    """named_ahead steps over the values of the group's options (`--theme open`, `--as log`):
    a new option of the group that takes a value must be added to cli_start's list too."""
    from warroom.cli import cli
    from warroom.cli_start import _VALUED

    valued = {name for param in cli.params if not getattr(param, "is_flag", False) and param.name != "version"
              for name in param.opts if name.startswith("--")}
    assert valued == {"--db", *_VALUED}
