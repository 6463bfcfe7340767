"""Replaying a past incident: the record as it stood at a moving moment, read through the one service.

`ReplayService` is a read-only IncidentService whose reads stop at a horizon: only the entries
that had happened by then (a filter on occurred_at), the roles, updates and duties of that moment,
the incident row rewound (domain.replay), probe states from the transitions logged by then. The
horizon follows the service's clock (a domain.playback.PlaybackClock) and moves when a screen
looks (`ReplayIncident.poll`, LiveIncident's interface), so everything one look shows is of one
moment. The war room needs nothing else to replay: the same screen, reading through this service.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterable

from warroom.domain.duty_record import DUTY_ENTRY_KINDS, DutyRecord, duty_record
from warroom.domain.models import ActionItem, Entry, EntryKind, Incident, RoleAssignment, StatusUpdate
from warroom.domain.replay import (
    MARK_KINDS, ReplayPoint, Rewind, replay_points, replay_span, roles_as_of, updates_as_of,
)  # fmt: skip
from warroom.probes.states import ProbeState, Transition
from warroom.service.incidents import IncidentService
from warroom.service.live import ENTRIES, INCIDENT, PARTS, PROBE_STATE, ROLES, UPDATES, RecordDelta
from warroom.store import queries as q
from warroom.store.probe_states import StoredProbeState


class ReplayService(IncidentService):
    """An IncidentService that shows the record as it stood at `horizon` and never writes."""

    def __init__(self, db, policies, clock, default_policy: str | None = None, config=None):
        super().__init__(db, policies, clock, default_policy, config)
        self.horizon: datetime = clock()
        self._kept: dict[tuple[str, str], tuple[int, object]] = {}  # (incident, what) -> (read up to entry id, it)

    @classmethod
    async def open(cls, path: Path | str, policies, clock, default_policy: str | None = None, config=None, *,
                   read_only: bool = True) -> "ReplayService":
        """The replay of the database at `path`, always read-only."""
        return await super().open(path, policies, clock, default_policy, config, read_only=True)

    def advance(self) -> datetime:
        """Move the horizon to the clock (a screen about to look); returns it."""
        self.horizon = self.clock()
        return self.horizon

    def now(self) -> datetime:
        """The moment shown: the horizon (the countdown, the header's elapsed time and the roles'
        "for how long" are of the same moment as the entries on screen)."""
        return self.horizon

    # ---- the reads the war room makes, stopped at the horizon ---------------------------------

    async def _kept_for(self, incident_id: str, what: str, build):
        """What `build()` made from the record, made again only when an entry was written since."""
        upto = await q.max_entry_id(self.db.reader)
        kept = self._kept.get((incident_id, what))
        if kept is None or kept[0] != upto:
            kept = self._kept[(incident_id, what)] = (upto, await build())
        return kept[1]

    async def _rewind(self, incident_id: str) -> Rewind:
        async def build() -> Rewind:
            current = await super(ReplayService, self).incident(incident_id)
            return Rewind(current, await q.all_entries(self.db.reader, incident_id, MARK_KINDS))

        return await self._kept_for(incident_id, "rewind", build)

    async def incident(self, incident_id: str) -> Incident:
        return (await self._rewind(incident_id)).at(self.horizon)

    def live(self, incident_id: str) -> "ReplayIncident":
        return ReplayIncident(self, incident_id)

    async def entries(self, incident_id: str, kinds: Iterable[EntryKind] | None = None) -> list[Entry]:
        return await q.all_entries(self.db.reader, incident_id, kinds, until=self.horizon)

    async def entries_page(self, incident_id: str, offset: int, limit: int, query: str = "") -> list[Entry]:
        return await q.entries_page(self.db.reader, incident_id, offset, limit, query, until=self.horizon)

    async def entry_count(self, incident_id: str, query: str = "") -> int:
        return await q.count_entries(self.db.reader, incident_id, query, until=self.horizon)

    async def role_history(self, incident_id: str) -> list[RoleAssignment]:
        return roles_as_of(await super().role_history(incident_id), self.horizon)

    async def updates(self, incident_id: str) -> list[StatusUpdate]:
        return updates_as_of(await super().updates(incident_id), self.horizon)

    async def actions(self, incident_id: str) -> list[ActionItem]:
        return [action for action in await super().actions(incident_id) if action.created_at <= self.horizon]

    async def duty_record(self, incident: Incident) -> DutyRecord:
        entries = await q.all_entries(self.db.reader, incident.id, DUTY_ENTRY_KINDS, until=self.horizon)
        return duty_record(incident, entries, await self.updates(incident.id))

    async def probe_states(self, incident_id: str) -> list[StoredProbeState]:
        """Each probe as its logged transitions had left it by the horizon (figures of the present,
        latency and uptime, are left out: they belong to another moment)."""
        moves, added = await self._kept_for(incident_id, "probes", lambda: self._probe_history(incident_id))
        rows = []
        for row in await super().probe_states(incident_id):
            if row.probe in added and added[row.probe] > self.horizon:
                continue  # attached later
            rows.append(_state_at(row, moves.get(row.probe, []), self.horizon))
        return rows

    async def _probe_history(self, incident_id: str) -> tuple[dict[str, list[Transition]], dict[str, datetime]]:
        """Each probe's logged transitions in time order, and when each was attached (`/probe add`)."""
        moves: dict[str, list[Transition]] = {}
        added: dict[str, datetime] = {}
        for entry in await q.all_entries(self.db.reader, incident_id, (EntryKind.PROBE,)):
            data = entry.data or {}
            if isinstance(data.get("transition"), dict) and data["transition"].get("probe"):
                change = Transition.from_dict(data["transition"])
                moves.setdefault(change.probe, []).append(change)
            elif isinstance(data.get("probe"), dict) and data["probe"].get("name"):
                added.setdefault(data["probe"]["name"], entry.occurred_at)
        return moves, added

    # ---- moving through it --------------------------------------------------------------------

    async def replay_points(self, incident_id: str) -> list[ReplayPoint]:
        """The moments to jump to (declaration, milestones, severity and status changes)."""
        current = await IncidentService.incident(self, incident_id)
        return replay_points(current, await q.all_entries(self.db.reader, incident_id, MARK_KINDS))

    async def replay_span(self, incident_id: str) -> tuple[datetime, datetime]:
        """(first, last) moment of the incident's record."""
        current = await IncidentService.incident(self, incident_id)
        return replay_span(current, await q.occurrence_span(self.db.reader, incident_id))

    async def recorded_entries(self, incident_id: str) -> int:
        """How many entries the whole record holds, whatever the horizon."""
        return await super().entry_count(incident_id)

    async def next_moment(self, incident_id: str, after: datetime) -> datetime | None:
        """When the first entry after `after` happened (None: nothing did)."""
        return await q.next_occurrence(self.db.reader, incident_id, after)


