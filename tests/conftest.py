"""Shared fixtures: the one frozen clock (NOW, FrozenClock), the packaged policies, a service on a
tmp_path database, the `warroom` command run in this process (`run_cli`; the few tests that need
the real program start it themselves), a loopback HTTP target and a probe checker.

`database` is where a test's record lives, once per backend: a SQLite file in tmp_path, and a fresh
database on the session's throwaway PostgreSQL server (tests/pg_server.py). `service`, `cli_env`
and `run_cli` follow it, so every test built on them runs on both. A test (or module) marked
`sqlite_only` (files, pages, recovery) runs on SQLite alone. Without PostgreSQL binaries the
PostgreSQL runs skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import settings

from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService

# The one "now" of the suite: every frozen clock starts here unless a test says otherwise.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests have no per-example deadline: on a busy machine an example may take longer than
# Hypothesis's default 200 ms, and that says nothing about the code.
settings.register_profile("warroom", deadline=None)
settings.load_profile("warroom")


class FrozenClock:
    """A clock that only moves when told to (call it like `system_clock`)."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> datetime:
        self.now += timedelta(**span)
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="session")
def policies() -> PolicyBook:
    return PolicyBook.load()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warroom.db"


BACKENDS = ("sqlite", "postgresql")


def pytest_collection_modifyitems(config, items):
    """Tests marked sqlite_only keep their SQLite run only."""
    kept, dropped = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("database")
        (dropped if backend == "postgresql" and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    from pg_server import PgServer

    server = PgServer()
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or error
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no PostgreSQL server could be started: {detail}")
        pytest.skip(f"no PostgreSQL server: {detail}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, migrated warroom database on the session's server (dropped afterwards)."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path: Path) -> str | Path:
    """Where the test's record lives: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "warroom.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
async def service(database, policies: PolicyBook, clock: FrozenClock):
    """An IncidentService on a fresh database (each backend in turn), with a frozen clock."""
    opened = await IncidentService.open(database, policies, clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def cli_env(tmp_path: Path, database) -> dict[str, str]:
    """Environment for running `warroom`: the test's database, tmp config dir, a user, 120 columns."""
    return cli_environment(tmp_path, database)


def cli_environment(tmp_path: Path, database) -> dict[str, str]:
    """What cli_env gives, for a database of the test's own choosing."""
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DB=str(database), WARROOM_CONFIG_DIR=str(config_dir), WARROOM_USER="tester",
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"),
               PYTHONPATH=str(REPO_ROOT), COLUMNS="120")
    return env


@pytest.fixture
def run_cli(cli_env: dict[str, str], tmp_path: Path):
    """Run `warroom ARGS...` in this process and return a CompletedProcess (text mode).

    It calls warroom.cli.run, the code behind the entry point with its error handling, under click's
    CliRunner isolation: `env` (default cli_env) is the whole environment, stdout and stderr are
    captured apart, stdin is empty and not a terminal, and `cwd` (default tmp_path) is the working
    directory. The CLI runs its own event loop; called from an async test it runs in a thread while
    the test's loop waits, so a command that needs a server on that loop must be awaited instead:
    `await asyncio.to_thread(run_cli, ...)`.
    """
    from click.testing import CliRunner

    from warroom.cli import run as run_warroom

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        if _loop_running():
            with ThreadPoolExecutor(1) as thread:
                return thread.submit(run, *args, env=env, cwd=cwd).result()
        wanted = env or cli_env
        environment = {**{name: None for name in os.environ if name not in wanted}, **wanted}
        with contextlib.chdir(cwd or tmp_path), CliRunner().isolation(env=environment) as (out, err, _):
            code = run_warroom(list(args))
        return subprocess.CompletedProcess(list(args), code, out.getvalue().decode(), err.getvalue().decode())

    return run


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
async def target():
    """A loopback HTTP server with healthy, slow, failing and hostile endpoints (tests/probe_servers.py)."""
    from probe_servers import Target

    async with Target() as server:
        yield server


@pytest.fixture
async def checker():
    """A probe Checker whose HTTP names resolve to loopback only."""
    from probe_servers import StubResolver

    from warroom.probes.checks import Checker

    made = Checker(http_resolver=StubResolver())
    yield made
    await made.aclose()
