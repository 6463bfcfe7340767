"""Bad input to the loaders is one line and exit 2, never `internal error` (issue 9, 12): a config
nested 5,000 deep, a webhook timeout of -1, WARROOM_USER that is not UTF-8; and the config,
policy, probe and theme loaders fuzzed with Hypothesis: whatever the text, nothing but the
loader's own error comes out (ConfigError, PolicyError, ProbeConfigError, ValueError for themes)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hostile_corpus import DEEP_TOML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import assert_user_error

from warroom.domain.errors import PolicyError
from warroom.domain.policy import parse_policy
from warroom.probes.config import ProbeConfigError, parse_probes
from warroom.service.config import ConfigError, load_config
from warroom.ui.themes import load_theme_file, themes_dir

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])

# -- the three reported cases ----------------------------------------------------------------------

def test_a_config_nested_5000_deep_is_one_line(run_cli, cli_env):
    config = Path(cli_env["WARROOM_CONFIG_DIR"]) / "config.toml"
    config.write_text(DEEP_TOML)
    assert_user_error(run_cli("list"), f"{config}: invalid TOML: arrays or tables are nested too deeply")


@pytest.mark.parametrize("timeout", ["-1", "0", "0.0", "-0.5", "301", "nan", "inf"])
def test_a_webhook_timeout_that_cannot_work_is_refused(run_cli, cli_env, timeout):
    config = Path(cli_env["WARROOM_CONFIG_DIR"]) / "config.toml"
    config.write_text(f'[[webhook]]\nkind = "slack"\nurl_env = "HOOK"\ntimeout = {timeout}\n')
    assert_user_error(run_cli("list"), f"{config}:4: field webhook[0].timeout")


def test_a_webhook_url_env_that_is_not_a_variable_name_is_refused(run_cli, cli_env):
    config = Path(cli_env["WARROOM_CONFIG_DIR"]) / "config.toml"
    config.write_text('[[webhook]]\nkind = "json"\nurl_env = "https://hooks.example/T0/B0/secret"\n')
    line = assert_user_error(run_cli("list"), f"{config}:3: field webhook[0].url_env")
    assert "secret" not in line  # the message names the field; a URL put there by mistake is not echoed


@pytest.mark.parametrize("variable", ["WARROOM_USER", "LOGNAME"])
def test_a_user_name_that_is_not_utf8_is_one_line(cli_env, tmp_path, variable):
    env = {key: value for key, value in cli_env.items() if key not in ("WARROOM_USER", "LOGNAME", "USER")}
    env[variable] = os.fsdecode(b"caf\xe9")  # passed to the child as the raw byte 0xe9
    done = subprocess.run([sys.executable, "-m", "warroom", "declare", "x", "--severity", "SEV-3"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert_user_error(done, "is not valid UTF-8")


# -- fuzzing ---------------------------------------------------------------------------------------

def toml_value(value) -> str:
    """A TOML literal for a JSON-like value (inline tables and arrays only)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(key, ensure_ascii=False)} = {toml_value(item)}" for key, item in value.items()) + "}"


def toml_document(doc: dict) -> str:
    return "".join(f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}\n" for key, value in doc.items())


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
NASTY_STRINGS = st.sampled_from(["", " ", "30s", "-1s", "0", "1ms", "99999999d", "1e309", "${", "${X", "${}",
                                 "http://", "http://a:b@", "SEV-1", "\x1b[2J", "\u202e", "a\u200bb", "[/x]", "\x00"])
LEAVES = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT | NASTY_STRINGS)
VALUES = st.recursive(LEAVES, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(TEXT.filter(bool), children, max_size=4), max_leaves=12)


