"""Secrets in URLs and names: what counts as one, and how it is shown instead — the one rule
for probes, command lines (domain.redact builds on it), error messages and exports.

A URL may carry a password (`http://admin:hunter2@host/`) or a secret-looking query value
(`?api_key=...`, `?token=...`). Those are never shown or stored as they are: `redact_url` masks
them (the user name stays, ${VAR} templates stay, they are not secrets); `redact_urls_in` does
it to every URL inside a piece of text, such as an error message or a command's output. A header,
field, option or variable whose name `is_sensitive_name` holds a secret. Pure Python, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

REDACTED = "<redacted>"
# Header, query, option and variable names whose values are secrets ("author" is not "auth").
SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|auth(?!or(?!i))|cookie|session|credential|private|"
                         r"signature|^sig$|bearer", re.IGNORECASE)
_TEMPLATE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
# A URL in running text: scheme, any userinfo up to its last @ (a password may hold any sign), the rest.
_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^\s/?#]*@)?[^\s'\"<>]*", re.IGNORECASE)
_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.DOTALL)


def is_sensitive_name(name: str) -> bool:
    """Whether a header, field, option or variable name looks like it holds a secret."""
    return SECRET_NAME.search(name) is not None


def _is_template(value: str) -> bool:
    return bool(value) and _TEMPLATE.fullmatch(value) is not None


def _split_authority(url: str) -> tuple[str, str, str, str] | None:
    """(scheme://, userinfo or '', host[:port], rest) without decoding anything; None if not a URL."""
    match = _AUTHORITY.match(url)
    if match is None:
        return None
    scheme, authority, rest = match.groups()
    userinfo, at, host = authority.rpartition("@")
    return scheme, userinfo if at else "", host, rest


def _redact_query(rest: str) -> str:
    path, mark, query = rest.partition("?")
    if not mark:
        return rest
    query, hash_mark, fragment = query.partition("#")
    parts = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and SECRET_NAME.search(unquote(name)) and not _is_template(value):
            value = REDACTED
        parts.append(name + equals + value)
    return path + mark + "&".join(parts) + hash_mark + fragment


def redact_url(url: str) -> str:
    """`url` with its password and secret-looking query values shown as <redacted>."""
    parts = _split_authority(url)
    if parts is None:
        return url
    scheme, userinfo, host, rest = parts
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if colon and password and not _is_template(password):
            userinfo = f"{user}:{REDACTED}"
        elif not colon and len(user) >= 16 and not _is_template(user):
            userinfo = REDACTED  # a bare token used as the user name (https://TOKEN@host/)
        userinfo += "@"
    return scheme + userinfo + host + _redact_query(rest)


def redact_urls_in(text: str, found: list[str] | None = None) -> str:
    """Every URL in `text` redacted (error messages, command lines and output that quote one);
    the passwords masked are added to `found` when given (to scrub their echoes elsewhere)."""

    def mask(match: re.Match[str]) -> str:
        url = match.group()
        redacted = redact_url(url)
        if found is not None and redacted != url:
            parts = _split_authority(url)
            password = parts[1].partition(":")[2] if parts else ""
            if password and password != REDACTED and not _is_template(password):
                found.append(password)
        return redacted

    return _URL_IN_TEXT.sub(mask, text)


def literal_secrets(url: str) -> list[str]:
    """What in `url` is a secret written out (not a ${VAR} template), described without its value:
    ['the password', 'query value api_key']."""
    parts = _split_authority(url)
    if parts is None:
        return []
    found = []
    _, userinfo, _, rest = parts
    user, colon, password = userinfo.partition(":")
    if colon and password and not _is_template(password):
        found.append("the password")
    if redact_url(url) != url and not found and userinfo and not colon:
        found.append("the token before @")
    _, mark, query = rest.partition("?")
    for pair in query.partition("#")[0].split("&") if mark else ():
        name, equals, value = pair.partition("=")
        if equals and value and SECRET_NAME.search(unquote(name)) and not _is_template(value):
            found.append(f"query value {quote(unquote(name), safe='')}")
    return found


def credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user:password@, (user, password) decoded) for HTTP basic auth, or
    (url, None) when it holds none."""
    parts = _split_authority(url)
    if parts is None or not parts[1]:
        return url, None
    scheme, userinfo, host, rest = parts
    user, _, password = userinfo.partition(":")
    return scheme + host + rest, (unquote(user), unquote(password))


def query_secret_values(url: str) -> list[str]:
    """The values of secret-looking query parameters, decoded and as written (to scrub echoes)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    values = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and SECRET_NAME.search(unquote(name)):
            values += [value, unquote(value)]
    return values
