"""A minimal DNS client (one UDP question, A and AAAA answers) for dns probes with a `nameserver`.

Without a `nameserver` a dns probe uses the system resolver (getaddrinfo); with one it asks that
server directly, so a probe can watch a specific resolver and tests can use a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import struct

RCODES = {1: "FORMERR: the server could not read the query", 2: "SERVFAIL: the server failed",
          3: "NXDOMAIN: the name does not exist", 4: "NOTIMP: the server does not do this", 5: "REFUSED"}
TYPE_A, TYPE_AAAA = 1, 28


class DnsLookupError(Exception):
    """The server answered with an error, or the answer could not be read."""


def parse_nameserver(text: str) -> tuple[str, int]:
    """'127.0.0.1', '127.0.0.1:5353', '[::1]:53' -> (host, port); raises ValueError."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "53"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, "53"
    ipaddress.ip_address(host)  # a name server is given by address (no lookup to find the resolver)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port {port!r}")
    return host, int(port)


def build_query(name: str, qtype: int = TYPE_A, ident: int | None = None) -> tuple[int, bytes]:
    ident = secrets.randbelow(65536) if ident is None else ident
    labels = name.rstrip(".").encode("idna").split(b".")
    qname = b"".join(len(label).to_bytes(1, "big") + label for label in labels) + b"\0"
    return ident, struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", qtype, 1)


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length


def parse_answer(data: bytes, ident: int) -> list[str]:
    """Addresses in a response to query `ident`; DnsLookupError for an error code or garbage."""
    try:
        got, flags, questions, answers = struct.unpack(">HHHH", data[:8])
        if got != ident or not flags & 0x8000:
            raise DnsLookupError("the answer does not match the question")
        rcode = flags & 0x000F
        if rcode:
            raise DnsLookupError(RCODES.get(rcode, f"server answered with code {rcode}"))
        pos = 12
        for _ in range(questions):
            pos = _skip_name(data, pos) + 4
        found = []
        for _ in range(answers):
            pos = _skip_name(data, pos)
            rtype, _, _, length = struct.unpack(">HHIH", data[pos:pos + 10])
            pos += 10
            rdata = data[pos:pos + length]
            pos += length
            if rtype == TYPE_A and length == 4:
                found.append(str(ipaddress.IPv4Address(rdata)))
            elif rtype == TYPE_AAAA and length == 16:
                found.append(str(ipaddress.IPv6Address(rdata)))
        return found
    except (struct.error, IndexError) as error:
        raise DnsLookupError(f"unreadable answer ({error})") from None


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, answer: asyncio.Future):
        self.answer = answer

    def datagram_received(self, data: bytes, addr) -> None:
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def query(name: str, server: tuple[str, int], qtype: int = TYPE_A) -> list[str]:
    """Ask `server` for `name` once over UDP (the caller sets the deadline)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(answer), remote_addr=server)
    try:
        ident, packet = build_query(name, qtype)
        transport.sendto(packet)
        return parse_answer(await answer, ident)
    finally:
        transport.close()


def nameserver_resolver(nameserver: str):
    """A DnsResolver (host -> addresses) asking one server for A, then AAAA if there is no A."""
    server = parse_nameserver(nameserver)

    async def resolve(host: str) -> list[str]:
        found = await query(host, server, TYPE_A)
        return sorted(found or await query(host, server, TYPE_AAAA))

    return resolve
