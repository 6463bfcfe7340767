"""`warroom intake`: a small HTTP server (aiohttp) that takes alert webhooks.

POST /alerts (shape detected), /alerts/alertmanager, /alerts/grafana or /alerts/generic, with
`Authorization: Bearer <token>`; GET /health answers "ok" without a token. Checks run in this
order, each with its own status: token (401), size (413, before the body is read past the cap),
shape (400 with the reason). The answer lists what became of each alert. The token is compared
in constant time and never logged; incidents declared from alerts are followed up (paging) in
the background, so monitoring gets its answer at once.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from typing import Awaitable, Callable

from aiohttp import web

from warroom.domain.alerts import SOURCES, AlertError, parse_alerts
from warroom.domain.errors import WarroomError
from warroom.domain.text import visible
from warroom.service.alerts import AlertIntake, AlertOutcome

READ_CHUNK = 64 * 1024
FollowUp = Callable[[AlertOutcome], Awaitable[object]]


def _error(status: int, reason: str, **headers: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers or None)


class IntakeServer:
    """The aiohttp application around an AlertIntake; `log` gets one line per alert."""

    def __init__(self, intake: AlertIntake, token: str, *, max_body: int, follow_up: FollowUp | None = None,
                 log: Callable[[str], None] | None = None):
        if not token:
            raise WarroomError("the intake needs a bearer token")
        self.intake, self._token, self.max_body = intake, token.encode(), max_body
        self.follow_up, self.log = follow_up, log or (lambda line: None)
        self._tasks: set[asyncio.Task] = set()
        self.app = web.Application(client_max_size=max_body)
        self.app.add_routes([
            web.get("/health", self._health),
            web.post("/alerts", self._alerts),
            web.post("/alerts/{source}", self._alerts),
        ])
        self.app.on_cleanup.append(self._drain)

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    def _authorised(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)

    async def _read(self, request: web.Request) -> bytes | None:
        """The body, or None as soon as it is over the cap (a declared or a streamed length)."""
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        data = bytearray()
        while chunk := await request.content.read(READ_CHUNK):
            data += chunk
            if len(data) > self.max_body:
                return None
        return bytes(data)

    async def _alerts(self, request: web.Request) -> web.Response:
        source = request.match_info.get("source")
        if source is not None and source not in SOURCES:
            return _error(404, f"unknown alert source {visible(source)!r}; known: {', '.join(SOURCES)}")
        if not self._authorised(request):
            return _error(401, "missing or wrong bearer token", **{"WWW-Authenticate": "Bearer"})
        body = await self._read(request)
        if body is None:
            return _error(413, f"the body is over {self.max_body} bytes")
        try:
            alerts = parse_alerts(body, source, tuple(self.intake.config.intake.service_labels))
        except AlertError as error:
            return _error(400, str(error))
        try:
            outcomes = await self.intake.take(alerts)
        except WarroomError as error:  # a rule naming an unknown policy, a locked database...
            self.log(f"alerts NOT taken: {visible(str(error))}")
            return _error(500, "the alert could not be recorded; see the intake's log")
        for outcome in outcomes:
            where = f" {outcome.incident_id}" if outcome.incident_id else ""
            rule = f" (rule {visible(outcome.rule)})" if outcome.rule else ""
            self.log(f"{outcome.status} {visible(outcome.fingerprint)} {visible(outcome.title)} -> "
                     f"{outcome.outcome}{where}{rule}")
            if self.follow_up and outcome.declared:
                task = asyncio.create_task(self.follow_up(outcome))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return web.json_response({"alerts": [outcome.as_json() for outcome in outcomes]})

    async def settled(self) -> None:
        """Wait for the follow-ups started so far (pages of declared incidents)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _drain(self, app: web.Application) -> None:
        await self.settled()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(server: IntakeServer, host: str, port: int, *, ready: Callable[[str], None],
                stop: asyncio.Event) -> None:
    """Listen on host:port (0: any free port) until `stop` is set; `ready` gets the base URL."""
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise WarroomError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        ready(f"http://{shown}:{bound[1]}")
        await stop.wait()
    finally:
        await runner.cleanup()


async def run_intake(service, config, *, host: str, port: int, token: str, updates_dir,
                     say: Callable[[str], None]) -> None:
    """`warroom intake` until SIGINT or SIGTERM: alerts in, declared incidents paged."""
    import signal

    from warroom.service.reach import Reach

    reach = Reach(service, config, updates_dir=updates_dir)

    def log(line: str) -> None:
        say(f"{service.now():%Y-%m-%d %H:%M:%S} UTC {line}")

    async def page(outcome: AlertOutcome) -> None:
        done = await reach.after_declare(await service.incident(outcome.incident_id))
        for line in done.summary():
            log(f"{outcome.incident_id}: {line}")

    server = IntakeServer(AlertIntake(service, config), token, max_body=config.intake.max_body, follow_up=page, log=log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    routes = ", ".join(["/alerts", *(f"/alerts/{source}" for source in SOURCES)])
    await serve(server, host, port, stop=stop,
                ready=lambda base: log(f"warroom intake listening on {base} (POST {routes}; GET /health)"))
    log("warroom intake stopped")
