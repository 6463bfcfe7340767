"""IncidentService's whole-record reads: the record for exports, reports and `warroom show`, the
smaller one an update draft needs, the check of the hash chain and the numbers across incidents.
A mixin, like service.procedures; the domain modules they build with are imported where used (a
scripted `warroom log` needs none of them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Collection, Iterable

from warroom.domain.clock import to_stored
from warroom.domain.errors import PolicyError
from warroom.domain.models import Entry, EntryKind
from warroom.domain.policy import Policy
from warroom.store import queries as q

if TYPE_CHECKING:
    from warroom.domain.chain import ChainReport
    from warroom.domain.report import IncidentRecord
    from warroom.domain.stats import Stats


async def _given(value):
    """`value` as an awaitable, beside reads in `_all_of`."""
    return value


async def _all_of(db, *reads) -> list:
    """What the independent `reads` return, in order. On an event loop they are sent at once:
    the connection runs them one after the other without waiting for the loop between them (a
    screen being drawn would otherwise delay each in turn). Without one (a blocking connection:
    `warroom show`), one after the other."""
    if getattr(db, "blocking", False):
        return [await read for read in reads]
    import asyncio

    return list(await asyncio.gather(*reads))


class RecordMethods:
    """The reads of a whole record (or of what one report needs) that IncidentService offers."""

    async def record(self, incident_id: str, kinds: Iterable[EntryKind] | None = None, *,
                     entries: Collection[Entry] | None = None, notable: list[Entry] | None = None,
                     key_entries: Iterable[Entry] | None = None, entries_left_out: int = 0) -> IncidentRecord:
        """Everything about one incident, for exports, reports and `warroom show`; with `kinds`, only
        the entries of those kinds; with `entries` (and `notable`), those instead of reading them
        (a stream: service.exports.streamed_record; the last few: service.drafts_of)."""
        from warroom.domain.duties import derive_duties
        from warroom.domain.report import IncidentRecord

        incident = await self.incident(incident_id)
        duty_record, read, roles, updates, actions, ticks, playbooks, chain_head = await _all_of(
            self.db, self.duty_record(incident), self.entries(incident_id, kinds) if entries is None else _given(entries),
            self.role_history(incident_id), self.updates(incident_id), self.actions(incident_id),
            self.checklist_state(incident_id), self.attached_playbooks(incident_id),
            q.chain_head(self.db.reader, incident_id))
        policy = self.policy_for(incident)
        return IncidentRecord(
            incident=incident,
            policy=policy,
            entries=read,
            notable=notable,
            key_entries=key_entries,
            entries_left_out=entries_left_out,
            roles=roles,
            updates=updates,
            actions=actions,
            exported_at=self.now(),
            checklist_ticks=ticks,
            playbooks=tuple(playbooks),
            chain_head=chain_head,
            duty_record=duty_record,
            duties=tuple(derive_duties(policy, duty_record)),
        )

    async def draft_record(self, incident_id: str, audience: str) -> IncidentRecord:
        """The record an update draft for `audience` needs: of the entries it repeats only the last
        few, read by the database (domain.updates.draft_wants), whatever the length of the timeline."""
        from warroom.domain.updates import MAX_CHANGES, draft_wants
        from warroom.store.record_reads import last_entries_of

        incident, updates = await _all_of(self.db, self.incident(incident_id), self.updates(incident_id))
        kinds, since = draft_wants(self.policy_for(incident), updates, audience)
        shown, total = await last_entries_of(self.db.reader, incident_id, kinds, to_stored(since) if since else None,
                                             MAX_CHANGES)
        return await self.record(incident_id, entries=shown, entries_left_out=total - len(shown))

    async def verify(self, incident_id: str) -> ChainReport:
        """Check the incident's hash chain as stored (domain.chain.verify_chain)."""
        from warroom.domain.chain import verify_chain

        await self.incident(incident_id)  # an unknown id is an error, not an empty chain
        return verify_chain(incident_id, await q.chain_links(self.db.reader, incident_id))

    async def stats(self, since: datetime | None = None, policy_id: str | None = None) -> Stats:
        """The numbers across the incidents declared since `since` (of one policy when given)."""
        from warroom.domain.stats import compute_stats
        from warroom.store.stats import stats_inputs

        if policy_id is not None:
            policy_id = self.policies.get(policy_id).id  # an unknown policy is an error, not "no incidents"
        facts, actions = await stats_inputs(self.db.reader, since, policy_id)

        def policy_of(known: str) -> Policy | None:
            try:
                return self.policies.get(known)
            except PolicyError:  # its policy file is gone: figures without targets
                return None

        return compute_stats(facts, actions, policy_of, self.now(), since, policy_id)
