"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools protocol, for tests.

Nothing is downloaded: the browser is the system's, with a fresh profile in a temporary folder,
and every wait is on a condition with a deadline (no fixed sleeps).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One Chromium process and one page in it."""

    def __init__(self, executable: str, window: tuple[int, int] = (1280, 800)):
        self.executable, self.window = executable, window
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.process: subprocess.Popen | None = None
        self._http: aiohttp.ClientSession | None = None
        self._socket = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self.session_id: str | None = None
        self._drainer: threading.Thread | None = None

    async def __aenter__(self) -> "Browser":
        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={self.window[0]},{self.window[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        url = await asyncio.wait_for(asyncio.to_thread(self._devtools_url), 60)
        self._http = aiohttp.ClientSession()
        self._socket = await self._http.ws_connect(url, max_msg_size=64 * 1024 * 1024)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        self.session_id = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=self.window[0], height=self.window[1],
                        deviceScaleFactor=1, mobile=False)
        return self

    def _devtools_url(self) -> str:
        for line in self.process.stderr:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                self._drainer = threading.Thread(target=self._drain, daemon=True)  # a full pipe stalls chromium
                self._drainer.start()
                return found.group(1)
        raise RuntimeError("chromium exited before its DevTools endpoint was up")

    def _drain(self) -> None:
        for _ in self.process.stderr:
            pass

    async def __aexit__(self, *_) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._http is not None:
            await self._http.close()
        if self.process is not None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
            if self._drainer is not None:
                await asyncio.to_thread(self._drainer.join, 20)
            self.process.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def _read(self) -> None:
        async for message in self._socket:
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id"), None)
            if future is not None and not future.done():
                if "error" in data:
                    future.set_exception(RuntimeError(f"CDP error: {data['error']}"))
                else:
                    future.set_result(data.get("result", {}))

    async def send(self, method: str, **params):
        """One DevTools command (on the page once attached); its result."""
        number = next(self._ids)
        message = {"id": number, "method": method, "params": params}
        if self.session_id and not method.startswith("Target."):
            message["sessionId"] = self.session_id
        future = asyncio.get_running_loop().create_future()
        self._pending[number] = future
        await self._socket.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 60)

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    async def wait_for(self, expression: str, timeout: float = 60.0):
        """Evaluate `expression` until it is truthy (each try waits for the next animation frame)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = await self.evaluate(f"new Promise(r => requestAnimationFrame(() => r({expression})))")
            except RuntimeError:  # the page is navigating: its context went away
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied: {expression}")

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", text=text)

    async def press(self, key: str, code: str, key_code: int, text: str = "") -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                            windowsVirtualKeyCode=key_code, text=text if kind == "keyDown" else "")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

