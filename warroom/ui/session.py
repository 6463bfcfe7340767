"""What kind of war room the app runs: the live one by default, a replay or a drill.

A Session opens the service the screens read through, makes the screen for an incident and the
Reach that delivers updates. A replay and a drill change only these, so they run the same
screens as every other war room (warroom.ui.screens.replay, warroom.ui.screens.drill).
"""

from __future__ import annotations

from warroom.service import IncidentService


class Session:
    """The live war room: the database as it is, updates to the configured targets."""

    def __init__(self, read_only: bool = False):
        self.read_only = read_only  # every write is refused (the service says so too)
        self._handed: IncidentService | None = None

    def hand_over(self, service: IncidentService) -> None:
        """The service `warroom open` opened to check the record before the screen took the
        terminal: the app runs on it instead of opening the file a second time."""
        self._handed = service

    async def open_service(self, app) -> IncidentService:
        if self._handed is not None:
            service, self._handed = self._handed, None
        else:
            service = await IncidentService.open(app.db_path, app.policies, app.clock, app.default_policy,
                                                 read_only=self.read_only, config=app.config)
        await service.checkpoint_in_background()  # a war room stays open: its commits stay short
        return service

    def screen(self, incident):
        from warroom.ui.screens.war_room import WarRoomScreen

        return WarRoomScreen(incident)

    def reach(self, app):
        """Update delivery and paging (warroom.service.reach) for the app's service."""
        from warroom.service.reach import Reach

        return Reach(app.service, app.config, updates_dir=app.updates_dir)

    def sub_title(self, incident) -> str:
        return incident.id + (" · read-only" if self.read_only else "")
