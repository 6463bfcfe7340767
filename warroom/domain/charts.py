"""Terminal bar charts from block characters: every bar is followed by its number, so nothing
depends on colour (or on the font drawing eighth blocks: the number is the value)."""

from __future__ import annotations

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of `width` cells at `maximum`, in eighths; a value above 0 shows at least ▏."""
    if value <= 0 or maximum <= 0 or width <= 0:
        return ""
    eighths = max(1, round(min(value, maximum) / maximum * width * 8))
    full, rest = divmod(eighths, 8)
    return FULL * full + (EIGHTHS[rest] if rest else "")


MAX_BAR = 48


def bar_chart(rows: list[tuple[str, int]], width: int, indent: str = "  ") -> list[str]:
    """One line per (label, value): label, bar, value; the bars share one scale, fit `width` and
    are at most MAX_BAR cells long."""
    if not rows:
        return []
    label_width = max(len(label) for label, _ in rows)
    number_width = max(len(str(value)) for _, value in rows)
    room = max(4, min(MAX_BAR, width - len(indent) - label_width - number_width - 2))
    top = max(value for _, value in rows)
    return [f"{indent}{label:<{label_width}} {bar(value, top, room):<{room}} {value:>{number_width}}".rstrip()
            for label, value in rows]
