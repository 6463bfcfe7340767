"""Keeping secrets out of command lines (`warroom run`, the shell hook) and their output, on the
rules of domain.secrets (what a secret-looking name is, how a URL is masked).

On a command line these are masked as `<redacted>`:

* assignments and options whose name looks secret: `TOKEN=…`, `DB_PASSWORD=…`, `--password=…`,
  `--api-key …`, `--token …` (the next word);
* credentials: `-u user:pass` / `--user user:pass` (curl and friends), `-pSECRET` for the
  MySQL/MariaDB clients, `sshpass -p SECRET`, `redis-cli -a SECRET`;
* URLs with credentials (`https://user:pass@host` keeps the user), headers whose name looks secret
  (`-H 'Authorization: Bearer …'`, `Cookie: …`, `X-Api-Key: …`);
* the same inside a script given as one word (`sh -c '…'`, `ssh host '…'`).

Every value masked on the line is also scrubbed from the command's output (`redact_text`), which
on its own masks credentials in URLs, secret-looking `Name: value` headers and `NAME=value` lines.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass
from typing import Iterable, Sequence

from warroom.domain.secrets import REDACTED, is_sensitive_name, redact_urls_in

MIN_SCRUBBED = 3  # shorter values are masked on the line but not searched for in output

_HEADER = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9_-]*)(\s*:\s*)(\S.*)$", re.DOTALL)
_ASSIGNMENT = re.compile(r"^(-{0,2}[A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)
_TEXT_HEADER = re.compile(r"(?im)\b([A-Za-z][A-Za-z0-9_-]*)([\"']?\s*:\s*)(\S[^\r\n]*)")
_TEXT_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_.-]*)=([^\s'\";&|]+)")
_USER_OPTIONS = ("-u", "--user", "-U", "--proxy-user", "--http-user")
_SCRIPT_TAKERS = ("ssh", "mosh", "watch")  # programs whose later words may be a script
_HEADER_PREFIXES = ("", "-H", "--header=", "--proxy-header=")
_USER_PREFIXES = ("-u", "-U", "--user=", "--proxy-user=", "--http-user=")
_OPTION = re.compile(r"^--?[A-Za-z]")
_SHELL_SPECIALS = set(" \t\n;&|<>()")
# Programs whose short option takes a password: {program prefix: (option, value may be a separate word)}.
_PASSWORD_SHORT_OPTIONS = {"mysql": ("-p", False), "mariadb": ("-p", False), "sshpass": ("-p", True),
                           "redis-cli": ("-a", True)}


@dataclass(frozen=True, slots=True)
class Redacted:
    """A command line safe to store, and the secret values it held (to scrub from output)."""

    line: str
    secrets: tuple[str, ...]


def redact_text(text: str, secrets: Iterable[str] = (), *, headers: bool = True) -> str:
    """Free text (a command's output) with the known secret values and anything that looks like a
    credential masked: URL credentials, `SECRET_NAME=value`, and (unless headers=False) the rest of
    a line after `Secret-Name:`."""
    for value in sorted({s for s in secrets if len(s) >= MIN_SCRUBBED}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = redact_urls_in(text)
    if headers:
        text = _TEXT_HEADER.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}" if is_sensitive_name(m.group(1)) else m.group(0), text)
    return _TEXT_ASSIGNMENT.sub(
        lambda m: f"{m.group(1)}={REDACTED}" if is_sensitive_name(m.group(1)) else m.group(0), text)


def redact_argv(argv: Sequence[str]) -> Redacted:
    """A command given as words (`warroom run -- CMD ARGS…`), shown as a shell would need it typed."""
    words, secrets = _redact_words(list(argv))
    line = " ".join(_display_quote(word) for word in words)
    return Redacted(redact_text(line, secrets, headers=False), _scrub_list(secrets))


def redact_command_line(line: str) -> Redacted:
    """A command line as typed (the shell hook): masked words are replaced in place, the rest of
    the line keeps its spelling."""
    masked, secrets = _redact_line(line)
    return Redacted(redact_text(masked, secrets, headers=False), _scrub_list(secrets))


_BARE = re.compile(r"^[\w@%+=:,./<>-]+$")


def _display_quote(word: str) -> str:
    """A word quoted only as much as reading it back needs (`<redacted>` stays bare)."""
    if _BARE.match(word):
        return word
    if "'" not in word:
        return f"'{word}'"
    if not any(char in word for char in '"$`\\'):
        return f'"{word}"'
    return shlex.quote(word)


def _scrub_list(secrets: list[str]) -> tuple[str, ...]:
    found = []
    for value in secrets:
        for variant in (value, *_basic_auth_forms(value)):
            if variant and variant not in found:
                found.append(variant)
    return tuple(found)


def _basic_auth_forms(value: str) -> tuple[str, ...]:
    """`user:pass` also travels base64-encoded in an Authorization: Basic header (curl -v shows it)."""
    if ":" not in value:
        return ()
    return (base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii"),)


def _redact_line(line: str) -> tuple[str, list[str]]:
    spans = _word_spans(line)
    words, secrets = _redact_words([word for _, _, word in spans])
    out, last = [], 0
    for (start, end, original), word in zip(spans, words):
        out.append(line[last:start])
        out.append(line[start:end] if word == original else _display_quote(word))
        last = end
    out.append(line[last:])
    return "".join(out), secrets


def _word_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, unquoted word) for each shell word; operators and blanks separate words."""
    spans, i, n = [], 0, len(line)
    while i < n:
        if line[i] in _SHELL_SPECIALS:
            i += 1
            continue
        start, value = i, []
        while i < n and line[i] not in _SHELL_SPECIALS:
            char = line[i]
            if char == "'":
                close = line.find("'", i + 1)
                close = n if close < 0 else close
                value.append(line[i + 1:close])
                i = close + 1
            elif char == '"':
                i += 1
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                        i += 1
                    value.append(line[i])
                    i += 1
                i += 1
            elif char == "\\" and i + 1 < n:
                value.append(line[i + 1])
                i += 2
            else:
                value.append(char)
                i += 1
        spans.append((start, min(i, n), "".join(value)))
    return spans


def _program(words: list[str]) -> str:
    """The program a command runs: the first word after assignments, `env`, `sudo`, `exec`..."""
    for word in words:
        if _ASSIGNMENT.match(word) and not word.startswith("-"):
            continue
        name = word.rsplit("/", 1)[-1]
        if name in ("env", "sudo", "exec", "command", "nohup", "time", "doas") or word.startswith("-"):
            continue
        return name
    return ""


def _redact_words(words: list[str]) -> tuple[list[str], list[str]]:
    secrets: list[str] = []
    out: list[str] = []
    program = _program(words)
    short = next((rule for prefix, rule in _PASSWORD_SHORT_OPTIONS.items() if program.startswith(prefix)), None)
    value_of: str | None = None  # what the previous word says the next one is
    for word in words:
        if value_of == "secret" and not _OPTION.match(word):  # `--password -h host`: no value given
            secrets.append(word)
            out.append(REDACTED)
            value_of = None
            continue
        if value_of == "user" and ":" in word:
            user, _, password = word.partition(":")
            secrets.append(password)
            secrets.append(word)
            out.append(f"{user}:{REDACTED}")
            value_of = None
            continue
        value_of = None
        script = (out[-2:-1] in (["-c"], ["-lc"], ["-ic"]) or program in _SCRIPT_TAKERS) and any(
            char in _SHELL_SPECIALS for char in word)
        out.append(_redact_script(word, secrets) if script else _redact_word(word, secrets, short))
        if word in _USER_OPTIONS:
            value_of = "user"
        elif short and short[1] and word == short[0]:
            value_of = "secret"
        elif (word.startswith("--") and "=" not in word and is_sensitive_name(word)
              and not word.endswith(("-stdin", "-file", "-prompt"))):
            value_of = "secret"
    return out, secrets


def _masked_header(word: str, secrets: list[str]) -> str | None:
    """`Secret-Name: value` (also as `-H…`, `--header=…`) with the value masked, else None."""
    for prefix in _HEADER_PREFIXES:
        if word.startswith(prefix):
            header = _HEADER.match(word[len(prefix):])
            if header and is_sensitive_name(header.group(2)):
                value = header.group(4)
                secrets += [value, value.split()[-1]]
                return f"{prefix}{header.group(1)}{header.group(2)}{header.group(3)}{REDACTED}"
    return None


def _redact_word(word: str, secrets: list[str], short: tuple[str, bool] | None) -> str:
    header = _masked_header(word, secrets)
    if header is not None:
        return header
    for prefix in _USER_PREFIXES:
        rest = word[len(prefix):] if word.startswith(prefix) else ""
        if ":" in rest:
            user, _, password = rest.partition(":")
            secrets += [password, rest]
            return f"{prefix}{user}:{REDACTED}"
    if short and word.startswith(short[0]) and len(word) > 2:
        secrets.append(word[2:])
        return short[0] + REDACTED
    assignment = _ASSIGNMENT.match(word)
    if assignment and is_sensitive_name(assignment.group(1)):
        secrets.append(assignment.group(2))
        return f"{assignment.group(1)}={REDACTED}"
    masked = redact_urls_in(word, secrets)
    if any(char in _SHELL_SPECIALS for char in masked):  # a script in one word (watch '…', sudo sh -c '…')
        return _redact_script(masked, secrets)
    return masked


def _redact_script(word: str, secrets: list[str]) -> str:
    """A word that is a command line of its own (`sh -c '…'`, `ssh host '…'`)."""
    inner, found = _redact_line(word)
    secrets += found
    return inner
