"""Delivery of posted updates: the updates folder, OSC 52 and webhooks against loopback servers."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from warroom.service.config import Config, Webhook
from warroom.service.delivery import deliver_update, post_webhook, slack_text

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


def hook(kind: str = "json", name: str = "ops", timeout: float = 0.3) -> Webhook:
    return Webhook(kind=kind, url_env="WARROOM_TEST_HOOK", name=name, timeout=timeout)


def test_slack_text_cannot_ping_or_link():
    assert slack_text("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"


async def test_slack_webhook_gets_text_json():
    async with LoopbackServer(200) as server:
        result = await post_webhook(hook("slack", "Slack #incidents"), {"text": "hello"},
                                    environ={"WARROOM_TEST_HOOK": server.url}, **FAST)
    assert (result.target, result.ok, result.attempts) == ("Slack #incidents", True, 1)
    assert server.bodies == [{"text": "hello"}]


async def test_deliver_writes_file_and_posts_both_kinds(tmp_path):
    async with LoopbackServer(200) as slack, LoopbackServer(200) as generic:
        config = Config(webhook=[Webhook(kind="slack", url_env="SLACK_URL", name="slack"),
                                 Webhook(kind="json", url_env="JSON_URL", name="json")])
        environ = {"SLACK_URL": slack.url, "JSON_URL": generic.url}
        results = await deliver_update("Status: <b>fixed</b> & done", "INC-20261123-001", 2, config,
                                       updates_dir=tmp_path / "updates", audience="executive",
                                       environ=environ, **FAST)
    assert [r.ok for r in results] == [True, True, True]
    written = tmp_path / "updates" / "INC-20261123-001-2.md"
    assert written.read_text(encoding="utf-8") == "Status: <b>fixed</b> & done\n"
    assert results[0].target == f"file {written}"
    assert slack.bodies == [{"text": "Status: &lt;b&gt;fixed&lt;/b&gt; &amp; done"}]
    assert generic.bodies == [{"incident": "INC-20261123-001", "update": 2, "audience": "executive",
                               "text": "Status: <b>fixed</b> & done"}]


async def test_file_is_never_overwritten(tmp_path):
    (tmp_path / "INC-1-1.md").write_text("mine", encoding="utf-8")
    results = await deliver_update("new", "INC-1", 1, Config(), updates_dir=tmp_path)
    assert results[0].ok and (tmp_path / "INC-1-1.md").read_text() == "mine"
    assert (tmp_path / "INC-1-1.2.md").read_text() == "new\n"


async def test_unwritable_folder_is_a_failed_result(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    [result] = await deliver_update("new", "INC-1", 1, Config(), updates_dir=blocker / "sub")
    assert not result.ok and result.error


async def test_server_error_is_retried_then_reported():
    async with LoopbackServer(500) as server:
        result = await post_webhook(hook(), {"text": "x"}, environ={"WARROOM_TEST_HOOK": server.url}, **FAST)
    assert (result.ok, result.attempts, result.error) == (False, 3, "HTTP 500")
    assert server.requests == 3


async def test_client_error_is_not_retried():
    async with LoopbackServer(404) as server:
        result = await post_webhook(hook(), {"text": "x"}, environ={"WARROOM_TEST_HOOK": server.url}, **FAST)
    assert (result.ok, result.attempts) == (False, 1) and server.requests == 1


async def test_refused_connection_is_retried_then_reported():
    url = closed_port_url()
    result = await post_webhook(hook(), {"text": "x"}, environ={"WARROOM_TEST_HOOK": url}, **FAST)
    assert (result.ok, result.attempts) == (False, 3)
    assert "could not connect" in result.error and "SECRET" not in result.error and "127.0.0.1" not in result.error


async def test_hanging_server_times_out_within_bounds():
    async with LoopbackServer(None) as server:
        started = time.monotonic()
        result = await post_webhook(hook(timeout=0.2), {"text": "x"},
                                    environ={"WARROOM_TEST_HOOK": server.url}, **FAST)
        elapsed = time.monotonic() - started
    assert (result.ok, result.attempts, result.error) == (False, 3, "timed out after 0.2 s")
    assert server.requests == 3
    assert elapsed < 10  # generous: three 0.2 s timeouts; the server would never answer


async def test_missing_or_bad_url_fails_without_showing_it():
    missing = await post_webhook(hook(), {"text": "x"}, environ={}, **FAST)
    assert (missing.ok, missing.attempts) == (False, 0) and "WARROOM_TEST_HOOK is not set" in missing.error
    bad = await post_webhook(hook(), {"text": "x"}, environ={"WARROOM_TEST_HOOK": "ftp://token@host"}, **FAST)
    assert not bad.ok and "token" not in bad.error


async def test_unnamed_webhook_is_named_by_its_variable():
    result = await post_webhook(Webhook(kind="slack", url_env="SLACK_URL"), {}, environ={}, **FAST)
    assert result.target == "slack webhook $SLACK_URL"


@pytest.mark.parametrize("status", [500, None])
async def test_failed_delivery_does_not_lose_the_update(tmp_path, status):
    """The service commits first; the UI logs failures as system entries (see test_ui_procedures)."""
    async with LoopbackServer(status) as server:
        config = Config(webhook=[hook(timeout=0.2)])
        results = await deliver_update("the update", "INC-1", 1, config, updates_dir=tmp_path,
                                       environ={"WARROOM_TEST_HOOK": server.url}, **FAST)
    assert [r.ok for r in results] == [True, False]
    assert (tmp_path / "INC-1-1.md").exists()


@pytest.mark.parametrize("url", ["http://hooks.example:SECRET/x", "http://[::1/SECRET", "https://\x00host/SECRET"])
async def test_malformed_webhook_url_is_a_failed_result_not_a_crash(tmp_path, url):
    """httpx.InvalidURL is not an httpx.HTTPError: it must not escape and take the file result with it."""
    config = Config(webhook=[hook()])
    results = await deliver_update("the update", "INC-1", 1, config, updates_dir=tmp_path,
                                   environ={"WARROOM_TEST_HOOK": url}, **FAST)
    assert [r.ok for r in results] == [True, False]
    assert "WARROOM_TEST_HOOK" in results[1].error and "SECRET" not in results[1].error
