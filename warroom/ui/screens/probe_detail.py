"""One probe in detail: configuration and conditions, the last error in full, recent results and
the state history, all as the incident's lease holder stored them (the same on every screen).
Opened with Enter from the Health pane; Esc closes, r reloads, p pauses."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from warroom.domain.text import visible
from warroom.probes.config import DEFAULT_CONDITIONS, format_seconds
from warroom.ui.widgets.health import format_latency, sparkline


def _when(moment: datetime, now: datetime) -> str:
    """UTC with the zone, dated when not today."""
    return f"{moment:%H:%M:%S} UTC" if moment.date() == now.date() else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def describe_probe(view, recent, history, now: datetime, checked_here: bool = True) -> Text:
    """The whole detail text for one probe (plain rich Text: nothing from a target is markup)."""
    spec = view.spec
    text = Text()
    text.append(f"{view.state.glyph} {view.state.word}", "bold")
    text.append("  ")
    text.append(visible(spec.name), "bold")
    if spec.group:
        text.append(f"  (group {visible(spec.group)})")
    if view.paused:
        text.append("  ⏸ paused")
    if view.since:
        text.append(f"\nIn this state since {_when(view.since, now)}")
    text.append("\nChecked by this screen" if checked_here else "\nChecked by another war-room screen on this incident")
    text.append("\n\nConfiguration\n", "bold underline")
    what = f"{spec.method} {spec.shown_target}" if spec.type == "http" else spec.target
    text.append(f"  {spec.type} {visible(what)}\n")
    text.append(f"  every {format_seconds(view.interval)}, timeout {format_seconds(spec.timeout)}, "
                f"DOWN after {spec.failure_threshold} failures, UP after {spec.success_threshold} successes")
    if spec.degraded_over is not None:
        text.append(f", DEGRADED over {spec.degraded_over:.0f} ms")
    if spec.retries:
        text.append(f", {spec.retries} retries")
    text.append(f"\n  source: {'attached to this incident' if view.attached else 'probe file'}\n")
    for name in spec.redacted().get("headers", {}):
        text.append(f"  header {visible(name)}: {visible(spec.redacted()['headers'][name])}\n")
    text.append("\nConditions (all must hold)\n", "bold underline")
    for condition in spec.conditions or DEFAULT_CONDITIONS[spec.type]:
        text.append(f"  • {visible(condition)}\n")
    result = view.last_result
    text.append("\nLast check\n", "bold underline")
    if result is None:
        text.append("  not checked yet\n")
    else:
        text.append(f"  {_when(result.checked_at, now)}  {'ok' if result.ok else 'FAILED'}  "
                    f"{format_latency(result.latency_ms)}")
        if result.status_code is not None:
            text.append(f"  HTTP {result.status_code}")
        if result.phases:
            text.append("  (" + ", ".join(f"{k} {v:.0f}ms" for k, v in result.phases.items()) + ")")
        text.append("\n")
        if result.failed_condition:
            text.append(f"  failing condition: {visible(result.failed_condition)}\n")
        if result.error:
            text.append(f"  error: {visible(result.error)}\n")
        if result.excerpt:
            text.append(f"  body: {visible(result.excerpt)}\n")
        if result.answers:
            text.append(f"  answers: {', '.join(result.answers)}\n")
    uptime = view.uptime
    text.append(f"\nUptime over the window: {uptime.percent()} of {uptime.checks} checks   "
                f"recent: {sparkline(view.recent_latencies, 30)}\n")
    text.append("\nRecent results (newest first)\n", "bold underline")
    if not recent:
        text.append("  none stored yet\n")
    for row in recent:
        line = f"  {_when(row.checked_at, now)}  {'ok  ' if row.ok else 'FAIL'}  {format_latency(row.latency_ms):>6}"
        if row.status_code is not None:
            line += f"  {row.status_code}"
        why = row.failed_condition or row.error
        text.append(line + (f"  {visible(why)}" if why else "") + "\n")
    text.append("\nState history (the probe entries of the timeline)\n", "bold underline")
    if not history:
        text.append("  no changes yet\n")
    for transition in history:
        text.append(f"  {_when(transition.at, now)}  {transition.old.label} → {transition.new.label}")
        if transition.reason:
            text.append(f": {visible(transition.reason)}")
        text.append("\n")
    return text


class ProbeDetailScreen(ModalScreen[None]):
    """Details of one probe from a running ProbeMonitor."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "reload", "Refresh"),
        Binding("p", "pause", "Pause/resume"),
    ]
    DEFAULT_CSS = """
    ProbeDetailScreen { align: center middle; }
    ProbeDetailScreen > VerticalScroll {
        width: 100; max-width: 96%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, monitor, name: str) -> None:
        super().__init__()
        self.monitor, self.probe_name = monitor, name
        self.text = Text()
        self._shown = None

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Probe"
            scroll.border_subtitle = "Esc close · r refresh · p pause/resume"
            yield Static(Text("Loading…"), id="probe-detail")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.action_reload()
        self.set_interval(1.0, self._follow)

    def _follow(self) -> None:
        """Read again when the monitor's board moved (the holder stored something new)."""
        if self.monitor.view(self.probe_name) is not self._shown:
            self.action_reload()

    @work(exclusive=True)
    async def action_reload(self) -> None:
        view = self._shown = self.monitor.view(self.probe_name)
        if view is None:
            self.query_one("#probe-detail", Static).update(Text(f"No probe named {self.probe_name} any more."))
            return
        recent = await self.monitor.recent_results(self.probe_name, 20)
        history = await self.monitor.history(self.probe_name, 20)
        self.text = describe_probe(view, recent, history, self.monitor.clock(), self.monitor.writing)
        self.query_one("#probe-detail", Static).update(self.text)

    @work(exclusive=True, group="pause")
    async def action_pause(self) -> None:
        paused = await self.monitor.toggle_pause(self.probe_name)
        self.notify(f"{visible(self.probe_name)} {'paused' if paused else 'resumed'}", markup=False)
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)