def _state_at(row: StoredProbeState, moves: list[Transition], moment: datetime) -> StoredProbeState:
    done = bisect_right([t.at for t in moves], moment)
    if done:
        last = moves[done - 1]
        state, since = last.new, last.at
        failures, successes, first_failure = last.consecutive_failures, last.consecutive_successes, last.first_failure_at
    else:  # before its first logged change it was in the state that change came from
        state = moves[0].old if moves else ProbeState(row.state)
        since, failures, successes, first_failure = None, 0, 0, None
    health = ProbeState.UNKNOWN if state is ProbeState.STALE else state
    return replace(row, state=state.value, health=health.value, since=since, first_failure_at=first_failure,
                   consecutive_failures=failures, consecutive_successes=successes, last_result=None, recent=[],
                   uptime_checks=0, uptime_ok=0)


class ReplayIncident:
    """service.live.LiveIncident for a replay: each look moves the horizon to the clock and hands
    out the entries that happened in between (back to the start: everything again)."""

    def __init__(self, service: ReplayService, incident_id: str):
        self.service, self.incident_id = service, incident_id
        self.incident: Incident | None = None
        self.shown_until: datetime | None = None
        self.total = 0  # entries shown: those that had happened by `shown_until`
        self._lock = asyncio.Lock()

    async def load(self) -> RecordDelta:
        async with self._lock:
            return await self._load_all()

    async def _load_all(self) -> RecordDelta:
        service = self.service
        self.shown_until = service.advance()
        self.incident = await service.incident(self.incident_id)
        self.total = await service.entry_count(self.incident_id)
        return RecordDelta(frozenset(PARTS), incident=self.incident, roster=await service.roster(self.incident),
                           updates=await service.updates(self.incident_id), everything=True, total=self.total)

    async def poll(self) -> RecordDelta | None:
        """What happened since the last look (None: nothing); a jump back reloads everything. A look
        reads only what is new (no count: what happened by now is what was shown plus what is new)."""
        async with self._lock:
            before, service = self.shown_until, self.service
            until = service.advance()
            if before is None or until < before:
                return await self._load_all()
            if until == before:
                return None
            new = await q.entries_occurred(service.db.reader, self.incident_id, before, until)
            self.shown_until = until
            if not new:
                return None
            kinds = {entry.kind for entry in new}
            parts, incident, roster, updates = {ENTRIES}, None, None, None
            if kinds & set(MARK_KINDS):
                incident = self.incident = await service.incident(self.incident_id)
                parts.add(INCIDENT)
            if EntryKind.ROLE in kinds:
                roster = await service.roster(self.incident)
                parts.add(ROLES)
            if EntryKind.UPDATE in kinds:
                updates = await service.updates(self.incident_id)
                parts.add(UPDATES)
            if EntryKind.PROBE in kinds:
                parts.add(PROBE_STATE)
            self.total += len(new)
            return RecordDelta(frozenset(parts), incident=incident, roster=roster, updates=updates, appended=new,
                               total=self.total)

    async def written(self, entries: list[Entry]) -> RecordDelta:
        """A replay writes nothing; kept for LiveIncident's interface."""
        return RecordDelta(frozenset())
