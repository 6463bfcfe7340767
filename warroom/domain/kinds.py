"""What a timeline entry records (EntryKind, with its glyph and word) and the milestones of an
incident's life: enums alone, for a path that needs a kind's value without the models
(warroom.domain.models re-exports them)."""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    """What a timeline entry records. Each kind has a glyph and a word so colour is never needed."""

    NOTE = "note"
    DECISION = "decision"
    ACTION = "action"
    STATUS = "status"
    SEVERITY = "severity"
    ROLE = "role"
    MILESTONE = "milestone"
    UPDATE = "update"
    PROBE = "probe"
    CHECKLIST = "checklist"
    SYSTEM = "system"
    CORRECTION = "correction"
    ROOT_CAUSE = "rootcause"
    LESSON = "lesson"
    COMMAND = "command"  # a shell command a responder ran (`warroom run`, the shell hook)
    DUTY = "duty"  # what the policy now owes (declaration, severity change), or a duty marked done
    HYPOTHESIS = "hypothesis"  # what the responders think is going on, before a root cause is known
    FACT = "fact"  # one of the incident's facts kept current: impact, customer impact, services, title
    FACTOR = "factor"  # a contributing factor, for the report
    WENT_WELL = "went-well"  # what went well, for the report
    WENT_BADLY = "went-badly"  # what went badly, for the report

    @property
    def glyph(self) -> str:
        return KIND_GLYPHS[self]

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_GLYPHS: dict[EntryKind, str] = {
    EntryKind.NOTE: "·",
    EntryKind.DECISION: "◆",
    EntryKind.ACTION: "▶",
    EntryKind.STATUS: "◎",
    EntryKind.SEVERITY: "▲",
    EntryKind.ROLE: "☺",
    EntryKind.MILESTONE: "⚑",
    EntryKind.UPDATE: "✉",
    EntryKind.PROBE: "♥",
    EntryKind.CHECKLIST: "☑",
    EntryKind.SYSTEM: "⚙",
    EntryKind.CORRECTION: "✎",
    EntryKind.ROOT_CAUSE: "⌖",
    EntryKind.LESSON: "✦",
    EntryKind.COMMAND: "$",
    EntryKind.DUTY: "☎",
    EntryKind.HYPOTHESIS: "?",
    EntryKind.FACT: "≡",
    EntryKind.FACTOR: "⊕",
    EntryKind.WENT_WELL: "+",
    EntryKind.WENT_BADLY: "−",
}

KIND_LABELS: dict[EntryKind, str] = {
    EntryKind.NOTE: "note",
    EntryKind.DECISION: "decision",
    EntryKind.ACTION: "action",
    EntryKind.STATUS: "status",
    EntryKind.SEVERITY: "severity",
    EntryKind.ROLE: "role",
    EntryKind.MILESTONE: "milestone",
    EntryKind.UPDATE: "update",
    EntryKind.PROBE: "probe",
    EntryKind.CHECKLIST: "checklist",
    EntryKind.SYSTEM: "system",
    EntryKind.CORRECTION: "correction",
    EntryKind.ROOT_CAUSE: "root cause",
    EntryKind.LESSON: "lesson",
    EntryKind.COMMAND: "command",
    EntryKind.DUTY: "duty",
    EntryKind.HYPOTHESIS: "hypothesis",
    EntryKind.FACT: "fact",
    EntryKind.FACTOR: "factor",
    EntryKind.WENT_WELL: "went well",
    EntryKind.WENT_BADLY: "went badly",
}


class Milestone(StrEnum):
    """Points in an incident's life, in the order they must happen."""

    IMPACT_STARTED = "impact_started"
    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")
