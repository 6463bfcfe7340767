"""The mark of a practice incident (`warroom drill`): its title starts with it, so every export and
delivered update says DRILL. Apart from domain.drill (the drill files, their TOML and checks), so
that what only asks whether an incident is a drill (the reports) does not load all that."""

from __future__ import annotations

from warroom.domain.models import Incident

DRILL_MARK = "DRILL"
TITLE_PREFIX = f"{DRILL_MARK}: "


def drill_title(title: str) -> str:
    """The practice incident's title: every export and delivered update then says DRILL."""
    return title if title.startswith(TITLE_PREFIX) else TITLE_PREFIX + title


def is_drill(incident: Incident) -> bool:
    return incident.title.startswith(TITLE_PREFIX)
