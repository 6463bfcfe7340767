"""Rules of the grammar hold whoever types: the entry bar, `warroom log` and the picker share them."""

from __future__ import annotations

import pytest

from warroom.domain import commands as cmd
from warroom.domain.errors import SummaryRequired
from warroom.service import IncidentService


async def test_resolving_needs_a_summary_through_every_command_that_resolves(service):
    incident = await service.declare("x", "SEV-2", author="a")
    for text in ("/resolve", "/resolved   ", "/status resolved", "-5m /resolve"):
        with pytest.raises(SummaryRequired, match="resolution summary"):
            await service.execute(incident.id, text, "a")
    assert (await service.incident(incident.id)).is_open
    written = await service.execute(incident.id, "/status resolved rolled back", "a")
    assert [e.text for e in written] == ["Status Investigating -> Resolved: rolled back", "Resolved"]


async def test_help_parses_to_a_command_that_writes_nothing(service):
    incident = await service.declare("x", "SEV-2", author="a")
    assert isinstance(await service.parse(incident.id, "/help"), cmd.ShowHelp)
    assert isinstance(await service.parse(incident.id, "/?"), cmd.ShowHelp)
    with pytest.raises(Exception, match="writes nothing"):
        await service.execute(incident.id, "/help", "a")
    assert len(await service.entries(incident.id)) == 1  # the declaration only


async def test_the_configured_default_policy_is_used_when_none_is_named(database, policies, clock):
    service = await IncidentService.open(database, policies, clock, default_policy="p-levels-003")
    try:
        assert service.default_policy.id == "p-levels-003"
        incident = await service.declare("x", "P1", author="a")
        assert incident.policy_id == "p-levels-003"
        other = await service.declare("y", "SEV-2", author="a", policy_id="default")
        assert other.policy_id == "default"
    finally:
        await service.close()


def test_log_help_prints_the_commands_and_log_resolve_asks_for_a_summary(run_cli):
    incident_id = run_cli("declare", "Checkout errors", "--severity", "SEV-2").stdout.strip()
    shown = run_cli("log", incident_id, "/help")
    assert shown.returncode == 0, shown.stderr
    assert "/assign ROLE PERSON" in shown.stdout and "/resolve" in shown.stdout
    refused = run_cli("log", incident_id, "/resolve")
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith("warroom: error: resolving needs a one-line resolution summary")
    assert "Traceback" not in refused.stderr
    assert run_cli("log", incident_id, "/resolve", "rolled", "back").returncode == 0


def test_declare_follows_the_configs_default_policy(run_cli, cli_env, tmp_path):
    (tmp_path / "config" / "config.toml").write_text('default_policy = "p-levels-003"\n')
    incident_id = run_cli("declare", "Checkout errors", "--severity", "P1").stdout.strip()
    assert incident_id.startswith("INC-")
    listed = run_cli("list", "--json")
    assert '"policy": "p-levels-003"' in listed.stdout
