"""The people file of `warroom serve`: who may sign in, with which token, and whether they may write.
Every mistake is one line naming file, line and field, and no message holds a token."""

from __future__ import annotations

import os

import pytest

from warroom.service.access import People, load_people, name_problem
from warroom.service.config import ConfigError

TOKEN = "s3cret-token-for-alice-0123"
ENV = {"TOKEN_ALICE": TOKEN, "TOKEN_BOB": "another-token-for-bob-4567", "SHORT": "tiny"}


def write(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "people.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_people_are_identified_by_their_own_token_only(tmp_path):
    path = write(tmp_path, '[[person]]\nname = "alice"\ntoken_env = "TOKEN_ALICE"\n\n'
                           '[[person]]\nname = "bob"\ntoken = "literal-token-for-bob-89"\nread_only = true\n')
    people = load_people(path, ENV)
    assert people.names == ["alice", "bob"]
    assert people.token_envs == ("TOKEN_ALICE",)
    alice, bob = people.identify(TOKEN), people.identify("literal-token-for-bob-89")
    assert (alice.name, alice.read_only) == ("alice", False)
    assert (bob.name, bob.read_only) == ("bob", True)
    for wrong in ("", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), " " + TOKEN):
        assert people.identify(wrong) is None


@pytest.mark.parametrize("text, mode, expected", [
    ('[[person]]\nname = "alice"\ntoken_env = "MISSING"\n', 0o600,
     "{path}:3: field person[0].token_env: environment variable MISSING is not set"),
    ('[[person]]\nname = "alice"\ntoken_env = "SHORT"\n', 0o600,
     "{path}:3: field person[0].token_env: the token is shorter than 16 characters"),
    ('[[person]]\nname = "alice"\ntoken = "' + TOKEN + '"\n', 0o644,
     "{path}:3: field person[0].token: the file holds tokens but others may read it: chmod 600 {path}"),
    ('[[person]]\nname = "alice"\ntoken_env = "TOKEN_ALICE"\n[[person]]\nname = "alice"\ntoken_env = "TOKEN_BOB"\n',
     0o600, "{path}:5: field person[1].name: 'alice' is listed twice"),
    ('[[person]]\nname = "alice"\ntoken_env = "TOKEN_ALICE"\n[[person]]\nname = "bob"\ntoken = "' + TOKEN + '"\n',
     0o600, "{path}:6: field person[1].token: the same token as another person (each person needs their own)"),
    ('[[person]]\nname = "alice"\n', 0o600,
     "{path}:1: field person[0].token: give exactly one of token_env (an environment variable) or token"),
    ('[[person]]\nname = "al\u202eice"\ntoken_env = "TOKEN_ALICE"\n', 0o600,
     "{path}:2: field person[0].name: holds control, bidi or zero-width characters"),
    ('[[person]]\nname = "--db=/etc/x"\ntoken_env = "TOKEN_ALICE"\n', 0o600,
     "{path}:2: field person[0].name: must not start with '-'"),
    ('[[person]]\nname = "alice"\ntoken_env = "TOKEN_ALICE"\nrole = "admin"\n', 0o600,
     "{path}:4: field person[0].role: Object contains unknown field `role`"),
    ('', 0o600, "{path}: no [[person]] in the people file: nobody could log in"),
])
def test_mistakes_name_file_line_and_field_and_never_the_token(tmp_path, text, mode, expected):
    path = write(tmp_path, text, mode)
    with pytest.raises(ConfigError) as error:
        load_people(path, ENV)
    assert str(error.value) == expected.format(path=path)
    assert TOKEN not in str(error.value) and TOKEN[:8] not in str(error.value)


def test_names_that_could_not_sign_entries_are_refused():
    assert name_problem("alice") is None and name_problem("María José") is None
    assert name_problem(" alice") and name_problem("") and name_problem("a" * 65)
    assert name_problem("ali\u200bce") and name_problem("a\nb")


def test_people_from_tokens_for_callers_holding_them():
    people = People.from_tokens({TOKEN: ("alice", True)})
    assert people.identify(TOKEN).read_only and len(people) == 1
