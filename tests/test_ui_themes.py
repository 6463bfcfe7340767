"""Themes: TOML files turned into Textual themes, chosen by --theme / config / palette and remembered;
a broken file is one notification; NO_COLOR; no literal colours in any CSS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_ui_support import make_app, small_database, war_room_ready

from warroom.service.config import Config
from warroom.ui import launch
from warroom.ui.themes import DEFAULT_THEME, load_themes, themes_dir


async def test_packaged_themes_load_without_problems():
    themes, problems = load_themes()
    assert problems == []
    names = {theme.name for theme in themes}
    assert {"warroom-dark", "warroom-light", "warroom-contrast"} <= names
    assert not next(t for t in themes if t.name == "warroom-light").dark


async def test_theme_option_is_used(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, theme="warroom-light")
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        assert app.theme == "warroom-light"


async def test_broken_theme_files_are_one_notification_and_the_default_is_used(tmp_path):
    path, incident_id = await small_database(tmp_path)
    extra = tmp_path / "themes"
    extra.mkdir()
    (extra / "bad-colour.toml").write_text('name = "bad-colour"\nprimary = "not-a-colour"\n')
    (extra / "bad-toml.toml").write_text('name = "oops\n')
    (extra / "unknown-field.toml").write_text('name = "x"\nprimary = "#ffffff"\nsparkle = true\n')
    app = make_app(path, incident_id, theme="bad-colour", extra_theme_dirs=[extra])
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        notes = list(app._notifications)
        assert len(notes) == 1
        message = notes[0].message
        for name in ("bad-colour.toml", "bad-toml.toml", "unknown-field.toml", "unknown theme 'bad-colour'"):
            assert name in message
        assert app.theme == DEFAULT_THEME


async def test_theme_picked_in_the_palette_is_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_CONFIG_DIR", str(tmp_path / "config"))
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, on_theme_change=launch.remember_theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert launch._remembered_theme() is None  # the start-up theme is not a choice
        choose = next(run for name, run, _ in app.palette_commands() if name == "Theme: warroom-contrast")
        choose()
        await pilot.pause()
        assert app.theme == "warroom-contrast"
    assert launch._remembered_theme() == "warroom-contrast"


class _Context:
    """What launch.build_app needs of the CLI's context."""

    def __init__(self, database: Path, theme_option=None, config_theme=None):
        self._database, self.theme_option = database, theme_option
        self.config = Config(theme=config_theme)
        self.probes_option = None

    def database(self):
        return self._database

    def policies(self):
        from test_ui_support import POLICIES

        return POLICIES

    def user(self):
        return "scribe"


@pytest.mark.parametrize(("option", "config", "remembered", "expected"), [
    ("warroom-light", "warroom-contrast", "textual-dark", "warroom-light"),
    (None, "warroom-contrast", "textual-dark", "warroom-contrast"),
    (None, None, "textual-dark", "textual-dark"),
    (None, None, None, None),
])
def test_theme_comes_from_option_then_config_then_the_remembered_choice(tmp_path, monkeypatch, option, config,
                                                                         remembered, expected):
    monkeypatch.setenv("WARROOM_CONFIG_DIR", str(tmp_path))
    if remembered:
        launch.remember_theme(remembered)
    app = launch.build_app(_Context(tmp_path / "x.db", option, config))
    assert app.requested_theme == expected


async def test_no_color_uses_the_contrast_theme_and_renders_without_colour(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        assert app.no_color and app.theme == "warroom-contrast"
        colours = set()
        for strip in app.screen._compositor.render_strips():
            for line_filter in app.get_line_filters():  # what the driver would send to the terminal
                strip = strip.apply_filter(line_filter, app.screen.styles.background)
            for segment in strip:
                for colour in (segment.style.color, segment.style.bgcolor) if segment.style else ():
                    if colour is not None and colour.triplet:
                        colours.add(tuple(colour.triplet))
        assert colours and all(r == g == b for r, g, b in colours)


LITERAL_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsl\(|:\s*(red|green|blue|yellow|white|black|grey|gray)\b")


def test_all_css_uses_theme_variables_only():
    import warroom.ui.screens as screens
    import warroom.ui.widgets as widgets

    sources = [Path(launch.__file__).with_name("warroom.tcss").read_text()]
    for package in (screens, widgets):
        for module_path in Path(package.__path__[0]).glob("*.py"):
            text = module_path.read_text()
            sources += re.findall(r'DEFAULT_CSS\s*\+?=\s*"""(.*?)"""', text, re.S)
    assert len(sources) > 5
    for css in sources:
        assert not LITERAL_COLOUR.search(css), LITERAL_COLOUR.search(css).group()


def test_theme_files_live_in_the_themes_directory():
    assert {p.stem for p in themes_dir().glob("*.toml")} >= {"warroom-dark", "warroom-light", "warroom-contrast"}
