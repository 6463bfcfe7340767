"""Every condition type, parsed and checked against real loopback servers (http, tcp, dns, TLS)."""

from __future__ import annotations

import pytest
from probe_servers import DnsServer, Target, closed_port, self_signed, server_context

from warroom.probes.checks import Checker, cert_not_after
from warroom.probes.conditions import ConditionError, Observation, evaluate, parse_condition
from warroom.probes.config import spec_from_dict


def http(url: str, *conditions: str, **fields):
    return spec_from_dict({"name": "t", "type": "http", "target": url, "interval": "2s",
                           "conditions": list(conditions), **fields})


@pytest.mark.parametrize("condition, path, holds, says", [
    ("status == 200", "/ok", True, None),
    ("status == 200", "/status/503", False, "status == 200 failed: got 503"),
    ("status in [200, 204]", "/status/204", True, None),
    ("status in [200, 204]", "/status/404", False, "status in [200, 204] failed: got 404"),
    ("status not in [500, 503]", "/status/503", False, "status not in [500, 503] failed: got 503"),
    ("response_time < 2000", "/ok", True, None),
    ("response_time < 50", "/slow?delay=0.2", False, "response_time < 50 failed: got "),
    ("response_time < 1.5s", "/ok", True, None),
    ('body contains "UP"', "/ok", True, None),
    ('body contains "DOWN"', "/ok", False, 'body contains "DOWN" failed: got "{'),
    ('body not contains "error"', "/ok", True, None),
    ('body.status == "UP"', "/ok", True, None),
    ('body.status == "DOWN"', "/ok", False, 'body.status == "DOWN" failed: got "UP"'),
    ("body.items[0].ready == true", "/ok", True, None),
    ("body.version >= 3", "/ok", True, None),
    ("body.missing == 1", "/ok", False, "body.missing == 1 failed: body has no missing"),
    ('body.status == "UP"', "/status/200", False, 'body.status == "UP" failed: body is not JSON'),
])
async def test_http_conditions_against_a_loopback_server(target, checker, condition, path, holds, says):
    result = await checker.check(http(target.url(path), condition))
    assert result.ok is holds, result
    if says:
        assert result.failed_condition.startswith(says), result.failed_condition


async def test_the_first_failing_condition_is_recorded(target, checker):
    result = await checker.check(http(target.url("/status/503"), "response_time < 5000", "status == 200",
                                      'body contains "nope"'))
    assert result.failed_condition == "status == 200 failed: got 503"


async def test_no_response_is_described_not_compared(checker):
    result = await checker.check(http(f"http://127.0.0.1:{closed_port()}/", "status == 200"))
    assert not result.ok
    assert result.failed_condition == "status == 200 failed: no response (connection refused)"


async def test_tcp_connected_condition(target, checker):
    spec = spec_from_dict({"name": "port", "type": "tcp", "target": f"127.0.0.1:{target.port}",
                           "conditions": ["connected == true", "response_time < 2000"]})
    assert (await checker.check(spec)).ok
    closed = spec_from_dict({"name": "port", "type": "tcp", "target": f"127.0.0.1:{closed_port()}"})
    result = await checker.check(closed)
    assert not result.ok
    assert result.error == "connection refused"
    assert result.failed_condition == "connected == true failed: got false (connection refused)"  # the cause
    inverted = spec_from_dict({"name": "port", "type": "tcp", "target": f"127.0.0.1:{closed_port()}",
                               "conditions": ["connected == false"]})
    assert (await checker.check(inverted)).ok


async def test_dns_conditions_against_a_loopback_dns_server(checker):
    server = await DnsServer({"api.test": ["10.0.0.1", "10.0.0.2"], "empty.test": []}).start()
    try:
        def dns(name, *conditions):
            return spec_from_dict({"name": "dns", "type": "dns", "target": name, "nameserver": server.address,
                                   "conditions": list(conditions)})

        found = await checker.check(dns("api.test", "resolves == true", "answer contains 10.0.0.1"))
        assert found.ok and found.answers == ("10.0.0.1", "10.0.0.2")
        wrong = await checker.check(dns("api.test", "answer contains 10.9.9.9"))
        assert wrong.failed_condition == "answer contains 10.9.9.9 failed: got [10.0.0.1, 10.0.0.2]"
        missing = await checker.check(dns("gone.invalid", "resolves == true"))
        assert not missing.ok
        assert missing.error == "DNS lookup failed: NXDOMAIN: the name does not exist"
        assert missing.failed_condition == ("resolves == true failed: got false "
                                            "(DNS lookup failed: NXDOMAIN: the name does not exist)")
        assert (await checker.check(dns("gone.invalid", "resolves == false"))).ok
        assert "gone.invalid" in server.questions
    finally:
        server.close()


async def test_dns_with_the_system_resolver_reads_localhost_from_the_hosts_file(checker):
    spec = spec_from_dict({"name": "dns", "type": "dns", "target": "localhost",
                           "conditions": ["resolves == true", "answer contains 127.0.0.1"]})
    result = await checker.check(spec)
    assert result.ok, result


async def test_cert_expires_in_against_a_self_signed_tls_server(tmp_path):
    made = self_signed(tmp_path, days=2)
    if made is None:
        pytest.skip("neither the cryptography package nor the openssl command is available to make a certificate")
    cert, key = made
    checker = Checker()
    try:
        async with Target(server_context(cert, key)) as server:
            fine = await checker.check(http(server.url("/ok"), "status == 200", "cert_expires_in > 24h",
                                            verify_tls=False))
            assert fine.ok, fine
            soon = await checker.check(http(server.url("/ok"), "cert_expires_in > 7d", verify_tls=False))
            assert not soon.ok
            assert soon.failed_condition.startswith("cert_expires_in > 7d failed: got 1d 23h")
            plain = await checker.check(http(server.url("/ok").replace("https", "http"), "cert_expires_in > 1h"))
            assert not plain.ok
    finally:
        await checker.aclose()


def test_cert_parser_reads_not_after_of_a_generated_certificate(tmp_path):
    import base64
    import ssl

    made = self_signed(tmp_path, days=30)
    if made is None:
        pytest.skip("no openssl command to make a certificate")
    der = ssl.PEM_cert_to_DER_cert(made[0].read_text())
    assert cert_not_after(der) is not None
    assert cert_not_after(base64.b64decode("AAAA")) is None


@pytest.mark.parametrize("text, kind, problem", [
    ("status >= ok", "http", "status needs whole numbers"),
    ("status in 200", "http", "in needs a list"),
    ("connected == yes", "tcp", "connected compares with true or false"),
    ("answer == 10.0.0.1", "dns", "operator '==' does not apply to answer"),
    ("latency < 3", "http", "unknown subject"),
    ('body contains "unclosed', "http", "unclosed quote"),
    ("response_time < fast", "http", r"response_time needs 300 \(ms\) or 1.5s"),
])
def test_condition_mistakes_are_explained(text, kind, problem):
    with pytest.raises(ConditionError, match=problem):
        parse_condition(text, kind)


def test_conditions_evaluate_on_observations():
    conditions = [parse_condition(text, "http") for text in ("status == 200", "response_time <= 300")]
    assert evaluate(conditions, Observation(status=200, response_time=120.0)) is None
    assert evaluate(conditions, Observation(status=200, response_time=450.0)) == "response_time <= 300 failed: got 450 ms"
    flag = parse_condition("body.ok == true", "http")
    assert evaluate([flag], Observation(body='{"ok": 1}')) == "body.ok == true failed: got 1"  # 1 is not true
