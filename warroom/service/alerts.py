"""Taking alerts in: each alert joins the incident it belongs to, declares one, or is only noted.

Where a firing alert goes, first match wins:
1. the open incident an earlier delivery of the same alert (same fingerprint) went to;
2. the newest open incident that lists one of the alert's services (from its labels, plus the
   services of the first matching `[[alert_rule]]`);
3. a new incident, when that rule says `declare = true`: severity from the rule or the alert,
   services from both, the detected milestone back-dated to the alert's start;
4. nowhere ("unrouted"): the delivery is still remembered, so it is not taken twice.
A resolved alert is logged on the incident its firing went to (else routed as above, never
declaring). Every alert is taken in one transaction with the row that remembers it, so the same
delivery arriving twice, even at the same moment, writes one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from warroom.domain.alerts import Alert, parse_alerts
from warroom.domain.models import Entry, EntryKind, Incident
from warroom.domain.text import visible
from warroom.service.config import AlertRule, Config
from warroom.service.incidents import IncidentService, write_declaration
from warroom.store import queries as q
from warroom.store import reach as rq

DECLARED, APPENDED, DUPLICATE, UNROUTED = "declared", "appended", "duplicate", "unrouted"


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What became of one alert: `outcome` is declared, appended, duplicate or unrouted."""

    fingerprint: str
    status: str
    title: str
    outcome: str
    incident_id: str | None = None
    entries: tuple[Entry, ...] = ()
    rule: str = ""

    @property
    def declared(self) -> bool:
        return self.outcome == DECLARED

    def describe(self) -> str:
        """One line for people: `firing alert 'API down' declared INC-...`."""
        said = {DECLARED: "declared", APPENDED: "added to open incident", DUPLICATE: "already taken by"}
        where = f" {self.incident_id}" if self.incident_id else ": no incident takes it, nothing declared"
        return f"{self.status} alert {visible(self.title)!r} {said.get(self.outcome, 'noted')}{where}"

    def as_json(self) -> dict:
        return {"fingerprint": self.fingerprint, "status": self.status, "outcome": self.outcome,
                "incident": self.incident_id, "entries": [e.number for e in self.entries], "rule": self.rule}


def matching_rule(alert: Alert, rules: list[AlertRule]) -> AlertRule | None:
    """The first rule whose every `match` pattern fits the alert (`service` fits any of its services)."""
    labels = {"alertname": alert.title, "source": alert.source, "severity": alert.severity, **alert.labels}
    for rule in rules:
        if all(_fits(alert, labels, name, pattern) for name, pattern in rule.match.items()):
            return rule
    return None


def _fits(alert: Alert, labels: dict[str, str], name: str, pattern: str) -> bool:
    if name == "service":
        return any(fnmatchcase(service, pattern) for service in alert.services)
    return fnmatchcase(labels.get(name, ""), pattern)


def alert_text(alert: Alert, services: tuple[str, ...]) -> str:
    """The timeline line for an alert (inert when shown, like every entry)."""
    parts = [f"Alert {alert.status} ({alert.source}): {alert.title}"]
    facts = []
    if alert.severity:
        facts.append(f"severity {alert.severity}")
    if services:
        facts.append("services " + ", ".join(services))
    if alert.firing and alert.starts_at:
        facts.append(f"since {alert.starts_at:%Y-%m-%d %H:%M:%S} UTC")
    if not alert.firing and alert.ends_at:
        facts.append(f"ended {alert.ends_at:%Y-%m-%d %H:%M:%S} UTC")
    if alert.first_responder:
        facts.append(f"first responder {alert.first_responder}")
    if facts:
        parts.append(" | " + "; ".join(facts))
    if alert.description:
        parts.append(f" | {alert.description}")
    return "".join(parts)


