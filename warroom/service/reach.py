"""Reach: what the record says must go out, sent and recorded. The one way the UI, the CLI and
the alert intake deliver updates and page on-call, after the entries that call for it committed.

- An update goes to the updates folder and to every target serving its audience. Each delivery
  is a row (pending, then delivered or failed with why and how many attempts); a failure is also
  a timeline entry. A failed (or interrupted) delivery can be retried; nothing is lost meanwhile.
- Declaring at, or escalating to, a severity whose policy level has `page` triggers the pagers
  covering the incident; `/page NAME|SERVICE reason` triggers the pagers it names; resolving (or
  closing) resolves every page that went out. Each page is a timeline entry with its result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from warroom.domain.errors import NotFoundError, RuleError
from warroom.domain.models import Delivery, DeliveryState, Entry, EntryKind, Incident, Page
from warroom.service.config import (
    Config, EmailTarget, JsonTarget, Pager, SlackTarget, StatusFileTarget, StatuspageTarget, Target,
)  # fmt: skip
from warroom.service.delivery import SendResult, UpdateMessage, post_json, slack_payload, write_to_folder
from warroom.service.follow_ups import DELIVER, ESCALATED, PAGE_REQUEST, RESOLVED, follow_up_of
from warroom.service.incidents import IncidentService
from warroom.service.paging import PageRequest, pagers_for_incident, send_page
from warroom.service.statuspage import PublishedIncident, PublishedUpdate, publish_status_files, send_statuspage
from warroom.store import queries as q
from warroom.store import reach as rq

FOLDER_TARGET = "updates folder"
PUBLISHED_INCIDENTS, PUBLISHED_UPDATES = 20, 10


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What a follow-up sent: deliveries of updates and pages, as recorded."""

    deliveries: list[Delivery] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def summary(self) -> list[str]:
        """One line per update delivered (or not) and per page, for stderr and toasts."""
        lines, by_update = [], {}
        for delivery in self.deliveries:
            by_update.setdefault(delivery.update_number, []).append(delivery)
        for number, rows in by_update.items():
            good = [d.target for d in rows if d.state is DeliveryState.DELIVERED]
            bad = [f"{d.target} ({d.error})" for d in rows if d.state is not DeliveryState.DELIVERED]
            line = f"update {number} delivered to {len(good)} of {len(rows)}"
            line += f": {', '.join(good)}" if good else ""
            line += f"; NOT delivered to {', '.join(bad)}" if bad else ""
            lines.append(line)
        for page in self.pages:
            done = "sent" if page.state is DeliveryState.DELIVERED else f"FAILED ({page.error})"
            lines.append(f"page {page.action} to {page.pager}: {done}")
        return lines


