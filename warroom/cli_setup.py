"""Commands on what the war room stands on: `policies` (the policies known), `check` (every probe
once, for scripts and cron) and `recover` (what is readable of a damaged database). `warroom.cli`
registers them; they receive its CliContext."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from warroom.cli_context import CliContext, pass_context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def policies(obj: CliContext, as_json: bool) -> None:
    """List the policies: packaged ones and your own (config dir / policies)."""
    import msgspec

    book = obj.policies()
    if as_json:
        click.echo(json.dumps([
            {"id": p.id, "name": p.name, "source": p.policy.source, "deviations": p.policy.deviations,
             "severities": [{"id": s.id, "label": s.label, "response": s.response, "resolution": s.resolution}
                            for s in p.severity],
             "roles": [r.id for r in p.role], "statuses": [s.id for s in p.status],
             "audiences": msgspec.to_builtins(p.audience), "duties": msgspec.to_builtins(p.duty),
             "contacts": msgspec.to_builtins(p.contact), "action_groups": msgspec.to_builtins(p.action_group),
             "postmortem": msgspec.to_builtins(p.postmortem), "targets": msgspec.to_builtins(p.targets)}
            for p in book
        ], indent=2))
        return
    from warroom.domain.policy import update_cadences
    from warroom.domain.text import visible

    def say(line: str) -> None:  # names come from the user's own policy files too
        click.echo(visible(line))

    for p in book:
        say(f"{p.id}: {p.name}" + (f"  [{p.policy.source}]" if p.policy.source else ""))
        for s in p.severity:
            resolve = f"resolve {s.resolution}" if s.resolution else "no resolution target"
            say(f"    {s.id:<12} {s.label:<10} respond {s.response:<4} {resolve}")
            say(f"        updates: {update_cadences(p, s.id)}")
        say("    roles: " + ", ".join(r.name + (" (required)" if r.required else "") for r in p.role))
        say("    statuses: " + " -> ".join(s.label for s in p.status))
        for duty in p.duty:
            owed = ", ".join(f"{level} {within}" for level, within in duty.within.items())
            say(f"    {duty.kind} {duty.label}: {owed} from {duty.starts}"
                + (" (if still unresolved)" if duty.if_unresolved else ""))
        if p.postmortem:
            say("    report: " + ", ".join(section.title for section in p.postmortem))
        for deviation in p.policy.deviations:
            say(f"    differs from {p.policy.source or 'its source'}: {deviation}")


def _probe_path(obj: CliContext, option: str | None = None) -> Path | None:
    """--probes (on the command or the group), the config's `probes`, or CONFIG_DIR/probes.toml."""
    from warroom.service.config import config_dir
    from warroom.service.probe_sources import probe_file

    return probe_file(option or obj.probes_option, obj.config.probes, config_dir())


@click.command()
@click.option("--probes", "probes_file", metavar="FILE", type=click.Path(dir_okay=False), help="Probe definitions (TOML).")
@click.option("--incident", "incident_id", metavar="ID", help="Also check the probes attached to incident ID.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def check(obj: CliContext, probes_file: str | None, incident_id: str | None, as_json: bool) -> None:
    """Run every probe once and print a table; exit 1 if any is DOWN (for scripts and cron)."""
    import asyncio

    from warroom.domain.text import inert_json
    from warroom.probes import ProbeConfigError, exit_code, format_table, load_probe_file, rows_as_json, run_once
    from warroom.probes import spec_from_dict

    path = _probe_path(obj, probes_file)
    specs = {spec.name: spec for spec in load_probe_file(path)} if path else {}
    if incident_id:
        attached = obj.run(lambda service: service.attached_probes(incident_id))
        for probe in attached:
            spec = spec_from_dict(probe.config, f"incident {incident_id}")
            specs[spec.name] = spec
    if not specs:
        raise ProbeConfigError("no probes to check: pass --probes FILE, set `probes` in the config, "
                               "put probes.toml in the config dir, or use --incident ID")
    rows = asyncio.run(run_once(specs.values()))
    if as_json:
        click.echo(inert_json(json.dumps(rows_as_json(rows), indent=2, ensure_ascii=False)))
    else:
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 200
        click.echo(format_table(rows, width=width))
    if exit_code(rows):
        click.get_current_context().exit(exit_code(rows))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--output", "-o", metavar="NEW", type=click.Path(dir_okay=False),
              help="The new file (default: FILE.recovered.db beside it).")
def recover(file: str, output: str | None) -> None:
    """Copy everything readable from a damaged database FILE into a new file; FILE is not changed."""
    import asyncio

    from warroom.service.recovery import recover as recover_file, report_lines

    for line in report_lines(asyncio.run(recover_file(file, output))):
        click.echo(line)


COMMANDS = (policies, check, recover)
