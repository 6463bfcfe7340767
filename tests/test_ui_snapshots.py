"""Snapshots of the war room on the demo incident with a frozen clock (pytest-textual-snapshot).

Update after an intended change with `pytest tests/test_ui_snapshots.py --snapshot-update` and look
at the report before committing the new SVGs.
"""

from __future__ import annotations

import pytest
from test_ui_support import demo_database_sync, make_app, wait_for, war_room_ready

from warroom.ui.widgets.timeline import Timeline


@pytest.fixture
def demo_app(tmp_path):
    path, incident_id = demo_database_sync(tmp_path)
    return make_app(path, incident_id)  # no probes: the Health pane shows its empty state


async def _ready(pilot) -> None:
    """The record is on screen (snap_compare then lets every pending message and repaint run)."""
    await war_room_ready(pilot)
    await wait_for(pilot, lambda: pilot.app.screen.attention.settled)  # the header's attention and the countdown


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_war_room(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=_ready)


def test_war_room_with_a_pinned_entry_selected(snap_compare, demo_app):
    async def select(pilot) -> None:
        await _ready(pilot)
        await pilot.press("tab", "k", "k", "p")
        timeline = pilot.app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.pinned)

    assert snap_compare(demo_app, terminal_size=(120, 40), run_before=select)
