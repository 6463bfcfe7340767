"""What one `warroom` command runs with: the options given before it (--db, --as, --theme,
--read-only...), the user's config and policies (each loaded once, when first needed), and `run`,
the way a command works on the application layer. Every command module receives it as click's
context object."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Awaitable, Callable

import click


class CliContext:
    def __init__(self, db: str | None, user: str | None, theme: str | None, read_only: bool = False):
        self.db_option, self.user_option, self.theme_option = db, user, theme
        self.read_only = read_only
        self.probes_option: str | None = None
        self.quiet = False
        self._config = None
        self._policies = None
        self._warned = False  # the clock warning was given (once per command, however many runs)
        self.drafts = None  # a DraftStore other than the user's (the demo's, which goes with it)

    @property
    def config(self):
        if self._config is None:
            from warroom.service.config import load_config

            self._config = load_config(audiences=lambda wanted: self.policies().audience_ids(wanted))
        return self._config

    def user(self, override: str | None = None) -> str:
        from warroom.service.config import resolve_user

        return resolve_user(override or self.user_option, self.config)

    def database(self) -> Path | str:
        """A file path, or a postgresql:// URL."""
        from warroom.service.config import resolve_database

        return resolve_database(self.db_option, self.config)

    def look_ahead(self) -> Callable[[], None]:
        """Begin the read-only look at the database file now (warroom.store.database.look_ahead)
        when it is named before the config is read (--db, then WARROOM_DB, as `database` takes
        them): a command that opens it blocking finds the look done. Returns the way to drop it."""
        import os

        from warroom.store.backend import is_server_url

        named = self.db_option or os.environ.get("WARROOM_DB")
        if not named or is_server_url(named):
            return lambda: None
        from warroom.store.database import look_ahead

        return look_ahead(Path(named))

    def policies(self):
        """The packaged policies and the user's own (loaded once per command)."""
        if self._policies is None:
            from warroom.domain.policy import PolicyBook
            from warroom.service.config import user_policy_dir

            self._policies = PolicyBook.load(user_policy_dir())
        return self._policies

    async def open_service(self, *, blocking: bool = False):
        """The application layer on this context's database, policies and default policy
        (`blocking`: a file's, for use without an event loop)."""
        from warroom.service.incidents import IncidentService

        return await IncidentService.open(self.database(), self.policies(), default_policy=self.config.default_policy,
                                          read_only=self.read_only, config=self.config, blocking=blocking)

    def reach(self, service):
        """Delivery of updates and paging, as the war room does them (the updates folder included)."""
        from warroom.service.config import resolve_updates_dir
        from warroom.service.reach import Reach

        return Reach(service, self.config, updates_dir=resolve_updates_dir(self.config, self.database()))

    def run(self, work: Callable[[Any], Awaitable[Any]], *, blocking: bool = False) -> Any:
        """Open the service, run `work(service)`, close it. `blocking`: on a file, without an event
        loop (no asyncio: what starts faster), for work that awaits nothing but the record (no
        network, no worker threads); on a server, as always."""
        self.policies()  # a broken policy file is reported before the database is opened
        database = self.database()
        on_file = isinstance(database, Path)

        async def main(blocking: bool) -> Any:
            service = await self.open_service(blocking=blocking)
            warning = service.clock_warning()
            if warning and not self._warned:
                self._warned = True
                click.echo(f"warroom: warning: {warning}", err=True)
            try:
                return await work(service)
            finally:
                await service.close()

        forget = lambda: None  # noqa: E731
        try:
            if blocking and on_file:
                from warroom.store.database import look_ahead

                forget = look_ahead(database)  # (unless begun already) the look runs while the service is imported
            if blocking and on_file:
                from warroom.store.blocking import run_to_end

                return run_to_end(main(True))
            import asyncio

            return asyncio.run(main(False))
        except sqlite3.DatabaseError as error:  # a read that met a damaged page: say so, and the way out
            from warroom.service.recovery import damage_error

            explained = damage_error(error, database) if on_file else None
            if explained is None:
                raise
            raise explained from None
        finally:
            forget()


pass_context = click.make_pass_decorator(CliContext)
as_option = click.option("--as", "as_user", metavar="NAME", help="Who is writing (default: config, $WARROOM_USER, login).")
