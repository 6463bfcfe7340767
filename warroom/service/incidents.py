"""IncidentService: the one way into the incident record for the CLI and the UI.

It parses what people type, applies it through `CommandWriter` (one transaction per write) and
reads the record back for screens, exports and reports (the whole-record reads: service.records).
Nothing here imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from warroom.domain import commands as cmd
from warroom.domain.clock import Clock, clock_skew_warning, system_clock
from warroom.domain.errors import NotFoundError, ParseError, ReadOnlyError
from warroom.domain.grammar import parse
from warroom.domain.models import ActionItem, Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate
from warroom.domain.policy import Policy, PolicyBook
from warroom.service.commands import CommandWriter, assign, commander_role, write_action_done
from warroom.service.config import Config, database_password
from warroom.service.procedures import ProcedureMethods
from warroom.service.records import RecordMethods
from warroom.store import Database, open_database
from warroom.store import queries as q
from warroom.store import team_queries as team
from warroom.store.appending import incident_policy

if TYPE_CHECKING:  # the rest is imported where it is used: a scripted `warroom log` needs none of it
    from warroom.domain.captured import CommandRun
    from warroom.probes.config import ProbeSpec
    from warroom.service.live import LiveIncident
    from warroom.store.probe_states import StoredProbeState
    from warroom.store.probes import AttachedProbe


@dataclass(frozen=True, slots=True)
class RoleSeat:
    """One role of the policy and who holds it now (person None: unfilled)."""

    role_id: str
    name: str
    required: bool
    person: str | None
    since: datetime | None
    is_commander: bool = False


async def write_declaration(
    conn, policy: Policy, title: str, severity: str, *, author: str, now: datetime, commander: str | None = None,
    services: tuple[str, ...] = (), impact: str = "", detected_at: datetime | None = None, note: str = "",
) -> tuple[str, list[Entry]]:
    """Declare an incident inside an open transaction: (its id, the entries written)."""
    title = title.strip()
    if not title:
        raise ParseError("an incident needs a title")
    level = policy.find_severity(severity)
    if level is None:
        raise ParseError(f"unknown severity {severity!r}; valid: {policy.severity_names()}")
    status = policy.first_status
    incident_id = await q.insert_incident(
        conn, title=title, policy_id=policy.id, severity=level.id, status=status.id,
        created_by=author, created_at=now, services=services, impact=impact,
    )
    from warroom.domain.duties import derive_duties, owed_note, started_at
    from warroom.domain.duty_record import declared_record

    started = started_at(derive_duties(policy, declared_record(level.id, now)), now)
    text, owed = owed_note(f"Declared {level.id} ({level.label}): {title}" + (f" | {note}" if note else ""),
                           started, now)
    written = [await q.insert_entry(
        conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author, kind=EntryKind.SYSTEM,
        text=text, data={"severity": level.id, "status": status.id, "policy": policy.id, "services": list(services),
                         **owed},
    )]
    if detected_at is not None:
        detected_at = min(detected_at, now)  # a clock ahead of ours must not put detection in the future
        await q.set_milestone(conn, incident_id, Milestone.DETECTED, detected_at)
        written.append(await q.insert_entry(
            conn, incident_id=incident_id, occurred_at=detected_at, recorded_at=now, author=author,
            kind=EntryKind.MILESTONE, text="Detected" + (f": {note}" if note else ""),
            data={"milestone": Milestone.DETECTED.value}))
    if commander:
        written.append(await assign(conn, incident_id, commander_role(policy), commander, now, now, author))
    return incident_id, written


class IncidentService(ProcedureMethods, RecordMethods):
    """Reads and writes incidents through one database connection."""

    def __init__(self, db: Database, policies: PolicyBook, clock: Clock = system_clock,
                 default_policy: str | None = None, config: Config | None = None):
        self.db = db
        self.policies = policies
        self.clock = clock
        self.default_policy_id = default_policy  # the config's `default_policy`; None: the book's default
        self.config = config or Config()  # the pagers `/page` may name
        self._duty_entries: dict[str, tuple[int, tuple[Entry, ...]]] = {}  # incident -> (read up to id, entries)
        self._duty_guard = None  # the lock of `_duty_entries`, made when first needed
        self._policy_ids: dict[str, str] = {}  # incident id -> policy id (an incident never changes policy)
        self._missing: dict[str, int] = {}  # incident id -> numbers without an entry (see missing_numbers)

    @classmethod
    async def open(cls, location: Path | str, policies: PolicyBook, clock: Clock = system_clock,
                   default_policy: str | None = None, config: Config | None = None, *,
                   read_only: bool = False, blocking: bool = False) -> "IncidentService":
        """The service on the database at `location` (a file path or a postgresql:// URL; its
        password from the config's `password_env`, else PGPASSWORD or ~/.pgpass); `read_only`:
        every write raises ReadOnlyError; `blocking` (a file only): without an event loop, its
        coroutines run by warroom.store.blocking.run_to_end (a command-line process)."""
        password = database_password(config, location) if config is not None else None
        return cls(await open_database(location, read_only=read_only, password=password, blocking=blocking),
                   policies, clock, default_policy, config)

    @property
    def _duty_lock(self):
        """The lock of `_duty_entries` (made on first use; without an event loop, one that never waits)."""
        if self._duty_guard is None:
            if self.db.blocking:
                from warroom.store.blocking import NoWaitLock

                self._duty_guard = NoWaitLock()
            else:
                import asyncio

                self._duty_guard = asyncio.Lock()
        return self._duty_guard

    async def checkpoint_in_background(self) -> None:
        """For a process that stays open (a war room): the database's housekeeping (SQLite's WAL
        checkpoints) leaves its commits, so an entry is on screen as soon as it is committed."""
        await self.db.checkpoint_in_background()

    def on_commit(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Call `listener()` after each transaction this service commits, and on a shared server
        after anyone's (it says so at once: `pushes_changes`); returns the way to stop."""
        return self.db.add_commit_listener(listener)

    def watch_commits(self, moved: Callable[[], object], every: float) -> Callable[[], None]:
        """On a file, call `moved()` from a thread of its own within `every` seconds of anyone's
        commit (a server needs none: `on_commit` hears them all); returns the way to stop."""
        return self.db.watch_commits(moved, every)

    def on_connection(self, listener: Callable[[str], object]) -> Callable[[], None]:
        """Call `listener(state)` when the database server goes away ("reconnecting") and comes
        back ("connected"); a file never calls it. Returns the way to stop."""
        return self.db.add_state_listener(listener)

    @property
    def pushes_changes(self) -> bool:
        """Whether every commit anywhere reaches `on_commit` (a server): no need to look by time."""
        return self.db.pushes_changes

    @property
    def connection_state(self) -> str:
        return self.db.state

    def clock_warning(self) -> str | None:
        """A sentence when this machine's clock is more than SERVER_CLOCK_TOLERANCE off the server's."""
        return clock_skew_warning(self.db.clock_offset, self.db.where)

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    def require_writable(self) -> None:
        """Raise ReadOnlyError in a read-only session (for writes that are not database ones: files)."""
        if self.read_only:
            raise ReadOnlyError("this session is read-only: nothing was written")

    async def close(self) -> None:
        await self.db.close()

    def now(self) -> datetime:
        return self.clock()

    # ---- reading -----------------------------------------------------------------------------

    async def incident(self, incident_id: str) -> Incident:
        incident = await q.get_incident(self.db.reader, incident_id)
        self._policy_ids[incident.id] = incident.policy_id
        return incident

    async def policy_of(self, incident_id: str) -> Policy:
        """The incident's policy; the incident is read only the first time (its policy never changes)."""
        return self.policies.get(await self._policy_id_of(incident_id))

    async def _policy_id_of(self, incident_id: str) -> str:
        """The incident's policy id (NotFoundError for no such incident), read the first time only."""
        if incident_id not in self._policy_ids:
            self._policy_ids[incident_id] = await incident_policy(self.db.reader, incident_id)
        return self._policy_ids[incident_id]

    async def _policy_getter(self, incident_id: str) -> Callable[[], Policy]:
        """The way to the incident's policy, for work that may need none (a note): the incident is
        read now, the policy file when first asked for."""
        policy_id = await self._policy_id_of(incident_id)
        return lambda: self.policies.get(policy_id)

    def live(self, incident_id: str) -> LiveIncident:
        """A view of the incident that a screen keeps current with `poll()` (see service.live)."""
        from warroom.service.live import LiveIncident

        return LiveIncident(self, incident_id)

    async def incidents(self, include_closed: bool = False) -> list[Incident]:
        found = await q.list_incidents(self.db.reader)
        return found if include_closed else [i for i in found if i.is_open]

    async def resolve_incident(self, incident_id: str | None) -> Incident:
        """The incident named, or without a name the only open one (NotFoundError otherwise)."""
        if incident_id:
            return await self.incident(incident_id)
        found = await self.incidents()
        if len(found) != 1:
            raise NotFoundError("no incident is open: name one (see `warroom list --all`)" if not found else
                                f"{len(found)} incidents are open: name one ({', '.join(i.id for i in found)})")
        return found[0]

    def policy_for(self, incident: Incident) -> Policy:
        return self.policies.get(incident.policy_id)

    @property
    def default_policy(self) -> Policy:
        """The policy a new incident gets when none is named (config `default_policy`, else the book's)."""
        return self.policies.get(self.default_policy_id) if self.default_policy_id else self.policies.default

    async def entries(self, incident_id: str, kinds: Iterable[EntryKind] | None = None) -> list[Entry]:
        return await q.all_entries(self.db.reader, incident_id, kinds)

    async def newest_times(self, incident_id: str) -> tuple[datetime | None, datetime | None]:
        """(when the newest entry was written, by its writer's clock; the latest moment on the
        timeline): what a screen compares its clock with (domain.clock.clock_behind)."""
        reader = self.db.reader
        return await q.newest_recorded_at(reader, incident_id), await q.latest_occurred_at(reader, incident_id)

    async def missing_numbers(self, incident_id: str) -> int:
        """How many numbers up to the newest have no entry: 0, but in a file `warroom recover`
        salvaged (the entries on a damaged page are lost). Counted once: numbers are handed out in
        order and entries never removed, so it never changes (8 ms at 100,000 entries)."""
        if incident_id not in self._missing:
            from warroom.store.record_reads import timeline_extent

            count, newest = await timeline_extent(self.db.reader, incident_id)
            self._missing[incident_id] = newest - count
        return self._missing[incident_id]

    async def entries_page(self, incident_id: str, offset: int, limit: int, query: str = "") -> list[Entry]:
        """One page of the timeline; a page in the newer half is read from the newest entry back
        (where the newest number is the number of entries: not in a salvaged file)."""
        from_end = not query.strip() and offset > await q.last_entry_number(self.db.reader, incident_id) // 2 \
            and not await self.missing_numbers(incident_id)
        return await q.entries_page(self.db.reader, incident_id, offset, limit, query, from_end=from_end)

    async def entry_count(self, incident_id: str, query: str = "") -> int:
        return await q.count_entries(self.db.reader, incident_id, query)

    async def role_history(self, incident_id: str) -> list[RoleAssignment]:
        return await team.role_history(self.db.reader, incident_id)

    async def roster(self, incident: Incident) -> list[RoleSeat]:
        """Every role of the incident's policy with its current holder."""
        current = {a.role_id: a for a in await self.role_history(incident.id) if a.ended_at is None}
        policy = self.policy_for(incident)
        commander_id = commander_role(policy).id
        seats = []
        for role in policy.role:
            held = current.get(role.id)
            seats.append(RoleSeat(role.id, role.name, role.required,
                                  held.person if held else None, held.started_at if held else None,
                                  is_commander=role.id == commander_id))
        return seats

    async def updates(self, incident_id: str) -> list[StatusUpdate]:
        return await team.list_updates(self.db.reader, incident_id)

    async def actions(self, incident_id: str) -> list[ActionItem]:
        return await team.list_actions(self.db.reader, incident_id)

    # ---- writing -----------------------------------------------------------------------------

    async def declare(
        self, title: str, severity: str, *, author: str, policy_id: str | None = None,
        commander: str | None = None, services: tuple[str, ...] = (), impact: str = "",
        detected_at: datetime | None = None,
    ) -> Incident:
        """Open a new incident, record the declaration and seat the commander if named; with
        `detected_at` (an alert's start) the detected milestone is back-dated to it."""
        policy = self.policies.get(policy_id) if policy_id else self.default_policy
        async with self.db.transaction() as conn:
            incident_id, _ = await write_declaration(
                conn, policy, title, severity, author=author, now=self.now(), commander=commander,
                services=services, impact=impact, detected_at=detected_at)
        return await self.incident(incident_id)

    async def parse(self, incident_id: str, text: str) -> cmd.AnyCommand:
        """What a person typed, as a command of the incident's policy (raises ParseError)."""
        return parse(text, await self._policy_getter(incident_id), self.now())

    async def execute(self, incident_id: str, text: str, author: str) -> list[Entry]:
        """Parse what a person typed and apply it. Returns the entries it wrote."""
        return await self.apply(incident_id, await self.parse(incident_id, text), author)

    async def apply(self, incident_id: str, command: cmd.AnyCommand, author: str) -> list[Entry]:
        """Apply one command in one transaction (SummaryRequired when resolving without a summary)."""
        policy = await self._policy_getter(incident_id)
        now = self.now()
        at = command.occurred_at or now
        async with self.db.transaction() as conn:
            # The writer reads the incident inside the write lock when the command depends on it:
            # another process may have changed it since.
            return await CommandWriter(conn, incident_id, policy, author, now, at, self.config).run(command)

    async def set_action_done(self, incident_id: str, action_id: int, done: bool, author: str) -> Entry:
        """Action item `action_id` (its stored id, as F4 keeps it) done or open again."""
        async with self.db.transaction() as conn:
            items = await team.list_actions(conn, incident_id)
            number = next((n for n, a in enumerate(items, start=1) if a.id == action_id), None)
            if number is None:
                raise NotFoundError(f"{incident_id} has no action item {action_id}")
            return await write_action_done(conn, incident_id, items[number - 1], done, author, self.now(),
                                           number=number)

    # ---- probes attached to incidents -------------------------------------------------------

    async def attached_probes(self, incident_id: str) -> list[AttachedProbe]:
        """The probes stored with an incident (`/probe add`, the demo), as stored."""
        from warroom.store.probes import ProbeStore

        await self.incident(incident_id)  # an unknown id is an error, not "no probes"
        return await ProbeStore(self.db).attached(incident_id)

    async def probe_states(self, incident_id: str) -> list[StoredProbeState]:
        """Each probe's state as its lease holder stored it (what every screen shows)."""
        from warroom.store.probe_states import probe_states

        return await probe_states(self.db.reader, incident_id)

    async def attach_probe(self, incident_id: str, spec: ProbeSpec) -> bool:
        """Store a probe with an incident in its redacted form (``${VAR}`` templates, never the
        secrets); True when the name is new."""
        from warroom.store.probes import ProbeStore

        return await ProbeStore(self.db).attach(incident_id, spec.name, spec.redacted(), self.now())

    async def log_command(self, incident_id: str, run: CommandRun, author: str) -> Entry:
        """A `command` entry for a command that ran (redacted and inert already: domain.captured),
        dated when it started."""
        from warroom.domain.captured import command_entry

        text, data = command_entry(run)
        async with self.db.transaction() as conn:
            await q.get_incident(conn, incident_id)
            return await q.insert_entry(conn, incident_id=incident_id, occurred_at=run.started_at,
                                        recorded_at=self.now(), author=author, kind=EntryKind.COMMAND,
                                        text=text, data=data)

    async def record_system(self, incident_id: str, text: str, data: dict | None = None,
                            kind: EntryKind = EntryKind.SYSTEM, author: str = "warroom") -> Entry:
        """A machine-written entry (probe transitions, delivery failures)."""
        now = self.now()
        async with self.db.transaction() as conn:
            return await q.insert_entry(conn, incident_id=incident_id, occurred_at=now, recorded_at=now,
                                        author=author, kind=kind, text=text, data=data)