class AlertIntake:
    """Routes alerts into the record through one IncidentService."""

    def __init__(self, service: IncidentService, config: Config):
        self.service, self.config = service, config

    async def take(self, alerts: list[Alert], *, declare: bool | None = None) -> list[AlertOutcome]:
        """Take each alert in its own transaction. `declare` True/False overrides the rules'
        choice for firing alerts no incident takes (`warroom declare --from-alert` passes True)."""
        return [await self._take(alert, declare) for alert in alerts]

    async def _take(self, alert: Alert, declare: bool | None) -> AlertOutcome:
        rule = matching_rule(alert, self.config.alert_rule)
        services = tuple(dict.fromkeys([*alert.services, *(rule.services if rule else [])]))
        rule_name = (rule.name or f"rule {self.config.alert_rule.index(rule) + 1}") if rule else ""
        author = self.config.intake.author
        now = self.service.now()
        async with self.service.db.transaction() as conn:
            alert_id = await rq.record_alert(
                conn, dedupe_key=alert.dedupe_key, source=alert.source, fingerprint=alert.fingerprint,
                status=alert.status, title=alert.title, received_at=now, outcome="new")
            if alert_id is None:
                return AlertOutcome(alert.fingerprint, alert.status, alert.title, DUPLICATE,
                                    await rq.alert_incident(conn, alert.fingerprint), rule=rule_name)
            incident = await self._incident_for(conn, alert, services)
            if incident is not None:
                entry = await q.insert_entry(
                    conn, incident_id=incident.id, occurred_at=now, recorded_at=now, author=author,
                    kind=EntryKind.SYSTEM, text=alert_text(alert, services), data=_data(alert, services, rule_name))
                await rq.settle_alert(conn, alert_id, outcome=APPENDED, incident_id=incident.id, entry_id=entry.id)
                return AlertOutcome(alert.fingerprint, alert.status, alert.title, APPENDED, incident.id, (entry,),
                                    rule_name)
            wants = declare if declare is not None else bool(rule and rule.declare)
            if not alert.firing or not wants:
                await rq.settle_alert(conn, alert_id, outcome=UNROUTED, incident_id=None, entry_id=None)
                return AlertOutcome(alert.fingerprint, alert.status, alert.title, UNROUTED, rule=rule_name)
            policy_id = (rule.policy if rule else None) or self.service.default_policy.id
            policy = self.service.policies.get(policy_id)
            severity = self._severity(alert, rule, policy)
            incident_id, written = await write_declaration(
                conn, policy, alert.title, severity, author=author, now=now, services=services,
                detected_at=alert.starts_at or now, note=f"from {alert.source} alert")
            entry = await q.insert_entry(
                conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author,
                kind=EntryKind.SYSTEM, text=alert_text(alert, services), data=_data(alert, services, rule_name))
            await rq.settle_alert(conn, alert_id, outcome=DECLARED, incident_id=incident_id, entry_id=entry.id)
        return AlertOutcome(alert.fingerprint, alert.status, alert.title, DECLARED, incident_id,
                            (*written, entry), rule_name)

    async def _incident_for(self, conn, alert: Alert, services: tuple[str, ...]) -> Incident | None:
        earlier = await rq.alert_incident(conn, alert.fingerprint)
        if earlier is not None:
            incident = await q.get_incident(conn, earlier)
            if incident.is_open or not alert.firing:
                return incident
        wanted = {service.casefold() for service in services}
        if not wanted:
            return None
        for incident in await q.list_incidents(conn):  # newest first
            if incident.is_open and wanted & {service.casefold() for service in incident.services}:
                return incident
        return None

    @staticmethod
    def _severity(alert: Alert, rule: AlertRule | None, policy) -> str:
        """The rule's severity, else the alert's if the policy knows it, else the policy's default."""
        for candidate in ((rule.severity if rule else None), alert.severity):
            if candidate and policy.find_severity(candidate) is not None:
                return policy.find_severity(candidate).id
        return policy.policy.default_severity


def _data(alert: Alert, services: tuple[str, ...], rule: str) -> dict:
    return {
        "alert": {"source": alert.source, "fingerprint": alert.fingerprint, "status": alert.status,
                  "severity": alert.severity, "services": list(services), "link": alert.link,
                  "starts_at": alert.starts_at.isoformat() if alert.starts_at else None,
                  "ends_at": alert.ends_at.isoformat() if alert.ends_at else None, "rule": rule},
    }


async def declare_from_alert(intake: AlertIntake, body: bytes, source: str | None = None) -> list[AlertOutcome]:
    """`warroom declare --from-alert`: take the alerts in `body` once, declaring for a firing alert
    no open incident takes (whatever the rules say)."""
    alerts = parse_alerts(body, source, tuple(intake.config.intake.service_labels))
    return await intake.take(alerts, declare=True)
