"""The `warroom` command as a user runs it, on a tmp database and config dir.

The commands run in this process (conftest `run_cli`: the entry point's code under click's
CliRunner); the smoke test at the end starts the real `warroom` program to prove the entry point
itself: exit codes, one-line errors, no traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db_access import is_pg, updates_folder

ID = re.compile(r"^INC-\d{8}-\d{3}$")


def assert_ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.args, result.stderr)
    assert result.stderr == "", (result.args, result.stderr)
    return result.stdout


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert result.returncode == 2, (result.args, result.returncode, result.stdout, result.stderr)
    assert result.stdout == "", (result.args, result.stdout)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (result.args, result.stderr)
    assert lines[0].startswith("warroom: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def assert_declared(result: subprocess.CompletedProcess) -> str:
    """`warroom declare` succeeded: the id alone on stdout, what the policy owes now on stderr."""
    assert result.returncode == 0, (result.args, result.stderr)
    incident_id = result.stdout.strip()
    assert ID.match(incident_id) and result.stdout == incident_id + "\n"
    lines = result.stderr.splitlines()
    assert not lines or lines[0].startswith(f"{incident_id} at "), result.stderr
    return incident_id


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_declare_log_list_show_export_policies(run_cli, tmp_path, database):
    declared = run_cli("declare", "Checkout API returning 502s", "--severity", "SEV-2",
                       "--commander", "alice", "--service", "checkout", "--service", "payments",
                       "--impact", "EU card payments fail")
    incident_id = assert_declared(declared)
    # whom to tell and which updates are owed, with deadlines, go to stderr; the timeline has them too
    owed = declared.stderr.splitlines()
    assert owed[0] == f"{incident_id} at SEV-2: the policy now asks for"
    assert any("notify Engineering manager: due" in line for line in owed[1:])
    assert any("Status page update: due" in line for line in owed[1:])

    logged = [
        run_cli("log", incident_id, "EU error rate at 31%", "--as", "bob"),
        run_cli("log", incident_id, "-1h", "/impact"),  # `-1h` is back-dating, not -h for help
        run_cli("log", incident_id, "-50m /detected pager fired"),  # one argument that starts with a dash
        run_cli("log", incident_id, '/assign "tech lead" bob'),
        run_cli("log", incident_id, "/action add a canary @bob due:2h", "--as", "carol"),
        run_cli("log", incident_id, "/update executive Payments failing in EU; next update soon"),
        run_cli("log", incident_id, "=HYPERLINK(\"http://evil\")"),
        run_cli("log", incident_id, "/correct 3 error rate was 13%, not 31%"),
    ]
    update = logged.pop(5)  # an update is delivered as in the war room, and the CLI says so on stderr
    assert update.stdout == "8\n" and update.stderr == "warroom: update 1 delivered to 1 of 1: updates folder\n"
    assert [assert_ok(r) for r in logged] == [f"{n}\n" for n in (3, 4, 5, 6, 7, 9, 10)]
    assert (updates_folder(database, tmp_path) / f"{incident_id}-1.md").exists()
    assert is_pg(database) or stat_mode(database) == 0o600

    (listed, listed_json, shown, exported, csv_out, markdown_out, policies, policies_json) = [run_cli(*argv) for argv in (
        ["list"], ["list", "--all", "--json"], ["show", incident_id], ["export", incident_id, "--format", "json"],
        ["export", incident_id, "-f", "csv"], ["export", incident_id, "--format", "markdown", "-o", "report.md"],
        ["policies"], ["policies", "--json"],
    )]

    assert re.match(rf"^{incident_id}  SEV-2 .* IC alice .* Checkout API returning 502s$", assert_ok(listed).strip())
    [row] = json.loads(assert_ok(listed_json))
    next_duty = row.pop("next_duty")  # what it owes first, whatever its kind (issue 10 point 7)
    assert set(next_duty) == {"key", "what", "due_at", "state"} and next_duty["state"] in ("on track", "due soon")
    assert row == {"id": incident_id, "title": "Checkout API returning 502s", "severity": "SEV-2",
                   "status": "investigating", "status_label": "Investigating", "policy": "default",
                   "created_at": row["created_at"], "commander": "alice", "open": True}

    text = assert_ok(shown)
    assert "Checkout API returning 502s" in text and "Timeline (10 entries)" in text
    assert "Tech Lead              bob" in text and "EU error rate at 31%" in text
    assert "Owed: " in text  # the declaration entry records what it started
    duties = text.split("Open duties (")[1]
    assert re.search(r"on track +notify Engineering manager: due \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", duties)

    record = json.loads(assert_ok(exported))
    assert record["format"] == "warroom-incident" and record["format_version"] == 2
    assert record["incident"]["services"] == ["checkout", "payments"]
    assert record["incident"]["impact"] == "EU card payments fail"
    assert [e["number"] for e in record["entries"]] == [4, 5, 1, 2, 3, 6, 7, 8, 9, 10]  # timeline order
    correction = record["entries"][-1]
    assert correction["kind"] == "correction" and correction["data"] == {"corrects_number": 3}
    assert record["metrics"]["time_to_detect_s"] == pytest.approx(600, abs=60)  # each command reads the clock anew
    assert record["metrics"]["measured_from"] == "impact started"
    assert record["actions"][0]["owner"] == "bob" and record["updates"][0]["audience"] == "executive"
    manager = next(d for d in record["duties"] if d["key"] == "notify:manager")
    assert manager["open"] and manager["overdue"] is False and manager["due_at"].endswith("Z")
    assert [(r["role"], r["person"]) for r in record["roles"]] == [("ic", "alice"), ("tl", "bob")]

    rows = list(csv.reader(io.StringIO(assert_ok(csv_out))))
    assert rows[0] == ["number", "occurred_at", "recorded_at", "author", "kind", "text", "corrects", "pinned"]
    assert ["'=HYPERLINK(\"http://evil\")"] == [r[5] for r in rows if "HYPERLINK" in r[5]]

    assert assert_ok(markdown_out) == ""
    report = (tmp_path / "report.md").read_text()
    heading = report.splitlines()[0]
    assert heading.startswith("# ") and heading.endswith(f"{incident_id}: Checkout API returning 502s")

    listing = assert_ok(policies)
    assert "default: warroom default (SEV-1 to SEV-4)" in listing
    assert "updates: Internal: first 5m, every 15m, final 0m; Status page: first 0m, final 0m" in listing
    assert "differs from seed 002: Adds an Identified status" in listing  # the default says where it departs
    books = json.loads(assert_ok(policies_json))
    assert books[0]["id"] == "default" and [s["id"] for s in books[0]["severities"]][:2] == ["SEV-1", "SEV-2"]
    assert books[0]["audiences"][0]["every"]["SEV-1"] == "15m" and books[0]["deviations"]


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_user_errors_exit_2_with_one_line_and_leave_files_untouched(run_cli, cli_env, tmp_path, database):
    incident_id = assert_declared(run_cli("declare", "x", "--severity", "SEV-3", "--commander", "al"))
    assert_ok(run_cli("log", incident_id, "-5m /detected"))
    notes = tmp_path / "notes.txt"
    notes.write_text("my incident notes; not a database\n")
    foreign = tmp_path / "other.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x00\xff" * 300)
    files = (notes, foreign, garbage) + (() if is_pg(database) else (Path(database),))
    before = {path: snapshot(path) for path in files}

    cases = [
        (["declare", "--severity", "SEV-1"], ["give TITLE and --severity"]),
        (["declare", "Outage"], ["give TITLE and --severity"]),
        (["frobnicate"], ["No such command 'frobnicate'"]),
        (["export", incident_id, "--format", "pdf"], ["'pdf' is not one of"]),
        (["declare", "Outage", "--severity", "SEV-9"], ["unknown severity 'SEV-9'", "SEV-1, SEV-2, SEV-3, SEV-4"]),
        (["declare", "Outage", "--severity", "P9", "--policy", "p-levels-001"], ["unknown severity", "P0, P1"]),
        (["declare", "Outage", "--severity", "1", "--policy", "nope"], ["unknown policy 'nope'"]),
        (["log", "INC-20990101-001", "hello"], ["no incident 'INC-20990101-001'"]),
        (["show", "INC-20990101-001"], ["no incident"]),
        (["export", "INC-20990101-001"], ["no incident"]),
        (["log", incident_id, "/sev 9"], ["unknown severity '9'"]),
        (["log", incident_id, "-10m /ack"], ["refused: acknowledged", "would come before detected"]),
        (["log", incident_id, "/assign ic al"], ["al already holds Incident Commander"]),
        (["log", incident_id, "/correct 99 x"], ["has no entry #99"]),
        (["export", incident_id, "-o", str(tmp_path / "missing-dir" / "r.md")], ["cannot write"]),
        (["--db", str(notes), "list"], ["not a SQLite database", "refusing to touch it"]),
        (["--db", str(foreign), "log", incident_id, "x"], ["another program"]),
        (["--db", str(garbage), "show", incident_id], ["cannot be read as a database"]),
        (["--db", str(tmp_path), "list"], ["is a directory"]),
    ]
    if not is_pg(database):
        cases.append((["export", incident_id, "-o", str(database)], ["refusing to write the export over the database"]))
    for argv, fragments in cases:
        assert_user_error(run_cli(*argv), *fragments)
    assert {path: snapshot(path) for path in before} == before
    assert not (tmp_path / "missing-dir").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("notes.txt-", "other.sqlite-", "garbage.db-"))]
    # None of the refused writes reached the timeline.
    assert len(json.loads(assert_ok(run_cli("export", incident_id)))["entries"]) == 3


def test_broken_policy_and_config_files_are_reported_with_file_line_and_field(run_cli, cli_env, tmp_path):
    policy_dir = Path(cli_env["WARROOM_CONFIG_DIR"]) / "policies"
    policy_dir.mkdir()
    good = (Path(__file__).resolve().parent.parent / "warroom" / "policies" / "default.toml").read_text()
    cadence = 'every = { SEV-1 = "15m", SEV-2 = "30m", SEV-3 = "4h", SEV-4 = "1d" }'
    broken = good.replace('id = "default"', 'id = "mine"', 1).replace(cadence, cadence.replace('"30m"', "30"), 1)
    bad_policy = policy_dir / "mine.toml"
    bad_policy.write_text(broken)
    line = broken.splitlines().index(cadence.replace('"30m"', "30")) + 1

    config_env = dict(cli_env, WARROOM_CONFIG_DIR=str(tmp_path / "config2"))
    (tmp_path / "config2").mkdir()
    (tmp_path / "config2" / "config.toml").write_text('user = "a"\ntheme = "warroom-dark"\ndatabase = 7\n')

    for argv in (["policies"], ["declare", "x", "--severity", "SEV-1"]):
        assert_user_error(run_cli(*argv), f"{bad_policy}:{line}:", "field audience[0].every", "Expected `str`")
    assert_user_error(run_cli("list", env=config_env), f"{tmp_path / 'config2' / 'config.toml'}:3:", "field database")


def test_unwritable_directory_is_a_user_error(run_cli, cli_env, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    undo = _make_unwritable(locked)
    try:
        result = run_cli("--db", str(locked / "new.db"), "declare", "x", "--severity", "SEV-1")
        assert_user_error(result, f"directory {locked} is not writable")
        assert list(locked.iterdir()) == []
    finally:
        undo()


def _make_unwritable(directory: Path):
    """chmod for ordinary users; root ignores modes, so use the immutable attribute when allowed."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        return lambda: directory.chmod(0o700)
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(directory)], capture_output=True).returncode == 0:
        return lambda: subprocess.run([chattr, "-i", str(directory)], check=True)
    pytest.skip("running as root without chattr +i: directory permissions cannot be enforced")


