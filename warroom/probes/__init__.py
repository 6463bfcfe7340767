"""Health probes: configuration, checks, states and the engine that runs them (no UI imports)."""

from warroom.probes.config import (
    MissingSecret,
    ProbeConfigError,
    ProbeSpec,
    load_probe_file,
    make_http_probe,
    parse_probes,
    spec_from_dict,
)
from warroom.probes.engine import ProbeEngine, ProbeStatus
from warroom.probes.oneshot import CheckRow, exit_code, format_table, rows_as_json, run_once
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, ProbeTracker, Transition

__all__ = [
    "CheckRow", "MissingSecret", "ProbeConfigError", "ProbeEngine", "ProbeResult", "ProbeSpec", "ProbeState",
    "ProbeStatus", "ProbeTracker", "Transition", "exit_code", "format_table", "load_probe_file",
    "make_http_probe", "parse_probes", "rows_as_json", "run_once", "spec_from_dict",
]
