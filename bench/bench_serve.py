"""`warroom serve` benchmark: what one browser session costs, side by side with a floor.

    python -m bench.bench_serve            # 4 sessions
    python -m bench.bench_serve --smoke    # 1 session

A real `warroom serve` runs on 127.0.0.1 (port 0) over a fresh database with one incident; a
client signs in and opens N sessions over the WebSocket as a browser tab would. For each session:
the time from opening the WebSocket until the war room is drawn (its entry bar's placeholder has
arrived), and the resident (RSS) and proportional (PSS: shared pages split between the processes
that share them) memory of its war-room process once drawn. The floor is a one-widget Textual app
under the same web driver: the ratio session/floor is warroom's own weight over Textual's.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

FLOOR_APP = ("from textual.app import App\nfrom textual.widgets import Static\n"
             "class Floor(App):\n    def compose(self):\n        yield Static('floor ready')\nFloor().run()\n")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process, in KiB."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").open() if line.startswith("VmRSS:"))
    pss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").open() if line.startswith("Pss:"))
    return rss, pss


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def wait_drawn(socket: aiohttp.ClientWebSocketResponse, marker: str, timeout: float = 60.0) -> None:
    decoder, seen = codecs.getincrementaldecoder("utf-8")("replace"), ""
    async with asyncio.timeout(timeout):
        async for message in socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += decoder.decode(message.data)
                if marker in _ANSI.sub("", seen):
                    return
    raise RuntimeError("the session closed before it was drawn")


def floor_memory() -> tuple[int, int]:
    """Start the floor app under textual's web driver, wait for its first frame, measure it."""
    env = dict(os.environ, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver", COLUMNS="120", ROWS="40")
    process = subprocess.Popen([sys.executable, "-c", FLOOR_APP], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        seen = b""
        while b"floor ready" not in seen:
            chunk = process.stdout.read1(65536)
            if not chunk:
                raise RuntimeError("the floor app ended before drawing")
            seen += chunk
        return memory_kb(process.pid)
    finally:
        process.kill()
        process.wait()


async def measure(sessions: int) -> dict:
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    service = await IncidentService.open(folder / "bench.db", PolicyBook.load())
    await service.declare("Bench incident", "SEV-2", author="ic")
    await service.close()
    token = secrets.token_urlsafe(32)
    people = folder / "people.toml"
    people.write_text('[[person]]\nname = "bench"\ntoken_env = "BENCH_TOKEN"\n', encoding="utf-8")
    env = dict(os.environ, BENCH_TOKEN=token, WARROOM_CONFIG_DIR=str(folder / "config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "warroom", f"--db={folder / 'bench.db'}", "serve", f"--people={people}",
         "--port=0", f"--max-sessions={sessions}"], env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = ""
        while not url:
            line = server.stderr.readline()
            if not line:
                raise RuntimeError("warroom serve did not start")
            found = re.search(r"(http://\S+/) ", line)
            url = found.group(1) if found else ""
        origin, opened, ready_seconds = url.rstrip("/"), [], []
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            await client.post(url + "login", data={"token": token}, headers={"Origin": origin})
            for _ in range(sessions):
                started = time.perf_counter()
                socket = await client.ws_connect(url.replace("http", "ws", 1) + "ws?width=120&height=40",
                                                 headers={"Origin": origin})
                await wait_drawn(socket, "Type a note")
                ready_seconds.append(time.perf_counter() - started)
                opened.append(socket)
            per_session = [memory_kb(pid) for pid in children(server.pid)]
            server_memory = memory_kb(server.pid)
            for socket in opened:
                await socket.close()
    finally:
        server.terminate()
        server.wait(30)
    return {"ready": ready_seconds, "sessions": per_session, "server": server_memory, "floor": floor_memory()}


def report(result: dict) -> None:
    mib = lambda kib: kib / 1024  # noqa: E731
    rss = [r for r, _ in result["sessions"]]
    pss = [p for _, p in result["sessions"]]
    floor_rss, floor_pss = result["floor"]
    print(f"sessions open: {len(rss)}")
    print(f"war-room session: RSS {mib(statistics.median(rss)):.1f} MiB, PSS {mib(statistics.median(pss)):.1f} MiB (median)")
    print(f"floor (one-widget Textual app, same driver): RSS {mib(floor_rss):.1f} MiB, PSS {mib(floor_pss):.1f} MiB")
    print(f"ratio session/floor: RSS {statistics.median(rss) / floor_rss:.2f}x, PSS {statistics.median(pss) / floor_pss:.2f}x")
    print(f"server process: RSS {mib(result['server'][0]):.1f} MiB, PSS {mib(result['server'][1]):.1f} MiB")
    ready = result["ready"]
    print(f"WebSocket to war room drawn: median {statistics.median(ready):.2f} s, max {max(ready):.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="one session")
    parser.add_argument("--sessions", type=int, default=4, help="sessions to open at once")
    args = parser.parse_args(argv)
    report(asyncio.run(measure(1 if args.smoke else args.sessions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