@st.composite
def mutated(draw, doc):
    """`doc` with a few values replaced, keys added or keys removed, at random depths."""
    def mutate(node):
        choice = draw(st.integers(0, 3))
        if isinstance(node, dict) and node and choice == 0:
            node = dict(node)
            node.pop(draw(st.sampled_from(sorted(node))))
            return node
        if isinstance(node, dict) and choice == 1:
            return {**node, draw(TEXT.filter(bool)): draw(VALUES)}
        if isinstance(node, dict) and node and choice == 2:
            key = draw(st.sampled_from(sorted(node)))
            return {**node, key: mutate(node[key])}
        if isinstance(node, list) and node and choice == 2:
            index = draw(st.integers(0, len(node) - 1))
            return node[:index] + [mutate(node[index])] + node[index + 1:]
        return draw(VALUES)

    for _ in range(draw(st.integers(1, 4))):
        doc = mutate(doc)
    return doc if isinstance(doc, dict) else {"value": doc}


def packaged_policy() -> dict:
    return tomllib.loads(resources.files("warroom.policies").joinpath("default.toml").read_text(encoding="utf-8"))


SAMPLE_PROBES = {"probe": [
    {"name": "api", "type": "http", "target": "http://admin:${PW}@127.0.0.1:9/health?api_key=${K}", "interval": "30s",
     "timeout": "5s", "headers": {"Authorization": "Bearer ${TOKEN}"}, "conditions": ["status == 200", "body.a.b == 1"],
     "degraded_over": 500, "retries": 1},
    {"name": "db", "type": "tcp", "target": "127.0.0.1:5432"},
    {"name": "dns", "type": "dns", "target": "api.test", "nameserver": "127.0.0.1:53", "conditions": ["answer contains 10.0.0.1"]},
]}
SAMPLE_CONFIG = {"user": "alice", "theme": "warroom-dark", "database": "/tmp/x.db", "default_policy": "default",
                 "probe_retention": "24h", "webhook": [{"kind": "slack", "url_env": "HOOK", "name": "ops", "timeout": 5}]}


def sample_theme() -> dict:
    return tomllib.loads((themes_dir() / "warroom-dark.toml").read_text(encoding="utf-8"))


def only(error_type, load, text: str) -> None:
    try:
        load(text)
    except error_type as error:
        assert str(error) and "\n" not in str(error).strip(), str(error)


def load_config_text(tmp_path: Path):
    def load(text: str):
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path)
    return load


def load_theme_text(tmp_path: Path):
    def load(text: str):
        path = tmp_path / "fuzzed.toml"
        path.write_text(text, encoding="utf-8")
        return load_theme_file(path)
    return load


@FUZZ
@given(st.data())
def test_fuzzed_policies_raise_only_policy_errors(data):
    only(PolicyError, lambda text: parse_policy(text, "fuzz.toml"), toml_document(data.draw(mutated(packaged_policy()))))


@FUZZ
@given(st.data())
def test_fuzzed_probe_files_raise_only_probe_config_errors(data):
    only(ProbeConfigError, lambda text: parse_probes(text, "fuzz.toml"), toml_document(data.draw(mutated(SAMPLE_PROBES))))


@FUZZ
@given(st.data())
def test_fuzzed_configs_raise_only_config_errors(tmp_path, data):
    only(ConfigError, load_config_text(tmp_path), toml_document(data.draw(mutated(SAMPLE_CONFIG))))


@FUZZ
@given(st.data())
def test_fuzzed_themes_raise_only_value_errors(tmp_path, data):
    only(ValueError, load_theme_text(tmp_path), toml_document(data.draw(mutated(sample_theme()))))


@FUZZ
@given(st.text(max_size=300) | st.sampled_from([DEEP_TOML, "[" * 3000, "a = {" * 3000, "x = 1\n" * 3 + "[[probe]]" * 500]))
def test_any_text_raises_only_each_loaders_own_error(tmp_path, text):
    text = text.encode("utf-8", "replace").decode("utf-8")
    only(PolicyError, lambda t: parse_policy(t, "fuzz.toml"), text)
    only(ProbeConfigError, lambda t: parse_probes(t, "fuzz.toml"), text)
    only(ConfigError, load_config_text(tmp_path), text)
    only(ValueError, load_theme_text(tmp_path), text)
