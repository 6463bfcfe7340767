"""A small HTTP service on 127.0.0.1 for the demo (and the probe benchmark), so every state shows.

    /healthy   200 {"status": "UP"}
    /slow      200 after `slow_delay` seconds (over the sample's degraded_over: DEGRADED)
    /flapping  `flap_every` healthy answers, then `flap_every` 503s, and so on (PENDING, DOWN, UP)
    /failing   500 {"status": "DOWN"}

`sample_data/probes.toml` is a template: `demo_probes(service)` replaces ``{base}`` with the
service's URL base (``http://127.0.0.1:PORT``) and ``{hostport}`` with ``127.0.0.1:PORT`` (plain
text replacement, so TOML braces elsewhere are safe), then validates it like any probe file.
Run alone: ``python -m warroom.probes.demo_service [--port N]`` prints the base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from importlib import resources
from pathlib import Path

from aiohttp import web

from warroom.probes.config import ProbeSpec, parse_probes

TEMPLATE_NAME = "probes.toml"


STOP_GRACE = 0.25  # seconds requests in progress get when the service stops


class DemoService:
    """The running service; `port` is the bound port (ask for 0 to get an ephemeral one)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, slow_delay: float = 0.6, flap_every: int = 3):
        self.host, self.requested_port = host, port
        self.slow_delay, self.flap_every = slow_delay, max(1, flap_every)
        self.port = 0
        self.hits: dict[str, int] = {}
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def _count(self, name: str) -> int:
        self.hits[name] = self.hits.get(name, 0) + 1
        return self.hits[name]

    async def _healthy(self, request: web.Request) -> web.Response:
        self._count("healthy")
        return web.json_response({"status": "UP"})

    async def _slow(self, request: web.Request) -> web.Response:
        self._count("slow")
        await asyncio.sleep(self.slow_delay)
        return web.json_response({"status": "UP", "note": "slow"})

    async def _flapping(self, request: web.Request) -> web.Response:
        number = self._count("flapping") - 1
        if (number // self.flap_every) % 2 == 0:
            return web.json_response({"status": "UP"})
        return web.json_response({"status": "DOWN", "error": "flapping"}, status=503)

    async def _failing(self, request: web.Request) -> web.Response:
        self._count("failing")
        return web.json_response({"status": "DOWN", "error": "database unavailable"}, status=500)

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/healthy", self._healthy)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/flapping", self._flapping)
        app.router.add_get("/failing", self._failing)
        # A slow request in progress must not hold up stopping (aiohttp would wait 60 s for it).
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=STOP_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "DemoService":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


async def start_demo_service(host: str = "127.0.0.1", port: int = 0, **options) -> DemoService:
    """Start the service; returns it with `.port` and `.base` filled in."""
    service = DemoService(host, port, **options)
    await service.start()
    return service


def probe_template() -> str:
    """The text of sample_data/probes.toml (packaged copy first, then the source tree's)."""
    packaged = resources.files("warroom") / "sample_data" / TEMPLATE_NAME
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "sample_data" / TEMPLATE_NAME).read_text(encoding="utf-8")


def fill_template(text: str, base: str, hostport: str) -> str:
    return text.replace("{base}", base).replace("{hostport}", hostport)


def demo_probes(service: DemoService, template: str | None = None) -> list[ProbeSpec]:
    """The sample probes pointed at a running demo service."""
    text = fill_template(template if template is not None else probe_template(), service.base, service.hostport)
    return parse_probes(text, f"sample_data/{TEMPLATE_NAME}")


async def _serve(host: str, port: int) -> None:
    service = await start_demo_service(host, port)
    print(service.base, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await service.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="warroom demo service (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(_serve("127.0.0.1", args.port))


if __name__ == "__main__":
    main()
