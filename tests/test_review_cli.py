"""Review findings on the command line: hostile text in errors and exports, odd arguments.

Commands run in this process (conftest `run_cli`), except where the real program is the point:
an argument that is not UTF-8 as the operating system hands it over, and output to a terminal.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from conftest import NOW

from warroom.domain.text import visible
from warroom.probes.oneshot import CheckRow, format_table
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState

OSC_LINK = "\x1b]8;;http://evil\x07click"
C1_CSI = "\u009b31mred"
BIDI = "\u202eevil"


def _one_line_exit_2(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.decode("utf-8", "replace") if isinstance(result.stderr, bytes) else result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("warroom: error: "), err
    return err


def test_error_messages_show_hostile_text_inert(run_cli):
    """An error quoting what was typed (`X already holds ...`) must not carry escapes to the terminal."""
    incident_id = run_cli("declare", "x", "-s", "SEV-2").stdout.strip()
    for person in (OSC_LINK, C1_CSI, BIDI):
        assert run_cli("log", incident_id, f"/assign ic {person}").returncode == 0
        again = run_cli("log", incident_id, f"/assign ic {person}")
        err = _one_line_exit_2(again)
        assert "already holds" in err and visible(person) in err
        assert "\x1b" not in err and "\u009b" not in err and "\u202e" not in err


def test_argument_that_is_not_utf8_is_a_user_error(run_cli, cli_env, tmp_path):
    incident_id = run_cli("declare", "x", "-s", "SEV-2").stdout.strip()
    result = subprocess.run([sys.executable, "-m", "warroom", b"log", incident_id.encode(), b"caf\xe9 is down"],
                            env=cli_env, cwd=tmp_path, capture_output=True, timeout=120)
    err = _one_line_exit_2(result)
    assert "UTF-8" in err
    exported = json.loads(run_cli("export", incident_id).stdout)
    assert len(exported["entries"]) == 1  # nothing half-written


def test_json_export_escapes_c1_and_bidi_characters_losslessly(run_cli):
    incident_id = run_cli("declare", "x", "-s", "SEV-2").stdout.strip()
    text = f"{C1_CSI} {BIDI} line\u2028sep del\x7f"
    assert run_cli("log", incident_id, text).returncode == 0
    out = run_cli("export", incident_id, "-f", "json").stdout
    assert not any(ch in out for ch in "\u009b\u202e\u2028\x7f")
    assert json.loads(out)["entries"][-1]["text"] == text  # the complete record, exactly


def test_csv_export_is_inert_in_a_terminal_and_in_a_pipe(run_cli, cli_env, tmp_path):
    """A pipe ends up in a terminal too (`| less -R`, `> r.csv; cat r.csv`): both get stand-ins."""
    incident_id = run_cli("declare", "x", "-s", "SEV-2").stdout.strip()
    assert run_cli("log", incident_id, f"{OSC_LINK} {C1_CSI}").returncode == 0
    piped = run_cli("export", incident_id, "-f", "csv").stdout
    assert "\x1b" not in piped and "\u009b" not in piped and "\u241b]8;;http://evil\u2407click" in piped
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "warroom", "export", incident_id, "-f", "csv"],
                              env=cli_env, cwd=tmp_path, stdout=follower, stderr=subprocess.PIPE, timeout=120)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    screen = shown.decode("utf-8")
    assert "\x1b" not in screen and "\u009b" not in screen and "\u241b]8;;http://evil" in screen


def test_check_table_shows_probe_names_and_groups_inert():
    """Probe files refuse such names (test_hostile); the table stays inert even so."""
    from warroom.probes.config import ProbeSpec

    spec = ProbeSpec(name=f"api{C1_CSI}", group=OSC_LINK, type="http", target="http://127.0.0.1:9/")
    result = ProbeResult(probe=spec.name, checked_at=NOW, ok=True, latency_ms=3.0, status_code=200)
    table = format_table([CheckRow(spec, result, ProbeState.UP)], width=300)
    assert "\x1b" not in table and "\u009b" not in table and "\u241b]8;;http://evil" in table


def test_a_policy_file_with_a_control_character_is_refused_naming_file_line_and_field(run_cli, cli_env, tmp_path):
    from importlib import resources
    from pathlib import Path

    policy_dir = Path(cli_env["WARROOM_CONFIG_DIR"]) / "policies"
    policy_dir.mkdir(parents=True, exist_ok=True)
    packaged = resources.files("warroom.policies").joinpath("default.toml").read_text(encoding="utf-8")
    hostile = packaged.replace('id = "default"', 'id = "mine"', 1).replace(
        'name = "warroom default (SEV-1 to SEV-4)"', 'name = "Mine \\u001b]8;;http://evil\\u0007click"', 1)
    assert hostile != packaged
    (policy_dir / "mine.toml").write_text(hostile, encoding="utf-8")
    result = run_cli("policies")  # shown on screens and in reports: policy text must be plain
    line = packaged.splitlines().index('name = "warroom default (SEV-1 to SEV-4)"') + 1
    err = _one_line_exit_2(result)
    assert f"{policy_dir / 'mine.toml'}:{line}:" in err and "U+001B" in err and "policy.name" in err
    assert "\x1b" not in err and "\x07" not in err
