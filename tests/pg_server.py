"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

`PgServer.start()` runs Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin, or those on
PATH) from `initdb --no-sync` in a temporary folder, on a free port of 127.0.0.1; as root it runs
them as the `postgres` user (initdb refuses root). `WARROOM_TEST_PG_URL` (an administrator's URL
of a server of your own) is used instead when set. A template database is migrated once, and
`new_database()` copies it (CREATE DATABASE ... TEMPLATE, ~50 ms). The server can be stopped and
started again on the same port and data (the tests of a server that goes away).

Administration runs on a thread of its own with its own event loop, so fixtures of any kind (and
tests on any loop) can use it.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

TEMPLATE = "warroom_template"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Admin:
    """An asyncpg connection to the maintenance database, on its own thread and loop."""

    def __init__(self, url: str):
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-admin", daemon=True)
        self.thread.start()
        self.conn = None

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _execute(self, sql: str):
        import asyncpg

        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(self.url, timeout=10)
        return await self.conn.execute(sql)

    def execute(self, sql: str):
        return self.run(self._execute(sql))

    def forget(self) -> None:
        """The server went away: the next statement reconnects."""
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            self.run(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class PgServer:
    """One PostgreSQL server for a test session."""

    def __init__(self, *, durable: bool = False):
        self.durable = durable  # fsync on (benchmarks); off for tests, which never lose power
        self.folder: Path | None = None
        self.port = 0
        self.bin: Path | None = None
        self.admin: _Admin | None = None
        self.external = os.environ.get("WARROOM_TEST_PG_URL")
        self._names = itertools.count(1)
        self._prefix = f"wr{os.getpid()}_"
        self._made: list[str] = []
        self.template = ""

    # ---- the server ------------------------------------------------------------------------------

    def _as_owner(self, argv: list[str], **options) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=True, **options)

    def start(self) -> "PgServer":
        if self.external:
            self.admin = _Admin(self.external)
            self._make_template()
            return self
        self.bin = find_binaries()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL binaries (install Debian's postgresql package: `make postgres`)")
        self.folder = Path(tempfile.mkdtemp(prefix="warroom-pg-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self._as_owner([str(self.bin / "initdb"), "--no-sync", "-D", str(self.folder / "data"), "-U", "postgres",
                        "--auth=trust", "--locale=C", "-E", "UTF8"])
        self.port = free_port()
        self.resume()
        self.admin = _Admin(self.url("postgres"))
        self._make_template()
        return self

    def resume(self) -> None:
        """Start the server (again) on its data and port; returns once it accepts connections."""
        durability = [] if self.durable else ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options = " ".join([f"-p {self.port}", f"-k {self.folder}", "-c listen_addresses=127.0.0.1",
                            "-c max_connections=300", *durability])
        self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                        "-l", str(self.folder / "log"), "-w", "-t", "60", "start"])

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: as if it crashed); the data stays for `resume()`."""
        if self.admin is not None:
            self.admin.forget()
        self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"])

    def stop(self) -> None:
        """Stop for good and remove every file."""
        if self.admin is not None:
            try:
                if self.external:
                    for name in self._made:
                        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                self.admin.close()
        if self.folder is not None:
            try:
                self.halt()
            except subprocess.CalledProcessError:
                pass
            shutil.rmtree(self.folder, ignore_errors=True)

    # ---- databases -------------------------------------------------------------------------------

    def url(self, database: str) -> str:
        if self.external:
            base, _, _ = self.external.rpartition("/")
            return f"{base}/{database}"
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _make_template(self) -> None:
        from warroom.store import open_database

        self.template = self._prefix + TEMPLATE
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{self.template}"')
        self._made.append(self.template)

        async def migrate():
            db = await open_database(self.url(self.template))
            await db.close()

        self.admin.run(migrate())

    def new_database(self, *, migrated: bool = True) -> str:
        """The URL of a new database: a copy of the migrated template, or empty."""
        name = f"{self._prefix}{next(self._names)}"
        self.admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{self.template}"' if migrated else ""))
        self._made.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rpartition("/")[2]
        try:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - a server a test stopped: the session's end removes it all
            self.admin.forget()
            return
        if name in self._made:
            self._made.remove(name)
