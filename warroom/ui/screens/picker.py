"""The incident picker: open incidents, and a form to declare a new one under any policy (its
severity levels follow the policy chosen), with the impact and services when they are known."""

from __future__ import annotations

import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select

from warroom.domain.clock import format_duration
from warroom.domain.errors import WarroomError
from warroom.domain.text import visible
from warroom.ui.widgets.inert_input import InertInput


class PickerScreen(Screen):
    """Shown when there is no open incident or several."""

    BINDINGS = [
        Binding("n", "new", "Declare new", tooltip="Jump to the declare form"),
        Binding("r", "reload", "Reload"),
        Binding("f1", "app.help", "Help", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(Text("Open incidents: Enter opens one"), id="picker-title")
            table = DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
            table.add_columns("Incident", "Severity", "Status", "Age", "Commander", "Title")
            yield table
            yield Label(Text("Declare a new incident"), id="declare-title")
            with Vertical(id="declare"):
                yield InertInput(placeholder="Title, e.g. Checkout API returning 502s", id="declare-title-input")
                with Horizontal(id="declare-policy-row"):
                    policy = self.app.service.default_policy
                    yield Select([(Text(p.name), p.id) for p in self.app.service.policies],  # no markup
                                 value=policy.id, allow_blank=False, id="declare-policy")
                    yield Select(self._severities(policy), value=self._default_severity(policy),
                                 allow_blank=False, id="declare-severity")
                with Horizontal(id="declare-row"):
                    yield InertInput(placeholder="Incident commander", value=self.app.user, id="declare-commander")
                    yield InertInput(placeholder="Impact (optional)", id="declare-impact")
                    yield InertInput(placeholder="Services (optional): api, db", id="declare-services")
                    yield Button("Declare", id="declare-button", variant="error")
                yield Label("", id="declare-error")
        yield Footer()

    @staticmethod
    def _severities(policy) -> list:
        return [(Text(f"{s.id} {s.label}"), s.id) for s in policy.severity]  # no markup

    @staticmethod
    def _default_severity(policy) -> str:
        found = policy.find_severity(policy.policy.default_severity)
        return found.id if found else policy.severity[0].id

    def on_mount(self) -> None:
        self.action_reload()

    @on(Select.Changed, "#declare-policy")
    def policy_changed(self, event: Select.Changed) -> None:
        """Each policy has its own levels (SEV-1..4, P0..P3): the severity list follows the policy."""
        policy = self.app.service.policies.get(str(event.value))
        severity = self.query_one("#declare-severity", Select)
        severity.set_options(self._severities(policy))
        severity.value = self._default_severity(policy)

    @work(exclusive=True)
    async def action_reload(self) -> None:
        service = self.app.service
        table = self.query_one("#incidents", DataTable)
        table.clear()
        now = service.now()
        incidents = await service.incidents()
        for incident in incidents:
            seats = await service.roster(incident)
            commander = next((s.person for s in seats if s.is_commander), None)
            status = service.policy_for(incident).find_status(incident.status)
            table.add_row(Text(incident.id), Text(f"▲ {incident.severity}"),
                          Text(status.label if status else incident.status),
                          Text(format_duration(now - incident.created_at)),
                          Text(visible(commander) if commander else "⚠ none"), Text(visible(incident.title)),
                          key=incident.id)
        if incidents:
            table.focus()
        else:
            self.query_one("#picker-title", Label).update(Text("No open incidents. Declare one below."))
            self.query_one("#declare-title-input", Input).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_incident(str(event.row_key.value))

    def action_new(self) -> None:
        self.query_one("#declare-title-input", Input).focus()

    @on(Button.Pressed, "#declare-button")
    @on(Input.Submitted, "#declare-title-input")
    @on(Input.Submitted, "#declare-commander")
    @on(Input.Submitted, "#declare-impact")
    @on(Input.Submitted, "#declare-services")
    @work(exclusive=True, group="declare")
    async def declare(self) -> None:
        title = self.query_one("#declare-title-input", Input).value
        policy = str(self.query_one("#declare-policy", Select).value)
        severity = self.query_one("#declare-severity", Select).value
        commander = self.query_one("#declare-commander", Input).value.strip() or None
        impact = self.query_one("#declare-impact", Input).value.strip()
        services = tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", self.query_one(
            "#declare-services", Input).value) if name))
        try:
            incident = await self.app.service.declare(title, str(severity), author=self.app.user, commander=commander,
                                                      policy_id=policy, impact=impact, services=services)
        except WarroomError as error:
            self.query_one("#declare-error", Label).update(Text("✗ " + visible(str(error))))
            return
        self.app.page_declared(incident)
        self.app.open_incident(incident.id)
