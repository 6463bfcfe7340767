"""Where an incident's probes come from: the probe file (``--probes``, the config's ``probes`` key
or CONFIG_DIR/probes.toml), re-read when it changes, and the probes attached to the incident
(``/probe add``), which win a name. A mistake in either is said once and the last good probes
keep running."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Callable

from warroom.domain.errors import WarroomError
from warroom.probes.config import ProbeConfigError, ProbeSpec, load_probe_file, spec_from_dict
from warroom.store.probes import ProbeStore

log = logging.getLogger("warroom.service.monitor")
PROBE_FILE_NAME = "probes.toml"
RETENTION = timedelta(hours=24)


def probe_file(cli_value: str | None, config_value: str | None, config_dir: Path) -> Path | None:
    """--probes FILE, then the config's `probes`, then CONFIG_DIR/probes.toml if it exists."""
    chosen = cli_value or config_value
    if chosen:
        return Path(chosen).expanduser()
    default = config_dir / PROBE_FILE_NAME
    return default if default.is_file() else None


def retention_setting(text: str | None) -> tuple[timedelta, str | None]:
    """The config's `probe_retention` ('24h', '7d'...) and a problem in words if it is unusable."""
    from warroom.probes.config import parse_seconds  # noqa: PLC0415 (only the war room needs it)

    try:
        seconds = parse_seconds(text or "24h")
    except ValueError as error:
        return RETENTION, f"probe_retention: {error}; keeping 24h"
    if seconds < 60:
        return RETENTION, f"probe_retention: {text!r} is under a minute; keeping 24h"
    return timedelta(seconds=seconds), None


class ProbeSources:
    """The probe file and the incident's attached probes, joined into one set of specs."""

    def __init__(self, store: ProbeStore, incident_id: str, path: Path | None,
                 on_problem: Callable[[str], object] | None = None):
        self.store, self.incident_id, self.path, self.on_problem = store, incident_id, path, on_problem
        self.file_specs: list[ProbeSpec] = []
        self.attached_names: set[str] = set()
        self._stamp: tuple[float, int] | None = None
        self._attached_problem = False

    def problem(self, text: str) -> None:
        log.warning("%s", text)
        if self.on_problem is not None:
            self.on_problem(text)

    def reload_file(self, *, initial: bool = False) -> bool:
        """Read the probe file if it changed (True when it did and is good); a broken file keeps the
        last good probes."""
        path = self.path
        if path is None:
            return False
        try:
            info = path.stat()
            stamp = (info.st_mtime, info.st_size)
        except OSError as error:
            if initial or self._stamp is not None:
                self.problem(f"{path}: cannot read probe file: {error.strerror}; "
                             + ("running without it" if initial else "keeping the last good probes"))
            self._stamp = None
            return False
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self.file_specs = load_probe_file(path)
        except ProbeConfigError as error:
            self.problem(f"{error} ({'running without it' if initial else 'keeping the last good probes'})")
            return False
        return True

    async def specs(self) -> list[ProbeSpec]:
        """The file's probes and the attached ones (valid ones; an attached probe wins a name)."""
        problems: list[str] = []
        try:
            attached = await self.store.attached(self.incident_id)
        except WarroomError as error:
            problems.append(f"the incident's probes cannot be used: {error}")
            attached = []
        attached_specs = []
        for probe in attached:
            try:
                attached_specs.append(spec_from_dict(probe.config, f"incident {self.incident_id}"))
            except ProbeConfigError as error:
                problems.append(f"the incident's probe {probe.name!r} cannot be used: {error}")
        if problems and not self._attached_problem:  # said once until the problem goes away
            for problem in problems:
                self.problem(problem)
        self._attached_problem = bool(problems)
        specs = {spec.name: spec for spec in self.file_specs}
        specs.update({spec.name: spec for spec in attached_specs})
        self.attached_names = {spec.name for spec in attached_specs}
        return list(specs.values())
