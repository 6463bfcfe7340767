"""Where the database is, who is writing, and the config file's error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom.service.config import Config, ConfigError, config_path, load_config, resolve_database, resolve_user


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No WARROOM_* variables, the config dir in tmp_path, XDG dirs in tmp_path."""
    for name in ("WARROOM_DB", "WARROOM_USER", "WARROOM_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    monkeypatch.setenv("WARROOM_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return config_dir


def test_database_precedence_flag_then_env_then_config_then_user_data_dir(isolated, monkeypatch, tmp_path):
    (isolated / "config.toml").write_text('database = "~/incidents/from-config.db"\n')
    config = load_config()
    monkeypatch.setenv("WARROOM_DB", str(tmp_path / "from-env.db"))
    assert resolve_database(str(tmp_path / "from-flag.db"), config) == tmp_path / "from-flag.db"
    assert resolve_database(None, config) == tmp_path / "from-env.db"
    monkeypatch.delenv("WARROOM_DB")
    assert resolve_database(None, config) == tmp_path / "home" / "incidents" / "from-config.db"
    assert resolve_database(None, Config()) == tmp_path / "xdg-data" / "warroom" / "warroom.db"
    monkeypatch.setenv("WARROOM_DB", "")  # set but empty counts as unset
    assert resolve_database(None, Config()) == tmp_path / "xdg-data" / "warroom" / "warroom.db"


def test_user_precedence_flag_then_env_then_config_then_login(isolated, monkeypatch):
    config = Config(user="from-config")
    monkeypatch.setenv("WARROOM_USER", "from-env")
    assert resolve_user("from-flag", config) == "from-flag"
    assert resolve_user(None, config) == "from-env"
    monkeypatch.delenv("WARROOM_USER")
    assert resolve_user(None, config) == "from-config"
    monkeypatch.setenv("USER", "login-name")
    monkeypatch.setenv("LOGNAME", "login-name")
    assert resolve_user(None, Config()) == "login-name"
    monkeypatch.setenv("WARROOM_USER", "  ")
    assert resolve_user(" ", Config(user="\t")) == "login-name"  # blanks are skipped, not used
    assert resolve_user("  bob  ", config) == "bob"


def test_config_dir_comes_from_the_environment(isolated):
    assert config_path() == isolated / "config.toml"
    assert load_config() == Config()  # a missing file is an empty config


def test_full_config_is_read(isolated):
    (isolated / "config.toml").write_text(
        'user = "alice"\ntheme = "warroom-light"\ndefault_policy = "p-levels-003"\n'
        '[[webhook]]\nkind = "slack"\nurl_env = "WARROOM_SLACK_URL"\n'
    )
    config = load_config()
    assert (config.user, config.theme, config.default_policy) == ("alice", "warroom-light", "p-levels-003")
    assert config.webhook[0].url_env == "WARROOM_SLACK_URL"


@pytest.mark.parametrize(("text", "expected"), [
    ('user = "a"\ndatabse = "x.db"\n', r"config.toml:2: field databse: .*unknown field"),
    ('user = "a"\n\ntheme = 3\n', r"config.toml:3: field theme: Expected `str \| null`, got `int`"),
    ('[[webhook]]\nkind = "slack"\nurl_env = "X"\n[[webhook]]\nkind = "teams"\nurl_env = "X"\n',
     r"config.toml:5: field webhook\[1\].kind: must be 'slack' or 'json'"),
    ('[[webhook]]\nkind = "json"\nurl = "X"\n', r"config.toml:3: field webhook\[0\].url: .*unknown field"),
    ('user = "a\n', r"config.toml:1: invalid TOML: .*line 1"),
    ('[[target]]\nname = "x"\nkind = "teams"\naudiences = ["internal"]\n',
     r"config.toml:3: field target\[0\].kind: Invalid value 'teams'"),
    ('[[target]]\nname = "mail"\nkind = "email"\naudiences = ["executive"]\nhost = "h"\nsender = "a@b"\n',
     r"config.toml:1: field target\[0\].to: Object missing required field `to`"),
    ('[[target]]\nname = "s"\nkind = "slack"\naudiences = ["internal"]\nurl_env = "A"\n'
     '[[target]]\nname = "S"\nkind = "json"\naudiences = ["*"]\nurl_env = "B"\n',
     r"config.toml:7: field target\[1\].name: two targets are named 'S'"),
    ('[[target]]\nname = "m"\nkind = "email"\naudiences = ["executive"]\nhost = "h"\nsender = "a@b"\n'
     'to = ["c@d"]\nsecurity = "none"\npassword_env = "P"\n',
     r"config.toml:8: field target\[0\].security: a password is only sent over TLS"),
    ('[[target]]\nname = "s"\nkind = "slack"\naudiences = []\nurl_env = "A"\n',
     r"config.toml:4: field target\[0\].audiences: name at least one audience"),
    ('[[pager]]\nname = "pd"\nkind = "pagerduty"\nrouting_key_env = "K"\nevents_url = "ftp://x"\n',
     r"config.toml:5: field pager\[0\].events_url: must start with http"),
    ('[intake]\nport = 70000\n', r"config.toml:2: field intake.port: must be a TCP port"),
    ('[[alert_rule]]\nmatch = { alertname = 3 }\n', r"config.toml:2: field alert_rule\[0\].match: Expected `str`"),
    ('[attention]\nbell = "loud"\n', r"config.toml:2: field attention.bell: Invalid enum value 'loud'"),
])
def test_config_mistakes_name_file_line_and_field(isolated, text, expected):
    (isolated / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_config()
    assert str(caught.value).startswith(str(isolated / "config.toml"))
    assert "\n" not in str(caught.value)


def test_reach_config_is_read(isolated):
    from warroom.service.config import EmailTarget, PagerDutyPager, SlackTarget

    (isolated / "config.toml").write_text(
        '[intake]\nport = 9100\ntoken_env = "TOK"\n'
        '[[alert_rule]]\nmatch = { alertname = "API*" }\ndeclare = true\nseverity = "SEV-1"\n'
        '[[target]]\nname = "Slack"\nkind = "slack"\naudiences = ["internal"]\nurl_env = "S"\n'
        '[[target]]\nname = "Mail"\nkind = "email"\naudiences = ["executive"]\nhost = "smtp"\n'
        'sender = "w@x"\nto = ["l@x"]\n'
        '[[pager]]\nname = "PD"\nkind = "pagerduty"\nrouting_key_env = "K"\n'
        '[[webhook]]\nkind = "json"\nurl_env = "OLD"\n')
    config = load_config()
    assert (config.intake.port, config.intake.token_env, config.intake.listen) == (9100, "TOK", "127.0.0.1")
    assert config.alert_rule[0].match == {"alertname": "API*"} and config.alert_rule[0].declare
    slack, mail, old = config.targets()
    assert isinstance(slack, SlackTarget) and slack.serves("internal") and not slack.serves("public")
    assert isinstance(mail, EmailTarget) and (mail.port, mail.security) == (587, "starttls")
    assert (old.name, old.kind, old.serves("public")) == ("json webhook $OLD", "json", True)
    assert isinstance(config.pager[0], PagerDutyPager) and config.pager[0].kind == "pagerduty"


def test_unreadable_config_is_a_config_error(isolated):
    (isolated / "config.toml").write_bytes(b"user = \"\xff\xfe\"\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(Path(isolated / "config.toml"))


def test_updates_go_to_the_configured_folder_else_next_to_the_database(tmp_path, monkeypatch):
    from warroom.service.config import Config, resolve_updates_dir

    monkeypatch.chdir(tmp_path)
    database = tmp_path / "data" / "warroom.db"
    assert resolve_updates_dir(Config(), database) == tmp_path / "data" / "updates"
    assert resolve_updates_dir(Config(updates_dir="~/incident-updates"), database) == (
        Path("~/incident-updates").expanduser())


def test_a_target_audience_no_policy_has_is_a_mistake_named_where_it_is(isolated, run_cli, cli_env):
    (isolated / "config.toml").write_text('[[target]]\nname = "Leaders"\nkind = "slack"\n'
                                          'audiences = ["internal", "exec"]\nurl_env = "A"\n')
    with pytest.raises(ConfigError, match=r"config.toml:4: field target\[0\].audiences: no policy has an "
                                          r"audience 'exec' \(they have: .*executive.*\)"):
        load_config(audiences={"internal", "executive", "public"})
    assert load_config().target[0].audiences == ["internal", "exec"]  # without the policies: not checked
    done = run_cli("list", env={**cli_env, "WARROOM_CONFIG_DIR": str(isolated)})
    assert done.returncode == 2 and "no policy has an audience 'exec'" in done.stderr
    assert done.stderr.count("\n") == 1
