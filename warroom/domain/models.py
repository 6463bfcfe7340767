"""The incident record: incidents, timeline entries, roles, updates and action items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from warroom.domain.kinds import KIND_GLYPHS, KIND_LABELS, EntryKind, Milestone  # noqa: F401 (theirs, re-exported)

FACTS: dict[str, str] = {"impact": "Impact", "customer_impact": "Customer impact", "title": "Title"}
"""The incident's facts set with `/set NAME TEXT`, by field name, with the label they are shown by."""


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as it stands now. History lives in the timeline."""

    id: str
    title: str
    policy_id: str
    severity: str
    status: str
    created_at: datetime
    created_by: str
    services: tuple[str, ...] = ()
    impact: str = ""
    milestones: dict[Milestone, datetime] = field(default_factory=dict)
    customer_impact: str = ""  # who is hit and how many (users, customers), as the responders say it

    @property
    def is_open(self) -> bool:
        return Milestone.RESOLVED not in self.milestones and Milestone.CLOSED not in self.milestones


@dataclass(frozen=True, slots=True)
class Entry:
    """One append-only timeline entry. `number` is the per-incident number people type (#12)."""

    id: int
    incident_id: str
    number: int
    occurred_at: datetime
    recorded_at: datetime
    author: str
    kind: EntryKind
    text: str
    data: dict[str, Any] | None = None
    corrects: int | None = None
    pinned: bool = False
    hash: str | None = None  # chained to the entry before it (domain.chain); None if written outside warroom


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """Who held a role from when to when (ended_at None: still holding it)."""

    incident_id: str
    role_id: str
    person: str
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A posted stakeholder update and the time the next one was promised."""

    id: int
    incident_id: str
    audience: str
    text: str
    posted_at: datetime
    author: str
    next_update_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionItem:
    """A follow-up with an owner and an optional due date."""

    id: int
    incident_id: str
    text: str
    owner: str | None
    created_at: datetime
    due: datetime | None = None
    done: bool = False
    group: str | None = None  # the policy's action group id (`group:long-term`), None when not given


class DeliveryState(StrEnum):
    """Where sending something (an update to a target, a page to a pager) stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def glyph(self) -> str:
        return {"pending": "…", "delivered": "✓", "failed": "✗"}[self.value]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One posted update sent to one target. `error` and `detail` never hold a secret."""

    id: int
    incident_id: str
    update_id: int
    update_number: int
    audience: str
    target: str
    kind: str
    state: DeliveryState
    attempts: int
    error: str
    detail: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page (PagerDuty-style trigger or resolve) sent to one pager for an incident."""

    id: int
    incident_id: str
    pager: str
    action: str  # "trigger" or "resolve"
    dedup_key: str
    reason: str
    state: DeliveryState
    attempts: int
    error: str
    created_at: datetime
    updated_at: datetime
