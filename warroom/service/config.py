"""Where warroom keeps things, and the user's config file (TOML, validated strictly)."""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec
import platformdirs

from warroom.domain.errors import WarroomError
from warroom.domain.tomlspot import line_of, load_toml, located_message, read_text_file

APP_NAME = "warroom"


class ConfigError(WarroomError):
    """The config file has a mistake (message names file, line and field)."""


class Webhook(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A delivery target for posted updates; the URL is read from an environment variable."""

    kind: str  # "slack" or "json"
    url_env: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]  # a variable's name
    name: str = ""
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0  # seconds per attempt


class Config(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    user: str | None = None
    theme: str | None = None
    database: str | None = None
    default_policy: str | None = None
    updates_dir: str | None = None
    probes: str | None = None
    probe_retention: str = "24h"  # how long probe results are kept in the database
    webhook: list[Webhook] = []


def config_dir() -> Path:
    override = os.environ.get("WARROOM_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / "config.toml"


def user_policy_dir() -> Path:
    return config_dir() / "policies"


def state_path() -> Path:
    """Small remembered choices (the last theme picked in the UI)."""
    return config_dir() / "state.toml"


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "warroom.db"


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a broken one a ConfigError."""
    path = path or config_path()
    try:
        text = read_text_file(path)
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from None
    try:
        raw = load_toml(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as error:
        raise ConfigError(located_message(text, str(path), str(error))) from None
    for index, hook in enumerate(config.webhook):
        if hook.kind not in ("slack", "json"):
            line = line_of(text, ["webhook", index, "kind"])
            raise ConfigError(f"{path}:{line}: field webhook[{index}].kind: must be 'slack' or 'json'")
    return config


def resolve_database(cli_value: str | None, config: Config) -> Path:
    """--db, then WARROOM_DB, then the config file, then the user data dir."""
    chosen = cli_value or os.environ.get("WARROOM_DB") or config.database
    return Path(chosen).expanduser() if chosen else default_database_path()


def resolve_updates_dir(config: Config, database: Path) -> Path:
    """Where posted updates and reports are written: the config's `updates_dir`, else an
    `updates` folder next to the database (so it never depends on the current directory)."""
    if config.updates_dir:
        return Path(config.updates_dir).expanduser()
    return Path(database).expanduser().resolve().parent / "updates"


def resolve_user(cli_value: str | None, config: Config) -> str:
    """--as, then WARROOM_USER, then the config file, then the login name."""
    for chosen in (cli_value, os.environ.get("WARROOM_USER"), config.user):
        if chosen and chosen.strip():  # a blank name would sign entries with nothing
            try:
                chosen.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as surrogates
                raise ConfigError("WARROOM_USER is not valid UTF-8; set it to your name as text") from None
            return chosen.strip()
    try:
        login = getpass.getuser()  # $LOGNAME, $USER... then the password database
    except Exception:  # no login name in some containers
        return "unknown"
    try:
        login.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError("your login name ($LOGNAME or $USER) is not valid UTF-8; set WARROOM_USER") from None
    return login
