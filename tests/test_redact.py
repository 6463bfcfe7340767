"""The one set of redaction rules: command lines (argv and as typed), output, probe configs."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom.domain.errors import ParseError, RuleError
from warroom.domain.redact import (
    REDACTED, is_sensitive_name, redact_argv, redact_command_line, redact_text,
)
from warroom.domain.secrets import redact_urls_in
from warroom.probes.config import make_http_probe, parse_probes
from db_access import everything_stored

# (argv, the line stored, a secret that must be gone)
ARGV_CASES = [
    (["curl", "-u", "admin:hunter2", "http://127.0.0.1:1/"], "curl -u admin:<redacted> http://127.0.0.1:1/", "hunter2"),
    (["curl", "-uadmin:hunter2", "x"], "curl -uadmin:<redacted> x", "hunter2"),
    (["curl", "--user=admin:hunter2", "x"], "curl --user=admin:<redacted> x", "hunter2"),
    (["curl", "--proxy-user", "p:hunter2", "x"], "curl --proxy-user p:<redacted> x", "hunter2"),
    (["mysql", "-uroot", "-phunter2", "shop"], "mysql -uroot -p<redacted> shop", "hunter2"),
    (["mysqldump", "-phunter2"], "mysqldump -p<redacted>", "hunter2"),
    (["mysql", "--password=hunter2"], "mysql --password=<redacted>", "hunter2"),
    (["app", "--api-key", "hunter2", "--verbose"], "app --api-key <redacted> --verbose", "hunter2"),
    (["kubectl", "--token", "hunter2", "get", "pods"], "kubectl --token <redacted> get pods", "hunter2"),
    (["env", "GITHUB_TOKEN=hunter2", "DEBUG=1", "make"], "env GITHUB_TOKEN=<redacted> DEBUG=1 make", "hunter2"),
    (["PGPASSWORD=hunter2", "psql"], "PGPASSWORD=<redacted> psql", "hunter2"),
    (["java", "-Dkeystore.password=hunter2", "-jar", "x"], "java -Dkeystore.password=<redacted> -jar x", "hunter2"),
    (["curl", "-H", "Authorization: Bearer hunter2", "x"], "curl -H 'Authorization: <redacted>' x", "hunter2"),
    (["curl", "--header=Cookie: sid=hunter2", "x"], "curl '--header=Cookie: <redacted>' x", "hunter2"),
    (["curl", "-HCookie: sid=hunter2", "x"], "curl '-HCookie: <redacted>' x", "hunter2"),
    (["curl", "-H", "X-Api-Key:hunter2", "x"], "curl -H X-Api-Key:<redacted> x", "hunter2"),
    (["git", "clone", "https://bob:hunter2@git.example.com/r"], "git clone https://bob:<redacted>@git.example.com/r", "hunter2"),
    (["psql", "postgresql://me:hunter2@db:5432/x"], "psql postgresql://me:<redacted>@db:5432/x", "hunter2"),
    (["curl", "https://me:hunt@er2@api/x"], "curl https://me:<redacted>@api/x", "er2"),  # an unencoded @
    (["sshpass", "-p", "hunter2", "ssh", "host"], "sshpass -p <redacted> ssh host", "hunter2"),
    (["redis-cli", "-a", "hunter2", "ping"], "redis-cli -a <redacted> ping", "hunter2"),
    (["sh", "-c", "curl -u admin:hunter2 http://x && echo ok"], "sh -c 'curl -u admin:<redacted> http://x && echo ok'", "hunter2"),
    (["ssh", "db1", "TOKEN=hunter2 ./rotate.sh"], "ssh db1 'TOKEN=<redacted> ./rotate.sh'", "hunter2"),
    (["app", "--password=pass phrase"], "app --password=<redacted>", "phrase"),  # a value with a space, whole
    (["env", "TOKEN=two words", "make"], "env TOKEN=<redacted> make", "words"),
    # Left alone: nothing secret, even where a rule's shape is close.
    (["ssh", "git@github.com"], "ssh git@github.com", None),
    (["ssh", "-p", "2222", "host"], "ssh -p 2222 host", None),
    (["mkdir", "-pv", "dir"], "mkdir -pv dir", None),
    (["find", ".", "-print"], "find . -print", None),
    (["docker", "login", "--password-stdin", "registry.example.com"], "docker login --password-stdin registry.example.com", None),
    (["mysql", "--password", "-h", "db"], "mysql --password -h db", None),
    (["git", "log", "--author=alice"], "git log --author=alice", None),
    (["sh", "-c", "echo hi; exit 3"], "sh -c 'echo hi; exit 3'", None),
]


@pytest.mark.parametrize(("argv", "line", "secret"), ARGV_CASES)
def test_argv(argv, line, secret):
    redacted = redact_argv(argv)
    assert redacted.line == line
    if secret:
        assert secret not in redacted.line and any(secret in found for found in redacted.secrets)


@pytest.mark.parametrize(("typed", "stored"), [
    ("TOKEN=hunter2 make deploy && curl -u 'admin:hunt er2' http://x | grep ok",
     "TOKEN=<redacted> make deploy && curl -u admin:<redacted> http://x | grep ok"),
    ("export AWS_SECRET_ACCESS_KEY=hunter2; aws s3 ls", "export AWS_SECRET_ACCESS_KEY=<redacted>; aws s3 ls"),
    ('curl -H "Authorization: Bearer hunter2" https://api', "curl -H 'Authorization: <redacted>' https://api"),
    ("mysql -phunter2 -e 'select 1'", "mysql -p<redacted> -e 'select 1'"),
    ("ls -la   /var/log  # spacing kept", "ls -la   /var/log  # spacing kept"),
])
def test_command_line_as_typed(typed, stored):
    redacted = redact_command_line(typed)
    assert redacted.line == stored
    assert "hunter2" not in redacted.line and "hunt er2" not in redacted.line


def test_output_is_scrubbed_of_the_lines_secrets_and_of_credentials_it_shows():
    secrets = redact_argv(["curl", "-v", "-u", "admin:hunter2", "http://x"]).secrets
    output = ("> Authorization: Basic YWRtaW46aHVudGVyMg==\n"
              "password echoed: hunter2\n"
              "DB_PASSWORD=s3cret-value other=1\n"
              "see https://carol:pa55@example.com/x\n"
              "Content-Type: text/plain\n")
    scrubbed = redact_text(output, secrets)
    for secret in ("YWRtaW46aHVudGVyMg==", "hunter2", "s3cret-value", "pa55"):
        assert secret not in scrubbed
    assert "Content-Type: text/plain" in scrubbed and "other=1" in scrubbed


def test_names_and_urls():
    assert all(is_sensitive_name(n) for n in ("Authorization", "X-Api-Key", "Cookie", "DB_PASSWORD", "session_id"))
    assert not any(is_sensitive_name(n) for n in ("Author", "Accept", "Content-Type", "HOME", "PATH"))
    assert redact_urls_in("ssh://git@host https://u:p@h/") == f"ssh://git@host https://u:{REDACTED}@h/"


def test_probe_configs_use_the_same_rules():
    [spec] = parse_probes('[[probe]]\nname = "api"\ntype = "http"\ntarget = "https://svc:hunter2@api.example.com/health"\n'
                          'headers = { "X-Api-Key" = "literal-key", Accept = "text/plain" }\n', "p.toml")
    redacted = spec.redacted()
    assert redacted["target"] == "https://svc:<redacted>@api.example.com/health"
    assert redacted["headers"] == {"X-Api-Key": REDACTED, "Accept": "text/plain"}
    assert spec.target.startswith("https://svc:hunter2@")  # the check itself still uses it


async def test_probe_add_refuses_a_url_with_a_password_and_stores_nothing(service, database):
    incident = await service.declare("Outage", "SEV-2", author="alice")
    with pytest.raises(ParseError, match="holds the password written out"):
        await service.execute(incident.id, "/probe add api https://svc:hunter2@api.example.com/", "alice")
    assert await service.attached_probes(incident.id) == []
    assert make_http_probe("api", "https://svc@api.example.com/").redacted()["target"] == "https://svc@api.example.com/"
    await service.close()
    assert b"hunter2" not in everything_stored(database)


TEMPLATES = [
    lambda p: ["curl", "-u", f"admin:{p}", "http://x/"],
    lambda p: ["curl", f"--user=admin:{p}", "http://x/"],
    lambda p: ["mysql", f"-p{p}", "db"],
    lambda p: ["app", f"--password={p}"],
    lambda p: ["app", "--token", p],
    lambda p: ["env", f"API_TOKEN={p}", "run"],
    lambda p: ["curl", "-H", f"Authorization: Bearer {p}", "http://x/"],
    lambda p: ["git", "clone", f"https://bob:{p}@git.example.com/r"],
    lambda p: ["sh", "-c", f"curl -u admin:{shlex.quote(p)} http://x/ && echo ok"],
]


def _plausible(password: str) -> bool:
    """Passwords the templates can carry: no quote or backslash at either end (the templates put
    them in words naively), not shaped like an option (`--token -x` is taken for no value), and not
    part of the `<redacted>` marker itself."""
    return (password.strip("'\"\\") == password and re.match(r"^--?[A-Za-z]", password) is None
            and password not in REDACTED)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#@"),
               min_size=3, max_size=24).filter(_plausible),
       st.sampled_from(range(len(TEMPLATES))))
def test_no_template_lets_a_password_through(password, template):
    argv = TEMPLATES[template](password)
    redacted = redact_argv(argv)
    assert password not in redacted.line, (argv, redacted.line)
    assert password not in redact_text(f"echo {password} done", redacted.secrets)
    typed = redact_command_line(" ".join(shlex.quote(word) for word in argv))
    assert password not in typed.line, (argv, typed.line)
