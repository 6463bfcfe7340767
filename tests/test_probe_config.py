"""Probe files: defaults, strict validation with file, line and probe name, secrets kept as templates."""

from __future__ import annotations

import pytest

from warroom.probes.config import (
    MissingSecret, ProbeConfigError, load_probe_file, make_http_probe, parse_probes, spec_from_dict, with_interval,
)

GOOD = """
[[probe]]
name = "api"
group = "shop"
type = "http"
target = "http://127.0.0.1:8080/health"
interval = "10s"
headers = { Authorization = "Bearer ${API_TOKEN}", X-Plain = "hello" }
conditions = ["status == 200", 'body.status == "UP"', "response_time < 300"]

[[probe]]
name = "db"
type = "tcp"
target = "127.0.0.1:5432"

[[probe]]
name = "resolver"
type = "dns"
target = "api.test"
nameserver = "127.0.0.1:5353"
conditions = ["resolves == true", "answer contains 10.0.0.1"]
"""


def test_a_good_file_gives_specs_with_defaults():
    api, db, resolver = parse_probes(GOOD, "probes.toml")
    assert (api.name, api.group, api.type, api.interval, api.timeout) == ("api", "shop", "http", 10.0, 8.0)
    assert (api.failure_threshold, api.success_threshold, api.method, api.verify_tls) == (3, 2, "GET", True)
    assert [c.subject for c in api.checks] == ["status", "body", "response_time"]
    assert (db.interval, db.timeout) == (30.0, 10.0)  # timeout: the smaller of 10 s and 0.8 x interval
    assert [c.text for c in db.checks] == ["connected == true"]
    assert resolver.nameserver == "127.0.0.1:5353"


@pytest.mark.parametrize("body, line, says", [
    ('[[probe]]\nname = "a"\ntype = "smtp"\ntarget = "x"\n', 3, "probe a: field type: unknown type 'smtp'"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "ftp://x"\n', 4, "probe a: field target:"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\nconditions = ["status = 200"]\n', 5,
     "probe a: field conditions: condition 1 'status = 200': missing operator"),
    ('[[probe]]\nname = "a"\ntype = "tcp"\ntarget = "h:1"\nconditions = ["status == 200"]\n', 5,
     "status does not apply to tcp probes"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\ninterval = "5s"\ntimeout = "9s"\n', 6,
     "field timeout: 9s is longer than the interval 5s"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\nretires = 2\n', 5, "field retires: unknown field"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\n\n[[probe]]\nname = "a"\ntype = "tcp"\n'
     'target = "h:1"\n', 7, "probe a: field name: duplicate name"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\nheaders = { A = "${1BAD}" }\n', 5,
     "is not an environment variable name"),
    ('[[probe]]\nname = "a"\ntype = "dns"\ntarget = "x.test"\nnameserver = "dns.example"\n', 5,
     "field nameserver:"),
    ('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x"\nconditions = ["cert_expires_in > soon"]\n', 5,
     "cert_expires_in needs a duration such as 48h"),
])
def test_mistakes_name_file_line_and_probe(body, line, says):
    with pytest.raises(ProbeConfigError) as caught:
        parse_probes(body, "probes.toml")
    message = str(caught.value)
    assert message.startswith(f"probes.toml:{line}: "), message
    assert says in message


def test_broken_toml_and_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ProbeConfigError, match=r"^p.toml:2: invalid TOML"):
        parse_probes('[[probe]]\nname = "a\n', "p.toml")
    with pytest.raises(ProbeConfigError, match="cannot read probe file"):
        load_probe_file(tmp_path / "missing.toml")
    with pytest.raises(ProbeConfigError, match="unknown top-level field 'probes'"):
        parse_probes("[[probes]]\nname = 'a'\n", "p.toml")


def test_header_templates_resolve_at_request_time_and_stay_templates_elsewhere():
    api = parse_probes(GOOD, "probes.toml")[0]
    headers, secrets = api.resolve_headers({"API_TOKEN": "s3cr3t-token"})
    assert headers == {"Authorization": "Bearer s3cr3t-token", "X-Plain": "hello"}
    assert secrets == {"s3cr3t-token": "${API_TOKEN}"}
    assert api.to_dict()["headers"]["Authorization"] == "Bearer ${API_TOKEN}"
    assert "s3cr3t" not in repr(api.redacted())
    with pytest.raises(MissingSecret, match="API_TOKEN is not set"):
        api.resolve_headers({})


def test_literal_secret_looking_headers_are_masked_in_the_stored_form():
    spec = spec_from_dict({"name": "a", "type": "http", "target": "http://x",
                           "headers": {"Authorization": "Bearer literal", "Accept": "text/plain"}})
    assert spec.redacted()["headers"] == {"Authorization": "<redacted>", "Accept": "text/plain"}


def test_probe_add_makes_an_http_probe_with_defaults_and_fast_mode_caps_the_timeout():
    spec = make_http_probe("api", "http://127.0.0.1:1/health")
    assert (spec.type, spec.method, spec.interval, spec.timeout) == ("http", "GET", 30.0, 10.0)
    fast = with_interval(spec, 5.0)
    assert (fast.interval, fast.timeout) == (5.0, 4.0)
    with pytest.raises(ProbeConfigError, match="/probe add: probe api: field target"):
        make_http_probe("api", "not-a-url")


def test_stored_form_round_trips():
    for spec in parse_probes(GOOD, "probes.toml"):
        again = spec_from_dict(spec.to_dict())
        assert again.to_dict() == spec.to_dict()


def test_short_intervals_round_trip_through_the_stored_form():
    fast = make_http_probe("fast", "http://127.0.0.1:1/", interval="100ms", degraded_over="250ms", retries=1)
    assert (fast.timeout, fast.degraded_over) == (pytest.approx(0.08), 250.0)
    assert spec_from_dict(fast.to_dict()).to_dict() == fast.to_dict()
