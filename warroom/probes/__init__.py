"""Health probes: configuration, checks, states and the engine that runs them (no UI imports).

The names below are loaded on first use (PEP 562), so a command that only needs the probe
configuration (every CLI command that opens the service) does not pay for importing the HTTP
clients the checks use."""

from importlib import import_module
from typing import Any

_HOMES = {
    "MissingSecret": "config", "ProbeConfigError": "config", "ProbeSpec": "config", "load_probe_file": "config",
    "make_http_probe": "config", "parse_probes": "config", "spec_from_dict": "config",
    "ProbeEngine": "engine", "ProbeStatus": "engine",
    "CheckRow": "oneshot", "exit_code": "oneshot", "format_table": "oneshot", "rows_as_json": "oneshot",
    "run_once": "oneshot",
    "ProbeResult": "result",
    "ProbeState": "states", "ProbeTracker": "states", "Transition": "states",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
