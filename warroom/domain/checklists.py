"""Checklist items the record already proves: a policy names, per item, the fact that proves it
(`proofs = { 1 = "acknowledged", 3 = "roles:ic,tl" }`), and the item is ticked by the record as
soon as that fact holds, with when and which entry. A person's own tick stays theirs.

Proofs: `declared`, `severity`, `detected`, `acknowledged`, `mitigated`, `resolved` (milestones),
`commander`, `roles` (every required role held), `roles:ID,ID` (those roles held), `update` (any
update posted), `update:AUDIENCE`, `final-update` (an update after the resolution), `impact`,
`users` (who is affected), `services`, `root-cause`, `actions` (an action item filed), `playbook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from warroom.domain.models import EntryKind, Milestone

if TYPE_CHECKING:
    from warroom.domain.report import IncidentRecord

PROOFS: dict[str, str] = {
    "declared": "the incident was declared (its log started)",
    "severity": "a severity is set",
    "detected": "the detected milestone",
    "acknowledged": "the acknowledged milestone",
    "mitigated": "the mitigated milestone",
    "resolved": "the resolved milestone",
    "commander": "the commander role is held",
    "roles": "every required role is held",
    "roles:": "the roles named (roles:ic,tl) are held",
    "update": "an update was posted",
    "update:": "an update to the audience named (update:public) was posted",
    "final-update": "an update was posted after the resolution",
    "impact": "the impact is recorded (/set impact)",
    "users": "who is affected is recorded (/set users)",
    "services": "the affected services are recorded (/service add)",
    "root-cause": "a root cause is recorded (/rootcause)",
    "actions": "an action item was filed (/action)",
    "playbook": "a playbook was attached",
}
PLAYBOOK_STEPS = "playbook:"
"""Checklist ids `playbook:ID` hold the ticks of an attached playbook's steps."""
PROOF_KINDS = (EntryKind.SYSTEM, EntryKind.MILESTONE, EntryKind.ROLE, EntryKind.UPDATE, EntryKind.FACT,
               EntryKind.ROOT_CAUSE, EntryKind.CHECKLIST, EntryKind.SEVERITY)
"""The entry kinds proofs are read from (a record of just these proves the same)."""


@dataclass(frozen=True, slots=True)
class Proof:
    """The record ticks an item: since when, what says so and the entry that shows it (if one does)."""

    at: datetime
    what: str
    number: int | None = None


def proof_problem(proof: str, policy) -> str | None:
    """Why `proof` is not one a checklist item can name in `policy`, else None."""
    name, colon, rest = proof.partition(":")
    if not colon:
        return None if proof in PROOFS and not proof.endswith(":") else (
            f"unknown proof {proof!r}; valid: {', '.join(p + ('ID,...' if p.endswith(':') else '') for p in PROOFS)}")
    if name == "roles":
        unknown = [r for r in rest.split(",") if policy.find_role(r.strip()) is None]
        return f"unknown role {unknown[0]!r} in {proof!r}; roles: {policy.role_names()}" if unknown or not rest else None
    if name == "update":
        ids = [a.id for a in policy.audience]
        return None if rest in ids else f"unknown audience {rest!r} in {proof!r}; audiences: {', '.join(ids)}"
    return f"unknown proof {proof!r}"


def record_ticks(record: IncidentRecord) -> dict[tuple[str, int], Proof]:
    """(checklist id, item index) -> the proof, for every item of the policy's checklists that the
    record proves now."""
    prover = _Prover(record)
    out: dict[tuple[str, int], Proof] = {}
    for checklist in record.policy.checklist:
        for number, proof in checklist.proofs.items():
            found = prover.prove(proof)
            if found is not None:
                out[(checklist.id, int(number) - 1)] = found
    return out


class _Prover:
    def __init__(self, record: IncidentRecord) -> None:
        self.record, self.incident, self.policy = record, record.incident, record.policy
        self.entries = record.entries

    def _first(self, kind: EntryKind, test=lambda data: True):
        return next((e for e in self.entries if e.kind is kind and test(e.data or {})), None)

    def _last(self, kind: EntryKind, test=lambda data: True):
        return next((e for e in reversed(self.entries) if e.kind is kind and test(e.data or {})), None)

    def prove(self, proof: str) -> Proof | None:
        name, _, rest = proof.partition(":")
        incident = self.incident
        if name in ("declared", "severity"):
            first = min(self.entries, key=lambda e: e.number) if self.entries else None  # the declaration
            what = "declared" if name == "declared" else f"severity {incident.severity}"
            return Proof(incident.created_at, what, first.number if first else None)
        if name in ("detected", "acknowledged", "mitigated", "resolved"):
            milestone = Milestone(name)
            at = incident.milestones.get(milestone)
            if at is None:
                return None
            entry = self._last(EntryKind.MILESTONE, lambda d: d.get("milestone") == milestone.value)
            return Proof(at, milestone.label, entry.number if entry else None)
        if name in ("commander", "roles"):
            return self._roles(rest, name)
        if name in ("update", "final-update"):
            return self._update(rest, after_resolution=name == "final-update")
        if name in ("impact", "users", "services"):
            field = {"impact": "impact", "users": "customer_impact", "services": "services"}[name]
            if not getattr(incident, field):
                return None
            entry = self._last(EntryKind.FACT, lambda d: d.get("fact") == field)
            label = {"impact": "impact recorded", "users": "who is affected recorded", "services": "services recorded"}
            return Proof(entry.occurred_at if entry else incident.created_at, label[name], entry.number if entry else None)
        if name == "root-cause":
            entry = self._first(EntryKind.ROOT_CAUSE)
            return Proof(entry.occurred_at, "root cause recorded", entry.number) if entry else None
        if name == "actions":
            if not self.record.actions:
                return None
            first = min(self.record.actions, key=lambda a: a.created_at)
            return Proof(first.created_at, "action item filed")
        if name == "playbook":
            entry = self._first(EntryKind.CHECKLIST, lambda d: "playbook" in d)
            return Proof(entry.occurred_at, "playbook attached", entry.number) if entry else None
        return None

    def _roles(self, named: str, name: str) -> Proof | None:
        """The roles asked for are all held now: since the last of them was taken."""
        policy = self.policy
        if name == "commander":
            wanted = [policy.commander_role()]
        elif named:
            wanted = [policy.find_role(word.strip()) for word in named.split(",")]
        else:
            wanted = [role for role in policy.role if role.required]
        held = {r.role_id: r for r in self.record.roles if r.ended_at is None}
        if not wanted or any(role is None or role.id not in held for role in wanted):
            return None
        latest = max((held[role.id] for role in wanted), key=lambda r: r.started_at)
        entry = self._last(EntryKind.ROLE, lambda d: d.get("role") == latest.role_id and d.get("to") == latest.person)
        names = ", ".join(f"{role.name}: {held[role.id].person}" for role in wanted)
        return Proof(latest.started_at, names, entry.number if entry else None)

    def _update(self, audience: str, after_resolution: bool) -> Proof | None:
        resolved = self.incident.milestones.get(Milestone.RESOLVED)
        if after_resolution and resolved is None:
            return None
        for sequence, update in enumerate(self.record.updates, start=1):
            if audience and update.audience != audience:
                continue
            if after_resolution and update.posted_at < resolved:
                continue
            entry = self._first(EntryKind.UPDATE, lambda d, n=sequence: d.get("update") == n)
            label = next((a.label for a in self.policy.audience if a.id == update.audience), update.audience)
            return Proof(update.posted_at, f"{label} update posted", entry.number if entry else None)
        return None
