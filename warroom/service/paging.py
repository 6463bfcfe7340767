"""Paging on-call: PagerDuty Events API v2 (`trigger`, `resolve`) or a generic JSON page.

Which pagers an incident pages: those whose `services` overlap the incident's, and those with no
`services` (they cover everything). `/page NAME|SERVICE` finds pagers by name or by a service
they cover. The routing key and URLs come from environment variables and are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from warroom.domain.text import visible
from warroom.service.config import Config, JsonPager, Pager, PagerDutyPager
from warroom.service.delivery import (
    SendResult, failed, http_attempt, post_json, secret_from_env, with_retries,
)  # fmt: skip

if TYPE_CHECKING:  # httpx is imported where a page is sent: most commands never send one
    import httpx

PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What one page says: the incident facts, why, and how the policy reaches people."""

    action: str  # "trigger" or "resolve"
    dedup_key: str
    incident_id: str
    title: str
    severity: str
    severity_rank: int  # 0 is the policy's most severe level
    services: tuple[str, ...]
    reason: str
    channels: tuple[str, ...] = ()  # the policy's `page` list: phone, sms, on-call...


def pagers_for_incident(config: Config, services: tuple[str, ...]) -> list[Pager]:
    wanted = {service.casefold() for service in services}
    return [pager for pager in config.pager
            if not pager.services or wanted & {service.casefold() for service in pager.services}]


def pagers_named(config: Config, word: str) -> list[Pager]:
    """Pagers called `word`, else the pagers covering service `word` (case does not matter)."""
    wanted = word.strip().casefold()
    by_name = [pager for pager in config.pager if pager.name.casefold() == wanted]
    return by_name or [pager for pager in config.pager if wanted in {s.casefold() for s in pager.services}]


def pagerduty_event(request: PageRequest, routing_key: str) -> dict:
    if request.action == "resolve":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": request.dedup_key}
    rank = min(request.severity_rank, len(PAGERDUTY_SEVERITIES) - 1)
    summary = visible(f"[{request.severity}] {request.incident_id} {request.title}: {request.reason}")
    return {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": request.dedup_key, "client": "warroom",
        "payload": {
            "summary": summary[:1024], "source": "warroom", "severity": PAGERDUTY_SEVERITIES[rank],
            "component": ", ".join(request.services) or None, "class": "incident",
            "custom_details": {"incident": request.incident_id, "title": request.title,
                               "severity": request.severity, "reason": request.reason,
                               "services": list(request.services), "page_by": list(request.channels)},
        },
    }


def json_page(request: PageRequest) -> dict:
    return {"event": request.action, "dedup_key": request.dedup_key, "incident": request.incident_id,
            "title": request.title, "severity": request.severity, "services": list(request.services),
            "reason": request.reason, "page_by": list(request.channels)}


async def send_page(pager: Pager, request: PageRequest, *, environ: Mapping[str, str] | None = None,
                    attempts: int | None = None, backoff: tuple[float, ...] | None = None) -> SendResult:
    if isinstance(pager, JsonPager):
        return await post_json(pager.url_env, json_page(request), timeout=pager.timeout, environ=environ,
                               attempts=attempts, backoff=backoff)
    assert isinstance(pager, PagerDutyPager)
    key, problem = secret_from_env(pager.routing_key_env, environ, "PagerDuty routing key")
    if problem:
        return failed(problem)
    event = pagerduty_event(request, key)

    import httpx

    def accepted(response: httpx.Response) -> str:
        try:
            message = response.json().get("message", "")
        except (ValueError, AttributeError):
            message = ""
        return visible(f"accepted: {message}" if isinstance(message, str) and message else "accepted")[:200]

    async with httpx.AsyncClient(follow_redirects=False) as client:
        result = await with_retries(lambda: http_attempt(client, "POST", pager.events_url, event,
                                                         timeout=pager.timeout, detail=accepted),
                                    attempts=attempts, backoff=backoff)
    return result if key not in result.error else SendResult(result.ok, result.attempts,
                                                             result.error.replace(key, "<key>"), result.detail)
