"""The one table `python -m bench` prints at the end: each path beside its floor or peer, as a ratio.

A benchmark adds rows with `add(...)`; `render()` lays them out. A row's target is either a
ratio (`max_ratio`: ours / peer at most this) or an absolute bound (`max_value`, in the row's
unit); `met` says whether the figure is within it (smoke runs say "smoke": too small to judge).
"""

from __future__ import annotations

from dataclasses import dataclass

ROWS: list["Row"] = []


@dataclass(frozen=True)
class Row:
    path: str
    ours: float
    peer: float | None
    unit: str  # "ms", "s", "MiB", "%"
    peer_name: str
    max_ratio: float | None = None
    max_value: float | None = None
    smoke: bool = False

    @property
    def ratio(self) -> float | None:
        if self.peer is None or not self.peer or self.ours != self.ours:
            return None
        return self.ours / self.peer

    @property
    def met(self) -> str:
        if self.smoke:
            return "smoke"
        if self.ours != self.ours:
            return "NO"
        checks = []
        if self.max_ratio is not None and self.ratio is not None:
            checks.append(self.ratio <= self.max_ratio)
        if self.max_value is not None:
            checks.append(self.ours <= self.max_value)
        return "-" if not checks else ("yes" if all(checks) else "NO")

    @property
    def target(self) -> str:
        parts = []
        if self.max_ratio is not None:
            parts.append(f"<= {self.max_ratio:g}x")
        if self.max_value is not None:
            parts.append(f"<= {_figure(self.max_value, self.unit)}")
        return ", ".join(parts) or "-"


def add(path: str, ours: float, peer: float | None, unit: str, peer_name: str, *, max_ratio: float | None = None,
        max_value: float | None = None, smoke: bool = False) -> Row:
    """Record one row (and return it, for a benchmark that prints its own lines too)."""
    row = Row(path, ours, peer, unit, peer_name, max_ratio, max_value, smoke)
    ROWS.append(row)
    return row


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if value != value:
        return "never"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:g} {unit}"


def render(rows: list[Row] | None = None) -> str:
    """A Markdown table (readable as is in a terminal, and pasted as is into the README)."""
    rows = ROWS if rows is None else rows
    header = ("path", "warroom", "floor / peer", "ratio", "target", "met")
    body = [(row.path, _figure(row.ours, row.unit),
             f"{row.peer_name}: {_figure(row.peer, row.unit)}" if row.peer is not None else row.peer_name,
             f"{row.ratio:.2f}x" if row.ratio is not None else "-", row.target, row.met) for row in rows]
    widths = [max(len(line[column]) for line in [header, *body]) for column in range(len(header))]

    def line(cells) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|",
                      *(line(cells) for cells in body)])
