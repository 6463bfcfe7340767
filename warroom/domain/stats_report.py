"""`warroom stats` output: a table and charts for the terminal, JSON, and CSV for spreadsheets.
Every name that came from a policy file or an incident is made inert."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.charts import bar_chart
from warroom.domain.clock import format_duration, to_stored
from warroom.domain.text import csv_cell
from warroom.domain.stats import METRICS, Spread, Stats
from warroom.domain.text import visible

SHOWN_ACTIONS = 10
_ROW_NAMES = {"time_to_detect": "MTTD detect", "time_to_acknowledge": "MTTA acknowledge",
              "time_to_mitigate": "MTTM mitigate", "time_to_resolve": "MTTR resolve"}


def _span(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "-"


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({round(100 * part / whole)}%)" if whole else "-"


def _window(stats: Stats) -> str:
    since = f"{stats.since:%Y-%m-%d %H:%M} UTC" if stats.since else "any time"
    return f"declared from {since} to {stats.until:%Y-%m-%d %H:%M} UTC"


def to_text(stats: Stats, width: int = 80) -> str:
    """The table per severity, punctuality, open actions, services and the two charts."""
    width = max(60, min(width, 120))
    policy = f" of policy {visible(stats.policy_id)}" if stats.policy_id else ""
    out = [f"{stats.incidents} incidents{policy} ({stats.still_open} still open)", _window(stats)]
    if not stats.incidents:
        return "\n".join(out) + "\n"
    out += ["", f"{'Severity':<15}{'Time to':<17}{'n':>4}{'median':>9}{'p90':>9}{'target':>9}  within target"]
    for row in stats.severities:
        name = visible(f"{row.severity} {row.label}".strip())
        if row.policy_id != stats.policy_id and len({r.policy_id for r in stats.severities}) > 1:
            name = visible(f"{row.policy_id}/{row.severity}")
        first = True
        for metric in METRICS:
            spread = row.metrics[metric]
            within = _share(spread.within, spread.count) if spread.within is not None else "no target"
            label = name[:14] if first else ""
            out.append(f"{label:<15}{_ROW_NAMES[metric]:<17}{spread.count:>4}{_span(spread.median):>9}"
                       f"{_span(spread.p90):>9}{_span(spread.target):>9}  {within}")
            first = False
        out.append(f"{'':<15}{'updates on time':<17}{row.updates:>4}{'':>27}  {_share(row.updates_on_time, row.updates)}")
        out.append(f"{'':<15}{'incidents':<17}{row.incidents:>4}")
    out += ["", f"Update punctuality: {_share(stats.updates_on_time, stats.updates)} of the updates posted on time"]
    out += ["", f"Actions still open from past incidents: {len(stats.open_actions)}"]
    for item in stats.open_actions[:SHOWN_ACTIONS]:
        due = f"due {item.action.due:%Y-%m-%d}" + (" OVERDUE" if item.overdue else "") if item.action.due else "no due date"
        owner = f"@{item.action.owner}" if item.action.owner else "no owner"
        out.append(visible(f"  {item.incident_id}  {due:<22} {owner:<12} {item.action.text}")[: width])
    if len(stats.open_actions) > SHOWN_ACTIONS:
        out.append(f"  ... and {len(stats.open_actions) - SHOWN_ACTIONS} more (--json lists them all)")
    out += ["", "Most affected services (incidents):"]
    out += bar_chart([(visible(name)[:24], count) for name, count in stats.services], width) or ["  none recorded"]
    out += ["", f"Time to resolve ({stats.resolved} resolved incidents):"]
    out += bar_chart(stats.resolve_histogram, width)
    out += ["", "Incidents per week (week starting):"]
    out += bar_chart([(f"{week:%Y-%m-%d}", count) for week, count in stats.weekly], width)
    return "\n".join(out) + "\n"


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if value is not None else None


def _spread_dict(spread: Spread) -> dict[str, Any]:
    return {"count": spread.count, "median_s": _seconds(spread.median), "p90_s": _seconds(spread.p90),
            "target_s": _seconds(spread.target), "within_target": spread.within}


def _t(moment: datetime | None) -> str | None:
    return to_stored(moment) if moment else None


def to_json_dict(stats: Stats) -> dict[str, Any]:
    return {
        "since": _t(stats.since), "until": _t(stats.until), "policy": stats.policy_id,
        "incidents": stats.incidents, "still_open": stats.still_open, "resolved": stats.resolved,
        "severities": [
            {"policy": row.policy_id, "severity": row.severity, "label": row.label, "incidents": row.incidents,
             **{metric: _spread_dict(row.metrics[metric]) for metric in METRICS},
             "updates": {"on_time": row.updates_on_time, "total": row.updates}}
            for row in stats.severities
        ],
        "updates": {"on_time": stats.updates_on_time, "total": stats.updates},
        "open_actions": [
            {"incident": item.incident_id, "incident_title": item.incident_title, "id": item.action.id,
             "text": item.action.text, "owner": item.action.owner, "due": _t(item.action.due), "overdue": item.overdue}
            for item in stats.open_actions
        ],
        "services": [{"service": name, "incidents": count} for name, count in stats.services],
        "time_to_resolve": [{"bin": label, "incidents": count} for label, count in stats.resolve_histogram],
        "weekly": [{"week": f"{week:%Y-%m-%d}", "incidents": count} for week, count in stats.weekly],
    }


CSV_COLUMNS = ("policy", "severity", "label", "incidents", *[
    f"{short}_{part}" for metric, short in (("time_to_detect", "mttd"), ("time_to_acknowledge", "mtta"),
                                              ("time_to_mitigate", "mttm"), ("time_to_resolve", "mttr"))
    for part in ("count", "median_s", "p90_s", "target_s", "within_target")
], "updates_on_time", "updates")


def to_csv(stats: Stats) -> str:
    """One row per policy and severity, every figure a column (seconds), formula-looking cells defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in stats.severities:
        cells: list[Any] = [csv_cell(row.policy_id), csv_cell(row.severity), csv_cell(row.label), row.incidents]
        for metric in METRICS:
            spread = _spread_dict(row.metrics[metric])
            cells += [spread["count"], spread["median_s"], spread["p90_s"], spread["target_s"], spread["within_target"]]
        writer.writerow([*cells, row.updates_on_time, row.updates])
    return out.getvalue()