class Reach:
    """Delivers updates and sends pages for one IncidentService, with one config."""

    def __init__(self, service: IncidentService, config: Config, *, updates_dir: Path | None = None,
                 environ: Mapping[str, str] | None = None, attempts: int | None = None,
                 backoff: tuple[float, ...] | None = None):
        self.service, self.config, self.updates_dir = service, config, updates_dir
        self.environ, self.attempts, self.backoff = environ, attempts, backoff
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._in_flight: set[int] = set()

    @property
    def author(self) -> str:
        return "warroom"

    # ---- following committed entries ------------------------------------------------------------

    async def follow_up(self, incident_id: str, entries: Iterable[Entry]) -> FollowUp:
        """Deliver the updates among `entries`, and page for the escalations, page requests and
        resolutions among them."""
        done = FollowUp()
        for entry in entries:
            data, wanted = entry.data or {}, follow_up_of(entry)
            if wanted == DELIVER:
                done.deliveries.extend(await self.deliver(incident_id, entry))
            elif wanted == ESCALATED:
                done.pages.extend(await self._escalated(incident_id, data.get("from", ""), data["to"]))
            elif wanted == PAGE_REQUEST:
                done.pages.extend(await self._page_request(incident_id, entry, data))
            elif wanted == RESOLVED:
                done.pages.extend(await self.resolve_pages(incident_id))
        return done

    async def after_declare(self, incident: Incident) -> FollowUp:
        """Page when the incident was declared at a severity that pages."""
        level = self.service.policy_for(incident).find_severity(incident.severity)
        if level is None or not level.pages:
            return FollowUp()
        return FollowUp(pages=await self._trigger(incident, pagers_for_incident(self.config, incident.services),
                                                  incident.id, f"{level.id} declared"))

    # ---- updates ----------------------------------------------------------------------------

    def targets_for(self, audience: str) -> list[Target]:
        return [target for target in self.config.targets() if target.serves(audience)]

    async def deliver(self, incident_id: str, entry: Entry) -> list[Delivery]:
        """Deliver the update that `entry` posted to the folder and every target of its audience."""
        found = await rq.update_with_entry(self.service.db.reader, entry_id=entry.id)
        if found is None:
            raise NotFoundError(f"entry #{entry.number} is not a posted update")
        update, _ = found
        number = int((entry.data or {}).get("update") or len(await self.service.updates(incident_id)))
        names = ([(FOLDER_TARGET, "file")] if self.updates_dir is not None else [])
        names += [(target.name, target.kind) for target in self.targets_for(update.audience)]
        now = self.service.now()
        async with self.service.db.transaction() as conn:
            rows = [await rq.add_delivery(conn, incident_id=incident_id, update_id=update.id, update_number=number,
                                          audience=update.audience, target=name, kind=kind, now=now)
                    for name, kind in names]
        return list(await asyncio.gather(*(self._send(row) for row in rows)))

    async def deliveries(self, incident_id: str) -> list[Delivery]:
        return await rq.list_deliveries(self.service.db.reader, incident_id)

    async def retry(self, delivery_id: int) -> Delivery:
        """Send one failed (or interrupted) delivery again."""
        row = await rq.get_delivery(self.service.db.reader, delivery_id)
        if row.state is DeliveryState.DELIVERED:
            raise RuleError(f"update {row.update_number} was already delivered to {row.target}")
        if row.id in self._in_flight:
            raise RuleError(f"update {row.update_number} is being sent to {row.target} right now")
        return await self._send(row)

    async def retry_failed(self, incident_id: str) -> list[Delivery]:
        """Retry every delivery of the incident that is not delivered and not being sent."""
        waiting = [d for d in await self.deliveries(incident_id)
                   if d.state is not DeliveryState.DELIVERED and d.id not in self._in_flight]
        return list(await asyncio.gather(*(self._send(row) for row in waiting)))

    async def _send(self, row: Delivery) -> Delivery:
        self._in_flight.add(row.id)
        try:
            message = await self._message(row)
            result = await self._send_to(row, message)
        except Exception as error:  # a bug in one target must not lose the others' results
            result = SendResult(False, 1, f"{type(error).__name__} while sending")
        finally:
            self._in_flight.discard(row.id)
        now = self.service.now()
        retried = row.attempts > 0
        async with self.service.db.transaction() as conn:
            done = await rq.finish_delivery(conn, row.id, ok=result.ok, attempts=result.attempts, error=result.error,
                                            detail=result.detail, now=now)
            found = await rq.update_with_entry(conn, update_id=row.update_id)
            entry_number = found[1] if found else 0
            where = f"update {row.update_number} (#{entry_number}) to {row.target}"
            if not result.ok and not retried:
                await q.insert_entry(
                    conn, incident_id=row.incident_id, occurred_at=now, recorded_at=now, author=self.author,
                    kind=EntryKind.SYSTEM, data={"delivery": row.target, "update": row.update_number,
                                                 "entry": entry_number, "ok": False},
                    text=f"Delivery of {where} failed after {result.attempts} attempt(s): {result.error}")
            elif result.ok and retried:
                await q.insert_entry(
                    conn, incident_id=row.incident_id, occurred_at=now, recorded_at=now, author=self.author,
                    kind=EntryKind.SYSTEM, data={"delivery": row.target, "update": row.update_number,
                                                 "entry": entry_number, "ok": True},
                    text=f"Delivery of {where} succeeded on retry (attempt {done.attempts})")
        return done

    async def _message(self, row: Delivery) -> UpdateMessage:
        found = await rq.update_with_entry(self.service.db.reader, update_id=row.update_id)
        if found is None:
            raise NotFoundError(f"update {row.update_number} is gone")
        update, entry_number = found
        incident = await self.service.incident(row.incident_id)
        policy = self.service.policy_for(incident)
        level = policy.find_severity(incident.severity)
        status = policy.find_status(incident.status)
        audience = next((a.label for a in policy.audience if a.id == update.audience), update.audience)
        return UpdateMessage(
            incident_id=incident.id, title=incident.title, severity=incident.severity,
            severity_label=level.label if level else incident.severity, status=incident.status,
            status_label=status.label if status else incident.status, resolved=not incident.is_open,
            services=incident.services, audience=update.audience, audience_label=audience, number=row.update_number,
            entry_number=entry_number, text=update.text, posted_at=update.posted_at,
        )

    def _target(self, name: str) -> Target | None:
        return next((t for t in self.config.targets() if t.name == name), None)

    async def _send_to(self, row: Delivery, message: UpdateMessage) -> SendResult:
        options = {"environ": self.environ, "attempts": self.attempts, "backoff": self.backoff}
        if row.kind == "file":
            if self.updates_dir is None:
                return SendResult(False, 0, "no updates folder here")
            return await write_to_folder(message, self.updates_dir)
        target = self._target(row.target)
        if target is None:
            return SendResult(False, 0, f"no target named {row.target!r} in the config any more")
        if isinstance(target, SlackTarget):
            return await post_json(target.url_env, slack_payload(message), timeout=target.timeout, **options)
        if isinstance(target, JsonTarget):
            return await post_json(target.url_env, message.as_json(), timeout=target.timeout, **options)
        if isinstance(target, EmailTarget):
            from warroom.service.mailer import send_email  # smtplib and ssl only for e-mail targets

            return await send_email(target, message, **options)
        async with self._locks.setdefault((row.incident_id, target.name), asyncio.Lock()):
            if isinstance(target, StatusFileTarget):
                return await publish_status_files(target, await self._published(target), self.service.now())
            assert isinstance(target, StatuspageTarget)
            return await self._statuspage(target, message, **options)

    async def _statuspage(self, target: StatuspageTarget, message: UpdateMessage, **options) -> SendResult:
        incident = await self.service.incident(message.incident_id)
        policy = self.service.policy_for(incident)
        rank = next((i for i, s in enumerate(policy.severity) if s.id == incident.severity), len(policy.severity))
        known = await rq.status_page_incident(self.service.db.reader, incident.id, target.name)
        result, remote = await send_statuspage(target, message, known, severity_rank=rank, **options)
        if remote and remote != known:
            async with self.service.db.transaction() as conn:
                await rq.remember_status_page_incident(conn, incident.id, target.name, remote)
        return result

    async def _published(self, target: StatusFileTarget) -> list[PublishedIncident]:
        """The incidents with updates for this page's audiences, newest first, for a static page."""
        published = []
        for incident in await self.service.incidents(include_closed=True):
            updates = [u for u in await self.service.updates(incident.id) if target.serves(u.audience)]
            if not updates:
                continue
            policy = self.service.policy_for(incident)
            level, status = policy.find_severity(incident.severity), policy.find_status(incident.status)
            shown = [PublishedUpdate(n, u.posted_at, u.text) for n, u in enumerate(updates, start=1)]
            published.append(PublishedIncident(
                id=incident.id, title=incident.title, severity=incident.severity,
                severity_label=level.label if level else incident.severity,
                status_label=status.label if status else incident.status, resolved=not incident.is_open,
                services=incident.services, updates=tuple(reversed(shown[-PUBLISHED_UPDATES:]))))
            if len(published) == PUBLISHED_INCIDENTS:
                break
        return published

    # ---- pages ------------------------------------------------------------------------------

    async def pages(self, incident_id: str) -> list[Page]:
        return await rq.list_pages(self.service.db.reader, incident_id)

    async def _escalated(self, incident_id: str, old: str, new: str) -> list[Page]:
        incident = await self.service.incident(incident_id)
        policy = self.service.policy_for(incident)
        order = [level.id for level in policy.severity]
        level = policy.find_severity(new)
        worse = old not in order or (new in order and order.index(new) < order.index(old))
        if level is None or not level.pages or not worse:
            return []
        return await self._trigger(incident, pagers_for_incident(self.config, incident.services), incident.id,
                                   f"escalated {old} -> {new}")

    async def _page_request(self, incident_id: str, entry: Entry, data: dict) -> list[Page]:
        incident = await self.service.incident(incident_id)
        wanted = [pager for pager in self.config.pager if pager.name in data["page_request"]]
        return await self._trigger(incident, wanted, f"{incident.id}/{entry.number}",
                                   f"paged by {entry.author}: {data.get('reason', '')}")

    async def _trigger(self, incident: Incident, pagers: list[Pager], dedup_key: str, reason: str) -> list[Page]:
        policy = self.service.policy_for(incident)
        level = policy.find_severity(incident.severity)
        rank = next((i for i, s in enumerate(policy.severity) if s.id == incident.severity), len(policy.severity))
        request = PageRequest("trigger", dedup_key, incident.id, incident.title, incident.severity, rank,
                              incident.services, reason, tuple(level.page) if level else ())
        return list(await asyncio.gather(*(self._page(pager, request) for pager in pagers)))

    async def resolve_pages(self, incident_id: str) -> list[Page]:
        """Resolve every page delivered for the incident that has not been resolved yet."""
        incident = await self.service.incident(incident_id)
        open_keys: dict[tuple[str, str], bool] = {}
        for page in await self.pages(incident_id):
            if page.state is DeliveryState.DELIVERED:
                open_keys[(page.pager, page.dedup_key)] = page.action == "trigger"
        pagers = {pager.name: pager for pager in self.config.pager}
        sends = []
        for (name, key), still_open in open_keys.items():
            if still_open and name in pagers:
                request = PageRequest("resolve", key, incident.id, incident.title, incident.severity, 0,
                                      incident.services, "resolved")
                sends.append(self._page(pagers[name], request))
        return list(await asyncio.gather(*sends))

    async def _page(self, pager: Pager, request: PageRequest) -> Page:
        now = self.service.now()
        async with self.service.db.transaction() as conn:
            row = await rq.add_page(conn, incident_id=request.incident_id, pager=pager.name, action=request.action,
                                    dedup_key=request.dedup_key, reason=request.reason, now=now)
        try:
            result = await self._send_page(pager, request)
        except Exception as error:  # never lose the record of a page that did not go out
            result = SendResult(False, 1, f"{type(error).__name__} while paging")
        now = self.service.now()
        how = ", ".join(request.channels)
        if request.action == "trigger":
            text = (f"Paged {pager.name} ({request.reason}): {result.detail or 'accepted'}" if result.ok else
                    f"Page to {pager.name} FAILED after {result.attempts} attempt(s): {result.error}. "
                    f"Page by hand{f' (the policy pages by: {how})' if how else ''}")
        else:
            text = (f"Resolved the page on {pager.name}: {result.detail or 'accepted'}" if result.ok else
                    f"Resolving the page on {pager.name} FAILED after {result.attempts} attempt(s): "
                    f"{result.error}. Resolve it there by hand")
        async with self.service.db.transaction() as conn:
            entry = await q.insert_entry(
                conn, incident_id=request.incident_id, occurred_at=now, recorded_at=now, author=self.author,
                kind=EntryKind.SYSTEM, text=text,
                data={"page": pager.name, "action": request.action, "dedup_key": request.dedup_key, "ok": result.ok})
            await rq.finish_page(conn, row.id, ok=result.ok, attempts=result.attempts, error=result.error, now=now,
                                 entry_id=entry.id)
        return next(p for p in await self.pages(request.incident_id) if p.id == row.id)

    async def _send_page(self, pager: Pager, request: PageRequest) -> SendResult:
        """Send one page (a drill's Reach sends it to its outbox instead)."""
        return await send_page(pager, request, environ=self.environ, attempts=self.attempts, backoff=self.backoff)
