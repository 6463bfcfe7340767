"""The incident the scale benchmarks share: 100,000 entries and 50 HTTP probes (30 s interval)
against the demo health service on 127.0.0.1, in a temporary folder with its own config dir.

    with ScaleIncident(entries=100_000, probes=50) as scale:
        scale.env, scale.database, scale.incident_id, scale.warroom_argv("open", scale.incident_id)

The database is built once per size in a process run (the store's own schema; the entries bulk
inserted as bench.bench_timeline does) and copied for each benchmark, so none sees another's writes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_BUILT: dict[tuple[int, int], tuple[Path, str]] = {}
_SERVICE: list[tuple[subprocess.Popen, str]] = []
_COMPILED: list[bool] = []
PROBE_INTERVAL = "30s"


def demo_service_base() -> str:
    """The demo health service, started once for the whole run in its own process."""
    if not _SERVICE:
        process = subprocess.Popen([sys.executable, "-m", "warroom.probes.demo_service"], stdout=subprocess.PIPE,
                                   text=True)
        base = process.stdout.readline().strip()
        if not base.startswith("http://"):
            process.kill()
            raise RuntimeError("the demo health service did not start")
        _SERVICE.append((process, base))
        import atexit

        atexit.register(process.terminate)
    return _SERVICE[0][1]


async def _build(path: Path, entries: int, probes: int, base: str) -> str:
    from bench.bench_timeline import NOW, build_database
    from warroom.domain.policy import PolicyBook
    from warroom.probes.config import make_http_probe
    from warroom.service import IncidentService

    incident_id = await build_database(path, entries)
    service = await IncidentService.open(path, PolicyBook.load(), lambda: NOW)
    try:
        for number in range(probes):
            await service.attach_probe(incident_id, make_http_probe(f"probe-{number:02d}", f"{base}/healthy?i={number}",
                                                                    interval=PROBE_INTERVAL))
    finally:
        await service.close()
    return incident_id


def compiled() -> None:
    """warroom's bytecode written, as an installed copy has it (a source tree run with
    PYTHONDONTWRITEBYTECODE=1 would compile every module in every process timed)."""
    if not _COMPILED:
        import compileall

        import warroom

        compileall.compile_dir(Path(warroom.__file__).parent, quiet=1)
        _COMPILED.append(True)


def built(entries: int, probes: int) -> tuple[Path, str]:
    """A pristine database of this size (built on first use) and its incident's id."""
    key = (entries, probes)
    if key not in _BUILT:
        folder = Path(tempfile.mkdtemp(prefix="warroom-bench-scale-"))
        import atexit

        atexit.register(shutil.rmtree, folder, True)
        path = folder / "pristine.db"
        _BUILT[key] = (path, asyncio.run(_build(path, entries, probes, demo_service_base())))
    return _BUILT[key]


class ScaleIncident:
    """A private copy of the shared incident, with a config dir of its own (no user config)."""

    def __init__(self, entries: int = 100_000, probes: int = 50) -> None:
        self.entries, self.probes = entries, probes

    def __enter__(self) -> "ScaleIncident":
        pristine, self.incident_id = built(self.entries, self.probes)
        self.folder = Path(tempfile.mkdtemp(prefix="warroom-bench-run-"))
        self.database = self.folder / "incident.db"
        shutil.copyfile(pristine, self.database)
        os.chmod(self.database, 0o600)
        (self.folder / "config").mkdir()
        self.env = {**os.environ, "TERM": "xterm-256color", "WARROOM_CONFIG_DIR": str(self.folder / "config"),
                    "WARROOM_USER": "bench", "COLORTERM": "truecolor"}
        for name in ("WARROOM_DB", "TEXTUAL_DRIVER", "PYTHONDONTWRITEBYTECODE"):
            self.env.pop(name, None)
        compiled()
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def warroom_argv(self, *args: str) -> list[str]:
        return [str(Path(sys.executable).with_name("warroom")), "--db", str(self.database), *args]
