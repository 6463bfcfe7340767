"""The hostile corpus (tests/hostile_corpus.py) fed to every input path: the entry bar, `warroom
log`, the config, policy, theme and probe files, probe responses, database files and environment
variables. Each path must give no traceback, show the text literally (never run it), answer a
mistake of the user's with one line and exit 2, and leave the user's files as they were."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from db_files import folder_state
from hostile_corpus import BIG_TEXT, DEEP_TABLES, DEEP_TOML, INVALID_UTF8, NAMES, TEXTS, unsafe_in
from probe_servers import Target
from test_cli import assert_ok, assert_user_error, run_parallel
from test_probe_cli import warroom  # noqa: F401 (a fixture: the command in-process, in a thread)

from warroom.domain.text import visible

# Files that are not what their name says, for every path that reads a file.
BAD_FILES: dict[str, bytes] = {
    "invalid utf-8": INVALID_UTF8,
    "nul bytes": b"key = \"a\x00b\"\n\x00\x00",
    "1 MB of garbage": bytes(range(256)) * 4096,
    "deep nesting": DEEP_TOML.encode(),
    "deep tables": DEEP_TABLES.encode(),
    "escape sequences": "\x1b]52;c;cm0gLXJm\x07\x1b[2J = 1\n".encode(),
    "a sqlite database": b"SQLite format 3\x00" + bytes(4080),
    "empty array of tables": b"[[\n",
}


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


def declared(result) -> str:
    """The id `warroom declare` printed (its stderr lists what the policy now owes)."""
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    return result.stdout.strip()


# -- the entry bar ---------------------------------------------------------------------------------

async def test_the_entry_bar_shows_and_stores_hostile_text_literally(tmp_path):
    from test_ui_support import make_app, screen_text, small_database, submit_and_wait, war_room, war_room_ready

    from warroom.service import IncidentService
    from warroom.ui.widgets.entry_bar import EntryInput
    from test_ui_support import POLICIES

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = war_room(app).query_one(EntryInput)
        for name, text in NAMES.items():
            bar.focus()
            bar.value = text  # what a paste puts there
            await pilot.pause()
            assert unsafe_in(bar.render_line(0).text) == [], name  # the bar itself shows stand-ins
            await submit_and_wait(pilot, text)
            shown = screen_text(app)
            assert unsafe_in(shown) == [], (name, unsafe_in(shown))
        assert "␛]52;c;" in screen_text(app) or "␛]52;c;" in str(war_room(app).query_one("#detail").render())
    service = await IncidentService.open(path, POLICIES)
    try:
        stored = [entry.text for entry in await service.entries(incident_id)][-len(NAMES):]
    finally:
        await service.close()
    assert stored == [text.strip() for text in NAMES.values()]  # kept exactly as typed


async def test_markup_in_a_policy_reaches_the_palette_and_selects_as_text(tmp_path):
    """Policy text may hold brackets; Textual reads plain strings as markup (']' crashed it)."""
    from importlib import resources

    from test_ui_support import make_app, screen_text, small_database, war_room_ready

    from warroom.domain.policy import PolicyBook

    policies = tmp_path / "policies"
    policies.mkdir()
    text = resources.files("warroom.policies").joinpath("default.toml").read_text(encoding="utf-8")
    text = text.replace('name = "Incident Commander"', 'name = "Incident [/b]Commander [bold]x"', 1)
    assert "[/b]" in text
    (policies / "default.toml").write_text(text, encoding="utf-8")
    book = PolicyBook.load(policies)
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    app.policies = book
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "assign":
            await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        assert "Incident [/b]Commander [bold]x" in screen_text(app)
        await pilot.press("escape")


# -- warroom log -----------------------------------------------------------------------------------

ARGV_TEXTS = {name: text for name, text in TEXTS.items() if "\x00" not in text}  # no OS passes NUL in argv


def in_process(cli_env, monkeypatch, *argv: str) -> tuple[int, str, str]:
    """warroom.cli.main(argv) in this process, for what a real argv cannot carry (NUL, 1 MB)."""
    from warroom.cli import main

    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        main(list(argv))
    return stop.value.code, out.getvalue(), err.getvalue()


def test_warroom_log_stores_every_hostile_text_exactly_and_shows_it_inert(run_cli, cli_env, tmp_path, monkeypatch):
    incident_id = declared(run_cli("declare", "Hostile log", "--severity", "SEV-3"))
    real = ("osc 52 clipboard", "c1 controls", "bidi")  # through a real argv; the rest in this process
    for result in run_parallel([["log", incident_id, TEXTS[name]] for name in real], cli_env, tmp_path):
        assert_ok(result)
    for name, text in TEXTS.items():
        if name not in real:
            code, _, err = in_process(cli_env, monkeypatch, "log", incident_id, text)
            assert code == 0, (name, err)
    exported = json.loads(assert_ok(run_cli("export", incident_id)))
    stored = sorted(entry["text"] for entry in exported["entries"][1:])
    assert stored == sorted(text.strip() for text in TEXTS.values())
    for argv in (["show", incident_id], ["list"], ["export", incident_id, "-f", "markdown"],
                 ["export", incident_id, "-f", "csv"]):
        out = assert_ok(run_cli(*argv))
        assert unsafe_in(out, allow_crlf=argv[-1] == "csv") == [], argv


def test_warroom_log_takes_a_1_mb_paste_and_refuses_bytes_that_are_not_utf8(run_cli, cli_env, tmp_path, monkeypatch):
    incident_id = declared(run_cli("declare", "Big paste", "--severity", "SEV-3"))
    code, out, err = in_process(cli_env, monkeypatch, "log", incident_id, BIG_TEXT)  # argv stops at 128 kB
    assert code == 0 and out.strip() == "2", err
    exported = json.loads(assert_ok(run_cli("export", incident_id)))
    assert exported["entries"][-1]["text"] == BIG_TEXT
    import subprocess

    done = subprocess.run([sys.executable, "-m", "warroom", "log", incident_id, os.fsdecode(INVALID_UTF8)],
                          env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert_user_error(done, "is not valid UTF-8")


# -- config, policy, theme and probe files ---------------------------------------------------------

def _special(kind: str, path: Path) -> None:
    if kind == "a fifo":
        os.mkfifo(path)
    else:
        path.mkdir()


@pytest.mark.parametrize("case", [*BAD_FILES, "a fifo", "a directory"])
def test_a_bad_config_file_is_one_line_and_untouched(run_cli, cli_env, case):
    folder = Path(cli_env["WARROOM_CONFIG_DIR"])
    path = folder / "config.toml"
    if case in BAD_FILES:
        path.write_bytes(BAD_FILES[case])
    else:
        _special(case, path)
    before = folder_state(folder)
    line = assert_user_error(run_cli("list"), str(path))
    assert unsafe_in(line) == []
    assert folder_state(folder) == before


@pytest.mark.parametrize("case", [*BAD_FILES, "a fifo", "hostile label", "markup id"])
def test_a_bad_policy_file_is_one_line_and_untouched(run_cli, cli_env, case):
    from importlib import resources

    folder = Path(cli_env["WARROOM_CONFIG_DIR"]) / "policies"
    folder.mkdir()
    path = folder / "mine.toml"
    packaged = resources.files("warroom.policies").joinpath("default.toml").read_text(encoding="utf-8")
    mine = packaged.replace('id = "default"', 'id = "mine"', 1)
    if case == "hostile label":
        path.write_text(mine.replace('label = "Critical"', 'label = "Crit\\u001b]0;pwned\\u0007ical"', 1))
    elif case == "markup id":
        path.write_text(mine.replace('id = "mine"', 'id = "mine\\u202e"', 1))
    elif case == "a fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(BAD_FILES[case])
    before = folder_state(folder)
    for result in run_parallel([["policies"], ["declare", "x", "--severity", "SEV-1"]], cli_env, folder):
        line = assert_user_error(result, str(path))
        assert unsafe_in(line) == []
    assert folder_state(folder) == before


@pytest.mark.parametrize("case", [*BAD_FILES, "a fifo", *[f"name: {name}" for name in ("ansi csi", "bidi", "zero width", "c1 controls")]])
def test_a_bad_probe_file_is_one_line_and_untouched(run_cli, cli_env, tmp_path, case):
    folder = tmp_path / "probes"
    folder.mkdir()
    path = folder / "probes.toml"
    if case.startswith("name: "):
        name = json.dumps(NAMES[case[6:]])
        path.write_text(f'[[probe]]\nname = {name}\ntype = "tcp"\ntarget = "127.0.0.1:9"\n', encoding="utf-8")
    elif case == "a fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(BAD_FILES[case])
    before = folder_state(folder)
    line = assert_user_error(run_cli("check", "--probes", str(path)), str(path))
    assert unsafe_in(line) == []
    assert folder_state(folder) == before


def test_bad_theme_files_are_reported_one_line_each_and_inert(tmp_path):
    from warroom.ui.themes import load_themes

    folder = tmp_path / "themes"
    folder.mkdir()
    for number, content in enumerate(BAD_FILES.values()):
        (folder / f"bad-{number}.toml").write_bytes(content)
    (folder / "hostile.toml").write_text('name = "x\\u001b[2J"\nprimary = "\\u001b]52;c;x\\u0007"\n')
    os.mkfifo(folder / "fifo.toml")
    before = folder_state(folder)
    themes, problems = load_themes([folder])
    assert len(problems) == len(BAD_FILES) + 2  # every bad file named, the good packaged ones loaded
    assert {theme.name for theme in themes} >= {"warroom-dark", "warroom-light", "warroom-contrast"}
    for problem in problems:
        assert "\n" not in problem and unsafe_in(problem) == [], problem
    assert folder_state(folder) == before


# -- probe responses -------------------------------------------------------------------------------

async def test_hostile_responses_are_results_shown_inert(checker, target):
    from warroom.probes.config import spec_from_dict

    def http(path: str, *conditions: str):
        return spec_from_dict({"name": path.strip("/"), "type": "http", "target": target.url(path),
                               "conditions": list(conditions) or ["status == 200"]})

    results = [await checker.check(spec) for spec in (
        http("/hostile", 'body contains "never"'), http("/deep", "body[0] == 1"), http("/megabyte", "status == 200"),
        http("/megabyte", 'body contains "\u202e"'))]
    for result in results:
        dumped = json.dumps(result.to_dict(), ensure_ascii=False)
        assert unsafe_in(dumped) == [], (result.probe, unsafe_in(dumped))
        assert "internal error" not in (result.error or "")
    hostile, deep, megabyte, bidi = results
    assert hostile.failed_condition.startswith('body contains "never" failed') and "[bold]markup[/bold]" in hostile.excerpt
    assert deep.failed_condition == "body[0] == 1 failed: body is not JSON"
    assert megabyte.ok and megabyte.truncated


async def test_the_check_command_shows_hostile_responses_inert(tmp_path, warroom):
    async with Target() as target:
        path = tmp_path / "probes.toml"
        path.write_text("".join(
            f'[[probe]]\nname = "{name}"\ntype = "http"\ntarget = "{target.url("/" + name)}"\n'
            f'conditions = ["body contains \\"nothing\\""]\n' for name in ("hostile", "deep", "megabyte")))
        code, table, err = await warroom("check", "--probes", str(path))
        _, dumped, _ = await warroom("check", "--probes", str(path), "--json")
    assert code == 1 and "Traceback" not in err
    assert unsafe_in(table) == [] and unsafe_in(dumped) == []
    assert len(json.loads(dumped)) == 3


# -- database files --------------------------------------------------------------------------------

def _make_database_case(case: str, path: Path) -> None:
    if case == "a fifo":
        os.mkfifo(path)
    elif case == "a directory":
        path.mkdir()
    elif case == "another program's":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE incidents (id INTEGER PRIMARY KEY, summary TEXT)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes({"text": b"notes\n", "zeros": bytes(8192), "magic then garbage": b"SQLite format 3\x00" + b"\xff" * 500,
                          "invalid utf-8": INVALID_UTF8}[case])


@pytest.mark.parametrize("case", ["text", "zeros", "magic then garbage", "invalid utf-8", "a fifo", "a directory",
                                  "another program's"])
def test_a_file_that_is_not_a_warroom_database_is_refused_and_untouched(run_cli, cli_env, tmp_path, case):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "warroom.db"
    _make_database_case(case, path)
    before = folder_state(folder)
    results = run_parallel([["--db", str(path), *argv] for argv in (["list"], ["log", "INC-20261123-001", "x"],
                                                                     ["declare", "x", "--severity", "SEV-3"])],
                           cli_env, tmp_path)
    for result in results:
        assert_user_error(result, str(path))
    assert folder_state(folder) == before
    assert sorted(os.listdir(folder)) == ["warroom.db"]


# -- environment variables -------------------------------------------------------------------------

def test_hostile_names_in_warroom_user_are_stored_exactly_and_shown_marked(run_cli, cli_env, tmp_path, monkeypatch):
    incident_id = declared(run_cli("declare", "Who wrote this", "--severity", "SEV-3"))
    names = [name for name in NAMES.values() if "\x00" not in name]  # no OS passes NUL in the environment
    assert_ok(run_cli("log", incident_id, "note 0", env={**cli_env, "WARROOM_USER": names[0]}))  # a real environment
    for number, name in enumerate(names[1:], start=1):
        code, _, err = in_process({**cli_env, "WARROOM_USER": name}, monkeypatch, "log", incident_id, f"note {number}")
        assert code == 0, err
    exported = json.loads(assert_ok(run_cli("export", incident_id)))
    assert [entry["author"] for entry in exported["entries"][1:]] == [name.strip() for name in names]
    shown = assert_ok(run_cli("show", incident_id))
    assert unsafe_in(shown) == [] and visible("al\u200bice") in shown  # "al<U+200B>ice", not "alice"


def test_paths_in_the_environment_that_are_odd_are_one_line(run_cli, cli_env, tmp_path):
    odd = tmp_path / "odd\x1b]0;x\x07name.db"
    odd.write_bytes(b"not a database")
    line = assert_user_error(run_cli("list", env={**cli_env, "WARROOM_DB": str(odd)}), "not a SQLite database")
    assert unsafe_in(line) == []
    not_utf8 = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.db")
    Path(not_utf8).write_bytes(b"not a database either")
    result = run_cli("list", env={**cli_env, "WARROOM_DB": not_utf8})
    no_traceback(result)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    config = run_cli("list", env={**cli_env, "WARROOM_CONFIG_DIR": os.fsdecode(b"/nonexistent/\xff")})
    no_traceback(config)
    assert config.returncode == 0


async def test_hostile_authors_and_people_are_marked_on_every_pane(tmp_path):
    """`al\\u200bice` must not pass for `alice`: the timeline, the detail, the roles pane and the
    header show the zero-width character as <U+200B>; nothing raw reaches the terminal."""
    from test_ui_support import POLICIES, make_app, screen_text, small_database, war_room_ready

    from warroom.service import IncidentService

    path, incident_id = await small_database(tmp_path, notes=0)
    service = await IncidentService.open(path, POLICIES)
    try:
        for name in ("ansi csi", "bidi", "c1 controls", "zero width"):
            await service.execute(incident_id, f"note by {name}", NAMES[name])
        await service.execute(incident_id, "/assign ic al\u200bice", "bob")
        await service.execute(incident_id, "/assign comms \u202eevil", "bob")
    finally:
        await service.close()
    app = make_app(path, incident_id)
    async with app.run_test(size=(160, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.pause()
        shown = screen_text(app)
    assert unsafe_in(shown) == [], unsafe_in(shown)
    assert "IC: al<U+200B>ice" in shown  # the header
    assert "al<U+200B>ice" in shown.split("IC: al<U+200B>ice", 1)[1]  # and the roles pane
    assert "<U+202E>evil" in shown and "al<U+200B>" in shown
