"""One check per probe type. Every fault of the target becomes a ProbeResult, never an exception.

HTTP goes through httpx with the httpx-aiohttp transport on one shared aiohttp session per TLS
mode. The whole request (connect, headers, body) runs under one overall deadline, so a server
trickling a byte a second is cut at the probe's timeout; the body is streamed and at most
BODY_CAP bytes are kept. Phase timings come from an aiohttp trace config and a connector hook.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Awaitable, Callable, Mapping

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from httpx_aiohttp import AiohttpTransport

from warroom.domain.clock import Clock, system_clock
from warroom.domain.secrets import redact_urls_in
from warroom.probes.conditions import Observation, evaluate
from warroom.probes.config import MissingSecret, ProbeSpec, format_seconds
from warroom.probes.dns import DnsLookupError, nameserver_resolver
from warroom.probes.failures import describe_error
from warroom.probes.request import request_parts
from warroom.probes.result import ERROR_CHARS, ProbeResult, decode_body, redact, sanitize

BODY_CAP = 64 * 1024
USER_AGENT = "warroom-probe/0.1"
DnsResolver = Callable[[str], Awaitable[list[str]]]


@dataclass(slots=True)
class _Trace:
    """Per-request timestamps, found by aiohttp callbacks through a context variable."""

    want_cert: bool = False
    dns_start: float | None = None
    dns_end: float | None = None
    connect_start: float | None = None
    connect_end: float | None = None
    created: bool = False
    cert_der: bytes | None = None


_TRACE: ContextVar[_Trace | None] = ContextVar("warroom_probe_trace", default=None)


class _Connector(aiohttp.TCPConnector):
    """TCPConnector that notes connect time and, when a condition needs it, the peer certificate."""

    async def connect(self, req, traces, timeout):  # type: ignore[override]
        trace = _TRACE.get()
        if trace is not None:
            trace.connect_start = time.perf_counter()
        conn = await super().connect(req, traces, timeout)
        if trace is not None:
            trace.connect_end = time.perf_counter()
            transport = conn.transport
            if trace.want_cert and transport is not None:
                ssl_object = transport.get_extra_info("ssl_object")
                if ssl_object is not None:
                    trace.cert_der = ssl_object.getpeercert(binary_form=True)
        return conn


def _trace_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()

    def mark(attribute: str):
        async def callback(session, context, params) -> None:
            trace = _TRACE.get()
            if trace is not None:
                setattr(trace, attribute, time.perf_counter() if attribute != "created" else True)
        return callback

    config.on_dns_resolvehost_start.append(mark("dns_start"))
    config.on_dns_resolvehost_end.append(mark("dns_end"))
    config.on_connection_create_end.append(mark("created"))
    return config


class HttpClients:
    """Shared httpx clients (aiohttp transport): one verifying TLS, one not, made on first use.

    `max_connections` should sit above the engine's concurrency cap; `resolver` is an aiohttp
    AbstractResolver (tests pass one so no name ever reaches a real DNS server).
    """

    def __init__(self, max_connections: int = 256, *, resolver: AbstractResolver | None = None,
                 keepalive: float = 30.0):
        self.max_connections = max_connections
        self.resolver = resolver
        self.keepalive = keepalive
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def get(self, verify: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            client = self._clients[verify] = self._make(verify)
        return client

    def _make(self, verify: bool) -> httpx.AsyncClient:
        if verify:
            context = httpx.create_ssl_context()
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE

        def session() -> aiohttp.ClientSession:
            connector = _Connector(limit=self.max_connections, limit_per_host=0, ssl=context,
                                   keepalive_timeout=self.keepalive, resolver=self.resolver, ttl_dns_cache=10)
            return aiohttp.ClientSession(connector=connector, trace_configs=[_trace_config()],
                                         cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None))

        transport = AiohttpTransport(client=session)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        return httpx.AsyncClient(transport=transport, headers=headers, follow_redirects=False, max_redirects=5)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def cert_not_after(der: bytes) -> datetime | None:
    """notAfter of a DER certificate (enough ASN.1 to walk TBSCertificate), None if unreadable."""

    def read(pos: int) -> tuple[int, int, int]:
        tag, length = der[pos], der[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(der[pos:pos + count], "big")
            pos += count
        return tag, pos, pos + length

    try:
        _, start, _ = read(0)  # Certificate
        _, pos, _ = read(start)  # TBSCertificate
        tag, _, end = read(pos)
        if tag == 0xA0:  # explicit version
            pos = end
        for _ in range(3):  # serialNumber, signature, issuer
            _, _, pos = read(pos)
        _, validity, _ = read(pos)
        _, _, after_start = read(validity)  # notBefore
        tag, start, end = read(after_start)  # notAfter
        text = der[start:end].decode("ascii")
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            year = int(text[:2])
            text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
        return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _clean(text: str | None, secrets: Mapping[str, str], limit: int = ERROR_CHARS) -> str | None:
    if text is None:
        return None
    return redact(sanitize(redact_urls_in(redact(text, secrets) or ""), limit), secrets)


def _ms(start: float | None, end: float | None) -> float | None:
    return round((end - start) * 1000, 3) if start is not None and end is not None and end >= start else None


async def check_http(spec: ProbeSpec, clients: HttpClients, *, timeout: float | None = None,
                     env: Mapping[str, str] | None = None, clock: Clock = system_clock) -> ProbeResult:
    """One HTTP request under an overall deadline; conditions evaluated on what came back."""
    timeout = timeout or spec.timeout
    checked_at = clock()
    trace = _Trace(want_cert=any(c.subject == "cert_expires_in" for c in spec.checks))
    token = _TRACE.set(trace)
    secrets: dict[str, str] = {}
    status = charset = error = None
    chunks: list[bytes] = []
    size, truncated, stage = 0, False, "connecting"
    client = clients.get(spec.verify_tls)  # the first use loads the CA bundle: not the target's time
    started = headers_at = time.perf_counter()
    try:
        url, headers, secrets = request_parts(spec, env)
        content = spec.body.encode() if spec.body is not None else None
        async with asyncio.timeout(timeout):
            async with client.stream(
                spec.method, url, headers=headers, content=content,
                follow_redirects=spec.follow_redirects, timeout=httpx.Timeout(timeout),
            ) as response:
                headers_at, stage = time.perf_counter(), "reading the body"
                status, charset = response.status_code, response.charset_encoding
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > BODY_CAP:
                        truncated = True
                        break
    except MissingSecret as missing:
        error = str(missing)
    except asyncio.CancelledError:
        raise
    except Exception as failure:  # every transport fault is a result
        # httpx-aiohttp maps any aiohttp connection error to ConnectTimeout: read the chain.
        error = "timeout" if isinstance(failure, TimeoutError) else describe_error(failure)
        if stage == "connecting" and trace.connect_end is not None:
            stage = "waiting for the response"
        got = f", {size} bytes received" if stage == "reading the body" else ""
        if error == "timeout":
            error = f"timeout after {format_seconds(timeout)} while {stage}{got}"
        elif stage != "connecting" and "reading body" not in error:
            error += f" (while {stage}{got})"
    finally:
        _TRACE.reset(token)
    ended = time.perf_counter()
    latency = round((ended - started) * 1000, 3)
    body = b"".join(chunks)[:BODY_CAP]
    text = redact(decode_body(body, charset), secrets) or ""  # conditions and excerpts never see a secret
    phases = {key: value for key, value in {
        "dns": _ms(trace.dns_start, trace.dns_end),
        "connect": _ms(trace.connect_start, trace.connect_end),
        "ttfb": _ms(trace.connect_end or started, headers_at) if status is not None else None,
        "transfer": _ms(headers_at, ended) if status is not None else None,
    }.items() if value is not None}
    cert_at = cert_not_after(trace.cert_der) if trace.cert_der else None
    answered = error is None or stage == "reading the body"
    seen = Observation(status=status if answered else None, response_time=latency if error is None else None,
                       body=text if error is None else None, error=error,
                       cert_expires_in=(cert_at - checked_at).total_seconds() if cert_at else None)
    failed = evaluate(spec.checks, seen)
    return ProbeResult(
        probe=spec.name, checked_at=checked_at, ok=error is None and failed is None, latency_ms=latency,
        status_code=status, error=_clean(error, secrets), failed_condition=_clean(failed, secrets),
        excerpt=_clean(text[:4096], secrets, 120) if status is not None else None,
        phases=phases or None, truncated=truncated,
    )


def _host_port(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


async def check_tcp(spec: ProbeSpec, *, timeout: float | None = None, clock: Clock = system_clock) -> ProbeResult:
    """Open (and close) a TCP connection to host:port."""
    timeout = timeout or spec.timeout
    checked_at, started = clock(), time.perf_counter()
    connected, error = False, None
    try:
        host, port = _host_port(spec.target)
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
            connected = True
            writer.close()
    except (TimeoutError, asyncio.TimeoutError):
        error = f"timeout after {format_seconds(timeout)} while connecting"
    except asyncio.CancelledError:
        raise
    except Exception as failure:
        error = describe_error(failure)
    latency = round((time.perf_counter() - started) * 1000, 3)
    seen = Observation(connected=connected, response_time=latency if connected else None, error=error)
    failed = evaluate(spec.checks, seen)
    return ProbeResult(probe=spec.name, checked_at=checked_at, ok=failed is None, latency_ms=latency,
                       error=_clean(error, {}), failed_condition=_clean(failed, {}))


async def system_resolver(host: str) -> list[str]:
    """Addresses for `host` from the system resolver (loop.getaddrinfo), sorted, unique."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def check_dns(spec: ProbeSpec, *, timeout: float | None = None,
                    resolver: DnsResolver | None = None, clock: Clock = system_clock) -> ProbeResult:
    """Resolve the target name; conditions see `resolves` and the `answer` list."""
    timeout = timeout or spec.timeout
    checked_at, started = clock(), time.perf_counter()
    answers: list[str] = []
    error = None
    if resolver is None:
        resolver = nameserver_resolver(spec.nameserver) if spec.nameserver else system_resolver
    try:
        async with asyncio.timeout(timeout):
            answers = await resolver(spec.target)
    except (TimeoutError, asyncio.TimeoutError):
        error = f"timeout after {format_seconds(timeout)} while resolving"
    except asyncio.CancelledError:
        raise
    except DnsLookupError as failure:
        error = f"DNS lookup failed: {failure}"
    except Exception as failure:
        error = describe_error(failure)
        if not error.startswith("DNS"):
            error = f"DNS lookup failed: {error}"
    latency = round((time.perf_counter() - started) * 1000, 3)
    seen = Observation(resolves=bool(answers) and error is None, answers=tuple(answers),
                       response_time=latency if error is None else None, error=error)
    failed = evaluate(spec.checks, seen)
    return ProbeResult(probe=spec.name, checked_at=checked_at, ok=failed is None, latency_ms=latency,
                       error=_clean(error, {}), failed_condition=_clean(failed, {}),
                       answers=tuple(answers))


