"""Logged-in browsers and the war-room process behind each of their tabs.

`Logins` keeps the cookie sessions (random ids, server side, with an expiry) and throttles
failed logins per address. `WarRoomProcess` is textual-serve's AppService started without a
shell, from an argument list the server builds (the browser chooses nothing in it), with the
environment's token variables removed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from textual_serve.app_service import AppService

from warroom.service.access import Person

log = logging.getLogger("warroom.serve")
STOP_GRACE_SECONDS = 5.0
MAX_TERMINAL_CELLS = 1000


@dataclass
class Login:
    """One signed-in browser: who it is, until when, and the sockets (tabs) it has open."""

    person: Person
    expires: float
    sockets: set = field(default_factory=set)


class Logins:
    """Cookie sessions kept in memory: a restart signs everybody out, which is the safe way round."""

    def __init__(self, lifetime_seconds: float, clock: Callable[[], float] = time.monotonic,
                 failures_allowed: int = 10, failure_window: float = 60.0):
        self.lifetime = lifetime_seconds
        self.clock = clock
        self._logins: dict[str, Login] = {}
        self._failures: dict[str, deque[float]] = {}
        self.failures_allowed, self.failure_window = failures_allowed, failure_window

    def start(self, person: Person) -> str:
        """A new session id for `person` (what the cookie holds; 256 random bits)."""
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        self._logins[session_id] = Login(person, self.clock() + self.lifetime)
        return session_id

    def get(self, session_id: str | None) -> Login | None:
        if not session_id:
            return None
        login = self._logins.get(session_id)
        if login is None or login.expires <= self.clock():
            return None
        return login

    def end(self, session_id: str | None) -> Login | None:
        return self._logins.pop(session_id, None) if session_id else None

    def _forget_expired(self) -> None:
        now = self.clock()
        for session_id in [key for key, login in self._logins.items() if login.expires <= now and not login.sockets]:
            del self._logins[session_id]

    # ---- failed logins ---------------------------------------------------------------------

    def throttled(self, address: str) -> bool:
        """Too many wrong tokens from `address` lately (guessing is refused for a while)."""
        recent = self._failures.get(address)
        if not recent:
            return False
        while recent and recent[0] <= self.clock() - self.failure_window:
            recent.popleft()
        return len(recent) >= self.failures_allowed

    def failed(self, address: str) -> None:
        if len(self._failures) > 10_000:  # a flood of addresses must not grow this without bound
            self._failures.clear()
        self._failures.setdefault(address, deque()).append(self.clock())


class WarRoomProcess(AppService):
    """One war-room process for one browser tab (textual-serve's AppService, without a shell)."""

    def __init__(self, argv: list[str], hidden_env: Iterable[str], **kwargs):
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.hidden_env = frozenset(hidden_env)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        for name in self.hidden_env:
            environment.pop(name, None)
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24):
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self._build_environment(width, height),
        )
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        """Ask the app to quit; if it has not ended after a grace period, end it."""
        try:
            await asyncio.wait_for(super().stop(), STOP_GRACE_SECONDS)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        process = self._process
        if process is not None:
            if process.returncode is None:
                process.kill()
            await process.wait()


def terminal_cells(value, default: int) -> int:
    """A terminal width or height the browser sent, if it is a sane one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 1 <= number <= MAX_TERMINAL_CELLS else default


class NoDownloads:
    """The war room delivers no files to browsers; textual-serve's hooks find nothing to do."""

    async def cancel_app_downloads(self, app_service_id: str) -> None:
        return None

    async def create_download(self, **_) -> None:
        log.warning("a file delivery to the browser was ignored")

    async def chunk_received(self, *_) -> None:
        return None

