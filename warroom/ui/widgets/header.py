"""The incident header: id, title, severity badge, status, ticking elapsed time, commander."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from rich.text import Text
from textual.widget import Widget

from warroom.domain.clock import format_duration
from warroom.domain.models import Incident
from warroom.domain.policy import Policy
from warroom.domain.text import visible


class IncidentHeader(Widget):
    """One line (two when narrow) that says which incident this is and how bad."""

    DEFAULT_CSS = """
    IncidentHeader { height: auto; max-height: 2; background: $panel; color: $foreground; padding: 0 1; }
    IncidentHeader.-sev-top { background: $error 30%; }
    IncidentHeader.-sev-high { background: $warning 25%; }
    """

    COMPONENT_CLASSES = {"header--id", "header--badge", "header--status", "header--muted", "header--mark"}
    DEFAULT_CSS += """
    IncidentHeader > .header--id { text-style: bold; color: $accent; }
    IncidentHeader > .header--badge { text-style: bold reverse; color: $error; }
    IncidentHeader > .header--status { text-style: bold; color: $primary; }
    IncidentHeader > .header--muted { color: $text-muted; }
    IncidentHeader > .header--mark { text-style: bold reverse; color: $warning; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.incident: Incident | None = None
        self.policy: Policy | None = None
        self.commander: str | None = None
        self.mark: Callable[[], str] | None = None  # a drill or a replay says so first: "DRILL", "REPLAY ×60"

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def show(self, incident: Incident, policy: Policy, commander: str | None) -> None:
        self.incident, self.policy, self.commander = incident, policy, commander
        rank = [s.id for s in policy.severity].index(incident.severity) if policy.find_severity(incident.severity) else 9
        self.set_class(rank == 0, "-sev-top")
        self.set_class(rank == 1, "-sev-high")
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.incident is None:
            return Text("loading…")
        incident, policy = self.incident, self.policy
        style = self.get_component_rich_style
        level = policy.find_severity(incident.severity)
        status = policy.find_status(incident.status)
        elapsed = format_duration(self.clock() - incident.created_at)
        line = Text(no_wrap=False, end="")
        mark = self.mark() if self.mark is not None else ""
        if mark:
            line.append(f" {mark} ", style("header--mark"))
            line.append(" ")
        line.append(f"{incident.id} ", style("header--id"))
        line.append(f" ▲ {incident.severity} {level.label if level else ''} ", style("header--badge"))
        line.append("  ")
        line.append(f"◎ {status.label if status else incident.status}", style("header--status"))
        line.append(f"  ⏱ {elapsed}", style("header--muted"))
        line.append(f"  IC: {visible(self.commander) if self.commander else '⚠ unfilled'}  ", style("header--muted"))
        line.append(visible(incident.title))
        if not incident.is_open:
            line.append("  [RESOLVED]", style("header--status"))
        return line
