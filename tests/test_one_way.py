"""One duration parser and one table of unsafe characters, used everywhere."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from warroom.domain.clock import parse_duration
from warroom.domain.grammar import parse
from warroom.domain.policy import PolicyBook
from warroom.domain.text import UNSAFE_CHARACTERS, inert_json, sanitize, visible
from warroom.probes.config import parse_probes

from conftest import NOW

POLICY = PolicyBook.load().default


@pytest.mark.parametrize("text, expected", [
    ("1.5h", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90)), ("250ms", timedelta(milliseconds=250)),
    ("2d", timedelta(days=2)), ("1h 30m", timedelta(minutes=90)), (45, timedelta(seconds=45)),
])
def test_one_parser_reads_every_form(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1x", "30m1h", "h", "1h1h", "-5m", True, "9" * 400 + "d"])
def test_one_parser_refuses_the_rest_with_a_value_error(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_entry_bar_and_the_probe_file_accept_the_same_durations():
    command = parse("-1.5h rolled back", POLICY, NOW)
    assert command.occurred_at == NOW - timedelta(minutes=90)
    action = parse("/action fix it due:1.5h", POLICY, NOW)
    assert action.due == NOW + timedelta(minutes=90)
    [spec] = parse_probes('[[probe]]\nname = "a"\ntype = "http"\ntarget = "http://x/"\ninterval = "1.5h"\n', "f")
    assert spec.interval == 5400


def test_every_unsafe_character_is_shown_stripped_and_escaped_the_same_way():
    unsafe = [c for c in map(chr, range(0x110000)) if visible(c, keep_newlines=True) != c and c != "\t"]
    assert "\u200b" in unsafe and "\u202e" in unsafe and "\x9b" in unsafe and "\x1b" in unsafe
    table = re.compile(f"[{UNSAFE_CHARACTERS}]")
    assert set(unsafe) == {c for c in map(chr, range(0x110000)) if table.fullmatch(c)}
    for character in unsafe:
        assert sanitize(f"a{character}é", 10) == "aé"  # (ESC + a printable is an escape sequence)
        dumped = inert_json(json.dumps({"t": f"a{character}b"}, ensure_ascii=False))
        assert character not in dumped and json.loads(dumped) == {"t": f"a{character}b"}


def test_a_zero_width_character_in_a_name_is_marked():
    assert visible("al\u200bice") == "al<U+200B>ice"
    assert visible("\u202egnp.exe") == "<U+202E>gnp.exe"
