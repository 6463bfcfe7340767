"""The Health pane: probes worst state first, each with glyph and word, since when (when not
healthy), latency, uptime over the window, time since the last check and a sparkline of recent
latencies (last, so a narrow pane cuts it first).

Keys (when the pane has focus): Enter details, c check all now, f fast mode, p pause/resume.
The pane runs the incident's ProbeMonitor (warroom.service.monitor; started by `watch_incident`,
stopped when the pane goes) and shows its board: what the incident's lease holder stored, so
every screen on the incident shows the same. It redraws when the board changes (`BoardChanged`)
and when the screen ticks, once a second (`refresh_rows`: the "ago" figures), in the same frame as
the header's clock and the countdown; only the rows whose drawing changed are drawn again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.domain.clock import format_duration
from warroom.domain.text import visible
from warroom.probes.states import ProbeState

SPARK = "▁▂▃▄▅▆▇█"
SPARK_FAILED = "×"
SPARK_WIDTH = 12
_STYLE = {
    ProbeState.DOWN: "health--down", ProbeState.STALE: "health--warn", ProbeState.PENDING: "health--warn",
    ProbeState.DEGRADED: "health--warn", ProbeState.UP: "health--up", ProbeState.UNKNOWN: "health--unknown",
}


def sparkline(values: tuple[float | None, ...] | list[float | None], width: int = SPARK_WIDTH) -> str:
    """Recent latencies as block characters (relative to the largest shown); × marks a failed check."""
    shown = list(values)[-width:]
    top = max((value for value in shown if value is not None), default=0.0)
    out = []
    for value in shown:
        if value is None:
            out.append(SPARK_FAILED)
        elif top <= 0:
            out.append(SPARK[0])
        else:
            out.append(SPARK[min(len(SPARK) - 1, int(value / top * (len(SPARK) - 1) + 0.5))])
    return "".join(out)


def format_uptime(ratio: float | None) -> str:
    """'up 100%', 'up 99.2%', 'up —' (no checks in the window yet)."""
    if ratio is None:
        return "up —"
    return "up 100%" if ratio >= 1 else f"up {100 * ratio:.1f}%"


def format_latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f}ms" if ms < 10_000 else f"{ms / 1000:.0f}s"


def checked_ago(age: timedelta) -> str:
    """'<5s ago', then in steps of 5 s up to a minute ('35s ago'), then as format_duration ('3m ago'):
    a row changes a few times a probe interval, not every second (the pane redraws what changed)."""
    seconds = age.total_seconds()
    if seconds < 5:
        return "<5s ago"
    if seconds < 60:
        return f"{int(seconds) // 5 * 5}s ago"
    return format_duration(age) + " ago"


@dataclass(frozen=True, slots=True)
class ProbeRow:
    """What the pane shows of one probe (built from the monitor's ProbeView)."""

    name: str
    glyph: str
    word: str
    severity_rank: int  # 0 = worst
    latency: str = ""
    since: str = ""
    sparkline: str = ""
    uptime: str = ""
    last_check: str = ""
    style_class: str = "health--unknown"
    paused: bool = False

    @classmethod
    def from_view(cls, view, now: datetime) -> "ProbeRow":
        result, state = view.last_result, view.state
        ago = checked_ago(now - result.checked_at) if result else "not checked yet"
        since = ""
        if view.since is not None and state not in (ProbeState.UP, ProbeState.UNKNOWN):
            since = f"since {view.since:%H:%M}" if view.since.date() == now.date() else f"since {view.since:%m-%d %H:%M}"
        return cls(
            name=view.name, glyph=state.glyph, word=state.word, severity_rank=state.rank,
            latency=format_latency(result.latency_ms) if result and result.ok else "", since=since,
            sparkline=sparkline(view.recent_latencies), uptime=format_uptime(view.uptime.ratio),
            last_check=ago, style_class=_STYLE[state], paused=view.paused,
        )


class HealthPane(OptionList):
    """Probe health, worst first. Enter opens a probe's details."""

    COMPONENT_CLASSES = {"health--down", "health--warn", "health--up", "health--unknown"}
    DEFAULT_CSS = """
    HealthPane > .health--down { color: $error; text-style: bold; }
    HealthPane > .health--warn { color: $warning; text-style: bold; }
    HealthPane > .health--up { color: $success; }
    HealthPane > .health--unknown { color: $text-muted; }
    """
    BINDINGS = [
        Binding("c", "check_now", "Check now", tooltip="Check every probe at once"),
        Binding("f", "fast_mode", "Fast", tooltip="Every probe every 5 s for 5 minutes (again: back to normal)"),
        Binding("p", "pause", "Pause", tooltip="Pause or resume the selected probe"),
    ]

    class BoardChanged(Message):
        """The monitor read the stored probe states again."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[ProbeRow] = []
        self.monitor = None
        self.board_shown = False  # the stored states are shown (the first frame has them)
        self._shown: list[ProbeRow] | None = None
        self._said: str | None = None  # what an empty pane says (see _empty_words)
        self._fitted_to: tuple[int, bool] | None = None  # the geometry the rows were made for

    def on_resize(self) -> None:
        self._fit()

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        """Textual's, then the rows for the new size at once: during the layout, so the frame drawn
        right after it has them (on_resize comes after that frame, and a second one followed)."""
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        self._fit()
        return changed

    def _fit(self) -> None:
        """Rows for the pane's size (one or two lines a probe, cut to the width), when it changed."""
        if self._geometry(len(self.rows)) != self._fitted_to:
            self._shown = None
            self.show(self.rows)

    def _geometry(self, count: int) -> tuple[int, bool]:
        """(the width rows are cut to, one line a probe) for `count` probes in the pane as laid out:
        from its content region with the scrollbar's room, so the rows do not change when the
        scrollbar appears (it shows when the rows are more than the pane's lines)."""
        region = self.content_region
        compact = 0 < region.height < 2 * count
        bar = self.styles.scrollbar_size_vertical if (count if compact else 2 * count) > region.height else 0
        return max(10, region.width - bar - 2), compact  # and room for a scrollbar

    def show_board(self, monitor) -> None:
        """Show the stored states a monitor read (`show_stored`), before it runs (`watch_incident`)."""
        monitor.on_board = lambda: self.post_message(self.BoardChanged())
        self.refresh_rows(monitor)
        self.board_shown = True

    @work(group="probes", exclusive=True)
    async def watch_incident(self, incident_id: str, monitor=None) -> None:
        """Start the incident's probe monitor (`monitor`: one already showing the stored states)."""
        if monitor is None:
            monitor = probe_monitor(self.app, incident_id)
            await monitor.show_stored()  # the stored rows in the first frame; checking starts after it
            self.show_board(monitor)
        await self._first_frame_drawn()
        await monitor.start()
        self.monitor = monitor
        self.refresh_rows()
        settle = getattr(self.app, "settle_heap", None)  # the HTTP clients are imported now (see WarRoomApp)
        if settle is not None:
            settle()

    async def _first_frame_drawn(self) -> None:
        """The screen's first full frame (a war room's `first_frame`), else this pane's rows, drawn."""
        drawn = getattr(self.screen, "first_frame", None)
        if drawn is None:
            drawn = asyncio.Event()
            self.call_after_refresh(drawn.set)
        await drawn.wait()

    async def on_unmount(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()

    def on_health_pane_board_changed(self, message: BoardChanged) -> None:
        """A change of state (or of the probes) is drawn at once; new figures alone (latency,
        sparkline: every stored batch of results) wait for the once-a-second redraw."""
        if self.monitor is None:
            return
        shown = {row.name: row.word for row in self.rows}
        if shown != {view.name: view.state.word for view in self.monitor.views()}:
            self.refresh_rows()

    def refresh_rows(self, monitor=None) -> None:
        monitor = monitor or self.monitor
        if monitor is None:
            return
        now = monitor.clock()
        self.show([ProbeRow.from_view(view, now) for view in monitor.views()])
        remaining = monitor.fast_remaining()
        subtitle = f"fast {format_duration_short(remaining)}" if remaining is not None else ""
        if subtitle != self.border_subtitle:  # setting it draws the whole pane again, even unchanged
            self.border_subtitle = subtitle

    @property
    def selected_name(self) -> str | None:
        if self.highlighted is None or not self.rows:
            return None
        option = self.get_option_at_index(self.highlighted)
        return option.id

    def show(self, rows: list[ProbeRow]) -> None:
        """Replace the rows (worst first), keeping the same probe highlighted. When the probes and
        their order are the same, only the rows drawn differently are redrawn (each second, the
        "ago"; when the pane is short, one line a probe, the "ago" is not shown and nothing is)."""
        rows = sorted(rows, key=lambda r: (r.severity_rank, r.name))
        said = None if rows else self._empty_words()
        if rows == self._shown and said == self._said:
            return
        self._said = said
        width, compact = self._fitted_to = self._geometry(len(rows))
        styles = {name: self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
        shown = self._shown
        if shown and len(shown) == len(rows) == self.option_count and \
                all(old.name == row.name for old, row in zip(shown, rows)):
            self.rows, self._shown = rows, rows
            for index, (old, row) in enumerate(zip(shown, rows)):
                if old != row:
                    prompt = self._render_row(row, width, compact, styles)
                    if prompt != self.get_option_at_index(index).prompt:
                        self._redraw_row(index, prompt)
            return
        # with focus the cursor stays on its probe; without, the worst probe is kept in view
        keep = self.selected_name if self.has_focus else None
        self.rows, self._shown = rows, rows
        self.clear_options()
        if not rows:
            self.add_option(Option(Text(said, style="italic"), disabled=True))
            return
        self.add_options([Option(self._render_row(row, width, compact, styles), id=row.name) for row in rows])
        names = [row.name for row in rows]
        self.highlighted = names.index(keep) if keep in names else 0

    def _empty_words(self) -> str:
        """What a pane without rows says: the monitor is starting (the demo's probes and a --probes
        file are read when it runs), the probes wait for the lease holder to describe and check them
        (a holder that just went away is taken over when its lease runs out), or there are none."""
        if self.monitor is None:
            return "Starting the probes..."
        defined = self.monitor.defined()
        if defined:
            return f"{defined} probe{'s' if defined != 1 else ''}: no results yet (waiting for the holder of the probe lease)"
        return "No probes. Add one: /probe add NAME URL"

    def _redraw_row(self, index: int, prompt: Text) -> None:
        """A new prompt for the option at `index`, of the same height (each line is cut to the
        width): only its own lines are drawn again. OptionList's replace_option_prompt_at_index
        drops every option's rendering and draws the whole pane (13 ms for 50 probes, each second)."""
        option = self.get_option_at_index(index)
        cache = getattr(self, "_option_render_cache", None)
        if cache is None or not hasattr(self, "_index_to_line"):  # another Textual: the plain way
            self.replace_option_prompt_at_index(index, prompt)
            return
        option._set_prompt(prompt)
        for key in [key for key in cache.keys() if key[0] is option]:
            cache.discard(key)
        self.refresh_lines(self._index_to_line[index], self._heights[index])

    def _render_row(self, row: ProbeRow, width: int, compact: bool, styles: dict) -> Text:
        """Two lines a probe (state and name; figures), or one when the pane is short. Each line is
        cut to the width here, so nothing wraps."""
        state = Text(f"{row.glyph} {row.word:<8} " if width >= 30 else f"{row.glyph} {row.word} ",
                     styles[row.style_class])
        head = state + Text(visible(row.name), "bold" if row.severity_rank <= 2 else "")
        figures = ("⏸ paused · " if row.paused else "") + " ".join(
            part for part in (row.since, row.latency, row.uptime, row.last_check, row.sparkline) if part)
        muted = styles["health--unknown"]
        if compact:
            when = row.since.removeprefix("since ")  # one line: "▼ DOWN api 14:02" (down since 14:02)
            head.append(f" {when or row.latency}" + (" ⏸ paused" if row.paused else ""), muted)
            head.truncate(width, overflow="ellipsis")
            return head
        head.truncate(width, overflow="ellipsis")
        second = Text("  " + figures, muted)
        second.truncate(width, overflow="ellipsis")
        return Text("\n").join([head, second])

    # -- keys --------------------------------------------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from warroom.ui.screens.probe_detail import ProbeDetailScreen

        event.stop()
        if event.option.id and self.monitor is not None:
            self.app.push_screen(ProbeDetailScreen(self.monitor, event.option.id))

    @work(group="probe-command", exclusive=True)
    async def action_check_now(self) -> None:
        if self.monitor is None:
            self.notify("Probes are not running", severity="warning")
            return
        self.notify("Checking every probe now…")
        results = await self.monitor.check_now()
        if results is None:
            self.notify("Check asked of the screen that runs the probes; results show here")
            return
        failed = sum(not result.ok for result in results)
        self.notify(f"Checked {len(results)} probes: {failed} failing", severity="warning" if failed else "information")
        self.refresh_rows()

    @work(group="probe-command")
    async def action_fast_mode(self) -> None:
        if self.monitor is None:
            self.notify("Probes are not running", severity="warning")
            return
        duration = await self.monitor.toggle_fast()
        if duration is None:
            self.notify("Fast mode off: probes back to their own intervals")
        else:
            self.notify(f"Fast mode: every probe every {self.monitor.fast_interval:g}s "
                        f"for {format_duration_short(duration)}")
        self.refresh_rows()

    @work(group="probe-command")
    async def action_pause(self) -> None:
        name = self.selected_name
        if self.monitor is None or name is None:
            self.notify("Select a probe first", severity="warning")
            return
        paused = await self.monitor.toggle_pause(name)
        self.notify(f"{visible(name)} {'paused' if paused else 'resumed'}", markup=False)
        self.refresh_rows()


def probe_monitor(app, incident_id: str):
    """The incident's ProbeMonitor as the war room runs it: the probe file and retention from the
    app, problems as toasts (`show_stored()` it, then `HealthPane.watch_incident` runs it)."""
    from warroom.service.monitor import ProbeMonitor
    from warroom.service.probe_sources import retention_setting

    problem = lambda text: app.notify(text, title="Probes", severity="error", timeout=12, markup=False)  # noqa: E731
    retention, wrong = retention_setting(app.config.probe_retention)
    if wrong:
        problem(wrong)
    return ProbeMonitor(app.service, incident_id, probes_path=getattr(app, "probes_path", None), on_problem=problem,
                        retention=retention)


def format_duration_short(seconds: float) -> str:
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
