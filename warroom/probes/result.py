"""One check's outcome, and the text hygiene every string taken from a target goes through."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Mapping

from warroom.domain.clock import to_stored

EXCERPT_CHARS = 120
ERROR_CHARS = 300

# OSC ... BEL/ST, CSI ... final, DCS/SOS/PM/APC ... ST, then any other two-character escape.
_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[\x20-\x7e]?"
)
# C0 (tabs and newlines become spaces below), DEL, C1, bidi overrides, zero-width, BOM.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def sanitize(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Printable one-line text: escape sequences and control characters removed, whitespace
    collapsed, cut to `limit` characters with an ellipsis."""
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_body(data: bytes, charset: str | None = None) -> str:
    """Bytes to text in the declared charset when known, else UTF-8; bad bytes become U+FFFD."""
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            continue
    return data.decode("utf-8", errors="replace")


def redact(text: str | None, secrets: Mapping[str, str]) -> str | None:
    """Replace every resolved secret value with its ${VAR} template."""
    if not text or not secrets:
        return text
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, secrets[value])
    return text


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one check found. Strings are already sanitized and free of resolved secrets."""

    probe: str
    checked_at: datetime
    ok: bool
    latency_ms: float | None = None
    status_code: int | None = None
    error: str | None = None
    failed_condition: str | None = None
    excerpt: str | None = None
    phases: Mapping[str, float] | None = None  # ms: dns, connect, ttfb, transfer when known
    answers: tuple[str, ...] = ()
    attempts: int = 1
    truncated: bool = False  # the body was longer than the read cap

    @property
    def retried(self) -> bool:
        """Healthy only after a retry (counts as DEGRADED)."""
        return self.ok and self.attempts > 1

    def reason(self) -> str:
        """The failing condition, error or status in words ("" when healthy)."""
        if self.ok:
            return self.error or ""
        return self.failed_condition or self.error or (f"HTTP {self.status_code}" if self.status_code else "failed")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = to_stored(self.checked_at)
        data["phases"] = dict(self.phases) if self.phases else None
        data["answers"] = list(self.answers)
        return data
