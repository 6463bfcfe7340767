"""The war room's procedure actions: updates (compose, post, deliver), checklists, action items,
handoff, resolution, escalation notices and the report. Mixed into WarRoomScreen."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from textual import work

from warroom.domain.errors import WarroomError
from warroom.domain.models import DeliveryState, Entry, EntryKind
from warroom.ui.messages import EntryCommitted, EntryRejected
from warroom.ui.screens.dialogs import AskText


FOLLOWED_KINDS = (EntryKind.UPDATE, EntryKind.SEVERITY, EntryKind.SYSTEM, EntryKind.MILESTONE)
"""Entry kinds `Reach.follow_up` may act on (updates, escalations, page requests, resolution)."""


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
        """Follow-ups of entries typed in the entry bar: what a severity change now owes, the clipboard,
        the handoff summary, then delivery and paging (warroom.service.reach) in the background."""
        for entry in entries:
            data = entry.data or {}
            if entry.kind is EntryKind.SEVERITY and data.get("started"):
                self.announce_duties(data.get("to", ""), data["started"])
            elif entry.kind is EntryKind.UPDATE:
                self.app.copy_to_clipboard(entry.text)
                self.notify(f"Update {data.get('update', '')} posted as #{entry.number} and copied", markup=False)
            elif entry.kind is EntryKind.ROLE and data.get("handoff"):
                from warroom.ui.screens.actions import HandoffScreen

                self.app.push_screen(HandoffScreen(entry))
        if any(entry.kind in FOLLOWED_KINDS for entry in entries):
            self.follow_up(entries)

    @work(group="reach")
    async def follow_up(self, entries: list[Entry]) -> None:
        """Deliver and page; the results are recorded (F2 shows deliveries), toasts say how it went."""
        try:
            done = await self.app.reach.follow_up(self.incident.id, entries)
        except WarroomError as error:
            self.notify(f"Delivery or paging stopped: {error}", severity="error", markup=False)
            return
        self.announce_sent(done)
        self.refresh_record()

    def announce_sent(self, done) -> None:
        by_update: dict[int, list] = {}
        for delivery in done.deliveries:
            by_update.setdefault(delivery.update_number, []).append(delivery)
        for number, rows in by_update.items():
            failed = [row.target for row in rows if row.state is not DeliveryState.DELIVERED]
            if failed:
                names = ", ".join(failed)
                names = names if len(names) <= 40 else names[:39] + "…"
                self.notify(f"Update {number} NOT delivered to {names} (saved; F2 to retry)",
                            severity="error", timeout=10, markup=False)
            else:
                self.notify(f"Update {number} delivered ({len(rows)} of {len(rows)})", markup=False)
        for page in done.pages:
            if page.state is DeliveryState.DELIVERED:
                self.notify(f"Page {page.action} sent to {page.pager}", markup=False)
            else:
                self.notify(f"Page {page.action} to {page.pager} FAILED: page by hand (why: timeline)",
                            severity="error", timeout=15, markup=False)

    def announce_duties(self, severity: str, started: list[dict]) -> None:
        """A one-line toast of what a severity change started; its entry and F5 hold the details."""
        from warroom.domain.clock import format_moment

        dues = [datetime.fromisoformat(item["due_at"]) for item in started if item.get("due_at")]
        first = f", first by {format_moment(min(dues), self.service.now(), seconds=False)}" if dues else ""
        self.notify(f"Now {severity}: {len(started)} owed{first}. F5: all duties",
                    severity="warning", timeout=8, markup=False)

    @work(group="dialog")
    async def action_escalation(self) -> None:
        """Open the escalation picture: the open duties, most urgent first, and the paths up."""
        from warroom.ui.screens.escalation import EscalationScreen

        notice = await self.service.escalation_for(await self.service.incident(self.incident.id))
        self.app.push_screen(EscalationScreen(notice, self.service.now()))

    @work(group="write")
    async def post_update(self, audience: str, text: str, promise: datetime | None) -> None:
        """Store the update first (it is never lost), then copy and deliver it."""
        try:
            posted = await self.service.post_update(self.incident.id, audience, text, self.app.user, promise)
        except WarroomError as error:
            self.notify(f"Update NOT posted: {error}", severity="error", markup=False)
            return
        self.refresh_record()
        self.after_commit([posted.entry])

    @work(group="write")
    async def action_export_report(self) -> None:
        from warroom.domain.postmortem import to_markdown

        try:
            self.service.require_writable()
        except WarroomError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        record = await self.service.record(self.incident.id)
        path = Path(self.app.updates_dir) / f"{self.incident.id}-report.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_markdown(record), encoding="utf-8")
        except OSError as error:
            self.notify(f"Report not written: {error}", severity="error", markup=False)
            return
        self.notify(f"Report written: {path.name} (in {path.parent})", markup=False, timeout=8)
