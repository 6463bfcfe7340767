"""One check's outcome, and the text hygiene every string taken from a target goes through."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Mapping

from warroom.domain.clock import from_stored, to_stored
from warroom.domain.text import sanitize as inert_line

EXCERPT_CHARS = 120
ERROR_CHARS = 300


def sanitize(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Target text made printable and short (domain.text.sanitize with the excerpt length)."""
    return inert_line(text, limit)


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ProbeResult":
        """The result `to_dict` wrote (as stored with a probe's state); unknown keys are ignored."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["checked_at"] = from_stored(data["checked_at"])
        known["answers"] = tuple(data.get("answers") or ())
        return cls(**known)
