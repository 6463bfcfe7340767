"""End to end in a real browser: headless Chromium (Debian's `chromium`) signs in to `warroom
serve`, shows the war room, and an entry typed there lands in the database signed with the name
of the person who signed in. Marked slow; `make test` runs it. In CI a missing chromium fails."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from browser import Browser, chromium_path
from serve_support import TOKENS, Served

from warroom.service import IncidentService

pytestmark = pytest.mark.slow

# Copies what the war-room process sends into window.__screen (as text), so the test can wait
# until the war room is drawn before typing; injected by the test, not part of the page.
TEE_SCREEN = """
(() => {
  const Native = window.WebSocket, decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") window.__screen += decoder.decode(event.data, {stream: true});
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""


@pytest.fixture
def chromium() -> str:
    found = chromium_path()
    if found is None:
        assert os.environ.get("CI") != "true", "CI must have chromium: .ci/run installs it (apt-get install chromium)"
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def shown(screen_js: str) -> str:
    return f"window.__screen && window.__screen.includes({screen_js})"


async def test_a_browser_signs_in_sees_the_war_room_and_its_entry_is_signed(chromium, tmp_path, policies):
    db = tmp_path / "browser.db"
    service = await IncidentService.open(db, policies)
    try:
        await service.declare("Payments failing in eu-west", "SEV-1", author="ic")
    finally:
        await service.close()
    config = tmp_path / "config"
    config.mkdir()
    with Served(db, config) as served:
        async with Browser(chromium) as browser:
            await browser.send("Page.addScriptToEvaluateOnNewDocument", source=TEE_SCREEN)
            await browser.goto(served.url)
            assert await browser.evaluate("document.querySelector('#terminal') === null")  # not signed in
            await browser.evaluate("document.getElementById('token').focus()")
            await browser.type_text(TOKENS["alice"])
            await browser.press("Enter", "Enter", 13, "\r")
            await browser.wait_for("document.querySelector('#terminal') !== null")
            await browser.wait_for(shown("'Type a note'"))
            await browser.wait_for(shown("'Payments failing in eu-west'"))
            first = await browser.screenshot(tmp_path / "war-room.png")
            await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")  # keys to the terminal
            await browser.type_text("failover to eu-central started")
            await browser.press("Enter", "Enter", 13, "\r")
            await browser.wait_for(shown("'failover to eu-central started'"))
            await browser.wait_for(shown("'alice'"))
            second = await browser.screenshot(tmp_path / "war-room-entry.png")
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT author, text FROM entries ORDER BY id").fetchall()
    finally:
        conn.close()
    assert rows[-1] == ("alice", "failover to eu-central started")
    for picture in (first, second):
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
    keep = os.environ.get("WARROOM_SCREENSHOTS")  # a folder to look at the pictures afterwards
    if keep:
        for picture in (first, second):
            shutil.copy(picture, Path(keep) / picture.name)