def test_unexpected_failure_exits_1_with_one_line(monkeypatch, run_cli):
    """Anything that is not the user's mistake: exit 1, one line, no traceback."""
    from warroom.service import IncidentService

    async def explode(self, *args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(IncidentService, "declare", explode)
    result = run_cli("declare", "x", "--severity", "SEV-1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == ["warroom: internal error: KeyError: 'a bug'"]


# ---- the real program ------------------------------------------------------------------------


def run_parallel(argvs: list[list[str]], env: dict[str, str], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Start the installed `warroom` program (or `python -m warroom`) for every ARGV at once, then
    collect them in order."""
    script = Path(sys.executable).with_name("warroom")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "warroom"]
    procs = [subprocess.Popen([*program, *argv], env=env, cwd=cwd, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for argv in argvs]
    done = []
    for argv, proc in zip(argvs, procs):
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return done


def test_the_program_exits_0_2_and_1_with_one_line_errors_and_no_traceback(cli_env, tmp_path):
    from probe_servers import closed_port

    [declared] = run_parallel([["declare", "Smoke", "--severity", "SEV-3"]], cli_env, tmp_path)
    incident_id = assert_declared(declared)
    probes = tmp_path / "probes.toml"
    probes.write_text(f'[[probe]]\nname = "gone"\ntype = "tcp"\ntarget = "127.0.0.1:{closed_port()}"\n')
    broken_env = dict(cli_env, WARROOM_CONFIG_DIR=str(tmp_path / "broken"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.toml").write_text("database = 7\n")
    logged, version, usage, missing, not_ours, down = run_parallel([
        ["log", incident_id, "-5m /detected"], ["--version"], ["frobnicate"], ["show", "INC-20990101-001"],
        ["--db", str(tmp_path), "list"], ["check", "--probes", str(probes)],
    ], cli_env, tmp_path)
    [bad_config] = run_parallel([["list"]], broken_env, tmp_path)
    assert assert_ok(logged) == "2\n"
    assert "warroom" in assert_ok(version)
    assert_user_error(usage, "No such command 'frobnicate'")
    assert_user_error(missing, "no incident 'INC-20990101-001'")
    assert_user_error(not_ours, "is a directory")
    assert (down.returncode, down.stderr) == (1, "") and "gone" in down.stdout  # a probe is DOWN
    assert_user_error(bad_config, "config.toml:1:", "field database")


def test_as_is_taken_after_any_command_as_before_it(run_cli):
    """Issue 10, point 14: `warroom open ID --as bob` was refused, though every command takes --as."""
    from warroom.cli import cli

    commands = [cli.get_command(None, name) for name in cli.list_commands(None)]
    assert len(commands) > 15 and all(any("--as" in getattr(p, "opts", ()) for p in command.params)
                                      for command in commands)
    declared = run_cli("declare", "Queue backlog", "--severity", "SEV-3", "--as", "alice")
    incident_id = declared.stdout.strip()
    logged = run_cli("log", incident_id, "after the command", "--as", "bob")
    assert logged.returncode == 0, logged.stderr
    shown = run_cli("show", incident_id, "--as", "carol")
    assert shown.returncode == 0 and "after the command" in shown.stdout
    assert "bob" in shown.stdout and "carol" not in shown.stdout  # show writes nothing
    for args in (["list", "--as", "bob"], ["policies", "--as", "bob"], ["export", incident_id, "--format", "csv", "--as", "bob"]):
        assert run_cli(*args).returncode == 0, args
