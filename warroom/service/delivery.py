"""Sending a posted update: the message every target gets, the retry loop, HTTP, Slack, generic
JSON and the updates folder. Email is in `mailer`, status pages in `statuspage`; `reach` routes
updates to targets by audience and records each delivery.

The update is committed before anything here runs, so a failed delivery never loses it. URLs,
keys and passwords come from environment variables: they are never returned, logged or shown (an
error message has the URL cut out), and a target is named by its config name. Text from the
record is made inert for the reader: visible() for people (Slack, mail, files), inert JSON for
programs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, Mapping

from warroom.domain.text import inert_json, visible
from warroom.service.files import private_folder, write_private

if TYPE_CHECKING:  # httpx is imported where a request is made: most commands never make one
    import httpx

ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.5)  # wait before the 2nd and 3rd attempt
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class UpdateMessage:
    """One posted update with the incident facts every delivered message carries."""

    incident_id: str
    title: str
    severity: str
    severity_label: str
    status: str
    status_label: str
    resolved: bool
    services: tuple[str, ...]
    audience: str
    audience_label: str
    number: int
    entry_number: int
    text: str
    posted_at: datetime

    @property
    def headline(self) -> str:
        """`[SEV-1] INC-20261123-001 API down`, one inert line."""
        return visible(f"[{self.severity}] {self.incident_id} {self.title}")

    @property
    def subline(self) -> str:
        return visible(f"Update {self.number} for {self.audience_label} · {self.severity_label} · {self.status_label}"
                       f" · posted {self.posted_at:%Y-%m-%d %H:%M} UTC")

    def as_json(self) -> dict:
        """The generic JSON document (the older fields `incident`, `update`, `audience`, `text` kept)."""
        return {
            "incident": self.incident_id, "update": self.number, "audience": self.audience, "text": self.text,
            "title": self.title, "severity": self.severity, "severity_label": self.severity_label,
            "status": self.status, "resolved": self.resolved, "services": list(self.services),
            "posted_at": self.posted_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: `retry` says whether another try could help; `detail` is shown on success."""

    ok: bool
    error: str = ""
    retry: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a round of tries came to. `error` is safe to show and store (it never holds a secret)."""

    ok: bool
    attempts: int
    error: str = ""
    detail: str = ""


def failed(error: str) -> SendResult:
    """A target that could not even be tried (a variable unset, a bad URL)."""
    return SendResult(False, 0, error)


async def with_retries(once: Callable[[], Awaitable[Attempt]], *, attempts: int | None = None,
                       backoff: tuple[float, ...] | None = None) -> SendResult:
    """Call `once` until it succeeds, says retrying is useless, or `attempts` are used up."""
    attempts = ATTEMPTS if attempts is None else attempts
    backoff = BACKOFF_SECONDS if backoff is None else backoff
    last = Attempt(False, "not tried")
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            await asyncio.sleep(backoff[min(attempt - 2, len(backoff) - 1)] if backoff else 0)
        last = await once()
        if last.ok:
            return SendResult(True, attempt, detail=last.detail)
        if not last.retry:
            return SendResult(False, attempt, last.error + (" (not retried)" if attempt == 1 else ""))
    return SendResult(False, attempts, last.error)


# ---- HTTP ------------------------------------------------------------------------------------


def url_from_env(variable: str, environ: Mapping[str, str] | None) -> tuple[str, str]:
    """(url, "") or ("", why not) for the URL held in environment variable `variable`."""
    import httpx
    url = (environ if environ is not None else os.environ).get(variable, "").strip()
    if not url:
        return "", f"environment variable {variable} is not set"
    if not url.lower().startswith(("http://", "https://")):
        return "", f"the URL in {variable} does not start with http(s)://"
    try:  # httpx.InvalidURL is not an httpx.HTTPError, and its message quotes parts of the URL
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return "", f"the URL in {variable} is not a valid URL"
    return url, ""


def secret_from_env(variable: str, environ: Mapping[str, str] | None, what: str) -> tuple[str, str]:
    value = (environ if environ is not None else os.environ).get(variable, "").strip() if variable else ""
    return (value, "") if value else ("", f"environment variable {variable or '(none named)'} for the {what} is not set")


def describe_http_error(error: Exception, timeout: float, url: str) -> str:
    import httpx
    if isinstance(error, httpx.TimeoutException):
        message = f"timed out after {timeout:g} s"
    elif isinstance(error, httpx.ConnectError):
        message = "could not connect (refused or unreachable)"
    else:
        message = f"{type(error).__name__}: {error}"
    return message.replace(url, "<url>")


def json_body(payload: dict) -> bytes:
    """JSON with every unsafe character escaped as \\uXXXX (the same data, inert to any reader)."""
    return inert_json(json.dumps(payload, ensure_ascii=False)).encode("utf-8")


async def http_attempt(client: httpx.AsyncClient, method: str, url: str, payload: dict, *, timeout: float,
                       headers: Mapping[str, str] | None = None,
                       detail: Callable[[httpx.Response], str] | None = None) -> Attempt:
    """One JSON request: timeouts, refused connections, 5xx and 429 may be retried; other 4xx not."""
    import httpx
    sent = {"Content-Type": "application/json", **(headers or {})}
    try:
        response = await client.request(method, url, content=json_body(payload), headers=sent, timeout=timeout)
    except httpx.HTTPError as failure:
        return Attempt(False, describe_http_error(failure, timeout, url), retry=True)
    if response.is_success:
        return Attempt(True, detail=detail(response) if detail else "")
    retry = response.status_code >= 500 or response.status_code == 429
    return Attempt(False, f"HTTP {response.status_code}", retry=retry)


async def post_json(url_env: str, payload: dict, *, timeout: float, environ: Mapping[str, str] | None = None,
                    attempts: int | None = None, backoff: tuple[float, ...] | None = None) -> SendResult:
    """POST `payload` to the URL held in `url_env`, retrying what may pass."""
    import httpx
    url, problem = url_from_env(url_env, environ)
    if problem:
        return failed(problem)
    async with httpx.AsyncClient(follow_redirects=False) as client:
        return await with_retries(lambda: http_attempt(client, "POST", url, payload, timeout=timeout),
                                  attempts=attempts, backoff=backoff)


# ---- Slack-compatible and generic JSON --------------------------------------------------------


def slack_text(text: str) -> str:
    """Slack reads &, < and > as markup (<!channel> pings everyone); escape them as it asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: UpdateMessage) -> dict:
    body = visible(message.text, keep_newlines=True)
    return {"text": slack_text(f"*{message.headline}*\n{message.subline}\n\n{body}")}


# ---- the updates folder ------------------------------------------------------------------------


def update_file_path(updates_dir: Path, incident_id: str, number: int) -> Path:
    return Path(updates_dir).expanduser() / f"{_SAFE_NAME.sub('_', incident_id)}-{number}.md"


def write_update_file(text: str, incident_id: str, number: int, updates_dir: Path) -> Path:
    """Write `<incident>-<n>.md` (0600, in a 0700 folder when it makes one); never overwrites a
    file already there (takes `-<n>.2.md`...)."""
    path = update_file_path(updates_dir, incident_id, number)
    private_folder(path.parent)
    candidate, copy = path, 1
    while True:
        try:
            return write_private(candidate, text.rstrip("\n") + "\n", exclusive=True)
        except FileExistsError:
            copy += 1
            candidate = path.with_name(f"{path.stem}.{copy}.md")


async def write_to_folder(message: UpdateMessage, updates_dir: Path) -> SendResult:
    """The update exactly as posted, ready to paste; the file name carries the incident id."""
    try:
        path = await asyncio.to_thread(write_update_file, message.text, message.incident_id,
                                       message.number, updates_dir)
    except OSError as error:
        return SendResult(False, 1, error.strerror or str(error))
    return SendResult(True, 1, detail=str(path))
