"""What an HTTP probe sends: the URL, headers and basic auth with ${VAR} templates filled in, and
every secret among them (to scrub from anything the target echoes back or an error quotes).
A problem is described by the variable's name only: never the value, a character of it or where."""

from __future__ import annotations

import base64
import os
import re
from typing import Mapping


from warroom.domain.secrets import REDACTED, credentials, query_secret_values
from warroom.probes.config import MissingSecret, ProbeSpec

_SHORTEST_SECRET = 3  # shorter values would scrub ordinary words
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # what httpx and every server accept as they are
_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _culprits(template: str, env: Mapping[str, str] | None) -> str:
    """Which part of a header's template is to blame, by name: '${TOKEN}' or 'its literal text'."""
    env = os.environ if env is None else env
    names = [f"${{{name}}}" for name in _TEMPLATE.findall(template) if not _HEADER_VALUE.fullmatch(env.get(name, ""))]
    return ", ".join(dict.fromkeys(names)) or "its literal text"


def request_parts(spec: ProbeSpec, env: Mapping[str, str] | None = None
                  ) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url without user:password@, headers, {secret: what to show instead}).

    `user:password@` in the URL becomes a basic-auth Authorization header (httpx would otherwise
    send it twice, as the URL and as a header, which aiohttp refuses). A header value must be printable ASCII: one
    that is not (a ${VAR} holding 'ü' or a line break) is refused naming the variable."""
    headers, secrets = spec.resolve_headers(env)
    target, target_secrets = spec.resolve_target(env)
    secrets.update(target_secrets)
    for key, value in headers.items():
        if not _HEADER_VALUE.fullmatch(value):
            raise MissingSecret(f"header {key} of probe {spec.name}: {_culprits(spec.headers[key], env)} "
                                "holds a character a header cannot carry (only printable ASCII)")
    url, login = credentials(target)
    if login is not None:
        if any(key.lower() == "authorization" for key in headers):
            raise MissingSecret(f"probe {spec.name} has both user:password in its URL and an Authorization header")
        user, password = login
        token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")  # RFC 7617, UTF-8
        headers["Authorization"] = f"Basic {token}"
        for secret in (password, token):
            if len(secret) >= _SHORTEST_SECRET:
                secrets.setdefault(secret, REDACTED)
    for value in query_secret_values(target):
        if len(value) >= _SHORTEST_SECRET:
            secrets.setdefault(value, REDACTED)
    return url, headers, secrets
