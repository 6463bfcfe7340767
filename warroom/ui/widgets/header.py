"""The incident header: id, title, severity badge, status, elapsed time (stopped at resolution),
commander (by the policy's name for the role), and what needs attention: overdue or due-soon duties,
overdue action items, other open incidents that owe an update, a clock behind the record. Each has a
glyph and a word, not only a colour. On a tall, wide screen a last line gives the incident's facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rich.text import Text
from textual.widget import Widget

from warroom.domain.attention import Pressing
from warroom.domain.clock import format_duration
from warroom.domain.models import Incident
from warroom.domain.policy import Policy
from warroom.domain.standing import elapsed, shown_status
from warroom.domain.text import visible


@dataclass(frozen=True, slots=True)
class OtherIncidents:
    """Open incidents besides this one, and those of them whose first duty is overdue or due soon."""

    count: int = 0
    overdue: tuple[str, ...] = ()  # incident ids
    due_soon: tuple[str, ...] = ()

    def words(self) -> str:
        """'⧉ 2 other open · ⚠ INC-2 overdue', '⧉ 1 other open · ⏰ INC-3 due soon', '' if none or all quiet."""
        if not self.count or not (self.overdue or self.due_soon):
            return ""
        named, what = (self.overdue, "overdue") if self.overdue else (self.due_soon, "due soon")
        glyph = "⚠" if self.overdue else "⏰"
        more = f" +{len(named) - 1}" if len(named) > 1 else ""
        return f"⧉ {self.count} other open · {glyph} {named[0]}{more} {what} (ctrl+o)"


class IncidentHeader(Widget):
    """One line (two when narrow) that says which incident this is, how bad, and what is late."""

    DEFAULT_CSS = """
    IncidentHeader { height: auto; max-height: 2; background: $panel; color: $foreground; padding: 0 1; }
    IncidentHeader.-clock-warning, IncidentHeader.-facts { max-height: 3; }
    IncidentHeader.-sev-top { background: $error 30%; }
    IncidentHeader.-sev-high { background: $warning 25%; }
    IncidentHeader.-disconnected { background: $warning 40%; }
    """

    COMPONENT_CLASSES = {"header--id", "header--badge", "header--status", "header--muted", "header--alert",
                         "header--warn", "header--warning", "header--mark"}
    DEFAULT_CSS += """
    IncidentHeader > .header--id { text-style: bold; color: $accent; }
    IncidentHeader > .header--badge { text-style: bold reverse; color: $error; }
    IncidentHeader > .header--status { text-style: bold; color: $primary; }
    IncidentHeader > .header--muted { color: $text-muted; }
    IncidentHeader > .header--alert { text-style: bold reverse; color: $error; }
    IncidentHeader > .header--warn { text-style: bold; color: $warning; }
    IncidentHeader > .header--warning { color: $text-warning; text-style: bold; }
    IncidentHeader > .header--mark { text-style: bold reverse; color: $warning; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.incident: Incident | None = None
        self.policy: Policy | None = None
        self.commander: str | None = None
        self.pressing = Pressing((), ())
        self.late_actions = 0
        self.others = OtherIncidents()
        self.mark: Callable[[], str] | None = None  # a drill or a replay says so first: "DRILL", "REPLAY ×60"
        self.clock_warning = ""  # why this computer's clock cannot be trusted now ("" when it can)
        self.facts = False  # room for a second line with the incident's facts
        self.connection: str | None = None  # what is wrong with the database connection, if anything
        self._ticked: tuple | None = None  # what the clock moves, as last drawn (see _moving_words)

    def warn_clock(self, warning: str) -> None:
        """Say (or stop saying, with "") that this computer's clock is behind the record."""
        if warning != self.clock_warning:
            self.clock_warning = warning
            self.set_class(bool(warning), "-clock-warning")
            self._redraw()

    def show_facts(self, shown: bool) -> None:
        if shown != self.facts:
            self.facts = shown
            self.set_class(shown, "-facts")
            self._redraw()

    def show_connection(self, problem: str | None) -> None:
        """Say (first, in words) that the database server is away; None when it is back."""
        self.connection = problem
        self.set_class(problem is not None, "-disconnected")
        self._redraw()

    def _redraw(self) -> None:
        """What the header shows changed: lay it out and draw it again."""
        self._ticked = self._moving_words() if self.is_mounted else None  # None: the first frame says
        self.refresh(layout=True)

    def _moving_words(self) -> tuple:
        """What the clock moves in the header (the elapsed time, the duties' countdowns, a drill's
        or replay's mark): a tick draws again only when these changed since it last looked. Kept
        apart from render(), which anything may call without painting (a test reading the header)."""
        if self.incident is None:
            return ()
        now = self.clock()
        mark = self.mark() if self.mark is not None else ""
        return format_duration(elapsed(self.incident, now)), mark, tuple(w for w, _ in self.attention_words(now))

    def tick(self) -> None:
        """The clock moved (the screen says so once a second): draw again only if what it moves in
        the header changed (the elapsed time moves by the minute, an overdue duty's count by the second)."""
        words = self._moving_words()
        if words != self._ticked:
            self._ticked = words
            self.refresh()

    def show(self, incident: Incident, policy: Policy, commander: str | None) -> None:
        self.incident, self.policy, self.commander = incident, policy, commander
        rank = [s.id for s in policy.severity].index(incident.severity) if policy.find_severity(incident.severity) else 9
        self.set_class(rank == 0, "-sev-top")
        self.set_class(rank == 1, "-sev-high")
        self._redraw()

    def show_attention(self, pressing: Pressing, late_actions: int) -> None:
        """The duties overdue or due soon now, and how many action items are overdue."""
        if (pressing, late_actions) != (self.pressing, self.late_actions):
            self.pressing, self.late_actions = pressing, late_actions
            self._redraw()

    def show_others(self, others: OtherIncidents) -> None:
        if others != self.others:
            self.others = others
            self._redraw()

    def attention_words(self, now: datetime) -> list[tuple[str, str]]:
        """(words, component class) of each thing that needs attention, most pressing first."""
        found = []
        if self.pressing:
            found.append((self.pressing.words(now), "header--alert" if self.pressing.overdue else "header--warn"))
        if self.late_actions:
            plural = "s" if self.late_actions > 1 else ""
            found.append((f"▶ {self.late_actions} action{plural} OVERDUE (F4)", "header--warn"))
        if others := self.others.words():
            found.append((others, "header--alert" if self.others.overdue else "header--warn"))
        return found

    def render(self) -> Text:
        if self._ticked is None:  # the first frame: what the ticks compare with from now on
            self._ticked = self._moving_words()
        return self._line()

    def _line(self) -> Text:
        if self.incident is None:
            return Text(f"⟳ {self.connection}" if self.connection else "loading…")
        incident, policy = self.incident, self.policy
        style = self.get_component_rich_style
        now = self.clock()
        level = policy.find_severity(incident.severity)
        took = format_duration(elapsed(incident, now))
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
        line.append(f"◎ {shown_status(policy, incident)}", style("header--status"))
        line.append(f"  ⏱ {took}" if incident.is_open else f"  ⏱ {took} to resolve", style("header--muted"))
        role = policy.commander_role()
        label = "IC" if role.id.casefold() == "ic" else visible(role.name)
        line.append(f"  {label}: {visible(self.commander) if self.commander else '⚠ unfilled'}  ", style("header--muted"))
        attention = [Text(words, style(name)) for words, name in self.attention_words(now)]
        title = visible(incident.title)
        width = max(20, self.content_region.width or self.size.width or 80)
        if attention:
            line.rstrip()
            line = _packed(line, attention, title, width)
        else:
            line.append(title)
            if self.facts and line.cell_len > width:  # wide enough for one line: cut the title, keep the last
                line.truncate(width, overflow="ellipsis")
        if self.clock_warning:
            last, style_name = f"⚠ {self.clock_warning}", "header--warning"
        elif self.facts:
            facts = [f"Impact: {visible(incident.impact) or 'not set (/set impact)'}"]
            if incident.customer_impact:
                facts.append(f"Who: {visible(incident.customer_impact)}")
            facts.append(f"Services: {visible(', '.join(incident.services)) or 'none (/service add)'}")
            last, style_name = " · ".join(facts), "header--muted"
            last = last if len(last) <= width else last[: width - 1] + "…"
        else:
            return line
        line.append("\n")
        line.append(last, style(style_name))
        return line


def _packed(core: Text, parts: list[Text], title: str, width: int) -> Text:
    """`core`, the attention `parts` and the title in at most two lines of `width`: the parts go
    where they fit (cut if one alone is too wide); the title follows on the first line if it fits
    whole, else on the second, cut with '…' if it must be."""
    lines = [core.copy()]
    for part in parts:
        gap = 0 if lines[-1].cell_len == 0 else 2
        if lines[-1].cell_len + gap + part.cell_len > width and len(lines) == 1:
            lines.append(Text(end=""))
            gap = 0
        room = width - lines[-1].cell_len - gap
        if room <= 1:
            continue
        if gap:
            lines[-1].append("  ")
        piece = part.copy()
        if piece.cell_len > room:
            piece.truncate(room, overflow="ellipsis")
        lines[-1].append_text(piece)
    room = width - lines[-1].cell_len - 2
    if room < Text(title).cell_len and len(lines) == 1:  # a whole title on the next line, not a cut one here
        lines.append(Text(end=""))
        room = width
    if room > 1:
        shown = Text(title)
        if shown.cell_len > room:
            shown.truncate(room, overflow="ellipsis")
        if lines[-1].cell_len:
            lines[-1].append("  ")
        lines[-1].append_text(shown)
    return Text("\n", end="").join(lines)
