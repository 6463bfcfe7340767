"""Captured commands: what a responder ran (`warroom run`, the shell hook) as a `command` entry.

The command line is redacted (domain.redact) before it gets here; the output's last lines are
made inert (domain.text.sanitize), scrubbed of every secret the line held and capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.redact import Redacted, redact_text
from warroom.domain.text import sanitize

OUTPUT_LINES = 20  # last lines of output kept with the entry
LINE_CHARS = 200  # per kept line
LINE_IN_TEXT = 120  # the last line shown in the entry text
COMMAND_CHARS = 4000  # a pasted script longer than this is cut


@dataclass(frozen=True, slots=True)
class CommandRun:
    """A command that ran, ready to record: nothing in it is secret or unsafe any more."""

    line: str
    exit_code: int
    started_at: datetime
    duration: timedelta
    output: tuple[str, ...] = ()
    output_lines: int | None = None  # lines printed in all; None when output was not captured
    signal: int | None = None
    cwd: str | None = None
    source: str = "run"  # "run" (warroom run) or "shell" (the shell hook)


def last_lines(raw: bytes, secrets: tuple[str, ...], keep: int = OUTPUT_LINES) -> tuple[str, ...]:
    """The last `keep` non-blank lines of output, each as a terminal would leave it (text after a
    carriage return overwrites), inert, with the secrets masked before it is cut to LINE_CHARS."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    lines = []
    for line in reversed(text.split("\n")):
        shown = line.rstrip("\r").rsplit("\r", 1)[-1]
        line = redact_text(sanitize(shown, 8 * len(shown) + 1, collapse=False), secrets)  # uncut: tabs grow
        if line.strip():
            lines.append(line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…")
            if len(lines) == keep:
                break
    return tuple(reversed(lines))


def command_run(redacted: Redacted, *, exit_code: int, started_at: datetime, duration: timedelta,
                output: bytes | None = None, output_lines: int | None = None, signal: int | None = None,
                cwd: str | None = None, source: str = "run") -> CommandRun:
    """A CommandRun from a redacted line and what the run produced (raw output bytes, its tail)."""
    line = sanitize(redacted.line, COMMAND_CHARS, collapse=False)
    return CommandRun(
        line=line, exit_code=exit_code, started_at=started_at, duration=duration,
        output=last_lines(output, redacted.secrets) if output is not None else (),
        output_lines=output_lines, signal=signal,
        cwd=redact_text(sanitize(cwd, 1000, collapse=False), redacted.secrets) if cwd else None, source=source,
    )


def format_run_time(span: timedelta) -> str:
    """'12ms', '3.4s', '2m 05s', '1h 02m'."""
    seconds = span.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def command_entry(run: CommandRun) -> tuple[str, dict[str, Any]]:
    """(text, data) of the `command` entry: the line, how it ended and its last line of output in
    the text; every kept line in the data."""
    ended = f"exit {run.exit_code}" + (f" (signal {run.signal})" if run.signal else "")
    text = f"{run.line} → {ended} after {format_run_time(run.duration)}"
    if run.output:
        last = " ".join(run.output[-1].split())
        text += "; output: " + (last if len(last) <= LINE_IN_TEXT else last[: LINE_IN_TEXT - 1] + "…")
    data = {
        "command": run.line, "exit_code": run.exit_code, "signal": run.signal,
        "duration_s": round(run.duration.total_seconds(), 3), "cwd": run.cwd, "source": run.source,
        "output": list(run.output), "output_lines": run.output_lines,
    }
    return text, data
