"""The war room's procedures: updates (compose, post, deliver), checklists, action items, handoff,
resolution, escalation notices and the report.

`WarRoomProcedures` is composed into WarRoomScreen (`screen.procedures`), not mixed in. It uses the
screen only for what every widget has (app, notify, run_worker, post_message) and the incident it
shows; the dialogs it opens return their result with dismiss() and never call back into the screen.
Nothing here refreshes the screen after a write: the change log does (warroom.service.live).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, EntryKind
from warroom.ui.messages import EntryRejected
from warroom.ui.screens.dialogs import AskText


class WarRoomProcedures:
    """The procedure actions of one war-room screen (F2-F6 and what follows a committed entry)."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self.last_escalation = None  # the notice announced last (F5 shows it again)

    @property
    def app(self):
        return self.screen.app

    @property
    def service(self):
        return self.app.service

    @property
    def incident(self):
        return self.screen.incident

    def _run(self, work, group: str) -> None:
        self.screen.run_worker(work, group=group)

    # ---- dialogs -------------------------------------------------------------------------------

    def compose_update(self) -> None:
        """F2: draft, edit and post a stakeholder update (the composer returns the draft)."""
        self._run(self._compose_update(), "dialog")

    async def _compose_update(self) -> None:
        from warroom.ui.screens.composer import ComposerScreen

        incident = self.incident
        draft = await self.app.push_screen_wait(ComposerScreen(incident.id, self.service.policy_for(incident)))
        if draft is not None:
            self._run(self._post_update(draft.audience, draft.text, draft.promise), "write")

    def checklists(self) -> None:
        """F3: the policy's checklists and playbooks for this incident."""
        from warroom.ui.screens.procedures import ProceduresScreen

        self.app.push_screen(ProceduresScreen(self.incident.id, self.service.policy_for(self.incident)))

    def actions(self) -> None:
        """F4: the incident's action items."""
        from warroom.ui.screens.actions import ActionsScreen

        self.app.push_screen(ActionsScreen(self.incident.id))

    def resolve_with_summary(self, typed: str) -> None:
        """`typed` resolves the incident but has no summary (the service refused it): ask for one."""
        self._run(self._resolve(typed), "dialog")

    async def _resolve(self, typed: str) -> None:
        summary = await self.app.push_screen_wait(
            AskText("Resolve the incident: one-line resolution summary", placeholder="what fixed it"))
        if not summary or not summary.strip():
            self.screen.post_message(EntryRejected("not resolved: a resolution summary is needed", typed))
            return
        try:  # the same command (back-dating kept) with the summary as its note
            command = await self.service.parse(self.incident.id, typed)
            entries = await self.service.apply(self.incident.id, replace(command, note=" ".join(summary.split())),
                                               self.app.user)
            await self.screen.committed(typed, entries)
        except WarroomError as error:
            self.screen.post_message(EntryRejected(str(error), typed))

    def escalation(self) -> None:
        """F5: the escalation notice for the current severity, timed from when it was reached."""
        self._run(self._escalation(), "dialog")

    async def _escalation(self) -> None:
        from warroom.ui.screens.escalation import EscalationScreen

        incident = self.incident
        notice = self.last_escalation
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

    def export_report(self) -> None:
        """F6: the post-incident report as Markdown in the updates folder."""
        self._run(self._export_report(), "write")

    async def _export_report(self) -> None:
        from warroom.domain.report import to_markdown

        record = await self.service.record(self.incident.id)
        path = Path(self.app.updates_dir) / f"{self.incident.id}-report.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_markdown(record), encoding="utf-8")
        except OSError as error:
            self.app.notify(f"Report not written: {error}", severity="error", markup=False)
            return
        self.app.notify(f"Report written: {path.name} (in {path.parent})", markup=False, timeout=8)

    # ---- after an entry committed --------------------------------------------------------------

    def after_commit(self, entries: list[Entry]) -> None:
        """Follow-ups of entries typed in the entry bar: escalation notices, delivery, handoff summary."""
        for entry in entries:
            data = entry.data or {}
            if entry.kind is EntryKind.SEVERITY:
                self.announce_escalation(data.get("to", ""), entry.occurred_at)
            elif entry.kind is EntryKind.UPDATE:
                self._run(self._deliver_posted(entry, data.get("audience", "internal")), "write")
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
            self.app.notify(f"Now {notice.severity}: tell {len(notice.duties)}{due}. F5: who and paths",
                            severity="warning", timeout=8, markup=False)

    # ---- posting and delivering updates ------------------------------------------------------

    async def _post_update(self, audience: str, text: str, promise: datetime | None) -> None:
        """Store the update first (it is never lost), then copy and deliver it."""
        try:
            posted = await self.service.post_update(self.incident.id, audience, text, self.app.user, promise)
        except WarroomError as error:
            self.app.notify(f"Update NOT posted: {error}", severity="error", markup=False)
            return
        await self._deliver(posted.entry, audience, posted.sequence)

    async def _deliver_posted(self, entry: Entry, audience: str) -> None:
        await self._deliver(entry, audience, (entry.data or {}).get("update") or len(await self.service.updates(
            self.incident.id)))

    async def _deliver(self, entry: Entry, audience: str, sequence: int) -> None:
        from warroom.service.delivery import deliver_update

        app = self.app
        app.copy_to_clipboard(entry.text)
        app.notify(f"Update {sequence} posted as #{entry.number} and copied", markup=False)
        results = await deliver_update(entry.text, self.incident.id, sequence, app.config,
                                       updates_dir=app.updates_dir, audience=audience)
        failed = [result for result in results if not result.ok]
        for result in failed:  # the details go on the timeline, where they stay
            await self.service.record_system(
                self.incident.id, f"Delivery of update {sequence} (#{entry.number}) to {result.target} failed "
                f"after {result.attempts} attempt(s): {result.error}",
                {"delivery": result.target, "update": sequence, "entry": entry.number, "ok": False})
        if failed:
            names = ", ".join(result.target for result in failed)
            names = names if len(names) <= 40 else names[:39] + "…"
            app.notify(f"Update {sequence} NOT delivered to {names} (saved; why: timeline)",
                       severity="error", timeout=10, markup=False)
        elif results:
            app.notify(f"Update {sequence} delivered ({len(results)} of {len(results)})", markup=False)
