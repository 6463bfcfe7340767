"""Every fault of a target is a result, never an exception or a stall: refused, DNS failure, timeout,
TLS error, reset mid-body, a 50 MB body, a trickling server, invalid URLs, hostile bodies."""

from __future__ import annotations

import time

import pytest
from probe_servers import StubResolver, Target, closed_port, self_signed, server_context, until

from warroom.probes.checks import BODY_CAP, Checker
from warroom.probes.config import ProbeSpec, spec_from_dict
from warroom.probes.engine import ProbeEngine


def http(url: str, timeout: str = "1s", **fields) -> ProbeSpec:
    return spec_from_dict({"name": "t", "type": "http", "target": url, "interval": "2s", "timeout": timeout,
                           "conditions": ["status == 200"], **fields})


async def test_refused_connection(checker):
    result = await checker.check(http(f"http://127.0.0.1:{closed_port()}/"))
    assert (result.ok, result.error, result.status_code) == (False, "connection refused", None)


async def test_dns_failure_of_an_http_target(checker, target):
    result = await checker.check(http(f"http://nothing-here.invalid:{target.port}/ok"))
    assert not result.ok
    assert result.error.startswith("DNS lookup failed")
    named = await checker.check(http(f"http://api.test:{target.port}/ok"))  # the stub knows this one
    assert named.ok, named


async def test_timeout_waiting_for_headers(checker, target):
    started = time.perf_counter()
    result = await checker.check(http(target.url("/slow?delay=60"), timeout="200ms"))
    assert time.perf_counter() - started < 20  # cut at the probe's timeout, not the server's pace
    assert not result.ok
    assert result.error == "timeout after 200ms while waiting for the response"


async def test_trickling_server_is_cut_at_the_timeout(checker, target):
    started = time.perf_counter()
    result = await checker.check(http(target.url("/trickle"), timeout="300ms"))
    assert time.perf_counter() - started < 10  # the server would take 20 s
    assert result.status_code == 200 and not result.ok
    assert result.error.startswith("timeout after 300ms while reading the body, ")
    assert "bytes received" in result.error


async def test_fifty_megabyte_body_is_read_only_up_to_the_cap(checker, target):
    started = time.perf_counter()
    result = await checker.check(http(target.url("/big"), timeout="2s"))
    assert time.perf_counter() - started < 20
    assert result.ok and result.truncated
    assert len(result.excerpt) <= 120
    # the server saw the client go away instead of sending all 50 MB
    await until(lambda: target.hits.get("big-aborted", 0) == 1)
    assert BODY_CAP == 64 * 1024


async def test_reset_in_the_middle_of_the_body(checker, target):
    result = await checker.check(http(target.url("/reset")))
    assert not result.ok and result.status_code == 200
    assert result.error.startswith("connection broken while reading body")
    assert result.failed_condition is None  # status 200 held; the error is the reason
    assert result.reason() == result.error


async def test_tls_error_with_a_self_signed_certificate(tmp_path, checker):
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("neither the cryptography package nor the openssl command is available to make a certificate")
    async with Target(server_context(*made)) as server:
        result = await checker.check(http(server.url("/ok")))
        assert not result.ok
        assert result.error.startswith("TLS error: certificate verify failed"), result.error
        plain = await checker.check(http(server.url("/ok").replace("https:", "http:")))
        assert not plain.ok and plain.error  # http spoken to a TLS port: an error, not a crash
        trusting = await checker.check(http(server.url("/ok"), verify_tls=False))
        assert trusting.ok


async def test_invalid_urls_are_results(checker):
    port = await checker.check(http("http://127.0.0.1:99999/"))
    assert not port.ok and port.error.startswith("invalid URL")
    # a spec that skipped validation (for example an old stored one) still only gives a result
    raw = ProbeSpec(name="raw", type="http", target="nope://what ever", timeout=1.0)
    result = await checker.check(raw)
    assert not result.ok and result.error


async def test_non_utf8_and_escape_sequences_in_the_body_are_made_inert(checker, target):
    result = await checker.check(http(target.url("/hostile")))
    assert result.ok
    excerpt = result.excerpt
    assert "\x1b" not in excerpt and "\x07" not in excerpt
    assert "\ufffd" in excerpt  # bad bytes replaced, not an exception
    assert "[bold]markup[/bold]" in excerpt  # kept as text; the UI renders it literally
    failing = await checker.check(http(target.url("/hostile"), conditions=['body contains "nothing"']))
    assert "\x1b" not in failing.failed_condition


async def test_redirects_are_not_followed_unless_asked(checker, target):
    assert (await checker.check(http(target.url("/redirect")))).status_code == 302
    followed = await checker.check(http(target.url("/redirect"), follow_redirects=True))
    assert followed.ok and followed.status_code == 200


async def test_an_engine_full_of_faulty_probes_keeps_scheduling(target):
    """All the faults at once, repeatedly: every check ends as a result and the engine goes on."""
    urls = [f"http://127.0.0.1:{closed_port()}/", target.url("/trickle"), target.url("/big"),
            target.url("/reset"), target.url("/hostile"), target.url("/slow?delay=5"),
            f"http://nothing.invalid:{target.port}/", "http://127.0.0.1:99999/", target.url("/ok")]
    specs = [spec_from_dict({"name": f"p{i}", "type": "http", "target": url, "interval": "300ms",
                             "timeout": "200ms"}) for i, url in enumerate(urls)]
    seen: list = []

    async def sink(batch):
        seen.extend(batch)

    checker = Checker(http_resolver=StubResolver())
    engine = ProbeEngine(specs, on_results=sink, checker=checker, jitter_max=0.1, flush_every=0.1)
    def results_by_probe() -> dict[str, list]:
        return {spec.name: [r for r in seen if r.probe == spec.name] for spec in specs}

    try:
        await engine.start()
        await until(lambda: all(len(results) >= 2 for results in results_by_probe().values()))
        await engine.stop()
    finally:
        await checker.aclose()
    by_probe = results_by_probe()
    assert [r.ok for r in by_probe["p8"]] == [True] * len(by_probe["p8"])
    assert not any(r.ok for r in by_probe["p0"])
