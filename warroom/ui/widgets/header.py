"""The incident header: id, title, severity badge, status, ticking elapsed time, commander (by the
policy's name for the role), a warning when this computer's clock is behind the record, and on
a tall, wide screen a second line with the incident's facts (impact, who is affected, services)."""

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
    IncidentHeader.-clock-warning { max-height: 3; }
    IncidentHeader.-sev-top { background: $error 30%; }
    IncidentHeader.-sev-high { background: $warning 25%; }
    IncidentHeader.-disconnected { background: $warning 40%; }
    """

    COMPONENT_CLASSES = {"header--id", "header--badge", "header--status", "header--muted", "header--warning",
                         "header--mark"}
    DEFAULT_CSS += """
    IncidentHeader > .header--id { text-style: bold; color: $accent; }
    IncidentHeader > .header--badge { text-style: bold reverse; color: $error; }
    IncidentHeader > .header--status { text-style: bold; color: $primary; }
    IncidentHeader > .header--muted { color: $text-muted; }
    IncidentHeader > .header--warning { color: $text-warning; text-style: bold; }
    IncidentHeader > .header--mark { text-style: bold reverse; color: $warning; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.incident: Incident | None = None
        self.policy: Policy | None = None
        self.commander: str | None = None
        self.mark: Callable[[], str] | None = None  # a drill or a replay says so first: "DRILL", "REPLAY ×60"
        self.clock_warning = ""  # why this computer's clock cannot be trusted now ("" when it can)
        self.facts = False  # room for a second line with the incident's facts
        self.connection: str | None = None  # what is wrong with the database connection, if anything

    def warn_clock(self, warning: str) -> None:
        """Say (or stop saying, with "") that this computer's clock is behind the record."""
        if warning != self.clock_warning:
            self.clock_warning = warning
            self.set_class(bool(warning), "-clock-warning")
            self.refresh(layout=True)

    def show_facts(self, shown: bool) -> None:
        if shown != self.facts:
            self.facts = shown
            self.refresh(layout=True)

    def show_connection(self, problem: str | None) -> None:
        """Say (first, in words) that the database server is away; None when it is back."""
        self.connection = problem
        self.set_class(problem is not None, "-disconnected")
        self.refresh(layout=True)

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
            return Text(f"⟳ {self.connection}" if self.connection else "loading…")
        incident, policy = self.incident, self.policy
        style = self.get_component_rich_style
        level = policy.find_severity(incident.severity)
        status = policy.find_status(incident.status)
        elapsed = format_duration(self.clock() - incident.created_at)
        line = Text(no_wrap=False, end="")
        if self.connection:
            line.append(f"⟳ {self.connection}  ", style("header--badge"))
        mark = self.mark() if self.mark is not None else ""
        if mark:
            line.append(f" {mark} ", style("header--mark"))
            line.append(" ")
        line.append(f"{incident.id} ", style("header--id"))
        line.append(f" ▲ {incident.severity} {level.label if level else ''} ", style("header--badge"))
        line.append("  ")
        line.append(f"◎ {status.label if status else incident.status}", style("header--status"))
        line.append(f"  ⏱ {elapsed}", style("header--muted"))
        role = policy.commander_role()
        label = "IC" if role.id.casefold() == "ic" else visible(role.name)
        line.append(f"  {label}: {visible(self.commander) if self.commander else '⚠ unfilled'}  ", style("header--muted"))
        line.append(visible(incident.title))
        if not incident.is_open:
            line.append("  [RESOLVED]", style("header--status"))
        width = max(10, self.content_region.width or 80)
        if self.clock_warning:
            second, style_name = f"⚠ {self.clock_warning}", "header--warning"
        elif self.facts:
            facts = [f"Impact: {visible(incident.impact) or 'not set (/set impact)'}"]
            if incident.customer_impact:
                facts.append(f"Who: {visible(incident.customer_impact)}")
            facts.append(f"Services: {visible(', '.join(incident.services)) or 'none (/service add)'}")
            second, style_name = " · ".join(facts), "header--muted"
        else:
            return line
        if self.facts and line.cell_len > width:  # wide enough for one line: cut the title, keep the second
            line.truncate(width, overflow="ellipsis")
        second = second if len(second) <= width or self.clock_warning else second[: width - 1] + "…"
        line.append("\n")
        line.append(second, style(style_name))
        return line
