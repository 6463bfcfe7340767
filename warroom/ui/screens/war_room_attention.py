"""The war room's attention: every second it derives the duties, shows them in the countdown and
the header, and rings (toast, bell) for each duty that just became due soon or overdue; it keeps
the action items (overdue ones counted in the header) and looks at the other open incidents
(the header's badge when one of them owes an update).

`WarRoomAttention` is composed into WarRoomScreen (`screen.attention`), like WarRoomProcedures.
"""

from __future__ import annotations

import logging

from warroom.domain.attention import DutyWatch, pressing
from warroom.domain.duties import DutyState, derive_duties
from warroom.domain.duty_record import DutyRecord
from warroom.domain.models import ActionItem
from warroom.domain.standing import action_overdue
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.header import IncidentHeader, OtherIncidents

log = logging.getLogger("warroom.ui")
OTHERS_EVERY = 5.0  # seconds between looks at the other open incidents


class WarRoomAttention:
    """Duties, action items and other incidents, as the countdown and the header show them."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self.watch = DutyWatch()
        self.duty_record: DutyRecord | None = None  # what the duties derive from
        self.actions: list[ActionItem] | None = None  # None until first read
        self.duties = []  # as derived at the last tick

    @property
    def settled(self) -> bool:
        """Duties and actions have been read once (the header and the countdown show them)."""
        return self.duty_record is not None and self.actions is not None

    @property
    def app(self):
        return self.screen.app

    @property
    def service(self):
        return self.app.service

    def start(self, first_look=None) -> None:
        """Tick every second; look at the other incidents now and every OTHERS_EVERY seconds (now:
        the screen's `first_look` read them, with the duties and actions: shown at once)."""
        self.screen.set_interval(1.0, self.screen.tick)  # the screen's one timer a second (see WarRoomScreen.tick)
        self.screen.set_interval(OTHERS_EVERY, self.look_at_others)
        if first_look is None:
            self.look_at_others()
            return
        self.duty_record, self.actions = first_look.duty_record, first_look.actions
        self.show_others(first_look.others)
        self.tick()

    # ---- reloading what the duties and actions derive from ------------------------------------

    def reload_duties(self) -> None:
        self.screen.run_worker(self._reload_duties(), group="duties", exclusive=True)

    async def _reload_duties(self) -> None:
        """Re-read the severity steps, updates and marks (incrementally), then show them at once."""
        self.duty_record = await self.service.duty_record(self.screen.incident)
        self.tick()

    def reload_actions(self) -> None:
        self.screen.run_worker(self._reload_actions(), group="actions", exclusive=True)

    async def _reload_actions(self) -> None:
        self.actions = await self.service.actions(self.screen.incident.id)
        self.tick()

    # ---- every second ------------------------------------------------------------------------------

    def tick(self) -> None:
        screen = self.screen
        countdowns, headers = screen.query(CountdownPane), screen.query(IncidentHeader)
        if self.duty_record is None or not countdowns or not headers:
            return  # nothing read yet, or the screen is being taken down (its panes go one by one)
        now = self.service.now()
        self.duties = derive_duties(screen.policy, self.duty_record)
        countdowns.first().show(self.duties, now, short=screen.has_class("-short"), resolved=not screen.incident.is_open)
        late = sum(action_overdue(item, now) for item in self.actions or ())
        headers.first().show_attention(pressing(self.duties, now), late)
        for alarm in self.watch.look(self.duties, now):
            overdue = alarm.state is DutyState.OVERDUE
            self.app.notify(alarm.words(now) + " · F5: duties", severity="error" if overdue else "warning",
                            timeout=12 if overdue else 8, markup=False)
            if alarm.rings(self.app.bell_setting):
                self.app.bell()

    # ---- the other open incidents --------------------------------------------------------------

    def look_at_others(self) -> None:
        self.screen.run_worker(self._look_at_others(), group="others", exclusive=True)

    async def _look_at_others(self) -> None:
        try:
            found = await self.read_others()
        except Exception as error:  # the file is busy or gone: look again at the next round
            log.warning("looking at the other incidents failed: %s", error)
            return
        self.show_others(found)

    async def read_others(self) -> tuple:
        """(the other open incidents, the first duty each owes)."""
        others = [i for i in await self.service.incidents() if i.id != self.screen.incident.id]
        return others, await self.service.first_duties(others)

    def show_others(self, found: tuple) -> None:
        headers = self.screen.query(IncidentHeader)
        if not headers:
            return  # the screen is being taken down (the look may end then)
        others, firsts = found
        now = self.service.now()
        states = {incident_id: duty.state(now) for incident_id, duty in firsts.items() if duty is not None}
        headers.first().show_others(OtherIncidents(
            len(others),
            tuple(i for i, state in states.items() if state is DutyState.OVERDUE),
            tuple(i for i, state in states.items() if state is DutyState.DUE_SOON)))
