"""The war room's procedures: updates (compose, post, deliver), checklists, action items, handoff,
resolution, escalation notices and the report.

`WarRoomProcedures` is composed into WarRoomScreen (`screen.procedures`), not mixed in. It uses the
screen only for what every widget has (app, notify, run_worker, post_message) and the incident it
shows; the dialogs it opens return their result with dismiss() and never call back into the screen.
Nothing here refreshes the screen after a write: the change log does (warroom.service.live).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from warroom.domain.commands import replaced
from warroom.domain.errors import WarroomError
from warroom.domain.models import DeliveryState, Entry, EntryKind
from warroom.ui.messages import EntryRejected

REPORT_PROGRESS_EVERY = 0.25  # seconds between two words on how far F6's report is
FOLLOWED_KINDS = (EntryKind.UPDATE, EntryKind.SEVERITY, EntryKind.SYSTEM, EntryKind.MILESTONE)
"""Entry kinds `Reach.follow_up` may act on (updates, escalations, page requests, resolution)."""


def owed_toast(heading: str, started: list[dict], now: datetime) -> str:
    """'Now SEV-1: 4 owed, first by 15:00 UTC. F5: all duties', from the `started` list a
    declaration or severity entry keeps (domain.duties.owed_note)."""
    from warroom.domain.clock import format_moment

    dues = [datetime.fromisoformat(item["due_at"]) for item in started if item.get("due_at")]
    first = f", first by {format_moment(min(dues), now, seconds=False)}" if dues else ""
    return f"{heading}: {len(started)} owed{first}. F5: all duties"


class WarRoomProcedures:
    """The procedure actions of one war-room screen (F2-F6 and what follows a committed entry)."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self._composer = None  # the update composer, once F2 built it

    def close(self) -> None:
        """The war room is going: so does its composer."""
        composer, self._composer = self._composer, None
        if composer is not None and composer not in self.app.screen_stack:
            self.app.uninstall_screen(composer)
            composer.remove()

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
        composer = self._composer
        if composer is None:  # built once, kept while the war room is open: F2 shows it again
            from warroom.ui.screens.composer import ComposerScreen

            composer = self._composer = ComposerScreen(self.incident.id, self.service.policy_for(self.incident))
            self.app.install_screen(composer, f"composer-{id(composer)}")
        elif composer in self.app.screen_stack:  # already open (F2 twice in a row)
            return
        composer.begin(self.service)
        draft = await self.app.push_screen_wait(composer)
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
        from warroom.ui.screens.dialogs import AskText

        summary = await self.app.push_screen_wait(
            AskText("Resolve the incident: one-line resolution summary", placeholder="what fixed it"))
        if not summary or not summary.strip():
            self.screen.post_message(EntryRejected("not resolved: a resolution summary is needed", typed))
            return
        try:  # the same command (back-dating kept) with the summary as its note
            command = await self.service.parse(self.incident.id, typed)
            entries = await self.service.apply(self.incident.id, replaced(command, note=" ".join(summary.split())),
                                               self.app.user)
            await self.screen.committed(typed, entries)
        except WarroomError as error:
            self.screen.post_message(EntryRejected(str(error), typed))

    def escalation(self) -> None:
        """F5: every duty, most urgent first, tickable, and the escalation paths."""
        from warroom.ui.screens.escalation import EscalationScreen

        self.app.push_screen(EscalationScreen(self.incident.id))

    def export_report(self) -> None:
        """F6: the post-incident report as Markdown in the updates folder."""
        self._run(self._export_report(), "write")

    async def _export_report(self) -> None:
        """Read and written in a worker thread, streamed (the event loop stays free for keys and
        probes); a toast says it started, with the number of entries, and another when it is done."""
        from warroom.domain.postmortem import markdown_pieces
        from warroom.service.exports import streamed_record, write_pieces
        from warroom.service.files import open_private, private_folder

        try:
            self.service.require_writable()
        except WarroomError as error:
            self.app.notify(str(error), severity="error", markup=False)
            return
        record = await streamed_record(self.service, self.incident.id)
        path = Path(self.app.updates_dir) / f"{self.incident.id}-report.md"
        self.app.notify(f"Writing the report ({len(record.entries):,} entries)…", markup=False)
        partial = path.with_name(path.name + ".partial")  # the report appears whole, or not at all
        progress = self.screen.set_interval(REPORT_PROGRESS_EVERY, lambda: self._report_progress(record))
        try:
            private_folder(path.parent)
            with open_private(partial) as sink:
                await write_pieces(lambda: markdown_pieces(record), sink)
            os.replace(partial, path)
        except OSError as error:
            self.app.notify(f"Report not written: {error}", severity="error", markup=False)
            return
        finally:
            progress.stop()
            self._show_progress(None)
        self.app.notify(f"Report written: {path.name} (in {path.parent})", markup=False, timeout=8)

    def _report_progress(self, record) -> None:
        """How far the report is, on the entry bar's lower border: the timeline read (once, for the
        key timeline and the appendix together: domain.postmortem)."""
        done, total = record.entries.read, len(record.entries)
        self._show_progress(f"Report: timeline {done:,} of {total:,} entries ({100 * done // max(total, 1)}%)")

    def _show_progress(self, message: str | None) -> None:
        from warroom.ui.widgets.entry_bar import EntryBar

        for bar in self.screen.query(EntryBar):  # none once the screen is being taken down
            bar.show_progress(message)

    # ---- after an entry committed --------------------------------------------------------------

    def after_commit(self, entries: list[Entry]) -> None:
        """Follow-ups of committed entries: what a severity change now owes, the clipboard, the handoff
        summary, then delivery and paging (warroom.service.reach) in the background."""
        for entry in entries:
            data = entry.data or {}
            if entry.kind is EntryKind.SEVERITY and data.get("started"):
                self.announce_duties(data.get("to", ""), data["started"])
            elif entry.kind is EntryKind.UPDATE:
                self.app.copy_to_clipboard(entry.text)
                self.app.notify(f"Update {data.get('update', '')} posted as #{entry.number} and copied",
                                markup=False)
            elif entry.kind is EntryKind.ROLE and data.get("handoff"):
                from warroom.ui.screens.actions import HandoffScreen

                self.app.push_screen(HandoffScreen(entry))
        if any(entry.kind in FOLLOWED_KINDS for entry in entries):
            self._run(self._follow_up(entries), "reach")

    async def _follow_up(self, entries: list[Entry]) -> None:
        """Deliver and page; the results are recorded (F2 shows deliveries), toasts say how it went."""
        try:
            done = await self.app.reach.follow_up(self.incident.id, entries)
        except WarroomError as error:
            self.app.notify(f"Delivery or paging stopped: {error}", severity="error", markup=False)
            return
        self.announce_sent(done)

    def announce_sent(self, done) -> None:
        """One toast per update (delivered, or NOT delivered to whom) and per page."""
        notify = self.app.notify
        by_update: dict[int, list] = {}
        for delivery in done.deliveries:
            by_update.setdefault(delivery.update_number, []).append(delivery)
        for number, rows in by_update.items():
            failed = [row.target for row in rows if row.state is not DeliveryState.DELIVERED]
            if failed:
                names = ", ".join(failed)
                names = names if len(names) <= 40 else names[:39] + "…"
                notify(f"Update {number} NOT delivered to {names} (saved; F2 to retry)",
                       severity="error", timeout=10, markup=False)
            else:
                notify(f"Update {number} delivered ({len(rows)} of {len(rows)})", markup=False)
        for page in done.pages:
            if page.state is DeliveryState.DELIVERED:
                notify(f"Page {page.action} sent to {page.pager}", markup=False)
            else:
                notify(f"Page {page.action} to {page.pager} FAILED: page by hand (why: timeline)",
                       severity="error", timeout=15, markup=False)

    def announce_duties(self, severity: str, started: list[dict]) -> None:
        """A one-line toast of what a severity change started; its entry and F5 hold the details."""
        self.app.notify(owed_toast(f"Now {severity}", started, self.service.now()),
                        severity="warning", timeout=8, markup=False)

    # ---- posting updates ---------------------------------------------------------------------

    async def _post_update(self, audience: str, text: str, promise: datetime | None) -> None:
        """Store the update first (it is never lost), then copy, deliver and page as after any entry."""
        try:
            posted = await self.service.post_update(self.incident.id, audience, text, self.app.user, promise)
        except WarroomError as error:
            self.app.notify(f"Update NOT posted: {error}", severity="error", markup=False)
            return
        await self.screen.committed(None, [posted.entry])
        self.after_commit([posted.entry])
