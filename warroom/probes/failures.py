"""A transport failure in a few words: 'connection refused', 'DNS lookup failed: no such name',
'TLS error: certificate verify failed: ...'. Never the text of an encoding error (it would
quote a character of what could not be encoded, and where)."""

from __future__ import annotations

import socket
import ssl
from typing import Callable

import aiohttp
import httpx


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < 12:
        item = todo.pop(0)
        if item is None or any(item is other for other in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "_os_error", None),
                 getattr(item, "_certificate_error", None)]
    return seen


def _verify_message(error: BaseException) -> str:
    """ssl's verify_message, also when aiohttp wraps the error (certificate_error)."""
    for item in (error, getattr(error, "certificate_error", None)):
        message = getattr(item, "verify_message", None)
        if message:
            return str(message)
    return str(getattr(error, "certificate_error", None) or error)


_GAI_CAUSES = {getattr(socket, name): phrase for name, phrase in (
    ("EAI_NONAME", "no such name"), ("EAI_NODATA", "the name has no address"),
    ("EAI_AGAIN", "the resolver did not answer")) if hasattr(socket, name)}


def describe_error(error: BaseException) -> str:
    """A short phrase for a transport error: 'connection refused', 'TLS error: ...'."""
    chain = _chain(error)
    rules: list[tuple[type | tuple[type, ...], Callable[[BaseException], str]]] = [
        (ssl.SSLCertVerificationError, lambda e: f"TLS error: certificate verify failed: {_verify_message(e)}"),
        (ssl.SSLError, lambda e: f"TLS error: {e.reason or e}"),
        (ConnectionRefusedError, lambda e: "connection refused"),
        (socket.gaierror, lambda e: f"DNS lookup failed: {_GAI_CAUSES.get(e.errno) or e.strerror or e}"),
        (aiohttp.ClientConnectorDNSError, lambda e: f"DNS lookup failed: {e.os_error.strerror or e.os_error}"),
        ((httpx.UnsupportedProtocol, httpx.InvalidURL, aiohttp.InvalidURL), lambda e: f"invalid URL: {e}"),
        (aiohttp.ClientPayloadError, lambda e: f"connection broken while reading body: {e}"),
        (ConnectionResetError, lambda e: "connection reset by peer"),
        (aiohttp.ServerDisconnectedError, lambda e: "server closed the connection before a complete response"),
        (httpx.TooManyRedirects, lambda e: "too many redirects"),
        ((TimeoutError, httpx.TimeoutException), lambda e: "timeout"),
        (UnicodeError, lambda e: f"{type(e).__name__}: text that cannot be encoded"),  # never which, nor where
        (aiohttp.ClientResponseError, lambda e: f"bad HTTP response: {e.message}"),
        (OSError, lambda e: e.strerror or str(e) or type(e).__name__),
    ]
    for kinds, phrase in rules:
        for item in chain:
            if isinstance(item, kinds):
                return phrase(item)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
