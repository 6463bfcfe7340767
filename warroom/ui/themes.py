"""Themes are TOML files in themes/, turned into Textual Themes. A broken file is reported, not fatal."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import msgspec
from textual.theme import Theme

from warroom.domain.text import visible
from warroom.domain.tomlspot import load_toml, read_text_file

DEFAULT_THEME = "warroom-dark"
MONOCHROME_THEME = "warroom-contrast"  # used when NO_COLOR is set and no theme was chosen


class ThemeFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    primary: str
    dark: bool = True
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    variables: dict[str, str] = {}


def themes_dir() -> Path:
    packaged = Path(str(resources.files("warroom"))) / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "themes"


def load_theme_file(path: Path) -> Theme:
    """One theme; raises ValueError with file and field on any mistake."""
    try:
        raw = load_toml(read_text_file(path))
        spec = msgspec.convert(raw, ThemeFile)
        theme = Theme(**msgspec.structs.asdict(spec))
        theme.to_color_system()  # validates every colour
        return theme
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(visible(f"{path.name}: {error}")) from None
    except msgspec.ValidationError as error:
        raise ValueError(visible(f"{path.name}: {error}")) from None
    except Exception as error:  # a colour Textual cannot parse
        raise ValueError(visible(f"{path.name}: {error}")) from None


def load_themes(extra_dirs: list[Path] = ()) -> tuple[list[Theme], list[str]]:
    """All loadable themes, and one problem line per broken file."""
    themes, problems = [], []
    for directory in [themes_dir(), *extra_dirs]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                themes.append(load_theme_file(path))
            except ValueError as error:
                problems.append(str(error))
    return themes, problems
