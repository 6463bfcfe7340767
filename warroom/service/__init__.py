"""The application layer: the one way in for the UI and the CLI.

`IncidentService` reads and writes the incident record (commands, procedures, updates);
`monitor.ProbeMonitor` runs an incident's probes; `delivery` sends posted updates out;
`config` finds the user's files; `demo` seeds the demo war room. Nothing here imports textual.

The names below are imported when first used: importing `warroom.service.config` (every command
reads the config) does not load the whole layer.
"""

_LAZY = {"IncidentService": "incidents", "RoleSeat": "incidents", "commander_role": "incidents",
         "PostedUpdate": "procedures"}

__all__ = ["IncidentService", "PostedUpdate", "RoleSeat", "commander_role"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
