"""Status pages: an Atlassian Statuspage-compatible incident API, or static status files.

The API: the first public update of an incident creates a remote incident
(POST {api_url}/pages/{page_id}/incidents), later ones update it (PATCH .../incidents/{id});
the key goes in `Authorization: OAuth <key>` from an environment variable. The static page:
`status.json` and `status.html` rewritten whole (written aside, then renamed) in a folder any
web server can serve; a file there that warroom did not write is never touched.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from warroom.domain.text import inert_json, visible
from warroom.service.config import StatusFileTarget, StatuspageTarget
from warroom.service.delivery import (
    Attempt, SendResult, UpdateMessage, failed, http_attempt, secret_from_env, with_retries,
)  # fmt: skip

if TYPE_CHECKING:  # httpx is imported where a request is made: most commands never make one
    import httpx

GENERATOR = "warroom"
_PHASES = (("investigat", "investigating"), ("identif", "identified"), ("mitigat", "identified"),
           ("monitor", "monitoring"))
_IMPACTS = ("critical", "major", "minor")


def statuspage_status(message: UpdateMessage) -> str:
    """Statuspage's incident status for ours: investigating, identified, monitoring or resolved."""
    if message.resolved:
        return "resolved"
    status = message.status.casefold()
    return next((remote for key, remote in _PHASES if key in status), "investigating")


def statuspage_document(message: UpdateMessage, severity_rank: int, create: bool) -> dict:
    body = f"{visible(message.text, keep_newlines=True)}\n\nReference: {message.incident_id} ({message.severity})"
    incident = {"status": statuspage_status(message), "body": body}
    if create:
        incident["name"] = visible(message.title)
        incident["impact_override"] = _IMPACTS[severity_rank] if severity_rank < len(_IMPACTS) else "none"
    return {"incident": incident}


async def send_statuspage(target: StatuspageTarget, message: UpdateMessage, remote_id: str | None, *,
                          severity_rank: int, environ: Mapping[str, str] | None = None, attempts: int | None = None,
                          backoff: tuple[float, ...] | None = None) -> tuple[SendResult, str | None]:
    """Create or update the remote incident; (result, the remote incident id)."""
    key, problem = secret_from_env(target.api_key_env, environ, "status page API key")
    if problem:
        return failed(problem), remote_id
    base = f"{target.api_url.rstrip('/')}/pages/{target.page_id}/incidents"
    created: list[str] = []

    import httpx

    def remember(response: httpx.Response) -> str:
        try:
            found = response.json().get("id")
        except (ValueError, AttributeError):
            found = None
        if isinstance(found, str) and found:
            created.append(found)
            return f"status page incident {found}"
        return "status page incident (no id returned)"

    async with httpx.AsyncClient(follow_redirects=False) as client:
        headers = {"Authorization": f"OAuth {key}"}
        if remote_id:
            payload = statuspage_document(message, severity_rank, create=False)
            result = await with_retries(lambda: http_attempt(
                client, "PATCH", f"{base}/{remote_id}", payload, timeout=target.timeout, headers=headers,
                detail=lambda response: f"status page incident {remote_id} updated"), attempts=attempts, backoff=backoff)
            return _scrubbed(result, key), remote_id
        payload = statuspage_document(message, severity_rank, create=True)
        result = await with_retries(lambda: http_attempt(
            client, "POST", base, payload, timeout=target.timeout, headers=headers, detail=remember),
            attempts=attempts, backoff=backoff)
    return _scrubbed(result, key), (created[-1] if created else None)


def _scrubbed(result: SendResult, key: str) -> SendResult:
    if key and key in result.error:
        return SendResult(result.ok, result.attempts, result.error.replace(key, "<key>"), result.detail)
    return result


# ---- static status files -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedUpdate:
    number: int
    posted_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class PublishedIncident:
    """What a static status page shows of one incident."""

    id: str
    title: str
    severity: str
    severity_label: str
    status_label: str
    resolved: bool
    services: tuple[str, ...]
    updates: tuple[PublishedUpdate, ...]  # newest first


def status_json(title: str, incidents: list[PublishedIncident], now: datetime) -> str:
    document = {
        "generator": GENERATOR, "page_title": title, "updated_at": now.isoformat(),
        "incidents": [{
            "id": i.id, "title": i.title, "severity": i.severity, "severity_label": i.severity_label,
            "status": i.status_label, "resolved": i.resolved, "services": list(i.services),
            "updates": [{"number": u.number, "posted_at": u.posted_at.isoformat(), "text": u.text} for u in i.updates],
        } for i in incidents],
    }
    return inert_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _e(text: str) -> str:
    return html.escape(visible(text), quote=True)


def status_html(title: str, incidents: list[PublishedIncident], now: datetime) -> str:
    """A page with no script and no outside resource; every piece of text escaped."""
    current = [i for i in incidents if not i.resolved]
    summary = (f"{len(current)} open incident{'s' if len(current) != 1 else ''}" if current
               else "All systems operational")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
        "article{border-top:1px solid;padding:.5rem 0}p.text{white-space:pre-wrap}</style>",
        "</head><body>", f"<h1>{_e(title)}</h1>", f"<p><strong>{_e(summary)}</strong></p>",
    ]
    for incident in incidents:
        state = "Resolved" if incident.resolved else incident.status_label
        services = f" · {_e(', '.join(incident.services))}" if incident.services else ""
        parts.append(f"<article><h2>{_e(incident.title)}</h2>"
                     f"<p>{_e(state)} · {_e(incident.severity_label)} ({_e(incident.severity)}){services}"
                     f" · ref {_e(incident.id)}</p>")
        for update in incident.updates:
            parts.append(f"<p><time>{update.posted_at:%Y-%m-%d %H:%M} UTC</time></p>"
                         f'<p class="text">{html.escape(visible(update.text, keep_newlines=True))}</p>')
        parts.append("</article>")
    parts += [f"<footer><p>Updated {now:%Y-%m-%d %H:%M} UTC</p></footer>", "</body></html>", ""]
    return "\n".join(parts)


def _ours(path: Path) -> bool:
    """Whether `path` is absent or was written by warroom (its generator marker)."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return (f'"generator": "{GENERATOR}"' in head if path.suffix == ".json"
            else f'<meta name="generator" content="{GENERATOR}">' in head)


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # served to the public by design
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_status_files(directory: Path, title: str, incidents: list[PublishedIncident], now: datetime) -> Attempt:
    directory = Path(directory).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        files = {directory / "status.json": status_json(title, incidents, now),
                 directory / "status.html": status_html(title, incidents, now)}
        foreign = [path.name for path in files if not _ours(path)]
        if foreign:
            return Attempt(False, f"{', '.join(foreign)} in {directory} was not written by warroom; left untouched")
        for path, text in files.items():
            _replace(path, text)
    except OSError as error:
        return Attempt(False, f"cannot write in {directory}: {error.strerror or error}")
    return Attempt(True, detail=f"{directory / 'status.html'}")


async def publish_status_files(target: StatusFileTarget, incidents: list[PublishedIncident], now: datetime) -> SendResult:
    attempt = await asyncio.to_thread(write_status_files, Path(target.directory), target.page_title, incidents, now)
    return SendResult(attempt.ok, 1, attempt.error, attempt.detail)
