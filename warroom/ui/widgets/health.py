"""The health pane: probes worst state first, each with glyph, word, latency and last check."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.domain.text import visible


@dataclass(frozen=True, slots=True)
class ProbeRow:
    """What the pane shows of one probe (built by the screen from engine snapshots)."""

    name: str
    glyph: str
    word: str
    severity_rank: int  # 0 = worst
    latency: str = ""
    sparkline: str = ""
    uptime: str = ""
    last_check: str = ""
    style_class: str = "health--unknown"


class HealthPane(OptionList):
    COMPONENT_CLASSES = {"health--down", "health--warn", "health--up", "health--unknown"}
    DEFAULT_CSS = """
    HealthPane > .health--down { color: $error; text-style: bold; }
    HealthPane > .health--warn { color: $warning; text-style: bold; }
    HealthPane > .health--up { color: $success; }
    HealthPane > .health--unknown { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[ProbeRow] = []

    def show(self, rows: list[ProbeRow]) -> None:
        self.rows = sorted(rows, key=lambda r: (r.severity_rank, r.name))
        highlighted = self.highlighted
        self.clear_options()
        if not self.rows:
            self.add_option(Option(Text("No probes. Add one: /probe add NAME URL", style="italic"), disabled=True))
            return
        for row in self.rows:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{row.glyph} {row.word:<8} ", self.get_component_rich_style(row.style_class))
            line.append(visible(row.name))
            details = " ".join(part for part in (row.latency, row.sparkline, row.uptime, row.last_check) if part)
            if details:
                line.append(f"  {details}", self.get_component_rich_style("health--unknown"))
            self.add_option(Option(line, id=row.name))
        if highlighted is not None and self.option_count:
            self.highlighted = min(highlighted, self.option_count - 1)
