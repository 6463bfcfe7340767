"""The war room's procedure actions: updates (compose, post, deliver), checklists, action items,
handoff, resolution, escalation notices and the report. Mixed into WarRoomScreen."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from textual import work

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, EntryKind
from warroom.ui.messages import EntryCommitted, EntryRejected
from warroom.ui.screens.dialogs import AskText


class ProceduresMixin:
    """Needs `service`, `incident`, `app`, `notify`, `refresh_record` and `post_message` from the screen."""

    def action_compose(self) -> None:
        from warroom.ui.screens.composer import ComposerScreen

        self.app.push_screen(ComposerScreen(self))

    def action_procedures(self) -> None:
        from warroom.ui.screens.procedures import ProceduresScreen

        self.app.push_screen(ProceduresScreen(self))

    def action_actions(self) -> None:
        from warroom.ui.screens.actions import ActionsScreen

        self.app.push_screen(ActionsScreen(self))

    @work(group="dialog")
    async def resolve_with_summary(self, typed: str) -> None:
        """`typed` resolves the incident but has no summary (the service refused it): ask, then
        apply the same command (back-dating kept) with the summary as its note."""
        summary = await self.app.push_screen_wait(
            AskText("Resolve the incident: one-line resolution summary", placeholder="what fixed it"))
        if not summary or not summary.strip():
            self.post_message(EntryRejected("not resolved: a resolution summary is needed", typed))
            return
        try:
            command = await self.service.parse(self.incident.id, typed)
            entries = await self.service.apply(self.incident.id, replace(command, note=" ".join(summary.split())),
                                               self.app.user)
        except WarroomError as error:
            self.post_message(EntryRejected(str(error), typed))
            return
        self.post_message(EntryCommitted(typed, entries))

    def after_commit(self, entries: list[Entry]) -> None:
        """Follow-ups of entries typed in the entry bar: escalation notices, delivery, handoff summary."""
        for entry in entries:
            data = entry.data or {}
            if entry.kind is EntryKind.SEVERITY:
                self.announce_escalation(data.get("to", ""), entry.occurred_at)
            elif entry.kind is EntryKind.UPDATE:
                self.copy_and_deliver(entry, data.get("audience", "internal"))
            elif entry.kind is EntryKind.ROLE and data.get("handoff"):
                from warroom.ui.screens.actions import HandoffScreen

                self.app.push_screen(HandoffScreen(entry))

    def announce_escalation(self, severity_id: str, at: datetime) -> None:
        """A one-line toast that escalation is due; the severity entry and F5 hold the details."""
        notice = self.service.escalation_for(self.incident, severity_id, at)
        if notice.duties or notice.paths:
            self.last_escalation = notice
            first = min((duty.due_at for duty in notice.duties if duty.due_at), default=None)
            due = f", first by {first:%H:%M} UTC" if first else ""
            self.notify(f"Now {notice.severity}: tell {len(notice.duties)}{due}. F5: who and paths",
                        severity="warning", timeout=8, markup=False)

    @work(group="dialog")
    async def action_escalation(self) -> None:
        """Open the escalation notice for the current severity, timed from when it was reached."""
        from warroom.ui.screens.escalation import EscalationScreen

        incident = await self.service.incident(self.incident.id)  # the stored severity, not the last refresh's
        notice = getattr(self, "last_escalation", None)
        if notice is None or notice.severity != incident.severity:
            notice = self.service.escalation_for(incident, incident.severity, await self._severity_since(incident))
        self.app.push_screen(EscalationScreen(notice))

    async def _severity_since(self, incident) -> datetime:
        """When the incident reached its current severity: the last severity entry, else its declaration."""
        count = await self.service.entry_count(incident.id, "severity")
        entries = await self.service.entries_page(incident.id, max(0, count - 50), 50, "severity")
        for entry in reversed(entries):
            if entry.kind is EntryKind.SEVERITY and (entry.data or {}).get("to") == incident.severity:
                return entry.occurred_at
        return incident.created_at

    @work(group="write")
    async def post_update(self, audience: str, text: str, promise: datetime | None) -> None:
        """Store the update first (it is never lost), then copy and deliver it."""
        try:
            posted = await self.service.post_update(self.incident.id, audience, text, self.app.user, promise)
        except WarroomError as error:
            self.notify(f"Update NOT posted: {error}", severity="error", markup=False)
            return
        self.refresh_record()
        await self._copy_and_deliver(posted.entry, audience, posted.sequence)

    @work(group="write")
    async def copy_and_deliver(self, entry: Entry, audience: str) -> None:
        updates = await self.service.updates(self.incident.id)
        await self._copy_and_deliver(entry, audience, len(updates))

    async def _copy_and_deliver(self, entry: Entry, audience: str, sequence: int) -> None:
        from warroom.service.delivery import deliver_update

        self.app.copy_to_clipboard(entry.text)
        self.notify(f"Update {sequence} posted as #{entry.number} and copied", markup=False)
        results = await deliver_update(entry.text, self.incident.id, sequence, self.app.config,
                                       updates_dir=self.app.updates_dir, audience=audience)
        failed = [result for result in results if not result.ok]
        for result in failed:  # the details go on the timeline, where they stay
            await self.service.record_system(
                self.incident.id, f"Delivery of update {sequence} (#{entry.number}) to {result.target} failed "
                f"after {result.attempts} attempt(s): {result.error}",
                {"delivery": result.target, "update": sequence, "entry": entry.number, "ok": False})
        if failed:
            names = ", ".join(result.target for result in failed)
            names = names if len(names) <= 40 else names[:39] + "…"
            self.notify(f"Update {sequence} NOT delivered to {names} (saved; why: timeline)",
                        severity="error", timeout=10, markup=False)
        elif results:
            self.notify(f"Update {sequence} delivered ({len(results)} of {len(results)})", markup=False)
        self.refresh_record()

    @work(group="write")
    async def action_export_report(self) -> None:
        from warroom.domain.report import to_markdown

        record = await self.service.record(self.incident.id)
        path = Path(self.app.updates_dir) / f"{self.incident.id}-report.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_markdown(record), encoding="utf-8")
        except OSError as error:
            self.notify(f"Report not written: {error}", severity="error", markup=False)
            return
        self.notify(f"Report written: {path.name} (in {path.parent})", markup=False, timeout=8)
