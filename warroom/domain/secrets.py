"""Secrets in URLs and header names: what counts as one, and how it is shown instead.

A probe URL may carry a password (`http://admin:hunter2@host/`) or a secret-looking query value
(`?api_key=...`, `?token=...`). Those are never shown or stored as they are: `redact_url` masks
them (the user name stays, ${VAR} templates stay, they are not secrets); `redact_urls_in` does
it to every URL inside a piece of text, such as an error message. Pure Python, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

REDACTED = "<redacted>"
# Header and query names whose values are secrets.
SECRET_NAME = re.compile(r"auth|token|secret|key|cookie|session|passw|pwd|signature|^sig$|credential|bearer",
                         re.IGNORECASE)
_TEMPLATE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)
_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.DOTALL)


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


def redact_urls_in(text: str) -> str:
    """Every http(s) URL in `text` redacted (for error messages that quote a URL)."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group()), text)


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
