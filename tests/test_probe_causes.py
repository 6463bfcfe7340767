"""tcp and dns failures say why (issue 9, 14): refused, no such name, timed out; in the check table
and in the timeline entry of the state change, not just `connected == true failed: got false`."""

from __future__ import annotations

import asyncio
import socket

import pytest
from probe_servers import closed_port

from warroom.probes.checks import Checker
from warroom.probes.config import spec_from_dict
from warroom.probes.oneshot import format_table, run_once
from warroom.probes.states import ProbeTracker


def tcp(target: str, **fields):
    return spec_from_dict({"name": "db-port", "type": "tcp", "target": target, "failure_threshold": 1, **fields})


def dns(name: str):
    return spec_from_dict({"name": "db-name", "type": "dns", "target": name, "failure_threshold": 1})


async def table_and_entry(spec, checker: Checker) -> tuple[str, str]:
    """The `warroom check` table and the text of the timeline entry the DOWN transition writes."""
    [row] = await run_once([spec], checker=checker)
    tracker = ProbeTracker(spec)
    transition = tracker.observe(row.result)
    return format_table([row], width=300), transition.describe()


async def test_a_refused_tcp_connection_says_refused():
    checker = Checker()
    try:
        table, entry = await table_and_entry(tcp(f"127.0.0.1:{closed_port()}"), checker)
    finally:
        await checker.aclose()
    assert "connected == true failed: got false (connection refused)" in table
    assert ": connected == true failed: got false (connection refused);" in entry, entry


async def test_a_tcp_connection_that_hangs_says_timed_out(monkeypatch):
    async def never(*args, **kwargs):
        await asyncio.Event().wait()  # a SYN into the void

    monkeypatch.setattr(asyncio, "open_connection", never)
    checker = Checker()
    try:
        table, entry = await table_and_entry(tcp("10.255.255.1:5432", timeout="50ms", interval="1s"), checker)
    finally:
        await checker.aclose()
    assert "got false (timeout after 50ms while connecting)" in table and "timeout after 50ms" in entry


@pytest.mark.parametrize("errno_name, cause", [
    ("EAI_NONAME", "no such name"), ("EAI_AGAIN", "the resolver did not answer")])
async def test_a_name_the_resolver_does_not_know_says_so(errno_name, cause):
    async def resolver(host: str) -> list[str]:
        raise socket.gaierror(getattr(socket, errno_name), "Name or service not known")

    checker = Checker(dns_resolver=resolver)
    try:
        table, entry = await table_and_entry(dns("db.internal.example"), checker)
    finally:
        await checker.aclose()
    expected = f"resolves == true failed: got false (DNS lookup failed: {cause})"
    assert expected in table and f": {expected};" in entry, (table, entry)


async def test_a_dns_lookup_that_hangs_says_timed_out():
    async def resolver(host: str) -> list[str]:
        await asyncio.Event().wait()
        return []

    checker = Checker(dns_resolver=resolver)
    try:
        spec = spec_from_dict({"name": "db-name", "type": "dns", "target": "db.example", "timeout": "50ms",
                               "interval": "1s", "conditions": ["answer contains 10.0.0.5"]})
        table, entry = await table_and_entry(spec, checker)
    finally:
        await checker.aclose()
    assert "answer contains 10.0.0.5 failed: got no answers (timeout after 50ms while resolving)" in table
