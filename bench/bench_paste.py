"""Paste benchmark: how long a key typed right after a 1 MB paste waits for its echo.

    python -m bench.bench_paste            # 1 MB paste, 5 rounds
    python -m bench.bench_paste --smoke    # 100 kB paste, 1 round

Two parts, side by side:

* terminal: `warroom open ID` runs under a pseudo-terminal (the real driver, as in tmux or ssh).
  Each round clears the bar (Ctrl+U), writes a bracketed paste and a marker key in one go, and
  times until the marker is on screen: the key echo delay behind the paste. The same with a
  two-line paste and with no paste gives the floor (the terminal round trip of any key).
* parser: the input thread's share, in process: Textual's XTermParser (what the stock driver
  feeds every byte to) against warroom's InputSplitter (pastes cut out with str.find), on the
  same paste followed by one key, until that key's event comes out.

Aim: the echo delay behind a 1 MB paste within 100 ms of the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.terminal import Terminal

READY = b"Enter to log"


def paste_of(size: int) -> str:
    line = "x" * 92
    return "".join(f"{number:06d} {line}\n" for number in range(size // 100))


def parser_seconds(paste: str, splitter: bool) -> float:
    """Time from feeding `paste` (bracketed) and a key until the key's event comes out."""
    from textual import events
    from textual._xterm_parser import XTermParser

    from warroom.ui.driver import InputSplitter

    data = f"\x1b[200~{paste}\x1b[201~Z"
    feeder = InputSplitter(XTermParser()) if splitter else XTermParser()
    step = 65536 if splitter else 4096  # the read size of each driver
    started = time.perf_counter()
    for offset in range(0, len(data), step):
        for event in feeder.feed(data[offset:offset + step]):
            if isinstance(event, events.Key) and event.character == "Z":
                return time.perf_counter() - started
    raise AssertionError("the key never came out")


def echo_delay(terminal: Terminal, paste: str | None, marker: str) -> float:
    """Seconds from writing `paste` (bracketed, if any) and `marker` until the marker shows."""
    terminal.write(b"\x15")  # Ctrl+U: empty the bar
    terminal.drain()
    data = (f"\x1b[200~{paste}\x1b[201~" if paste is not None else "") + marker
    started = time.perf_counter()
    terminal.write(data.encode())
    terminal.read_until(marker[:-1].encode(), 30)
    return time.perf_counter() - started


def terminal_delays(size: int, rounds: int) -> dict[str, list[float]]:
    import subprocess

    folder = Path(tempfile.mkdtemp(prefix="warroom-bench-paste-"))
    database = folder / "bench.db"
    warroom = str(Path(sys.executable).with_name("warroom"))
    env = {**os.environ, "TERM": "xterm-256color", "WARROOM_CONFIG_DIR": str(folder / "config")}
    incident = subprocess.run([warroom, "--db", str(database), "declare", "Paste bench", "-s", "SEV-3"],
                              env=env, check=True, capture_output=True, text=True).stdout.strip()
    terminal = Terminal([warroom, "--db", str(database), "open", incident], env)
    try:
        terminal.read_until(READY, 60)
        terminal.drain()
        figures: dict[str, list[float]] = {"no paste": [], "2-line paste": [], f"{size // 1000} kB paste": []}
        for round_number in range(rounds):
            for label, paste in (("no paste", None), ("2-line paste", "one\ntwo"),
                                 (f"{size // 1000} kB paste", paste_of(size))):
                figures[label].append(echo_delay(terminal, paste, f"Q{round_number}{len(label)}ZW"))
        return figures
    finally:
        terminal.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_paste", description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    size, rounds = (100_000, 1) if args.smoke else (1_000_000, 5)
    paste = paste_of(size)
    stock, ours = parser_seconds(paste, splitter=False), parser_seconds(paste, splitter=True)
    print(f"parser, {size // 1000} kB paste then a key: Textual XTermParser {stock * 1000:.0f} ms, "
          f"warroom InputSplitter {ours * 1000:.1f} ms (x{stock / ours:.0f})")
    figures = terminal_delays(size, rounds)
    floor = statistics.median(figures["no paste"])
    for label, delays in figures.items():
        median = statistics.median(delays)
        print(f"terminal, key echo after {label:<14}: median {median * 1000:6.1f} ms, max {max(delays) * 1000:6.1f} ms,"
              f" {median / floor:4.2f}x the no-paste floor")
    worst = statistics.median(figures[f"{size // 1000} kB paste"]) - floor
    print(f"behind the {size // 1000} kB paste a key waits {worst * 1000:.0f} ms more than any key (aim: < 100 ms)")
    return 0 if args.smoke or worst < 0.1 else 1


if __name__ == "__main__":
    sys.exit(main())
