"""Loopback servers for the probe tests: an HTTP target with every kind of fault, TLS with a
self-signed certificate made at test time, a tiny UDP DNS server and a stub resolver.

Imported by tests/test_probe_*.py; it holds no tests of its own. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import socket
import ssl
import struct
import subprocess
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractResolver

HOSTILE_BODY = (b"\xff\xfe not utf-8 \x80 \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07"
                b" [bold]markup[/bold] \x1b]52;c;cGF3bmVk\x07 tail")


class Target:
    """An aiohttp server on 127.0.0.1 with one route per behaviour the probes must survive."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.ssl_context = ssl_context
        self.port = 0
        self.hits: dict[str, int] = {}
        self.flap_pattern: list[int] = [200]
        self.runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def _count(self, name: str) -> int:
        self.hits[name] = self.hits.get(name, 0) + 1
        return self.hits[name]

    async def ok(self, request: web.Request) -> web.Response:
        self._count("ok")
        return web.json_response({"status": "UP", "items": [{"ready": True}], "version": 3})

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status page")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "1")))
        return web.json_response({"status": "UP"})

    async def flap(self, request: web.Request) -> web.Response:
        """Answers with the status codes of `flap_pattern`, in turn (the last one repeats)."""
        number = self._count("flap") - 1
        code = self.flap_pattern[min(number, len(self.flap_pattern) - 1)]
        return web.Response(status=code, text="flap")

    async def hostile(self, request: web.Request) -> web.Response:
        return web.Response(body=HOSTILE_BODY, content_type="text/plain", charset="utf-8")

    async def deep(self, request: web.Request) -> web.Response:
        """JSON nested 100,000 deep (json.loads gives up with RecursionError)."""
        return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")

    async def megabyte(self, request: web.Request) -> web.Response:
        """1 MB of escape sequences, bidi and zero-width characters, and bytes that are not UTF-8."""
        return web.Response(body=(HOSTILE_BODY + "\u202e\u200b".encode() + b"\xc3\x28") * (1024 * 1024 // 120),
                            content_type="text/plain")

    async def echo(self, request: web.Request) -> web.Response:
        """Echoes the request headers back (a careless service reflecting a token)."""
        first = ("Authorization", "X-Token")
        headers = sorted(request.headers.items(), key=lambda item: item[0] not in first)
        return web.Response(status=int(request.query.get("status", "200")),
                            text=json.dumps(dict(headers)), content_type="application/json")

    async def big(self, request: web.Request) -> web.StreamResponse:
        """50 MB of body, streamed."""
        response = web.StreamResponse()
        response.content_length = 50 * 1024 * 1024
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(800):
                await response.write(chunk)
        except (ConnectionResetError, ConnectionError):
            self._count("big-aborted")
        return response

    async def trickle(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then one byte every 0.2 s (a server that never finishes)."""
        response = web.StreamResponse()
        response.content_length = 10_000
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b".")
                await asyncio.sleep(0.2)
        except (ConnectionResetError, ConnectionError):
            self._count("trickle-aborted")
        return response

    async def reset(self, request: web.Request) -> web.StreamResponse:
        """Promises 100 kB, sends 1 kB, then drops the connection."""
        response = web.StreamResponse()
        response.content_length = 100_000
        await response.prepare(request)
        await response.write(b"y" * 1000)
        await asyncio.sleep(0.01)
        request.transport.abort()
        return response

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    # What /auth wants: basic auth (user, password; UTF-8 per RFC 7617) and ?api_key=, else 401.
    login = ("admin", "hunter2")
    api_key = "k3y-XYZ-7781"

    async def auth(self, request: web.Request) -> web.Response:
        import base64

        wanted = "Basic " + base64.b64encode(":".join(self.login).encode("utf-8")).decode("ascii")
        if request.headers.get("Authorization") != wanted or request.query.get("api_key") != self.api_key:
            return web.Response(status=401, text="who are you?")
        return web.json_response({"auth": request.headers["Authorization"], "query": dict(request.query)})

    async def start(self) -> "Target":
        app = web.Application()
        for path, handler in (("/ok", self.ok), ("/status/{code}", self.status), ("/slow", self.slow),
                              ("/flap", self.flap), ("/hostile", self.hostile), ("/echo", self.echo),
                              ("/big", self.big), ("/trickle", self.trickle), ("/reset", self.reset),
                              ("/redirect", self.redirect), ("/auth", self.auth), ("/deep", self.deep),
                              ("/megabyte", self.megabyte)):
            app.router.add_route("*", path, handler)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def __aenter__(self) -> "Target":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(directory: Path, days: int = 2) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 valid for `days`, made with the openssl command (None if absent)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", str(days), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class StubResolver(AbstractResolver):
    """aiohttp resolver for tests: listed names are 127.0.0.1, anything else does not exist.
    (So no test ever asks a real DNS server.)"""

    def __init__(self, names: tuple[str, ...] = ("localhost", "api.test")):
        self.names = names

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        if host not in self.names and host != "127.0.0.1":
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


class DnsServer(asyncio.DatagramProtocol):
    """A tiny authoritative DNS server on 127.0.0.1: A records from `zone`, NXDOMAIN otherwise;
    names in `silent` get no answer at all (a resolver that hangs)."""

    def __init__(self, zone: dict[str, list[str]], silent: tuple[str, ...] = ()):
        self.zone = {name.rstrip(".").lower(): addresses for name, addresses in zone.items()}
        self.silent = silent
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.questions: list[str] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> "DnsServer":
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def datagram_received(self, data: bytes, addr) -> None:
        ident, _, _, _, _, _ = struct.unpack(">HHHHHH", data[:12])
        pos, labels = 12, []
        while data[pos]:
            labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
            pos += 1 + data[pos]
        question = data[12:pos + 5]
        qtype = struct.unpack(">H", data[pos + 1:pos + 3])[0]
        name = ".".join(labels).lower()
        self.questions.append(name)
        if name in self.silent:
            return
        addresses = self.zone.get(name)
        if addresses is None:
            reply = struct.pack(">HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question
        else:
            records = [a for a in addresses if qtype == 1] if qtype == 1 else []
            reply = struct.pack(">HHHHHH", ident, 0x8180, 1, len(records), 0, 0) + question
            for address in records:
                reply += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
        self.transport.sendto(reply, addr)


async def until(condition, timeout: float = 30.0) -> None:
    """Wait until `condition()` is true (a plain function, or a coroutine function that is awaited),
    or fail after `timeout` seconds: generous, so a busy machine makes a test slower, not red."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _value(condition()):
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.02)


async def _value(found):
    return await found if inspect.isawaitable(found) else found
