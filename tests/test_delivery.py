"""Sending updates: the retry loop, HTTP posts and the updates folder against loopback servers
(routing by audience and recording: test_reach)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from datetime import datetime, timezone

from warroom.service.delivery import UpdateMessage, post_json, slack_payload, slack_text, write_to_folder

FAST = {"attempts": 3, "backoff": (0.01, 0.02)}


class LoopbackServer:
    """A tiny HTTP server on 127.0.0.1 that answers every request with `status`, or never answers."""

    def __init__(self, status: int | None):
        self.status = status
        self.bodies: list[dict] = []
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "LoopbackServer":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook/SECRET-TOKEN"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length)
            self.requests += 1
            self.bodies.append(json.loads(body))
            if self.status is None:
                await asyncio.Event().wait()  # hang: the client's timeout must end it
                return
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook/SECRET-TOKEN"


MESSAGE = UpdateMessage(
    incident_id="INC-20261123-001", title="Checkout <b>502s</b>", severity="SEV-2", severity_label="High",
    status="identified", status_label="Identified", resolved=False, services=("checkout",), audience="executive",
    audience_label="Executive", number=2, entry_number=7, text="Status: <b>fixed</b> & done",
    posted_at=datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc))


async def post(url: str, timeout: float = 0.3, payload: dict | None = None):
    return await post_json("WARROOM_TEST_HOOK", payload or {"text": "x"}, timeout=timeout,
                           environ={"WARROOM_TEST_HOOK": url}, **FAST)


def test_slack_text_cannot_ping_or_link():
    assert slack_text("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"


async def test_slack_payload_is_escaped_text_with_the_incident_facts():
    async with LoopbackServer(200) as server:
        result = await post(server.url, payload=slack_payload(MESSAGE))
    assert (result.ok, result.attempts) == (True, 1)
    assert server.bodies == [{"text": "*[SEV-2] INC-20261123-001 Checkout &lt;b&gt;502s&lt;/b&gt;*\n"
                                      "Update 2 for Executive · High · Identified · posted 2026-11-23 14:00 UTC\n\n"
                                      "Status: &lt;b&gt;fixed&lt;/b&gt; &amp; done"}]


async def test_generic_json_keeps_the_older_fields_and_adds_the_facts():
    document = MESSAGE.as_json()
    assert {k: document[k] for k in ("incident", "update", "audience", "text")} == {
        "incident": "INC-20261123-001", "update": 2, "audience": "executive", "text": "Status: <b>fixed</b> & done"}
    assert (document["title"], document["severity"], document["services"]) == ("Checkout <b>502s</b>", "SEV-2",
                                                                               ["checkout"])


async def test_file_is_the_update_as_posted_and_never_overwritten(tmp_path):
    (tmp_path / "INC-20261123-001-2.md").write_text("mine", encoding="utf-8")
    result = await write_to_folder(MESSAGE, tmp_path)
    assert result.ok and (tmp_path / "INC-20261123-001-2.md").read_text() == "mine"
    written = (tmp_path / "INC-20261123-001-2.2.md").read_text()
    assert result.detail == str(tmp_path / "INC-20261123-001-2.2.md")
    assert written == "Status: <b>fixed</b> & done\n"


async def test_unwritable_folder_is_a_failed_result(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = await write_to_folder(MESSAGE, blocker / "sub")
    assert not result.ok and result.error


async def test_server_error_is_retried_then_reported():
    async with LoopbackServer(500) as server:
        result = await post(server.url)
    assert (result.ok, result.attempts, result.error) == (False, 3, "HTTP 500")
    assert server.requests == 3


async def test_client_error_is_not_retried():
    async with LoopbackServer(404) as server:
        result = await post(server.url)
    assert (result.ok, result.attempts) == (False, 1) and server.requests == 1
    assert result.error == "HTTP 404 (not retried)"


async def test_refused_connection_is_retried_then_reported():
    result = await post(closed_port_url())
    assert (result.ok, result.attempts) == (False, 3)
    assert "could not connect" in result.error and "SECRET" not in result.error and "127.0.0.1" not in result.error


async def test_hanging_server_times_out_within_bounds():
    async with LoopbackServer(None) as server:
        started = time.monotonic()
        result = await post(server.url, timeout=0.2)
        elapsed = time.monotonic() - started
    assert (result.ok, result.attempts, result.error) == (False, 3, "timed out after 0.2 s")
    assert server.requests == 3
    assert elapsed < 10  # generous: three 0.2 s timeouts; the server would never answer


async def test_missing_or_bad_url_fails_without_showing_it():
    missing = await post_json("WARROOM_TEST_HOOK", {}, timeout=1, environ={}, **FAST)
    assert (missing.ok, missing.attempts) == (False, 0) and "WARROOM_TEST_HOOK is not set" in missing.error
    bad = await post("ftp://token@host")
    assert not bad.ok and "token" not in bad.error


@pytest.mark.parametrize("url", ["http://hooks.example:SECRET/x", "http://[::1/SECRET", "https://\x00host/SECRET"])
async def test_malformed_webhook_url_is_a_failed_result_not_a_crash(url):
    """httpx.InvalidURL is not an httpx.HTTPError: it must not escape."""
    result = await post(url)
    assert not result.ok
    assert "WARROOM_TEST_HOOK" in result.error and "SECRET" not in result.error
