"""Alerts from monitoring, read from the three shapes warroom takes in: Prometheus Alertmanager's
webhook, Grafana's alerting webhook (the unified one, which follows Alertmanager, and the legacy
one) and a generic JSON shaped like the seeds' alert (`{"incident": {"severity", "title", ...}}`).

`parse_alerts` returns one `Alert` per alert in the payload or raises AlertError, whose message
says what is wrong and where (`alerts[2].status: must be 'firing' or 'resolved'`). Text taken
from an alert is stored as sent (cut to a sane length) and made inert wherever it is shown.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.domain.clock import UTC
from warroom.domain.errors import WarroomError

SOURCES = ("alertmanager", "grafana", "generic")
MAX_ALERTS = 200  # in one payload
MAX_TITLE = 300
MAX_TEXT = 2000
_STAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")
_LEGACY_GRAFANA_STATES = {"alerting": "firing", "ok": "resolved"}


class AlertError(WarroomError):
    """A payload that is not an alert warroom can read; the message names the field."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, whatever it came from. `status` is "firing" or "resolved"."""

    source: str
    fingerprint: str
    status: str
    title: str
    description: str = ""
    severity: str = ""
    services: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    first_responder: str = ""
    link: str = ""

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    @property
    def dedupe_key(self) -> str:
        """Same alert, same state, same start: the same delivery (monitoring repeats itself)."""
        start = self.starts_at.isoformat() if self.starts_at else ""
        return _digest(self.source, self.fingerprint, self.status, start)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def detect_source(payload: dict[str, Any]) -> str:
    """Which shape a decoded payload has: 'alertmanager', 'grafana' or 'generic'."""
    if isinstance(payload.get("incident"), dict):
        return "generic"
    if isinstance(payload.get("alerts"), list):
        # Grafana's unified webhook is Alertmanager's plus fields Alertmanager never sends.
        return "grafana" if any(key in payload for key in ("orgId", "state", "title", "message")) else "alertmanager"
    if "ruleName" in payload or "ruleId" in payload:
        return "grafana"
    return "generic"


