"""The application layer: the one way in for the UI and the CLI.

`IncidentService` reads and writes the incident record (commands, procedures, updates);
`monitor.ProbeMonitor` runs an incident's probes; `delivery` sends posted updates out;
`config` finds the user's files; `demo` seeds the demo war room. Nothing here imports textual.
"""

from warroom.service.incidents import IncidentService, RoleSeat, commander_role
from warroom.service.procedures import PostedUpdate

__all__ = ["IncidentService", "PostedUpdate", "RoleSeat", "commander_role"]
