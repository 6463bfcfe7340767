"""`warroom serve`: the war room in a browser, through textual-serve, with the doors textual-serve
leaves open closed.

- Login: a per-person token typed into a form (POST, never in a URL), or an `Authorization:
  Bearer` header; the server keeps a random session id in an HttpOnly, SameSite=Strict cookie.
- Each browser tab gets its own war-room process, started as `warroom --as=NAME` of the person
  who logged in (with `--read-only` for read-only people: their process cannot write at all).
- The WebSocket that drives that process is refused unless its Origin is the server's own, and
  requests for any other Host are refused (DNS rebinding).
- At most `max_sessions` processes at once (about 58 MB each); past that a page says so.
- 127.0.0.1 by default; TLS when given a certificate and key.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aiohttp import WSMsgType, web

from warroom.domain.errors import WarroomError
from warroom.service.access import People
from warroom.ui.web import pages
from warroom.ui.web.sessions import Login, Logins, NoDownloads, WarRoomProcess, terminal_cells

log = logging.getLogger("warroom.serve")
STATIC_DIR = Path(__import__("textual_serve").__file__).parent / "static"
MAX_FORM_BYTES = 8 * 1024


@dataclass
class ServeOptions:
    """How `warroom serve` listens and whom it lets in."""

    people: People
    app_argv: Callable[[str, bool], list[str]]  # (name, read_only) -> the war-room command line
    host: str = "127.0.0.1"
    port: int = 8080
    max_sessions: int = 8
    session_hours: float = 12.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_urls: list[str] = field(default_factory=list)  # extra origins browsers reach us by
    title: str = "warroom"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _origin_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WarroomError(f"--public-url {url!r} is not an http(s) URL with a host")
    netloc = parts.netloc.lower()
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    if netloc.endswith(default):  # browsers leave the default port out of Origin and Host
        netloc = netloc[: -len(default)]
    return f"{parts.scheme}://{netloc}"


class WarRoomServer:
    """The aiohttp application behind `warroom serve` (build it, then `run()` or `start()`)."""

    def __init__(self, options: ServeOptions):
        self.options = options
        self.logins = Logins(options.session_hours * 3600)
        self.live: set[web.WebSocketResponse] = set()
        self.scheme = "https" if options.tls else "http"
        self.runner: web.AppRunner | None = None
        self._configure()

    def _configure(self) -> None:
        """Origins and the cookie's name, which carry the port (known only after binding port 0)."""
        options, scheme = self.options, self.scheme
        self.cookie_name = ("__Host-warroom" if options.tls else "warroom_session") + f"_{options.port}"
        origins = {_origin_of(url) for url in options.public_urls}
        if is_loopback(options.host) or options.public_urls:
            names = {"127.0.0.1", "localhost", "[::1]"} if is_loopback(options.host) else set()
            origins |= {_origin_of(f"{scheme}://{name}:{options.port}") for name in names}
            self.allowed_origins: set[str] | None = origins
        else:
            self.allowed_origins = None  # bound to all: any Host, but the Origin must be that same one
        # Host (the name the browser used) -> the scheme its page has: behind a TLS proxy, https.
        self.hosts = {origin.split("://", 1)[1]: origin.split("://", 1)[0] for origin in sorted(origins)}

    # ---- building and running --------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_FORM_BYTES, middlewares=[self._guard])
        app.add_routes([
            web.get("/", self.index),
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.post("/logout", self.logout),
            web.get("/ws", self.websocket),
            web.get("/static/{path:.*}", self.static),
        ])
        app.on_shutdown.append(self._close_all)
        return app

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.options.tls:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.options.tls_cert, self.options.tls_key)
        return context

    async def start(self) -> int:
        """Listen; returns the port (useful with port 0)."""
        try:
            context = self.ssl_context()
        except (OSError, ssl.SSLError) as error:
            raise WarroomError(f"cannot use the TLS certificate and key: {getattr(error, 'strerror', None) or error}") from None
        self.runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.options.host, self.options.port, ssl_context=context)
        try:
            await site.start()
        except OSError as error:
            await self.runner.cleanup()
            raise WarroomError(f"cannot listen on {self.options.host}:{self.options.port}: {error.strerror}") from None
        port = self.runner.addresses[0][1]
        if self.options.port != port:
            self.options.port = port
            self._configure()
        return port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _close_all(self, app: web.Application) -> None:
        await asyncio.gather(*(socket.close() for socket in list(self.live)), return_exceptions=True)

    # ---- checks every request passes -------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        if self.allowed_origins is not None and request.host.lower() not in self.hosts:
            response = self._refuse(421, "unknown address", "This server does not answer to that host name.")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                self._harden(error)
                raise
        self._harden(response)
        return response

    def _harden(self, response: web.StreamResponse) -> None:
        """Headers every answer carries: not cached, not framed, no referrer to other sites, scripts by nonce only."""
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"  # no-referrer would make form posts send `Origin: null`
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if self.options.tls:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = self._policy("")

    def _policy(self, nonce: str) -> str:
        script = f"'self' 'nonce-{nonce}'" if nonce else "'none'"
        return (f"default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; "
                "font-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'")

    def origin_allowed(self, request: web.Request, origin: str | None) -> bool:
        """The browser page that opened this request is ours (what CSRF and WebSocket hijacking lack)."""
        if not origin:
            return False
        origin = origin.lower()
        if self.allowed_origins is not None:
            return origin in self.allowed_origins
        return origin == f"{self.page_scheme(request)}://{request.host.lower()}"

    def page_scheme(self, request: web.Request) -> str:
        """'https' when the browser's page is (our TLS, or a TLS proxy named by --public-url)."""
        return "https" if self.options.tls else self.hosts.get(request.host.lower(), "http")

    def who(self, request: web.Request) -> Login | None:
        """The login of this request: its session cookie, or an `Authorization: Bearer` token."""
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            person = self.options.people.identify(header[7:].strip())
            return Login(person, expires=float("inf")) if person else None
        return self.logins.get(request.cookies.get(self.cookie_name))

    def _refuse(self, status: int, heading: str, explanation: str) -> web.Response:
        body = pages.refusal_page(self.options.title, heading, explanation)
        return web.Response(status=status, text=body, content_type="text/html")

    def _full(self) -> bool:
        return len(self.live) >= self.options.max_sessions

    def _full_page(self) -> web.Response:
        cap = self.options.max_sessions
        return self._refuse(503, "all sessions in use",
                            f"All {cap} browser sessions of this war room are open (each tab is one). "
                            "Close a war-room tab you no longer need, or ask whoever runs "
                            "`warroom serve` to raise --max-sessions, then try again.")

    # ---- pages -----------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        login = self.who(request)
        if login is None:
            return web.Response(status=401, text=pages.login_page(self.options.title), content_type="text/html")
        if self._full():
            return self._full_page()
        nonce = secrets.token_urlsafe(16)
        socket_scheme = "wss" if self.page_scheme(request) == "https" else "ws"
        url = f"{socket_scheme}://{request.host}/ws"
        font_size = request.query.get("fontsize", "16")
        page = pages.war_room_page(self.options.title, login.person.name, login.person.read_only, url, nonce,
                                   int(font_size) if font_size.isdigit() and 6 <= int(font_size) <= 48 else 16)
        response = web.Response(text=page, content_type="text/html")
        response.headers["Content-Security-Policy"] = self._policy(nonce)
        return response

    async def login_form(self, request: web.Request) -> web.Response:
        return web.Response(text=pages.login_page(self.options.title), content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        origin = request.headers.get("Origin")
        if origin is not None and not self.origin_allowed(request, origin):
            return self._refuse(403, "refused", "Sign-in is accepted only from this server's own page.")
        address = request.remote or "?"
        if self.logins.throttled(address):
            return self._refuse(429, "too many attempts", "Too many wrong tokens from here; wait a minute.")
        try:
            form = await request.post()
        except (ValueError, web.HTTPException):
            return self._refuse(400, "refused", "The sign-in form was not understood.")
        token = form.get("token")
        person = self.options.people.identify(token) if isinstance(token, str) and token else None
        if person is None:
            self.logins.failed(address)
            log.warning("failed sign-in from %s", address)
            page = pages.login_page(self.options.title, "That token is not valid here.")
            return web.Response(status=401, text=page, content_type="text/html")
        session_id = self.logins.start(person)
        log.info("%s signed in%s from %s", person.name, " (read-only)" if person.read_only else "", address)
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(self.cookie_name, session_id, max_age=int(self.options.session_hours * 3600),
                            path="/", httponly=True, samesite="Strict", secure=self.page_scheme(request) == "https")
        return response

    async def logout(self, request: web.Request) -> web.Response:
        if not self.origin_allowed(request, request.headers.get("Origin")):
            return self._refuse(403, "refused", "Sign-out is accepted only from this server's own page.")
        login = self.logins.end(request.cookies.get(self.cookie_name))
        if login is not None:
            await asyncio.gather(*(socket.close() for socket in list(login.sockets)), return_exceptions=True)
        response = web.Response(status=303, headers={"Location": "/login"})
        response.del_cookie(self.cookie_name, path="/")
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        if self.who(request) is None:
            return self._refuse(401, "sign in first", "Sign in to open the war room.")
        relative = Path(request.match_info["path"])
        target = (STATIC_DIR / relative).resolve()
        if ".." in relative.parts or not target.is_file() or STATIC_DIR.resolve() not in target.parents:
            raise web.HTTPNotFound()
        return web.FileResponse(target)

    # ---- the war room over a WebSocket -----------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        login = self.who(request)
        if login is None:
            return self._refuse(401, "sign in first", "Sign in to open the war room.")
        if not self.origin_allowed(request, request.headers.get("Origin")):
            log.warning("WebSocket from a foreign origin refused (%s)", request.remote)
            return self._refuse(403, "refused", "The war room opens only from this server's own page.")
        if self._full():
            return self._full_page()
        socket = web.WebSocketResponse(heartbeat=15)
        self.live.add(socket)  # counted from here: no await between the check and this
        login.sockets.add(socket)
        person = login.person
        process = None
        try:
            await socket.prepare(request)
            process = WarRoomProcess(
                self.options.app_argv(person.name, person.read_only), self.options.people.token_envs,
                write_bytes=socket.send_bytes, write_str=socket.send_str, close=socket.close,
                download_manager=NoDownloads(),
            )
            width, height = terminal_cells(request.query.get("width"), 80), terminal_cells(request.query.get("height"), 24)
            await process.start(width, height)
            log.info("session for %s started (pid %s; %d open)", person.name, process.pid, len(self.live))
            await self._relay(socket, process)
        except asyncio.CancelledError:
            pass
        except Exception:  # a broken session must not take the server down
            log.exception("war-room session for %s failed", person.name)
        finally:
            if process is not None:
                await process.stop()
            self.live.discard(socket)
            login.sockets.discard(socket)
            await socket.close()
            log.info("session for %s ended (%d open)", person.name, len(self.live))
        return socket

    async def _relay(self, socket: web.WebSocketResponse, process: WarRoomProcess) -> None:
        """What the browser sends: keys, size, focus; anything malformed is dropped."""
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
                kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await process.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await process.set_terminal_size(terminal_cells(data.get("width"), 80),
                                                terminal_cells(data.get("height"), 24))
            elif kind == "ping":
                await socket.send_json(["pong", data])
            elif kind == "blur":
                await process.blur()
            elif kind == "focus":
                await process.focus()


def plain_text_warning(options: ServeOptions) -> str | None:
    """What to tell someone who serves beyond this machine without TLS (None: nothing)."""
    if is_loopback(options.host) or options.tls:
        return None
    return (f"warroom serve: warning: listening on {options.host} without TLS: tokens, cookies and the "
            "war room cross the network readable by anyone on the path; give --tls-cert and --tls-key "
            "(or keep 127.0.0.1 behind a TLS proxy and pass --public-url)")


def run(options: ServeOptions) -> None:
    """Serve until Ctrl+C or SIGTERM; sign-ins and sessions are logged to stderr (never a token)."""
    import signal
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    if warning := plain_text_warning(options):
        print(warning, file=sys.stderr)

    async def serve() -> None:
        server = WarRoomServer(options)
        port = await server.start()
        host = f"[{options.host}]" if ":" in options.host else options.host
        print(f"warroom serve: {server.scheme}://{host}:{port}/ for {len(options.people)} people, "
              f"at most {options.max_sessions} sessions (Ctrl+C stops)", file=sys.stderr, flush=True)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stopping.set)
        try:
            await stopping.wait()
        finally:
            await server.stop()

    asyncio.run(serve())
