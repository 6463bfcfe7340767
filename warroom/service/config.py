"""Where warroom keeps things, and the user's config file (TOML, validated strictly)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Callable, Literal

import msgspec

from warroom.domain.tomlspot import decode_toml, line_of
from warroom.service.places import (  # noqa: F401 (the places are re-exported)
    APP_NAME, ConfigError, config_dir, config_path, config_text, database_named, default_database_path, state_path,
    user_named, user_policy_dir,
)  # fmt: skip
from warroom.store import is_server_url

class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class Webhook(_Strict):
    """The older form of a delivery target: every audience's updates, URL from an environment variable."""

    kind: str  # "slack" or "json"
    url_env: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]  # a variable's name
    name: str = ""
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0  # seconds per attempt


# ---- delivery targets, routed by audience ([[target]]) -----------------------------------------

EVERY_AUDIENCE = "*"


class _Target(_Strict, tag_field="kind"):
    """Where updates for some audiences go. `audiences` lists audience ids ("*": every one)."""

    name: str
    audiences: list[str]
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0  # seconds per attempt

    @property
    def kind(self) -> str:
        return self.__struct_config__.tag

    def serves(self, audience: str) -> bool:
        return EVERY_AUDIENCE in self.audiences or audience in self.audiences


class SlackTarget(_Target, tag="slack", kw_only=True):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat...)."""

    url_env: str


class JsonTarget(_Target, tag="json", kw_only=True):
    """Any HTTP endpoint taking a JSON document per update."""

    url_env: str


class EmailTarget(_Target, tag="email", kw_only=True):
    """Mail through an SMTP server: STARTTLS (default), implicit TLS, or none (loopback relays only)."""

    host: str
    sender: str
    to: list[str]
    port: int = 587
    security: str = "starttls"  # "starttls", "tls" or "none"
    username: str = ""
    password_env: str = ""
    ca_file: str = ""  # trust this CA bundle instead of the system's (a private relay)


class StatuspageTarget(_Target, tag="statuspage", kw_only=True):
    """An Atlassian Statuspage-compatible incident API: one remote incident per warroom incident."""

    page_id: str
    api_key_env: str
    api_url: str = "https://api.statuspage.io/v1"


class StatusFileTarget(_Target, tag="statusfile", kw_only=True):
    """status.json and status.html written into a folder any web server can serve."""

    directory: str
    page_title: str = "Service status"


Target = SlackTarget | JsonTarget | EmailTarget | StatuspageTarget | StatusFileTarget


# ---- paging ([[pager]]) --------------------------------------------------------------------------


class _Pager(_Strict, tag_field="kind"):
    """Who gets paged. `services`: the incidents it covers (empty: every incident); `/page NAME`
    finds it by name or by one of its services."""

    name: str
    services: list[str] = []
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0  # seconds per attempt

    @property
    def kind(self) -> str:
        return self.__struct_config__.tag


class PagerDutyPager(_Pager, tag="pagerduty", kw_only=True):
    """PagerDuty Events API v2; the integration's routing key is read from an environment variable."""

    routing_key_env: str
    events_url: str = "https://events.pagerduty.com/v2/enqueue"


class JsonPager(_Pager, tag="json", kw_only=True):
    """A generic JSON page to an HTTP endpoint (URL from an environment variable)."""

    url_env: str


Pager = PagerDutyPager | JsonPager


# ---- alerts in ([intake], [[alert_rule]]) -------------------------------------------------------


class Intake(_Strict):
    """`warroom intake`: where it listens and how it checks callers."""

    listen: str = "127.0.0.1"
    port: int = 9095  # 0: any free port (the address is printed)
    token_env: str = "WARROOM_INTAKE_TOKEN"
    max_body: int = 256 * 1024  # bytes; a bigger request is refused with 413
    service_labels: list[str] = msgspec.field(default_factory=lambda: ["service", "services"])  # alert labels naming affected services
    author: str = "alerts"  # who signs the entries alerts write


class AlertRule(_Strict):
    """What to do with alerts whose labels match (`*` and `?` work as in file names). The first
    matching rule applies; an alert no rule matches can still join an incident that lists its service."""

    name: str = ""
    match: dict[str, str] = {}
    services: list[str] = []  # services the alert concerns, added to those named by its labels
    declare: bool = False  # declare an incident when no open incident lists the alert's services
    severity: str | None = None  # severity of an incident declared (default: the alert's own)
    policy: str | None = None  # policy of an incident declared (default: default_policy)


class DatabaseSettings(_Strict):
    """`[database]`: where the record is (a file path or a postgresql:// URL) and, for a server,
    the environment variable holding the password (never the password itself)."""

    url: str
    password_env: Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")] = ""


class Attention(_Strict):
    """How the war room gets attention when a duty becomes due soon or overdue (a toast and the
    header always; the bell as set here, and never with `--quiet`)."""

    bell: Literal["due-soon", "overdue", "off"] = "due-soon"  # ring from this state on


class Config(_Strict):
    user: str | None = None
    theme: str | None = None
    database: str | DatabaseSettings | None = None  # a path or URL, or a [database] table
    default_policy: str | None = None
    updates_dir: str | None = None
    probes: str | None = None
    probe_retention: str = "24h"  # how long probe results are kept in the database
    webhook: list[Webhook] = []
    target: list[Target] = []
    pager: list[Pager] = []
    intake: Intake = msgspec.field(default_factory=Intake)
    alert_rule: list[AlertRule] = []
    attention: Attention = msgspec.field(default_factory=Attention)

    def targets(self) -> list[Target]:
        """Every delivery target: the [[target]] tables, then each older [[webhook]] (all audiences)."""
        found: list[Target] = list(self.target)
        for hook in self.webhook:
            made = SlackTarget if hook.kind == "slack" else JsonTarget
            found.append(made(name=hook.name or f"{hook.kind} webhook ${hook.url_env}", audiences=[EVERY_AUDIENCE],
                              url_env=hook.url_env, timeout=hook.timeout))
        return found