def parse_alerts(body: bytes | str, source: str | None = None,
                 service_labels: tuple[str, ...] = ("service", "services")) -> list[Alert]:
    """The alerts in one webhook body. `source` None: detected from the payload's shape."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise AlertError(f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise AlertError("the body must be a JSON object")
    source = source or detect_source(payload)
    if source not in SOURCES:
        raise AlertError(f"unknown alert source {source!r}; known: {', '.join(SOURCES)}")
    if source == "generic":
        return [_generic(payload)]
    if source == "grafana" and not isinstance(payload.get("alerts"), list):
        return [_legacy_grafana(payload)]
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise AlertError("alerts: must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise AlertError(f"alerts: at most {MAX_ALERTS} alerts in one delivery, got {len(alerts)}")
    return [_alertmanager(item, f"alerts[{index}]", source, service_labels) for index, item in enumerate(alerts)]


# ---- the shapes ---------------------------------------------------------------------------------


def _alertmanager(item: Any, where: str, source: str, service_labels: tuple[str, ...]) -> Alert:
    if not isinstance(item, dict):
        raise AlertError(f"{where}: must be an object")
    labels = _strings(item.get("labels", {}), f"{where}.labels")
    annotations = _strings(item.get("annotations", {}), f"{where}.annotations")
    status = item.get("status")
    if status not in ("firing", "resolved"):
        raise AlertError(f"{where}.status: must be 'firing' or 'resolved'")
    title = annotations.get("summary") or annotations.get("title") or labels.get("alertname") or ""
    if not title.strip():
        raise AlertError(f"{where}: needs labels.alertname or annotations.summary")
    fingerprint = item.get("fingerprint")
    if fingerprint is None:
        fingerprint = _digest(*(f"{k}={v}" for k, v in sorted(labels.items())))
    elif not isinstance(fingerprint, str) or not fingerprint.strip():
        raise AlertError(f"{where}.fingerprint: must be a non-empty string")
    services = []
    for name in service_labels:
        services += [part.strip() for part in labels.get(name, "").split(",") if part.strip()]
    return Alert(
        source=source, fingerprint=fingerprint.strip()[:200], status=status, title=_cut(title, MAX_TITLE),
        description=_cut(annotations.get("description") or annotations.get("message") or "", MAX_TEXT),
        severity=labels.get("severity", "").strip(), services=_unique(services), labels=labels,
        starts_at=_moment(item.get("startsAt"), f"{where}.startsAt"),
        ends_at=_moment(item.get("endsAt"), f"{where}.endsAt"),
        link=_link(item.get("generatorURL")),
    )


def _legacy_grafana(payload: dict[str, Any]) -> Alert:
    state = payload.get("state")
    if state not in _LEGACY_GRAFANA_STATES:
        raise AlertError("state: must be 'alerting' or 'ok'")
    title = payload.get("ruleName") or payload.get("title")
    if not isinstance(title, str) or not title.strip():
        raise AlertError("ruleName: must be a non-empty string")
    labels = _strings(payload.get("tags", {}), "tags")
    rule = str(payload.get("ruleId", "")) + "/" + str(payload.get("orgId", "")) if "ruleId" in payload else title
    services = [part.strip() for part in labels.get("service", "").split(",") if part.strip()]
    message = payload.get("message", "")
    return Alert(
        source="grafana", fingerprint=_digest("grafana-legacy", rule), status=_LEGACY_GRAFANA_STATES[state],
        title=_cut(title, MAX_TITLE), description=_cut(message if isinstance(message, str) else "", MAX_TEXT),
        severity=labels.get("severity", ""), services=_unique(services), labels=labels,
        link=_link(payload.get("ruleUrl")),
    )


def _generic(payload: dict[str, Any]) -> Alert:
    body = payload.get("incident", payload)
    where = "incident." if "incident" in payload else ""
    if not isinstance(body, dict):
        raise AlertError(f"{where or 'incident'}: must be an object")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise AlertError(f"{where}title: must be a non-empty string")
    severity = body.get("severity", "")
    if isinstance(severity, bool) or not isinstance(severity, (str, int)):
        raise AlertError(f"{where}severity: must be a string or a number")
    services = body.get("affected_services", body.get("services", []))
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise AlertError(f"{where}affected_services: must be a list of strings")
    status = body.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise AlertError(f"{where}status: must be 'firing' or 'resolved'")
    description = body.get("description", "")
    responder = body.get("first_responder", "")
    for name, value in (("description", description), ("first_responder", responder)):
        if not isinstance(value, str):
            raise AlertError(f"{where}{name}: must be a string")
    fingerprint = body.get("fingerprint") or body.get("id")
    if fingerprint is not None and not isinstance(fingerprint, (str, int)):
        raise AlertError(f"{where}fingerprint: must be a string")
    clean = _unique([s.strip() for s in services if s.strip()])
    return Alert(
        source="generic", fingerprint=str(fingerprint) if fingerprint else _digest(title.strip(), *clean),
        status=status, title=_cut(title, MAX_TITLE), description=_cut(description, MAX_TEXT),
        severity=str(severity).strip(), services=clean, labels=_strings(body.get("labels", {}), f"{where}labels"),
        starts_at=_moment(body.get("detected_at"), f"{where}detected_at"),
        ends_at=_moment(body.get("resolved_at"), f"{where}resolved_at"),
        first_responder=_cut(responder, 100), link=_link(body.get("url")),
    )


# ---- fields ----------------------------------------------------------------------------------


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AlertError(f"{where}: must be an object of strings")
    return dict(value)


def _moment(value: Any, where: str) -> datetime | None:
    """An RFC 3339 time (Go's nanoseconds and zero time included); None when absent or zero."""
    if value in (None, ""):
        return None
    match = _STAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise AlertError(f"{where}: must be an RFC 3339 time like 2024-01-01T12:00:00Z")
    day, clock, fraction, zone = match.groups()
    if day.startswith("0001-"):
        return None  # Go's zero time: "not ended yet"
    fraction = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z", "z") else zone
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{fraction}{zone}").astimezone(UTC)
    except ValueError:
        raise AlertError(f"{where}: {value!r} is not a valid time") from None


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item[:100] for item in items))


def _link(value: Any) -> str:
    return value[:500] if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else ""
