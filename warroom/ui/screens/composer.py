"""The update composer: a draft per audience from the record, edited, posted, then delivered.

Two traps are closed here: an edited draft never silently follows a switch of audience (switching
asks: a new draft for that audience, or keep the text), and nothing is posted without the
audience being named, on the post button and in the confirmation Ctrl+S asks for. Every field
says when it has the focus by its border's shape and a ▶ in its title, not by colour alone.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, TextArea

from warroom.domain.policy import Policy
from warroom.domain.updates import promise_from_clock
from warroom.ui.paint_hold import PaintHold
from warroom.ui.widgets.deliveries import DeliveryList

DRAFT_HOLD = 0.15  # seconds the screen waits for the draft before it is drawn without it
_NEXT_LINE = re.compile(r"^Next update at [0-9:\- ]+ UTC\.$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class UpdateDraft:
    """What the composer returns for posting: the audience, the edited text, the promised time
    (None: the policy's cadence)."""

    audience: str
    text: str
    promise: datetime | None


class ComposerScreen(ModalScreen[UpdateDraft | None]):
    """Ctrl+S asks to confirm the audience, then returns the draft to post; Esc returns None.
    Switching audience re-drafts, or asks first when the draft was edited."""

    BINDINGS = [
        Binding("ctrl+s", "post", "Post update", priority=True),
        Binding("ctrl+r", "retry_failed", "Retry failed deliveries", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    ComposerScreen { align: center middle; }
    ComposerScreen > Vertical { width: 100; max-width: 98%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    ComposerScreen #composer-row { height: auto; }
    ComposerScreen #composer-audience { width: 30; }
    ComposerScreen #composer-next { width: 1fr; }
    ComposerScreen TextArea { height: 1fr; }
    ComposerScreen #composer-buttons { height: auto; align: right middle; }
    ComposerScreen Button { margin-left: 2; }
    ComposerScreen .hint { color: $text-muted; }
    ComposerScreen #composer-target { text-style: bold; }
    ComposerScreen #composer-next, ComposerScreen #composer-text, ComposerScreen SelectCurrent { border: round $border-blurred; }
    ComposerScreen #composer-next:focus, ComposerScreen #composer-text:focus,
    ComposerScreen #composer-audience:focus-within SelectCurrent { border: double $accent; }
    """

    def __init__(self, incident_id: str, policy: Policy) -> None:
        super().__init__()
        self.incident_id, self.policy = incident_id, policy
        self._first_audience = policy.audience[0].id if policy.audience else "internal"
        self._draft = ""
        self._audience = self._first_audience  # what the text is for
        self._switching = False  # the select is being set back by the screen, not by the user
        self._reading: tuple[str, asyncio.Future] | None = None  # (audience, its record) asked for by begin()
        self._fresh = False  # begin() was called and the screen not shown since
        self._hold: PaintHold | None = None  # the app's painting, held by begin() until the draft is in

    def begin(self, service) -> None:
        """A new update, just before the screen is shown (one composer serves a war room: built at
        the first F2, shown again at the next): the first audience, an empty text, and its draft
        read at once. Nothing is painted until the draft is in (DRAFT_HOLD at most): the first
        frame shows the real draft, and the record is read while the loop is idle."""
        self._audience, self._draft, self._fresh = self._first_audience, "", True
        if self._hold is None or not self._hold.held:
            self._hold = PaintHold(self.app, DRAFT_HOLD)  # released with the draft, or by its limit
        if self._reading is not None:
            self._reading[1].cancel()
        self._reading = (self._audience, asyncio.ensure_future(service.draft_record(self.incident_id, self._audience)))
        if self.is_mounted:
            select = self.query_one("#composer-audience", Select)
            self._switching = select.value != self._audience  # set back by the screen: no question asked
            select.value = self._audience
            self.query_one(TextArea).load_text("")
            self.query_one("#composer-next", Input).value = ""

    def audience_label(self, audience: str) -> str:
        return next((a.label for a in self.policy.audience if a.id == audience), audience)

    @property
    def service(self):
        return self.app.service

    def compose(self) -> ComposeResult:
        audiences = [(Text(a.label), a.id) for a in self.policy.audience] or [(Text("Internal"), "internal")]  # no markup
        with Vertical():
            yield Label(Text(f"Stakeholder update for {self.incident_id}"))
            yield Label("", id="composer-target")
            with Horizontal(id="composer-row"):
                select = Select(audiences, value=audiences[0][1], allow_blank=False, id="composer-audience")
                yield select
                yield Input(placeholder="next update at HH:MM (UTC)", id="composer-next")
            yield TextArea(id="composer-text", soft_wrap=True)
            yield Label(Text("Ctrl+S: post (asks first), file, send · Tab: next field · Esc: cancel"),
                        classes="hint")
            yield DeliveryList(self.incident_id, id="composer-deliveries")
            with Horizontal(id="composer-buttons"):
                yield Button("Cancel (Esc)", id="composer-cancel")
                yield Button("Post (Ctrl+S)", id="composer-post", variant="primary")

    def on_mount(self) -> None:
        self._audience_box().border_title = "Audience"
        self.query_one("#composer-next", Input).border_title = "Next update at"
        self.query_one(TextArea).border_title = "Text"

    def on_screen_resume(self) -> None:
        """Shown for a new update (see begin), or back from a dialog over it (nothing changes)."""
        if not self._fresh:
            self.query_one(DeliveryList).resume()
            return
        self._fresh = False
        self.show_audience(self._audience)
        self.redraft(self._audience, first=True)
        self.query_one(TextArea).focus()

    def on_screen_suspend(self) -> None:
        self._release_hold()
        self.query_one(DeliveryList).pause()  # nothing is read for a composer out of sight

    def _release_hold(self) -> None:
        """Let the app paint again: the draft is in, or the composer went (after DRAFT_HOLD the
        hold ends by itself: the composer is drawn without the draft, and the draft when it comes)."""
        if self._hold is not None:
            self._hold.release()

    def show_audience(self, audience: str) -> None:
        """Name the audience being posted to: above the fields and on the post button."""
        self._audience = audience
        label = self.audience_label(audience)
        self.query_one("#composer-target", Label).update(Text(f"Posting to: {label} ({audience})"))
        button = self.query_one("#composer-post", Button)
        button.label = Text(f"Post to {label} (Ctrl+S)")
        button.refresh(layout=True)  # the new label's width

    def _audience_box(self):
        """The bordered part of the audience select (the Select itself draws no border)."""
        from textual.widgets._select import SelectCurrent

        return self.query_one("#composer-audience", Select).query_one(SelectCurrent)

    def on_descendant_focus(self, event) -> None:
        self._mark_focus()

    def on_descendant_blur(self, event) -> None:
        self.call_after_refresh(self._mark_focus)

    def _mark_focus(self) -> None:
        """A ▶ in the title of the field that has the focus (its border also turns double)."""
        focused = self.focused
        for widget, title in ((self._audience_box(), "Audience"),
                              (self.query_one("#composer-next", Input), "Next update at"),
                              (self.query_one(TextArea), "Text")):
            here = focused is not None and focused in widget.ancestors_with_self  # the Select holds its box
            widget.border_title = f"▶ {title}" if here else title

    @work(exclusive=True, group="draft")
    async def redraft(self, audience: str, first: bool = False) -> None:
        """The draft for `audience` from the record, in the text area; `first`: the one begin()
        asked for, then the painting it held goes on and the deliveries are read."""
        from warroom.domain.updates import compose_update, next_update_promise

        reading, self._reading = self._reading, None
        if reading is None or reading[0] != audience:  # begin() asked for another, or for none
            reading = (audience, asyncio.ensure_future(self.service.draft_record(self.incident_id, audience)))
        try:
            record = await reading[1]  # the last few changes only (IncidentService.draft_record)
            now = self.service.now()
            self._draft = compose_update(record, audience, now)
            area = self.query_one(TextArea)
            area.load_text(self._draft)
            promise = next_update_promise(record, audience, now)  # this audience's cadence, not another's
            self.query_one("#composer-next", Input).value = f"{promise:%H:%M}" if promise else ""
            area.focus()  # after a switch too: typed text lands in the draft, where it shows
        finally:
            if first:
                self._release_hold()
                for deliveries in self.query(DeliveryList):  # none once the screen is taken down
                    deliveries.resume()  # read after the draft, not before it

    @on(Select.Changed, "#composer-audience")
    def audience_changed(self, event: Select.Changed) -> None:
        if self._switching:
            self._switching = False
            return
        audience = str(event.value)
        if audience == self._audience:
            return
        area = self.query_one(TextArea)
        if not area.text.strip() or area.text == self._draft:
            self.show_audience(audience)
            self.redraft(audience)
        else:
            self.ask_switch(audience)

    @work(exclusive=True, group="switch")
    async def ask_switch(self, audience: str) -> None:
        """The draft was edited: a new draft for the new audience, the text kept, or no switch."""
        from warroom.ui.screens.dialogs import Choose

        old, new = self.audience_label(self._audience), self.audience_label(audience)
        answer = await self.app.push_screen_wait(Choose(
            f"You edited the {old} draft. Switch to {new} with:\n"
            f"  r  a new {new} draft from the record (your edits are dropped)\n"
            f"  k  your text as it is (check that it is fit for {new})\n"
            f"  Esc  stay on {old}", [("r", "New draft", "rebuild"), ("k", "Keep text", "keep")], cancel="Stay"))
        if answer is None:
            self._switching = True
            self.query_one("#composer-audience", Select).value = self._audience
        else:
            self.show_audience(audience)
            (self.redraft if answer == "rebuild" else self.repromise)(audience)
        self.query_one(TextArea).focus()  # what is typed next goes where it can be seen

    @work(exclusive=True, group="draft")
    async def repromise(self, audience: str) -> None:
        """An edited draft keeps its text, but the promise follows the audience's own cadence."""
        from warroom.domain.duties import update_promise

        incident = await self.service.incident(self.incident_id)
        promise = update_promise(self.service.policy_for(incident), incident, audience, self.service.now())
        self.query_one("#composer-next", Input).value = f"{promise:%H:%M}" if promise else ""
        if promise is None:  # no cadence for this audience: the draft promises no time
            area = self.query_one(TextArea)
            updated = _NEXT_LINE.sub("Next update when there is news.", area.text)
            if updated != area.text:
                area.load_text(updated)
        self.query_one(TextArea).focus()

    def action_retry_failed(self) -> None:
        self.query_one(DeliveryList).retry_failed()

    @on(Button.Pressed, "#composer-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _promise(self) -> datetime | None:
        return promise_from_clock(self.query_one("#composer-next", Input).value, self.service.now())

    @on(Input.Changed, "#composer-next")
    def promise_changed(self, event: Input.Changed) -> None:
        """Keep the draft's 'Next update at' line in step with the field."""
        try:
            promise = promise_from_clock(event.value, self.service.now())
        except ValueError:
            return
        if promise is None:
            return
        area = self.query_one(TextArea)
        now = self.service.now()
        line = f"Next update at {promise:%Y-%m-%d %H:%M} UTC." if promise.date() != now.date() else \
            f"Next update at {promise:%H:%M} UTC."
        updated = _NEXT_LINE.sub(line, area.text)
        if updated != area.text:
            was_draft = area.text == self._draft
            area.load_text(updated)
            if was_draft:
                self._draft = updated

    @on(Button.Pressed, "#composer-post")
    def action_post(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("The update is empty", severity="warning")
            return
        try:
            promise = self._promise()
        except ValueError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.confirm_post(UpdateDraft(self._audience, text, promise))

    @work(exclusive=True, group="post")
    async def confirm_post(self, draft: UpdateDraft) -> None:
        """Name the audience (and where it goes) before anything is posted; y posts, n comes back."""
        from warroom.domain.text import visible
        from warroom.ui.screens.dialogs import Confirm

        label = self.audience_label(draft.audience)
        targets = [target.name for target in self.app.reach.targets_for(draft.audience)]
        where = "the updates folder" + (", " + ", ".join(targets) if targets else "")
        first = visible(draft.text.split("\n", 1)[0])
        first = first if len(first) <= 70 else first[:69] + "…"
        if await self.app.push_screen_wait(Confirm(
                f"Post this update to {label} ({draft.audience})?\n“{first}”\nIt goes to {where}.",
                yes=f"Post to {label}", no="Back to the draft")):
            self.dismiss(draft)
        else:
            self.query_one(TextArea).focus()