def load_config(path: Path | None = None,
                audiences: set[str] | Callable[[set[str]], set[str]] | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a broken one a ConfigError. With
    `audiences` (every audience id the policies know, or a function giving the ones known, at
    least those of the set it is given that exist: PolicyBook.audience_ids; called only when the
    config has targets), a target naming another one is a mistake."""
    path = path or config_path()
    text = config_text(path)
    if text is None:
        return Config()
    config = decode_toml(text, str(path), Config, ConfigError)
    problem = _check_semantics(config) or _check_audiences(config, audiences)
    if problem:
        parts, message = problem
        line = line_of(text, parts)
        field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in parts).replace(".[", "[")
        raise ConfigError(f"{path}:{line}: field {field}: {message}" if line else f"{path}: field {field}: {message}")
    return config


def _check_audiences(config: Config, known: set[str] | Callable[[set[str]], set[str]] | None,
                     ) -> tuple[list[str | int], str] | None:
    """A target's audience that no policy has would never be served: a typo, said at once."""
    if known is None or not config.target:
        return None
    if callable(known):
        known = known({audience for target in config.target for audience in target.audiences} - {EVERY_AUDIENCE})
    for index, target in enumerate(config.target):
        for audience in target.audiences:
            if audience != EVERY_AUDIENCE and audience not in known:
                listed = ", ".join(sorted(known))
                return (["target", index, "audiences"],
                        f"no policy has an audience {audience!r} (they have: {listed}; \"*\": every one)")
    return None


def _check_semantics(config: Config) -> tuple[list[str | int], str] | None:
    """(field path, message) for the first rule a well-formed config still breaks."""
    for index, hook in enumerate(config.webhook):
        if hook.kind not in ("slack", "json"):
            return ["webhook", index, "kind"], "must be 'slack' or 'json'"
    names: set[str] = set()
    for index, target in enumerate(config.target):
        if not target.name.strip():
            return ["target", index, "name"], "a target needs a name (it is how deliveries are shown)"
        if target.name.casefold() in names:
            return ["target", index, "name"], f"two targets are named {target.name!r}"
        names.add(target.name.casefold())
        if not target.audiences:
            return ["target", index, "audiences"], "name at least one audience (or \"*\" for every one)"
        if isinstance(target, EmailTarget):
            if target.security not in ("starttls", "tls", "none"):
                return ["target", index, "security"], "must be 'starttls', 'tls' or 'none'"
            if not target.to:
                return ["target", index, "to"], "name at least one recipient"
            if target.password_env and target.security == "none":
                return ["target", index, "security"], "a password is only sent over TLS: use 'starttls' or 'tls'"
        if isinstance(target, StatuspageTarget) and not target.api_url.lower().startswith(("http://", "https://")):
            return ["target", index, "api_url"], "must start with http:// or https://"
    pager_names: set[str] = set()
    for index, pager in enumerate(config.pager):
        if not pager.name.strip() or pager.name.casefold() in pager_names:
            return ["pager", index, "name"], "every pager needs a name of its own"
        pager_names.add(pager.name.casefold())
        if isinstance(pager, PagerDutyPager) and not pager.events_url.lower().startswith(("http://", "https://")):
            return ["pager", index, "events_url"], "must start with http:// or https://"
    if not 0 <= config.intake.port < 65536:
        return ["intake", "port"], "must be a TCP port (1-65535, or 0 for any free one)"
    if config.intake.max_body < 1024:
        return ["intake", "max_body"], "must be at least 1024 bytes"
    return None


def configured_database(config: Config) -> str | None:
    """The database the config file names (a path or a URL), if any."""
    chosen = config.database
    return chosen.url if isinstance(chosen, DatabaseSettings) else chosen


def resolve_database(cli_value: str | None, config: Config) -> Path | str:
    """--db, then WARROOM_DB, then the config file, then the user data dir (places.database_named)."""
    return database_named(cli_value, configured_database(config))


def database_password(config: Config, location: Path | str) -> str | None:
    """The server password from the config's `password_env` variable (None: asyncpg's own
    PGPASSWORD or ~/.pgpass); never stored, never shown."""
    chosen = config.database
    if not is_server_url(location) or not isinstance(chosen, DatabaseSettings) or not chosen.password_env:
        return None
    value = os.environ.get(chosen.password_env)
    if not value:
        raise ConfigError(f"database.password_env names ${chosen.password_env}, which is not set")
    return value


def resolve_updates_dir(config: Config, database: Path | str) -> Path:
    """Where posted updates and reports are written: the config's `updates_dir`, else an
    `updates` folder next to the database file (so it never depends on the current directory),
    or, for a database on a server, in the user data dir."""
    if config.updates_dir:
        return Path(config.updates_dir).expanduser()
    if is_server_url(database):
        return default_database_path().parent / "updates"
    return Path(database).expanduser().resolve().parent / "updates"


def resolve_user(cli_value: str | None, config: Config) -> str:
    """--as, then WARROOM_USER, then the config file, then the login name (places.user_named)."""
    return user_named(cli_value, config.user)
