"""A real `warroom serve` for the tests: started as a subprocess on 127.0.0.1 (port 0), with a
people file whose tokens come from the environment, and a WebSocket client that speaks
textual-serve's protocol. Holds no tests of its own."""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp

TOKENS = {"alice": "alice-token-5f3b9c0e8d7a6b5c", "carol": "carol-token-0a1b2c3d4e5f6a7b"}
PEOPLE = """\
[[person]]
name = "alice"
token_env = "TEST_TOKEN_ALICE"

[[person]]
name = "carol"
token_env = "TEST_TOKEN_CAROL"
read_only = true
"""
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


class Served:
    """`warroom --db DB serve --people FILE --port 0 ...` running; `url` once it listens."""

    def __init__(self, db: Path, config_dir: Path, *options: str):
        people = config_dir / "people.toml"
        people.write_text(PEOPLE, encoding="utf-8")
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("WARROOM_")}
        self.env.update(WARROOM_CONFIG_DIR=str(config_dir), TEST_TOKEN_ALICE=TOKENS["alice"],
                        TEST_TOKEN_CAROL=TOKENS["carol"])
        self.argv = [sys.executable, "-m", "warroom", f"--db={db}", "serve", f"--people={people}", "--port=0",
                     *options]
        self.log: list[str] = []  # what the server wrote to stderr
        self.url = ""
        self.process: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._logged = threading.Condition()

    def __enter__(self) -> "Served":
        self.process = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60) or not self.url:
            self.__exit__()
            raise AssertionError("warroom serve did not start:\n" + "".join(self.log))
        return self

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._logged:
                self.log.append(line)
                self._logged.notify_all()
            found = re.search(r"warroom serve: (https?://\S+/) ", line)
            if found:
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()

    def __exit__(self, *_) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.process.stdout.close()

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def children(self) -> list[int]:
        """The war-room processes the server runs now (one per open session)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """The first line of the server's log holding `text` (waits for it to be written)."""
        def found() -> str | None:
            return next((line for line in self.log if text in line), None)

        with self._logged:
            if not self._logged.wait_for(found, timeout):
                raise AssertionError(f"{text!r} never logged:\n" + "".join(self.log))
            return found()


async def sign_in(session: aiohttp.ClientSession, served: Served, person: str) -> aiohttp.ClientResponse:
    """POST the login form as a browser on the server's own page would."""
    return await session.post(served.url + "login", data={"token": TOKENS[person]},
                              headers={"Origin": served.origin}, allow_redirects=False)


class Terminal:
    """The browser side of one war-room session: keys in, screen text out (ANSI removed)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse):
        self.socket = socket
        self.raw = ""
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            async for message in self.socket:
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.raw += decoder.decode(message.data)
                    self._changed.set()
        finally:
            self._changed.set()

    @property
    def text(self) -> str:
        return _ANSI.sub("", self.raw)

    async def wait_for(self, text: str, timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()  # before looking: a message arriving after the look sets it again
            if text in self.text:
                return
            if loop.time() > deadline or self._reader.done():
                raise AssertionError(f"{text!r} never shown; the screen had:\n{self.text[-2000:]}")
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                pass

    async def keys(self, data: str) -> None:
        await self.socket.send_json(["stdin", data])

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()
