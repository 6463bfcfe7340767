"""Captured commands: `warroom run ID -- CMD` streams, passes the exit code through and logs a
`command` entry with the line redacted, the exit code, the duration and the inert last lines."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.domain.captured import OUTPUT_LINES, command_entry, command_run, last_lines
from warroom.domain.models import EntryKind
from warroom.domain.redact import redact_argv
from conftest import NOW
from db_access import everything_stored, rows_now


def command_entries(database, incident_id: str) -> list[dict]:
    rows = rows_now(database, "SELECT number, author, text, data FROM entries WHERE incident_id = ? AND kind = ?"
                              " ORDER BY number", (incident_id, EntryKind.COMMAND.value))
    return [{"number": n, "author": a, "text": t, **json.loads(d)} for n, a, t, d in rows]


@pytest.fixture
def incident_id(run_cli) -> str:
    declared = run_cli("declare", "Checkout errors", "--severity", "SEV-2")
    assert declared.returncode == 0, declared.stderr
    return declared.stdout.strip()


def test_the_done_means_commands(run_cli, database, incident_id):
    done = run_cli("run", incident_id, "--", "sh", "-c", "echo hi; exit 3")
    assert (done.returncode, done.stdout) == (3, "hi\n")
    curl = run_cli("run", incident_id, "--", "curl", "-u", "admin:hunter2", "http://127.0.0.1:1/")
    assert curl.returncode != 0
    first, second = command_entries(database, incident_id)
    assert (first["exit_code"], first["output"]) == (3, ["hi"]) and "exit 3" in first["text"]
    assert second["command"] == "curl -u admin:<redacted> http://127.0.0.1:1/"
    assert b"hunter2" not in everything_stored(database)


def test_run_streams_passes_the_exit_code_through_and_logs_output(run_cli, database, incident_id, tmp_path):
    done = run_cli("run", incident_id, "--", "sh", "-c", "echo hi; echo oops >&2; exit 3")
    assert done.returncode == 3
    assert done.stdout == "hi\n"  # the command's own output, as it printed it
    assert done.stderr.startswith("oops\n") and f"logged as #2 on {incident_id} (exit 3)" in done.stderr
    [entry] = command_entries(database, incident_id)
    assert entry["exit_code"] == 3 and entry["signal"] is None and entry["source"] == "run"
    assert entry["output"] == ["hi", "oops"] and entry["output_lines"] == 2
    assert entry["command"] == "sh -c 'echo hi; echo oops >&2; exit 3'" and entry["author"] == "tester"
    assert entry["text"].startswith("sh -c 'echo hi; echo oops >&2; exit 3' → exit 3 after ")
    assert entry["text"].endswith("; output: oops") and entry["cwd"] == str(tmp_path)
    assert 0 <= entry["duration_s"] < 30
    assert run_cli("verify", incident_id).returncode == 0  # chained like every entry


def test_curl_with_a_password_stores_no_part_of_it(run_cli, database, incident_id):
    done = run_cli("run", incident_id, "--", "curl", "-sS", "-u", "admin:hunter2", "http://127.0.0.1:1/")
    assert done.returncode != 0  # nothing listens on port 1 (or curl is missing: 127)
    [entry] = command_entries(database, incident_id)
    assert entry["command"] == "curl -sS -u admin:<redacted> http://127.0.0.1:1/"
    assert entry["exit_code"] == done.returncode
    for export in ("json", "markdown", "csv"):
        assert "hunter" not in run_cli("export", incident_id, "-f", export).stdout
    stored = everything_stored(database)
    assert b"hunter" not in stored and base64.b64encode(b"admin:hunter2") not in stored


async def test_curl_verbose_output_keeps_no_credentials(cli_env, database, incident_id, target, tmp_path):
    """curl -v prints the Authorization header it sends (base64 of user:password)."""
    env = {**cli_env, "SECRET_TOKEN": "tok-5551212"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom", "run", incident_id, "--", "sh", "-c",
        f"curl -sv -u admin:hunter2 -H 'X-Api-Key: k-998877' {target.url('/ok')}; "
        "echo leaked https://bob:pw-4433@example.com/ SECRET_TOKEN=$SECRET_TOKEN",
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err
    [entry] = command_entries(database, incident_id)
    assert entry["command"].startswith("sh -c \"curl -sv -u admin:<redacted> -H 'X-Api-Key: <redacted>' http")
    stored = everything_stored(database)
    for secret in (b"hunter2", b"k-998877", b"pw-4433", b"tok-5551212", base64.b64encode(b"admin:hunter2")):
        assert secret not in stored, secret
    assert entry["output"][-1].endswith("leaked https://bob:<redacted>@example.com/ SECRET_TOKEN=<redacted>")
    if b"Authorization: Basic" in err:  # curl was there and talked to the server
        assert any("Authorization: <redacted>" in line for line in entry["output"])


def test_without_an_id_the_only_open_incident_is_used_and_otherwise_nothing_runs(run_cli, database, tmp_path):
    marker = tmp_path / "ran"
    none_open = run_cli("run", "--", "sh", "-c", f"touch {marker}")
    assert none_open.returncode == 2 and "no incident is open" in none_open.stderr and not marker.exists()
    first = run_cli("declare", "One", "-s", "SEV-3").stdout.strip()
    assert run_cli("run", "--", "true").returncode == 0
    assert [e["command"] for e in command_entries(database, first)] == ["true"]
    run_cli("declare", "Two", "-s", "SEV-3")
    several = run_cli("run", "--", "sh", "-c", f"touch {marker}")
    assert several.returncode == 2 and "2 incidents are open: name one" in several.stderr and not marker.exists()
    unknown = run_cli("run", "INC-19990101-001", "--", "sh", "-c", f"touch {marker}")
    assert unknown.returncode == 2 and not marker.exists()


def test_usage_errors(run_cli, incident_id):
    for args in (("run", incident_id, "true"), ("run", incident_id, "--")):
        done = run_cli(*args)
        assert done.returncode == 2 and done.stderr.startswith("warroom: error: "), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert run_cli("run", "--help").returncode == 0


def test_a_missing_command_and_a_signal_are_recorded(run_cli, database, incident_id):
    missing = run_cli("run", incident_id, "--", "no-such-command-here", "--password=hunter2")
    assert missing.returncode == 127 and "command not found" in missing.stderr
    killed = run_cli("run", incident_id, "--", "sh", "-c", "echo bye; kill -INT $$")
    assert killed.returncode == 130
    first, second = command_entries(database, incident_id)
    assert first["exit_code"] == 127 and first["command"] == "no-such-command-here --password=<redacted>"
    assert (second["exit_code"], second["signal"], second["output"]) == (130, 2, ["bye"])
    assert "exit 130 (signal 2)" in second["text"]


def test_long_and_hostile_output_is_capped_and_inert(run_cli, database, incident_id):
    script = ("seq 1 5000; printf 'x%.0s' $(seq 1 500); echo; "
              r"printf '\033]52;c;aGk=\007\033[31mred\033[0m \342\200\256evil\r\n'; printf 'tail\tcol\r\n'")
    done = run_cli("run", incident_id, "--", "sh", "-c", script)
    assert done.returncode == 0
    [entry] = command_entries(database, incident_id)
    assert len(entry["output"]) == OUTPUT_LINES and entry["output_lines"] == 5003
    assert entry["output"][0] == str(5000 - OUTPUT_LINES + 4)
    assert entry["output"][-3] == "x" * 199 + "…" and entry["output"][-2] == "red evil"
    assert entry["output"][-1] == "tail    col"
    stored = json.dumps(entry, ensure_ascii=False)
    assert "\x1b" not in stored and "\u202e" not in stored and "\x07" not in stored


def test_on_a_terminal_the_command_still_sees_a_terminal(cli_env, database, incident_id, tmp_path):
    master, slave = pty.openpty()
    code = "import os, sys; print('tty', sys.stdout.isatty(), os.get_terminal_size().columns)"
    process = subprocess.Popen([sys.executable, "-m", "warroom", "run", incident_id, "--", sys.executable, "-c", code],
                               stdin=slave, stdout=slave, stderr=slave, env=cli_env, cwd=tmp_path)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        assert ready, seen
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every writer is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait(timeout=60) == 0, seen
    assert b"tty True" in seen
    [entry] = command_entries(database, incident_id)
    assert entry["output"][0].startswith("tty True ")


def test_command_entry_text_and_data():
    run = command_run(redact_argv(["psql", "postgresql://me:pw99@db/x"]), exit_code=0, started_at=NOW,
                      duration=__import__("datetime").timedelta(seconds=75), output=b"ok pw99\n")
    text, data = command_entry(run)
    assert text == "psql postgresql://me:<redacted>@db/x → exit 0 after 1m 15s; output: ok <redacted>"
    assert data["output"] == ["ok <redacted>"] and data["duration_s"] == 75.0
    assert last_lines(b"a\r\nb\rB\n\n\n", ()) == ("a", "B")
