"""The update composer: a draft per audience from the record, edited, posted, then delivered."""

from __future__ import annotations

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
from warroom.ui.widgets.deliveries import DeliveryList

_NEXT_LINE = re.compile(r"^Next update at [0-9:\- ]+ UTC\.$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class UpdateDraft:
    """What the composer returns for posting: the audience, the edited text, the promised time
    (None: the policy's cadence)."""

    audience: str
    text: str
    promise: datetime | None


class ComposerScreen(ModalScreen[UpdateDraft | None]):
    """Ctrl+S returns the draft to post; Esc returns None. Switching audience re-drafts unless you edited."""

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
    """

    def __init__(self, incident_id: str, policy: Policy) -> None:
        super().__init__()
        self.incident_id, self.policy = incident_id, policy
        self._draft = ""

    @property
    def service(self):
        return self.app.service

    def compose(self) -> ComposeResult:
        audiences = [(Text(a.label), a.id) for a in self.policy.audience] or [(Text("Internal"), "internal")]  # no markup
        with Vertical():
            yield Label(Text(f"Stakeholder update for {self.incident_id}"))
            with Horizontal(id="composer-row"):
                yield Select(audiences, value=audiences[0][1], allow_blank=False, id="composer-audience")
                yield Input(placeholder="next update at HH:MM (UTC)", id="composer-next")
            yield TextArea(id="composer-text", soft_wrap=True)
            yield Label(Text("Ctrl+S posts, copies, files and sends it · Esc cancels"),
                        classes="hint")
            yield DeliveryList(self.incident_id, id="composer-deliveries")
            with Horizontal(id="composer-buttons"):
                yield Button("Cancel (Esc)", id="composer-cancel")
                yield Button("Post (Ctrl+S)", id="composer-post", variant="primary")

    def on_mount(self) -> None:
        self.redraft(str(self.query_one("#composer-audience", Select).value))
        self.query_one(TextArea).focus()

    @work(exclusive=True, group="draft")
    async def redraft(self, audience: str) -> None:
        from warroom.domain.updates import compose_update, next_update_promise

        record = await self.service.draft_record(self.incident_id, audience)  # the last few changes only
        now = self.service.now()
        self._draft = compose_update(record, audience, now)
        area = self.query_one(TextArea)
        area.load_text(self._draft)
        promise = next_update_promise(record, audience, now)  # this audience's cadence, not another's
        self.query_one("#composer-next", Input).value = f"{promise:%H:%M}" if promise else ""
        area.focus()

    @on(Select.Changed, "#composer-audience")
    def audience_changed(self, event: Select.Changed) -> None:
        area = self.query_one(TextArea)
        if not area.text.strip() or area.text == self._draft:
            self.redraft(str(event.value))
        else:
            self.repromise(str(event.value))

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
        self.dismiss(UpdateDraft(str(self.query_one("#composer-audience", Select).value), text, promise))
