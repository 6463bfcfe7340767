"""Loopback fakes for reaching people: an HTTP receiver (Slack-compatible webhook, generic JSON,
PagerDuty Events API v2, Atlassian Statuspage API) and a tiny SMTP server with STARTTLS.

Each records what it received and can be switched down (HTTP 503 / SMTP 421) and up again.
Imported by the reach, paging, intake and composer tests; it holds no tests. Only 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    raw: bytes = b""


class HttpFake:
    """Answers every request: 503 while `down`, else `status` with a reply fitting the path:
    PagerDuty's 202 {"status": "success"}, Statuspage's incident with an id, or "ok"."""

    def __init__(self, status: int = 200):
        self.status, self.down = status, False
        self.received: list[Received] = []
        self.runner: web.AppRunner | None = None
        self.port = 0
        self._incidents = 0

    def url(self, path: str = "/hook/SECRET-TOKEN") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.received.append(Received(request.method, request.path, dict(request.headers), body, raw))
        if self.down:
            return web.Response(status=503, text="down")
        if request.path.endswith("/enqueue"):
            return web.json_response({"status": "success", "message": "Event processed",
                                      "dedup_key": (body or {}).get("dedup_key")}, status=202)
        if "/incidents" in request.path:
            if request.method == "POST":
                self._incidents += 1
                return web.json_response({"id": f"sp{self._incidents}", "status": "investigating"}, status=201)
            return web.json_response({"id": request.path.rsplit("/", 1)[-1]})
        return web.Response(status=self.status, text="ok")

    async def __aenter__(self) -> "HttpFake":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: str
    tls: bool
    login: str = ""


@dataclass
class SmtpFake:
    """SMTP on 127.0.0.1: EHLO, STARTTLS (when given a server context), AUTH PLAIN/LOGIN, MAIL,
    RCPT, DATA, RSET, NOOP, QUIT. While `down` every session gets 421 and is closed."""

    tls_context: ssl.SSLContext | None = None
    password: str = ""
    down: bool = False
    mails: list[Mail] = field(default_factory=list)
    sessions: int = 0
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> "SmtpFake":
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1

        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        try:
            if self.down:
                say("421 fake is down")
                await writer.drain()
                return
            say("220 fake ESMTP")
            tls, sender, recipients, login = False, "", [], ""
            while line := (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    offers = ["250-fake"] + (["250-STARTTLS"] if self.tls_context and not tls else [])
                    say("\r\n".join(offers + ["250 AUTH PLAIN LOGIN"]))
                elif verb == "STARTTLS" and self.tls_context and not tls:
                    say("220 go ahead")
                    await writer.drain()
                    await writer.start_tls(self.tls_context)
                    tls = True
                elif verb == "AUTH":
                    login = await self._auth(line, reader, say, writer)
                    if login is None:
                        say("535 5.7.8 bad credentials")
                        login = ""
                    else:
                        say("235 ok")
                elif verb == "MAIL":
                    sender, recipients = line.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                    say("250 ok")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                    say("250 ok")
                elif verb == "DATA":
                    say("354 end with .")
                    await writer.drain()
                    lines = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        lines.append(chunk.decode("utf-8", "replace"))
                    self.mails.append(Mail(sender, recipients, "".join(lines), tls, login))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    await writer.drain()
                    return
                else:  # RSET, NOOP and anything else
                    say("250 ok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _auth(self, line: str, reader, say, writer) -> str | None:
        parts = line.split()
        if parts[1].upper() == "PLAIN":
            if len(parts) > 2:
                encoded = parts[2]
            else:
                say("334 ")
                await writer.drain()
                encoded = (await reader.readline()).decode().strip()
            _, user, password = base64.b64decode(encoded).decode().split("\0")
        else:
            say("334 VXNlcm5hbWU6")
            await writer.drain()
            user = base64.b64decode((await reader.readline()).strip()).decode()
            say("334 UGFzc3dvcmQ6")
            await writer.drain()
            password = base64.b64decode((await reader.readline()).strip()).decode()
        return user if password == self.password else None