class Checker:
    """Runs checks of any type with the probe's retries; owns the shared HTTP clients. `clock`
    stamps each result's `checked_at` (the war room's clock, so tests can freeze it)."""

    def __init__(self, *, max_connections: int = 256, http_resolver: AbstractResolver | None = None,
                 dns_resolver: DnsResolver | None = None, env: Mapping[str, str] | None = None,
                 clock: Clock = system_clock):
        self.http = HttpClients(max_connections, resolver=http_resolver)
        self.dns_resolver = dns_resolver
        self.env = env
        self.clock = clock

    def prepare(self, specs: list[ProbeSpec]) -> None:
        """Make the HTTP clients the specs need now (loading CA certificates blocks for a moment),
        so the first scheduled checks are not late because of it."""
        for verify in {spec.verify_tls for spec in specs if spec.type == "http"}:
            self.http.get(verify)

    async def _attempt(self, spec: ProbeSpec, timeout: float | None) -> ProbeResult:
        try:
            if spec.type == "http":
                return await check_http(spec, self.http, timeout=timeout, env=self.env, clock=self.clock)
            if spec.type == "tcp":
                return await check_tcp(spec, timeout=timeout, clock=self.clock)
            return await check_dns(spec, timeout=timeout, resolver=self.dns_resolver, clock=self.clock)
        except asyncio.CancelledError:
            raise
        except Exception as failure:  # a bug of ours must not stop the probe either
            return ProbeResult(probe=spec.name, checked_at=self.clock(), ok=False,
                               error=_clean(f"internal error: {describe_error(failure)}", {}))

    async def check(self, spec: ProbeSpec, timeout: float | None = None) -> ProbeResult:
        """One check, retried up to `spec.retries` times; healthy-on-retry keeps attempts > 1."""
        first = result = await self._attempt(spec, timeout)
        attempts = 1
        while not result.ok and attempts <= spec.retries:
            attempts += 1
            result = await self._attempt(spec, timeout)
        if attempts == 1:
            return result
        note = f"healthy on attempt {attempts}; attempt 1: {first.reason()}" if result.ok else result.error
        return replace(result, checked_at=first.checked_at, attempts=attempts,
                       error=sanitize(note, ERROR_CHARS) if note else None)

    async def aclose(self) -> None:
        await self.http.aclose()
