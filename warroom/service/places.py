"""Where warroom keeps things (the config folder, the user's policies, the default database) and
who and where a command means (`--as`, `--db`, their variables, what the config says): the
config file's plain half, without its parser (warroom.service.config builds on this and
re-exports it), so a plain `warroom log` finds its file and its author without loading msgspec."""

from __future__ import annotations

import os
from pathlib import Path

from warroom.domain.errors import WarroomError
from warroom.domain.text_files import read_text_file
from warroom.store.locations import is_url

APP_NAME = "warroom"


class ConfigError(WarroomError):
    """The config file has a mistake (message names file, line and field)."""


def config_dir() -> Path:
    override = os.environ.get("WARROOM_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs  # here: with WARROOM_CONFIG_DIR (the tests, a script's own) it is not needed

    return Path(platformdirs.user_config_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / "config.toml"


def user_policy_dir() -> Path:
    return config_dir() / "policies"


def state_path() -> Path:
    """Small remembered choices (the last theme picked in the UI)."""
    return config_dir() / "state.toml"


def default_database_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / "warroom.db"


def config_text(path: Path) -> str | None:
    """The config file's text; None when there is none (an empty config); ConfigError when it
    cannot be read."""
    try:
        return read_text_file(path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from None


def database_named(cli_value: str | None, configured: str | None) -> Path | str:
    """--db, then WARROOM_DB, then the config's (`configured`), then the user data dir: a file
    path, or a URL kept as it is: a postgresql:// one for the server, any other for the open to
    refuse (it is no file's name: `mysql://h/db` must not become a folder `mysql:`)."""
    chosen = cli_value or os.environ.get("WARROOM_DB") or configured
    if chosen and is_url(chosen):
        return chosen
    return Path(chosen).expanduser() if chosen else default_database_path()


def user_named(cli_value: str | None, configured: str | None) -> str:
    """--as, then WARROOM_USER, then the config's (`configured`), then the login name."""
    for chosen in (cli_value, os.environ.get("WARROOM_USER"), configured):
        if chosen and chosen.strip():  # a blank name would sign entries with nothing
            try:
                chosen.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as surrogates
                raise ConfigError("WARROOM_USER is not valid UTF-8; set it to your name as text") from None
            return chosen.strip()
    import getpass

    try:
        login = getpass.getuser()  # $LOGNAME, $USER... then the password database
    except Exception:  # no login name in some containers
        return "unknown"
    try:
        login.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError("your login name ($LOGNAME or $USER) is not valid UTF-8; set WARROOM_USER") from None
    return login
