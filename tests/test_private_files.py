"""Updates, reports and exports are private whatever the umask: folders warroom makes are 0700,
files 0600 (issue 9, 5)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from warroom.service.config import Config
from warroom.service.delivery import write_update_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o000, 0o277], ids=["umask-022", "umask-000", "umask-277"])
async def test_update_files_and_the_folders_made_for_them_are_private(tmp_path, mask):
    folder = tmp_path / "team" / "updates"
    with umask(mask):
        first = write_update_file("We rolled back.", "INC-20261123-001", 1, folder)
        again = write_update_file("Second copy.", "INC-20261123-001", 1, folder)
    assert (first.name, again.name) == ("INC-20261123-001-1.md", "INC-20261123-001-1.2.md")
    assert mode(tmp_path / "team") == mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["INC-20261123-001-1.2.md", "INC-20261123-001-1.md"]
    assert {mode(f) for f in files} == {0o600}
    assert (folder / "INC-20261123-001-1.md").read_text() == "We rolled back.\n"


async def test_an_updates_folder_that_exists_is_left_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    write_update_file("x", "INC-1", 1, shared)
    assert mode(shared) == 0o755 and mode(shared / "INC-1-1.md") == 0o600


def run_export(cli_env, tmp_path, mask, *args) -> subprocess.CompletedProcess:
    with umask(mask):  # the child inherits it
        return subprocess.run([sys.executable, "-m", "warroom", *args], env=cli_env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_export_files_are_0600_new_or_replaced(run_cli, cli_env, tmp_path, mask):
    incident_id = run_cli("declare", "Checkout down", "--severity", "SEV-2").stdout.strip()
    replaced = tmp_path / "old-report.md"
    replaced.write_text("last week's\n")
    replaced.chmod(0o644)
    for fmt, name in (("json", "r.json"), ("csv", "r.csv"), ("markdown", "r.md"), ("markdown", "old-report.md")):
        done = run_export(cli_env, tmp_path, mask, "export", incident_id, "-f", fmt, "-o", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        assert mode(tmp_path / name) == 0o600, name
    assert "Checkout down" in replaced.read_text()
    devnull = run_export(cli_env, tmp_path, mask, "export", incident_id, "-o", os.devnull)
    assert devnull.returncode == 0 and mode(Path(os.devnull)) == 0o666  # a device is written, not chmod-ed


async def test_the_report_key_writes_a_private_report_in_a_private_folder(tmp_path):
    from test_ui_procedures import SIZE, make_app, seeded
    from test_ui_support import wait_for, war_room_ready

    path, incident_id = await seeded(tmp_path, "/rootcause pool too small")
    app = make_app(tmp_path, path, incident_id)
    with umask(0o022):
        async with app.run_test(size=SIZE) as pilot:
            await war_room_ready(pilot)
            await pilot.press("f6")
            report = tmp_path / "updates" / f"{incident_id}-report.md"
            await wait_for(pilot, report.exists)
            await wait_for(pilot, lambda: report.stat().st_size > 0)
    assert mode(tmp_path / "updates") == 0o700 and mode(report) == 0o600
