"""Start-up and idle benchmark: `warroom open` on 100,000 entries and 50 probes under a
pseudo-terminal (the real driver, as in tmux), side by side with a bare Textual app with the same
widgets, in interleaved runs.

    python -m bench.bench_startup            # 100,000 entries, 5 start-ups each, 2 x 30 s idle each
    python -m bench.bench_startup --smoke    # 2,000 entries, 1 start-up each, 2 s idle

* start-up: from fork to the first full frame: the newest entry, the first probe and the entry
  bar's placeholder all on screen (the bare app: its last timeline line, first health row and
  placeholder). Peak RSS (VmHWM) at that moment.
* idle CPU: the process's user+system time over 30 s, starting 5 s after the first frame, with
  the war room's 50 probes checked every 30 s by it (it holds the probe lease). The bare app ticks
  its clock and countdown once a second, as the war room's header and countdown do.

Targets (issue 14): start-up <= 1.5x the bare app, peak RSS <= 1.5x, idle CPU <= 3 % of a core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench import table
from bench.scale import ScaleIncident
from bench.terminal import Terminal

BARE_APP = r'''
import sys
from datetime import datetime, timezone
from rich.segment import Segment
from rich.text import Text
from textual.app import App
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Digits, Footer, Input, OptionList, Static

ENTRIES = int(sys.argv[1])


def line(index):  # made when drawn: the bare app holds no data
    return f"{index:>6} 14:{index % 60:02d}:00  note  alice  entry {index}: checkout latency p99 ms"


class Lines(ScrollView):
    def on_mount(self):
        self.virtual_size = Size(self.size.width, ENTRIES)
        self.call_after_refresh(lambda: self.scroll_end(animate=False))

    def render_line(self, y):
        row = self.scroll_offset.y + y
        text = line(row) if row < ENTRIES else ""
        return Strip([Segment(text.ljust(self.size.width))], self.size.width)


class Bare(App):
    CSS = """
    #body { height: 1fr; } #main { width: 1fr; } #side { width: 36; }
    Lines, Vertical#count, OptionList { border: round $panel-lighten-2; }
    #detail { height: 3; } #roles { height: auto; max-height: 9; } #health { height: 1fr; }
    Input { dock: bottom; margin-bottom: 1; }
    """

    def compose(self):
        yield Static("INC-1  SEV-2  investigating", id="header")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Lines()
                yield Static("", id="detail")
            with Vertical(id="side"):
                with Vertical(id="count"):
                    yield Digits("12:00")
                    yield Static("notify executives")
                yield OptionList(*[f"role {n}: alice" for n in range(5)], id="roles")
                yield OptionList(*[f"UP probe-{n:02d} 3ms up 100%" for n in range(50)], id="health")
        yield Input(placeholder="Type a note, or /command. Enter to log.")
        yield Footer()

    def on_mount(self):
        self.query_one(Input).focus()
        self.set_interval(1.0, self.tick)

    def tick(self):
        now = datetime.now(timezone.utc)
        self.query_one("#header", Static).update(f"INC-1  SEV-2  investigating  {now:%H:%M:%S}")
        self.query_one(Digits).update(f"{now:%M:%S}")


Bare().run()
'''
READY = b"Enter to log"
SETTLE = 8.0  # seconds the first open runs on: the engine spreads the first checks over 5 s


def _frame(argv: list[str], env: dict[str, str], needles: list[bytes], idle: float = 0.0,
           idle_after: float = 5.0, settle: float = 0.0) -> dict:
    """One start: seconds to the first full frame, peak RSS then, and CPU % over `idle` seconds
    (`settle`: seconds it runs on after the frame, unmeasured, before it is closed)."""
    terminal = Terminal(argv, env)
    try:
        terminal.read_until_all(needles, 120)
        import time

        shown = time.perf_counter() - terminal.started
        rss = terminal.peak_rss_mib()
        terminal.idle(settle)
        cpu = float("nan")
        if idle:
            terminal.idle(idle_after)
            begin, begin_cpu = time.perf_counter(), terminal.cpu_seconds()
            terminal.idle(idle)
            cpu = 100 * (terminal.cpu_seconds() - begin_cpu) / (time.perf_counter() - begin)
        return {"start": shown, "rss": rss, "cpu": cpu}
    finally:
        terminal.close()


def measure(entries: int, starts: int, idle_rounds: int, idle: float, idle_after: float,
            settle: float = SETTLE) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {"warroom": [], "bare": []}
    with ScaleIncident(entries=entries, probes=50) as scale, tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bare.py"
        script.write_text(BARE_APP)
        last = f"entry {entries - 1}:".encode()
        runs = {
            "warroom": (scale.warroom_argv("open", scale.incident_id), [last, b"probe-00", READY]),
            "bare": ([sys.executable, str(script), str(entries)], [last, b"probe-00", READY]),
        }
        # The first open checks every probe once (within 5 s of its first frame) and stores its state;
        # later ones start from them. Closed at its first frame it checked none: the first idle
        # round then measured all 50 probes' first changes of state (UNKNOWN to UP) as idle time.
        _frame(runs["warroom"][0], scale.env, runs["warroom"][1], settle=settle)
        for _ in range(starts):
            for name, (argv, needles) in runs.items():
                results[name].append(_frame(argv, scale.env, needles))
        for _ in range(idle_rounds):
            for name, (argv, needles) in runs.items():
                results[name].append(_frame(argv, scale.env, needles, idle=idle, idle_after=idle_after))
    return results


def report(results: dict[str, list[dict]], smoke: bool) -> None:
    def median(name: str, key: str) -> float:
        values = [run[key] for run in results[name] if run[key] == run[key]]
        return statistics.median(values) if values else float("nan")

    for key, label, unit, scale_by, limits in (
            ("start", "start-up to first full frame, 100k entries + 50 probes", "s", 1, {"max_ratio": 1.5}),
            ("rss", "peak RSS at the first frame", "MiB", 1, {"max_ratio": 1.5}),
            ("cpu", "idle CPU, 50 probes at 30 s (% of a core)", "%", 1, {"max_value": 3.0})):
        ours, bare = median("warroom", key) * scale_by, median("bare", key) * scale_by
        row = table.add(label, ours, bare, unit, "bare Textual app, same widgets", smoke=smoke, **limits)
        print(f"{label}: warroom {ours:.3f} {unit}, bare {bare:.3f} {unit}, ratio {row.ratio or float('nan'):.2f}x"
              f" ({len(results['warroom'])} runs each)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 entries, one start each, 2 s idle")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured per run")
    args = parser.parse_args(argv)
    if args.smoke:
        results = measure(2_000, 1, 1, 2.0, 0.5, settle=0.0)
    else:
        results = measure(args.entries, args.starts, 2, args.idle, 5.0)
    report(results, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
