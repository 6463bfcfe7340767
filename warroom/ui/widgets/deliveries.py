"""The deliveries of an incident's updates, in the composer (F2): each target's state and why,
those needing a retry first. Enter on a row retries it; `retry_failed` retries every one not delivered.

Rows are read from the record (warroom.service.reach) twice a second while shown, so a delivery
finishing in the background, or in another process, appears without a key press.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.domain.clock import format_moment
from warroom.domain.errors import WarroomError
from warroom.domain.models import Delivery, DeliveryState
from warroom.domain.text import visible

MAX_ROWS = 30
STATE_WORDS = {DeliveryState.DELIVERED: "delivered", DeliveryState.FAILED: "FAILED", DeliveryState.PENDING: "pending"}


def delivery_line(delivery: Delivery, now: datetime) -> str:
    """`✗ FAILED    update 2 → Status page (3 tries, 14:03 UTC): HTTP 503`: glyph and word, never
    colour alone; the reason last, so a narrow screen cuts it rather than the target."""
    tries = f"{delivery.attempts} {'try' if delivery.attempts == 1 else 'tries'}"
    line = (f"{delivery.state.glyph} {STATE_WORDS[delivery.state]:<9} update {delivery.update_number} "
            f"→ {visible(delivery.target)} ({tries}, {format_moment(delivery.updated_at, now, seconds=False)})")
    if delivery.state is DeliveryState.FAILED and delivery.error:
        line += f": {visible(delivery.error)}"
    return line


def shown_deliveries(rows: list[Delivery]) -> list[Delivery]:
    """Every delivery not delivered (they need a retry), then the latest update's; newest first."""
    if not rows:
        return []
    latest = max(row.update_id for row in rows)
    keep = [row for row in rows if row.update_id == latest or row.state is not DeliveryState.DELIVERED]
    return sorted(keep, key=lambda row: (row.state is DeliveryState.DELIVERED, -row.update_id, row.id))[:MAX_ROWS]


class DeliveryList(Vertical):
    """Deliveries of one incident's updates; hidden while there are none."""

    DEFAULT_CSS = """
    DeliveryList { height: auto; max-height: 30%; display: none; }
    DeliveryList.has-rows { display: block; }
    DeliveryList OptionList { height: auto; max-height: 100%; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, incident_id: str, **options) -> None:
        super().__init__(**options)
        self.incident_id = incident_id
        self.rows: list[Delivery] = []
        self._timer = None

    def compose(self) -> ComposeResult:
        rows = OptionList(id="delivery-rows")
        rows.border_title = "Deliveries · Enter retries one · Ctrl+R every failed one"
        yield rows

    def on_mount(self) -> None:
        self.reload()
        self._timer = self.set_interval(0.5, self.reload)

    def pause(self) -> None:
        """Stop reading (the composer is out of sight)."""
        if self._timer is not None:
            self._timer.pause()

    def resume(self) -> None:
        """Read now and twice a second again (the first time, on_mount does)."""
        if self._timer is not None:
            self.reload()
            self._timer.resume()

    @work(exclusive=True, group="deliveries")
    async def reload(self) -> None:
        rows = shown_deliveries(await self.app.reach.deliveries(self.incident_id))
        if rows == self.rows:
            return
        self.rows = rows
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        now = self.app.service.now()
        options.add_options([Option(Text(delivery_line(row, now), no_wrap=True, overflow="ellipsis"), id=str(row.id))
                             for row in rows])
        if rows:
            options.highlighted = min(highlighted or 0, len(rows) - 1)
        self.set_class(bool(rows), "has-rows")

    @property
    def failed(self) -> list[Delivery]:
        return [row for row in self.rows if row.state is not DeliveryState.DELIVERED]

    @on(OptionList.OptionSelected, "#delivery-rows")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        row = next((row for row in self.rows if str(row.id) == event.option.id), None)
        if row is None:
            return
        if row.state is DeliveryState.DELIVERED:
            self.notify(f"Update {row.update_number} is already delivered to {row.target}", markup=False)
            return
        self.retry([row.id])

    def retry_failed(self) -> None:
        waiting = self.failed
        if not waiting:
            self.notify("Nothing to retry: every delivery shown went out", markup=False)
            return
        self.retry([row.id for row in waiting])

    @work(group="retry")
    async def retry(self, delivery_ids: list[int]) -> None:
        self.notify(f"Retrying {len(delivery_ids)} deliver{'y' if len(delivery_ids) == 1 else 'ies'}…", markup=False)
        done = []
        for delivery_id in delivery_ids:
            try:
                done.append(await self.app.reach.retry(delivery_id))
            except WarroomError as error:
                self.notify(str(error), severity="warning", markup=False)
        self.reload()
        good = sum(row.state is DeliveryState.DELIVERED for row in done)
        if done:
            self.notify(f"Retried: {good} of {len(done)} delivered", severity="information" if good == len(done)
                        else "error", markup=False)
