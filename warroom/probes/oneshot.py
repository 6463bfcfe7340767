"""`warroom check`: every probe once, concurrently; data, a plain-text table, JSON and an exit code.

A single check has no history, so a failure counts as DOWN here (thresholds are for the engine).
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterable, Mapping, NamedTuple

from warroom.domain.text import visible
from warroom.probes.checks import Checker
from warroom.probes.config import ProbeSpec
from warroom.probes.result import ProbeResult, sanitize
from warroom.probes.states import ProbeState, ProbeTracker


class CheckRow(NamedTuple):
    spec: ProbeSpec
    result: ProbeResult
    state: ProbeState


async def run_once(specs: Iterable[ProbeSpec], *, concurrency: int = 32, checker: Checker | None = None,
                   env: Mapping[str, str] | None = None) -> list[CheckRow]:
    """Check each probe once (with its retries); rows keep the order of `specs`."""
    specs = list(specs)
    own = checker is None
    checker = checker or Checker(max_connections=concurrency + 16, env=env)
    limit = asyncio.Semaphore(concurrency)

    async def one(spec: ProbeSpec) -> CheckRow:
        async with limit:
            result = await checker.check(spec)
        tracker = ProbeTracker(spec)
        tracker.observe(result, one_shot=True)
        return CheckRow(spec, result, tracker.state)

    try:
        return list(await asyncio.gather(*(one(spec) for spec in specs)))
    finally:
        if own:
            await checker.aclose()


def exit_code(rows: Iterable[CheckRow]) -> int:
    """1 when any probe is DOWN, else 0."""
    return 1 if any(row.state is ProbeState.DOWN for row in rows) else 0


def _detail(result: ProbeResult) -> str:
    if result.ok:
        return result.error or ""
    return result.reason()


def format_table(rows: Iterable[CheckRow], *, width: int = 100) -> str:
    """Plain text, one line per probe: STATE (glyph and word), NAME, GROUP, TYPE, LATENCY, CODE, DETAIL."""
    rows = list(rows)
    header = ("STATE", "NAME", "GROUP", "TYPE", "LATENCY", "CODE", "DETAIL")
    table = [header] + [
        (
            row.state.label,
            visible(row.spec.name),
            visible(row.spec.group) or "-",
            row.spec.type,
            f"{row.result.latency_ms:.0f} ms" if row.result.latency_ms is not None else "-",
            str(row.result.status_code) if row.result.status_code is not None else "-",
            sanitize(_detail(row.result), 300),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    lines = []
    for line in table:
        cells = [cell.ljust(widths[i]) if i != 4 else cell.rjust(widths[i]) for i, cell in enumerate(line[:-1])]
        text = "  ".join(cells + [line[-1]]).rstrip()
        lines.append(text if len(text) <= width else text[: width - 1] + "…")
    up = sum(row.state.healthy for row in rows)
    lines.append(f"{len(rows)} probes: {up} healthy, {len(rows) - up} not")
    return "\n".join(lines)


def rows_as_json(rows: Iterable[CheckRow]) -> list[dict[str, Any]]:
    """For `--json`: each probe's redacted config, result and state."""
    return [
        {"probe": row.spec.redacted(), "state": row.state.value, "label": row.state.label,
         "result": row.result.to_dict()}
        for row in rows
    ]
