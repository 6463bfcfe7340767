"""Delivering a posted update: a file in the updates folder and the webhooks of the config.

The update is committed before anything here runs, so a failed delivery never loses it; the caller
logs each failure as a system entry. Webhook URLs come from environment variables and may hold a
token: they are never returned, logged or shown; a target is named by the webhook's name.
The clipboard copy happens in the UI (`App.copy_to_clipboard`).
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import httpx

from warroom.service.config import Config, Webhook
from warroom.service.files import private_folder, write_private

ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.5)  # wait before the 2nd and 3rd attempt
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one target. `error` is safe to show and store (it never holds a URL)."""

    target: str
    ok: bool
    attempts: int
    error: str = ""


def slack_text(text: str) -> str:
    """Slack reads &, < and > as markup (<!channel> pings everyone); escape them as it asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_target(hook: Webhook) -> str:
    """How a webhook is named to people: its name, else its kind and the variable holding its URL."""
    return hook.name or f"{hook.kind} webhook ${hook.url_env}"


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


def _payload(hook: Webhook, text: str, incident_id: str, number: int, audience: str) -> dict:
    if hook.kind == "slack":
        return {"text": slack_text(text)}
    return {"incident": incident_id, "update": number, "audience": audience, "text": text}


def _describe(error: Exception, timeout: float, url: str) -> str:
    if isinstance(error, httpx.TimeoutException):
        message = f"timed out after {timeout:g} s"
    elif isinstance(error, httpx.ConnectError):
        message = "could not connect (refused or unreachable)"
    else:
        message = f"{type(error).__name__}: {error}"
    return message.replace(url, "<url>")


async def post_webhook(hook: Webhook, payload: dict, *, environ: Mapping[str, str] | None = None,
                       attempts: int | None = None, backoff: tuple[float, ...] | None = None) -> DeliveryResult:
    """POST `payload` as JSON, retrying timeouts, refused connections, 5xx and 429."""
    attempts = ATTEMPTS if attempts is None else attempts
    backoff = BACKOFF_SECONDS if backoff is None else backoff
    target = webhook_target(hook)
    url = (environ if environ is not None else os.environ).get(hook.url_env, "").strip()
    if not url:
        return DeliveryResult(target, False, 0, f"environment variable {hook.url_env} is not set")
    if not url.lower().startswith(("http://", "https://")):
        return DeliveryResult(target, False, 0, f"the URL in {hook.url_env} does not start with http(s)://")
    try:  # httpx.InvalidURL is not an httpx.HTTPError, and its message quotes parts of the URL
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return DeliveryResult(target, False, 0, f"the URL in {hook.url_env} is not a valid URL")
    error = ""
    async with httpx.AsyncClient(timeout=hook.timeout, follow_redirects=False) as client:
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(backoff[min(attempt - 2, len(backoff) - 1)] if backoff else 0)
            try:
                response = await client.post(url, json=payload)
            except httpx.HTTPError as failure:
                error = _describe(failure, hook.timeout, url)
                continue
            if response.is_success:
                return DeliveryResult(target, True, attempt)
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                return DeliveryResult(target, False, attempt, error + " (not retried)")
    return DeliveryResult(target, False, attempts, error)


async def deliver_update(
    text: str, incident_id: str, number: int, config: Config, *, updates_dir: Path | None = None,
    audience: str = "internal", environ: Mapping[str, str] | None = None, attempts: int | None = None,
    backoff: tuple[float, ...] | None = None,
) -> list[DeliveryResult]:
    """Write update `number` into `updates_dir` (when given) and post it to every configured
    webhook at once. One result per target, files first."""
    results: list[DeliveryResult] = []
    if updates_dir is not None:
        target = f"updates folder {Path(updates_dir).expanduser()}"
        try:
            path = await asyncio.to_thread(write_update_file, text, incident_id, number, updates_dir)
        except OSError as error:
            results.append(DeliveryResult(target, False, 1, error.strerror or str(error)))
        else:
            results.append(DeliveryResult(f"file {path}", True, 1))
    posts = [post_webhook(hook, _payload(hook, text, incident_id, number, audience), environ=environ,
                          attempts=attempts, backoff=backoff) for hook in config.webhook]
    results.extend(await asyncio.gather(*posts))
    return results
