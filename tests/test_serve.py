"""`warroom serve` over HTTP and WebSocket, as browsers (and attackers) would use it: a real server
started by the test on 127.0.0.1 with real war-room processes behind it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from serve_support import TOKENS, Served, Terminal, sign_in

from warroom.service import IncidentService

@pytest.fixture
async def incident(tmp_path, policies):
    path = tmp_path / "served.db"
    service = await IncidentService.open(path, policies)
    try:
        declared = await service.declare("Checkout errors", "SEV-2", author="ic")
    finally:
        await service.close()
    return path, declared.id


def entries(path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT author, text FROM entries ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def served(incident, tmp_path):
    path, _ = incident
    config = tmp_path / "config"
    config.mkdir()
    with Served(path, config, "--max-sessions=1") as server:
        yield server


async def open_terminal(session: aiohttp.ClientSession, served: Served, origin: str | None = None) -> Terminal:
    socket = await session.ws_connect(served.url.replace("http", "ws", 1) + "ws?width=120&height=40",
                                      headers={"Origin": origin or served.origin})
    return Terminal(socket)


async def test_without_a_token_nothing_is_served(served):
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url) as page:
            body = await page.text()
            assert page.status == 401
            assert 'name="token"' in body and "data-session-websocket-url" not in body
            assert page.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        async with session.get(served.url + "static/js/textual.js") as script:
            assert script.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_terminal(session, served)
        assert refused.value.status == 401
    assert served.children() == []


async def test_a_wrong_token_is_refused_and_guessing_is_throttled(served):
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url, headers={"Authorization": "Bearer " + TOKENS["alice"][:-1]}) as page:
            assert page.status == 401
        statuses = []
        for _ in range(11):
            async with session.post(served.url + "login", data={"token": "not-a-token-at-all"},
                                    headers={"Origin": served.origin}, allow_redirects=False) as answer:
                statuses.append(answer.status)
                assert "Set-Cookie" not in answer.headers
        assert statuses == [401] * 10 + [429]
    assert "failed sign-in from 127.0.0.1" in served.wait_for_log("failed sign-in")


async def test_a_token_opens_the_page_with_a_strict_http_only_cookie(served):
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for an IP address host
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        answer = await sign_in(session, served, "alice")
        assert answer.status == 303 and answer.headers["Location"] == "/"
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKENS["alice"] not in cookie
        async with session.get(served.url) as page:
            body = await page.text()
            assert page.status == 200
            assert "data-session-websocket-url" in body and "alice" in body
            assert TOKENS["alice"] not in body
            assert "fonts.googleapis" not in body  # nothing is loaded from another site
        async with session.get(served.url + "static/js/textual.js") as script:
            assert script.status == 200
        async with session.get(served.url + "static/../../../../etc/passwd") as escape:
            assert escape.status == 404
    served.wait_for_log("alice signed in")
    assert not any(token in line for token in TOKENS.values() for line in served.log)


async def test_a_foreign_origin_or_host_is_refused(served):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, served, "alice")
        for origin in ("http://evil.example", "null", served.origin.replace("127.0.0.1", "127.0.0.2")):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await open_terminal(session, served, origin=origin)
            assert refused.value.status == 403
        socket_url = served.url.replace("http", "ws", 1) + "ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_origin:
            await session.ws_connect(socket_url, headers={"Origin": ""})
        assert no_origin.value.status == 403
        async with session.get(served.url, headers={"Host": "evil.example"}) as rebound:
            assert rebound.status == 421  # DNS rebinding: a page of evil.example reaching 127.0.0.1
        async with session.post(served.url + "login", data={"token": TOKENS["alice"]},
                                headers={"Origin": "http://evil.example"}, allow_redirects=False) as forged:
            assert forged.status == 403 and "Set-Cookie" not in forged.headers
    assert served.children() == []


async def test_the_session_cap_holds_and_frees(served):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, served, "alice")
        first = await open_terminal(session, served)
        await first.wait_for("Type a note")
        [pid] = served.children()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"--as=alice" in argv and b"--read-only" not in argv
        environment = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"TEST_TOKEN_" not in environment and not any(t.encode() in environment for t in TOKENS.values())
        with pytest.raises(aiohttp.WSServerHandshakeError) as full:
            await open_terminal(session, served)
        assert full.value.status == 503
        async with session.get(served.url) as page:
            assert page.status == 503 and "All 1 browser sessions" in await page.text()
        await first.close()
        served.wait_for_log("session for alice ended (0 open)")
        second = await open_terminal(session, served)
        await second.wait_for("Type a note")
        await second.close()


async def test_entries_are_signed_by_whoever_signed_in_and_read_only_cannot_write(served, incident):
    path, _ = incident
    before = entries(path)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, served, "carol")
        carol = await open_terminal(session, served)
        await carol.wait_for("Read-only session: carol can look")
        [pid] = served.children()
        assert {b"--as=carol", b"--read-only"} <= set(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"))
        await carol.wait_for("Declared SEV-2")  # the timeline is loaded and its last entry selected
        await carol.keys("p")  # pin the selected entry: a write, refused by her own process
        await carol.wait_for("this session is read-only: nothing was")
        await carol.close()
        served.wait_for_log("session for carol ended")
    assert entries(path) == before
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, served, "alice")
        alice = await open_terminal(session, served)
        await alice.wait_for("Type a note")
        await alice.keys("rolled back deploy 4512\r")
        await alice.wait_for("rolled back deploy 4512")
        await alice.close()
    assert entries(path)[-1] == ("alice", "rolled back deploy 4512")


async def test_signing_out_ends_the_session_cookie(served):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, served, "alice")
        async with session.post(served.url + "logout", headers={"Origin": served.origin},
                                allow_redirects=False) as out:
            assert out.status == 303
        async with session.get(served.url) as page:
            assert page.status == 401


async def test_behind_a_tls_proxy_the_public_url_is_the_origin(incident, tmp_path):
    path, _ = incident
    config = tmp_path / "config"
    config.mkdir()
    public = "https://warroom.example.com"
    with Served(path, config, f"--public-url={public}") as server:
        proxied = {"Host": "warroom.example.com"}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(server.url + "login", data={"token": TOKENS["alice"]}, allow_redirects=False,
                                    headers={**proxied, "Origin": public}) as answer:
                assert answer.status == 303 and "Secure" in answer.headers["Set-Cookie"]
                session_cookie = answer.headers["Set-Cookie"].split(";")[0]
            async with session.get(server.url, headers={**proxied, "Cookie": session_cookie}) as page:
                assert 'data-session-websocket-url="wss://warroom.example.com/ws"' in await page.text()
            async with session.post(server.url + "login", data={"token": TOKENS["alice"]}, allow_redirects=False,
                                    headers={**proxied, "Origin": "http://warroom.example.com"}) as downgraded:
                assert downgraded.status == 403
            async with session.get(server.url, headers={"Host": "other.example.com"}) as other:
                assert other.status == 421


def test_binding_beyond_loopback_without_tls_warns(incident, tmp_path):
    path, _ = incident
    config = tmp_path / "config"
    config.mkdir()
    with Served(path, config, "--host=0.0.0.0") as server:
        warning = server.wait_for_log("warning")
    assert "without TLS" in warning and "--tls-cert" in warning


def test_serve_refuses_a_people_file_with_a_missing_token_variable(incident, tmp_path, run_cli, cli_env):
    path, _ = incident
    people = tmp_path / "people.toml"
    people.write_text('[[person]]\nname = "alice"\ntoken_env = "NOT_SET_ANYWHERE"\n', encoding="utf-8")
    done = run_cli(f"--db={path}", "serve", f"--people={people}", "--port=0")
    assert done.returncode == 2
    assert done.stderr == (f"warroom: error: {people}:3: field person[0].token_env: "
                           "environment variable NOT_SET_ANYWHERE is not set\n")


async def test_tls_serves_https_with_a_secure_cookie(incident, tmp_path):
    from probe_servers import self_signed

    made = self_signed(tmp_path)
    if made is None:
        assert os.environ.get("CI") != "true", "CI needs the openssl command for the TLS test"
        pytest.skip("no openssl command to make a certificate")
    cert, key = made
    path, _ = incident
    config = tmp_path / "config"
    config.mkdir()
    with Served(path, config, f"--tls-cert={cert}", f"--tls-key={key}", "--host=0.0.0.0") as server:
        assert server.url.startswith("https://")
        assert not any("warning" in line for line in server.log)
        url = server.url.replace("0.0.0.0", "127.0.0.1")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as session:
            async with session.post(url + "login", data={"token": TOKENS["alice"]}, allow_redirects=False,
                                    headers={"Origin": url.rstrip("/")}) as answer:
                assert answer.status == 303
                cookie = answer.headers["Set-Cookie"]
                assert "Secure" in cookie and cookie.startswith("__Host-")
                assert "Strict-Transport-Security" in answer.headers


def test_demo_opens_the_war_room_when_stdout_is_not_a_terminal(cli_env, run_cli, tmp_path):
    """As under textual-serve: stdout is a pipe, and the war room must open, not a printout."""
    import subprocess
    import sys
    import threading

    env = dict(cli_env, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver", COLUMNS="120", ROWS="40")
    demo = subprocess.Popen([sys.executable, "-m", "warroom", f"--db={tmp_path / 'demo.db'}", "demo"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_lines: list[bytes] = []
    seen = threading.Event()

    def read() -> None:
        for line in demo.stdout:
            first_lines.append(line)
            if line == b"__GANGLION__\n" or len(first_lines) > 50:  # textual's web driver says hello
                break
        seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert seen.wait(60)
        assert first_lines[-1] == b"__GANGLION__\n", first_lines
    finally:
        demo.kill()
        demo.communicate()
    printed = run_cli(f"--db={tmp_path / 'printed.db'}", "demo", "--print")
    assert printed.returncode == 0 and "Demo database:" in printed.stdout


def test_serve_mistakes_are_one_line_and_exit_2(incident, tmp_path, run_cli, cli_env):
    import socket

    path, _ = incident
    people = tmp_path / "people.toml"
    people.write_text('[[person]]\nname = "alice"\ntoken_env = "TEST_TOKEN_ALICE"\n', encoding="utf-8")
    env = dict(cli_env, TEST_TOKEN_ALICE=TOKENS["alice"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli(f"--db={path}", "serve", f"--people={people}", f"--port={port}", env=env)
    bad_url = run_cli(f"--db={path}", "serve", f"--people={people}", "--public-url=https://", env=env)
    half_tls = run_cli(f"--db={path}", "serve", f"--people={people}", f"--tls-cert={people}", env=env)
    for done, says in ((busy, f"cannot listen on 127.0.0.1:{port}"), (bad_url, "--public-url 'https://'"),
                       (half_tls, "--tls-cert and --tls-key go together")):
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr
