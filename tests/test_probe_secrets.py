"""Secrets in probes (issue 9, 9 and 10): user:password in a URL is basic auth (it was always DOWN);
the password and secret-looking query values are never shown or stored; a header value a request
cannot carry is refused naming its variable, with no part of the value, not even a position."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from probe_servers import Target
from test_probe_cli import warroom  # noqa: F401 (a fixture: the command in-process, in a thread)

from warroom.domain.secrets import literal_secrets, redact_url, redact_urls_in
from warroom.probes.config import spec_from_dict

PASSWORD = "hunter2"
KEY = Target.api_key


def with_login(target: Target, path: str = "/auth", password: str = PASSWORD, key: str = KEY) -> str:
    return target.url(path).replace("http://", f"http://admin:{password}@") + f"?api_key={key}"


def leaks(text: str, *secrets: str) -> list[str]:
    """Every secret (or its basic-auth form) found in `text`."""
    import base64

    forms = []
    for secret in secrets:
        forms += [secret, base64.b64encode(f"admin:{secret}".encode()).decode()]
    return [form for form in forms if form in text]


@pytest.mark.parametrize("url, shown", [
    ("http://admin:hunter2@host/x?api_key=abc&page=2", "http://admin:<redacted>@host/x?api_key=<redacted>&page=2"),
    ("https://host/?token=t0k&Signature=s1g&q=ok#frag", "https://host/?token=<redacted>&Signature=<redacted>&q=ok#frag"),
    ("https://ghp_0123456789abcdefghij@github.example/", "https://<redacted>@github.example/"),
    ("http://admin:${PW}@host/?api_key=${KEY}", "http://admin:${PW}@host/?api_key=${KEY}"),  # templates stay
    ("http://alice@host/", "http://alice@host/"),
    ("http://host:8080/health", "http://host:8080/health"),
    ("not a url", "not a url"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_literal_secrets_are_named_without_their_values():
    assert literal_secrets("http://a:pw@h/?api_key=1&x=2&access_token=3") == [
        "the password", "query value api_key", "query value access_token"]
    assert literal_secrets("http://a:${PW}@h/?api_key=${K}") == []
    assert redact_urls_in("failed: GET http://a:pw@h/?token=t (refused)") == "failed: GET http://a:<redacted>@h/?token=<redacted> (refused)"


async def test_user_and_password_in_the_url_are_basic_auth_and_never_come_back(checker, target):
    spec = spec_from_dict({"name": "admin-api", "type": "http", "target": with_login(target)})
    result = await checker.check(spec)
    assert result.ok and result.status_code == 200, result  # it used to be DOWN on every check
    assert leaks(json.dumps(result.to_dict()), PASSWORD, KEY) == []  # the server echoed both back
    assert "<redacted>" in result.excerpt
    wrong = spec_from_dict({"name": "wrong", "type": "http", "target": with_login(target, password="nope")})
    assert (await checker.check(wrong)).status_code == 401
    assert leaks(json.dumps(spec.redacted()), PASSWORD, KEY) == [] and spec.redacted()["target"].startswith(
        "http://admin:<redacted>@")


async def test_a_non_ascii_password_is_sent_as_utf8_basic_auth(checker, target):
    target.login = ("admin", "pässwörd☃")
    spec = spec_from_dict({"name": "utf8", "type": "http", "target": with_login(target, password="p%C3%A4ssw%C3%B6rd%E2%98%83")})
    result = await checker.check(spec)
    assert result.ok, result


async def test_templates_in_the_url_are_filled_at_request_time_and_scrubbed(target):
    from probe_servers import StubResolver

    from warroom.probes.checks import Checker

    spec = spec_from_dict({"name": "t", "type": "http",
                           "target": target.url("/auth").replace("http://", "http://admin:${PW}@") + "?api_key=${KEY}"})
    checker = Checker(http_resolver=StubResolver(), env={"PW": PASSWORD, "KEY": KEY})
    try:
        result = await checker.check(spec)
    finally:
        await checker.aclose()
    assert result.ok, result
    assert leaks(json.dumps(result.to_dict()), PASSWORD, KEY) == []
    missing = Checker(env={})
    try:
        down = await missing.check(spec)
    finally:
        await missing.aclose()
    assert not down.ok and down.error == "environment variable PW is not set (URL of probe t)"


@pytest.mark.parametrize("value", ["sekrit-ü-value", "sekrit\tthen\nnewline", "sekrit☃snowman", "sekrit\x00nul"])
async def test_a_header_value_a_request_cannot_carry_is_refused_by_name_only(checker, target, value):
    from probe_servers import StubResolver

    from warroom.probes.checks import Checker

    spec = spec_from_dict({"name": "h", "type": "http", "target": target.url("/ok"),
                           "headers": {"X-Token": "Bearer ${API_TOKEN}"}})
    checker = Checker(http_resolver=StubResolver(), env={"API_TOKEN": value})
    try:
        result = await checker.check(spec)
    finally:
        await checker.aclose()
    assert not result.ok
    assert result.error == ("header X-Token of probe h: ${API_TOKEN} holds a character a header cannot carry "
                            "(only printable ASCII)")
    shown = json.dumps(result.to_dict(), ensure_ascii=False)
    for part in re.split(r"[^A-Za-z]+", value):  # no piece of the value, no character, no position
        assert part not in ("sekrit", "value", "then", "newline", "snowman") or part not in shown, part
    assert not any(ch in shown for ch in "ü☃\x00") and "\\u" not in shown
    assert "position" not in shown and "codec" not in shown and "\\x" not in shown


async def test_probe_add_refuses_a_written_out_secret_and_stores_nothing(service, clock):
    incident = await service.declare("Admin API down", "SEV-2", author="alice")
    from warroom.domain.errors import ParseError

    with pytest.raises(ParseError) as refused:
        await service.execute(incident.id, "/probe add admin http://admin:hunter2@127.0.0.1:9/?api_key=k3y-XYZ-7781", "al")
    message = str(refused.value)
    assert "the password and query value api_key written out" in message and "${VAR}" in message
    assert leaks(message, PASSWORD, KEY) == []
    assert await service.attached_probes(incident.id) == []
    assert len(await service.entries(incident.id)) == 1


async def test_probe_add_with_templates_is_stored_and_shown_as_templates(service, tmp_path, cli_env, warroom):
    incident = await service.declare("Admin API down", "SEV-2", author="alice")
    async with Target() as target:
        url = target.url("/auth").replace("http://", "http://admin:${ADMIN_PW}@") + "?api_key=${ADMIN_KEY}"
        [entry] = await service.execute(incident.id, f"/probe add admin {url}", "alice")
        assert f"GET {url} every 30s" in entry.text
        [attached] = await service.attached_probes(incident.id)
        assert attached.config["target"] == url
        env = {**cli_env, "ADMIN_PW": PASSWORD, "ADMIN_KEY": KEY}
        code, out, err = await warroom("check", "--incident", incident.id, env=env)
        assert code == 0 and "1 probes: 1 healthy" in out, (out, err)
        code, out, err = await warroom("check", "--incident", incident.id, "--json", env=env)
        assert leaks(out, PASSWORD, KEY) == [], out
    code, exported, _ = await warroom("export", incident.id)
    assert code == 0 and "${ADMIN_PW}" in exported


async def test_a_probe_file_with_literal_credentials_shows_them_nowhere(tmp_path, cli_env, warroom):
    from warroom.ui.screens.probe_detail import describe_probe

    async with Target() as target:
        path = tmp_path / "probes.toml"
        path.write_text(f'[[probe]]\nname = "admin"\ntype = "http"\ntarget = "{with_login(target)}"\n'
                        f'[[probe]]\nname = "gone"\ntype = "http"\n'
                        f'target = "{with_login(target).replace(str(target.port), "1")}"\n')
        code, table, err = await warroom("check", "--probes", str(path))
        code_json, dumped, _ = await warroom("check", "--probes", str(path), "--json")
    assert code == 1 and "admin" in table  # `gone` is DOWN (nothing listens on port 1)
    rows = {row["probe"]["name"]: row for row in json.loads(dumped)}
    assert rows["admin"]["state"] == "up", rows["admin"]
    assert leaks(table + err + dumped, PASSWORD, KEY) == []

    from warroom.probes.config import load_probe_file
    from warroom.probes.states import ProbeState
    from warroom.service.probe_board import ProbeView
    from warroom.store.probes import Uptime

    spec = load_probe_file(path)[0]
    view = ProbeView(name=spec.name, group=spec.group, spec=spec, state=ProbeState.UP, since=None, paused=False,
                     interval=30, last_result=None, consecutive_failures=0, first_failure_at=None,
                     recent_latencies=(), uptime=Uptime(0, 0), attached=False)  # what the detail screen shows
    shown = str(describe_probe(view, [], [], datetime(2026, 11, 23, tzinfo=timezone.utc)))
    assert "admin:<redacted>@" in shown and leaks(shown, PASSWORD, KEY) == []
