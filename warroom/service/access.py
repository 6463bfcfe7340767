"""Who may open the war room in a browser (`warroom serve`): the people file and its tokens.

The people file is TOML, one `[[person]]` per person, validated strictly::

    [[person]]
    name = "alice"                       # entries typed in her session are signed "alice"
    token_env = "WARROOM_TOKEN_ALICE"    # the token is read from this environment variable

    [[person]]
    name = "vp-carol"
    token = "..."                        # or written here (then the file must be chmod 600)
    read_only = true                     # a stakeholder: sees the war room, cannot write

Tokens are secrets: they are kept only as SHA-256 digests, compared in constant time, and no
message here ever holds one, not even in part.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import msgspec

from warroom.domain.text import first_unsafe
from warroom.domain.tomlspot import decode_toml, line_of
from warroom.service.config import ConfigError

MIN_TOKEN_LENGTH = 16
MAX_NAME_LENGTH = 64


class _PersonEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: str
    token_env: str | None = None
    token: str | None = None
    read_only: bool = False


class _PeopleFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    person: list[_PersonEntry] = []


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who may log in: the name their entries are signed with, and whether they may write."""

    name: str
    read_only: bool


@dataclass(frozen=True, slots=True)
class _Key:
    person: Person
    digest: bytes


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class People:
    """The people file, loaded: `identify(token)` says whose token it is (or None)."""

    def __init__(self, keys: list[_Key], token_envs: tuple[str, ...] = ()):
        self._keys = keys
        self.token_envs = token_envs  # environment variables holding tokens (kept from child processes)

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, tuple[str, bool]]) -> "People":
        """{token: (name, read_only)}: for tests and callers that hold tokens themselves."""
        return cls([_Key(Person(name, read_only), _digest(token)) for token, (name, read_only) in tokens.items()])

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def names(self) -> list[str]:
        return [key.person.name for key in self._keys]

    def identify(self, presented: str) -> Person | None:
        """The person whose token `presented` is. Every key is compared (in constant time), so how
        long this takes does not tell which one matched, or how much of one."""
        digest = _digest(presented)
        found = None
        for key in self._keys:
            if hmac.compare_digest(digest, key.digest):
                found = key.person
        return found


def name_problem(name: str) -> str | None:
    """Why `name` cannot sign entries in a browser session (None: it can)."""
    if not name.strip() or name != name.strip():
        return "must be a name without leading or trailing spaces"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if first_unsafe(name) is not None or "\n" in name or "\t" in name:
        return "holds control, bidi or zero-width characters"
    if name.startswith("-"):
        return "must not start with '-'"
    return None


def load_people(path: Path, environ: Mapping[str, str] | None = None) -> People:
    """Read and check the people file; any mistake is a ConfigError naming file, line and field."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the people file: {reason}") from None
    entries = decode_toml(text, str(path), _PeopleFile, ConfigError).person
    if not entries:
        raise ConfigError(f"{path}: no [[person]] in the people file: nobody could log in")
    keys, names, envs = [], {}, []
    for index, entry in enumerate(entries):
        def fail(field: str, problem: str) -> ConfigError:
            line = line_of(text, ["person", index, field]) or "?"
            return ConfigError(f"{path}:{line}: field person[{index}].{field}: {problem}")

        if problem := name_problem(entry.name):
            raise fail("name", problem)
        if entry.name in names:
            raise fail("name", f"{entry.name!r} is listed twice")
        if (entry.token is None) == (entry.token_env is None):
            raise fail("token", "give exactly one of token_env (an environment variable) or token")
        if entry.token is not None:
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise fail("token", f"the file holds tokens but others may read it: chmod 600 {path}")
            token, field = entry.token, "token"
        else:
            token, field = environ.get(entry.token_env or ""), "token_env"
            if token is None:
                raise fail("token_env", f"environment variable {entry.token_env} is not set")
            envs.append(entry.token_env)
        if len(token) < MIN_TOKEN_LENGTH:
            raise fail(field, f"the token is shorter than {MIN_TOKEN_LENGTH} characters")
        digest = _digest(token)
        if any(hmac.compare_digest(digest, key.digest) for key in keys):
            raise fail(field, "the same token as another person (each person needs their own)")
        names[entry.name] = index
        keys.append(_Key(Person(entry.name, entry.read_only), digest))
    return People(keys, tuple(envs))
