"""`warroom check`: every probe once, a table or JSON, exit 1 when any is DOWN, exit 2 on a bad file."""

from __future__ import annotations

import asyncio
import json

import pytest
from probe_servers import Target, closed_port


@pytest.fixture
def warroom(run_cli):
    """Run the command (in-process, conftest `run_cli`) in a thread, so the loop the loopback target
    is served from keeps running: `code, out, err = await warroom(*args, env=...)`."""

    async def run(*args: str, env: dict | None = None) -> tuple[int, str, str]:
        done = await asyncio.to_thread(run_cli, *args, env=env)
        return done.returncode, done.stdout, done.stderr

    return run


def probes(target: Target, failing: bool) -> str:
    text = (f'[[probe]]\nname = "checkout"\ngroup = "shop"\ntype = "http"\ntarget = "{target.url("/ok")}"\n'
            f'interval = "5s"\nconditions = ["status == 200", \'body.status == "UP"\']\n'
            f'headers = {{ Authorization = "Bearer ${{CHECK_TOKEN}}" }}\n\n'
            f'[[probe]]\nname = "port"\ntype = "tcp"\ntarget = "127.0.0.1:{target.port}"\n')
    if failing:
        text += f'\n[[probe]]\nname = "payments"\ntype = "http"\ntarget = "http://127.0.0.1:{closed_port()}/"\n'
    return text


async def test_check_prints_a_table_and_exits_0_when_all_are_up(warroom, tmp_path, cli_env):
    async with Target() as target:
        path = tmp_path / "probes.toml"
        path.write_text(probes(target, failing=False))
        code, out, _ = await warroom("check", "--probes", str(path))
        assert code == 1 and "environment variable CHECK_TOKEN is not set" in out  # DOWN, not a crash
        env = {**cli_env, "CHECK_TOKEN": "t0ken-value"}
        code, out, err = await warroom("check", "--probes", str(path), env=env)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["STATE", "NAME", "GROUP"]
    assert any(line.startswith("▲ UP") and "checkout" in line and "200" in line for line in lines)
    assert lines[-1] == "2 probes: 2 healthy, 0 not"


async def test_check_exits_1_when_a_probe_is_down_and_json_hides_secrets(warroom, tmp_path, cli_env):
    env = {**cli_env, "CHECK_TOKEN": "very-secret-value"}
    async with Target() as target:
        path = tmp_path / "probes.toml"
        path.write_text(probes(target, failing=True))
        code, out, _ = await warroom("--probes", str(path), "check", "--json", env=env)  # group option
    assert code == 1
    rows = {row["probe"]["name"]: row for row in json.loads(out)}
    assert rows["payments"]["state"] == "down" and rows["payments"]["result"]["error"] == "connection refused"
    assert rows["checkout"]["state"] == "up"
    assert rows["checkout"]["probe"]["headers"]["Authorization"] == "Bearer ${CHECK_TOKEN}"
    assert "very-secret-value" not in out


async def test_check_reads_the_config_dir_and_reports_mistakes_with_exit_2(warroom, tmp_path):
    config_dir = tmp_path / "config"
    (config_dir / "probes.toml").write_text('[[probe]]\nname = "x"\ntype = "http"\ntarget = "gopher://x"\n')
    code, out, err = await warroom("check")
    assert (code, out) == (2, "")
    assert err.startswith(f"warroom: error: {config_dir / 'probes.toml'}:4: probe x: field target:")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    (config_dir / "probes.toml").unlink()
    code, _, err = await warroom("check")
    assert code == 2 and "no probes to check" in err


async def test_check_includes_probes_attached_to_an_incident(warroom, service):
    async with Target() as target:
        incident = await service.declare("Slow checkout", "SEV-3", author="alice")
        await service.execute(incident.id, f"/probe add shop {target.url('/ok')}", "alice")
        code, out, err = await warroom("check", "--incident", incident.id)
        assert code == 0, err
        assert "shop" in out and "1 probes: 1 healthy" in out
        code, _, err = await warroom("check", "--incident", "NOPE-1")
        assert code == 2
