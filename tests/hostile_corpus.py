"""The shared corpus of hostile inputs: what every input path of warroom is fed (tests/test_hostile.py,
tests/test_export_inert.py). Text that a terminal, a spreadsheet, a Markdown viewer or Rich could
run, hide or misread; bytes that are not UTF-8; sizes and depths that break naive code; files that
are not what they claim to be."""

from __future__ import annotations

from warroom.domain.text import UNSAFE_CHARACTERS  # noqa: F401 (the table the checks below use)

TEXTS: dict[str, str] = {
    "rich markup": "[bold red]alert[/bold red] [/nope] [link=javascript:alert(1)]click[/link] [@click=app.quit]q[/]",
    "ansi csi": "\x1b[2J\x1b[H\x1b[31mred\x1b[0m \x1b[6n",
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07copied",
    "osc 8 link": "\x1b]8;;http://evil.example\x1b\\innocent\x1b]8;;\x1b\\",
    "osc title": "\x1b]0;pwned\x07\x1b]2;pwned\x1b\\",
    "dcs": "\x1bP1$r0m\x1b\\",
    "c1 controls": "\u009b31mred \u009d0;title\u009c \u0085next",
    "bidi": "\u202eevil.exe\u202c \u2066iso\u2069 \u200fRLM \u061c",
    "zero width": "al\u200bice bo\u200cb \u200d\u2060\u2063\ufeff",
    "nul": "nul\x00byte",
    "c0": "\x07bell\x08back\x0bvt\x0cff\x7fdel",
    "carriage return": "everything fine\roverwritten",
    "line separators": "one\u2028two\u2029three",
    "formula": "=HYPERLINK(\"http://evil.example\",\"open\")",
    "formula plus": "+cmd|' /C calc'!A0",
    "markdown": "# heading\n- item\n> quote\n[x](javascript:alert(1)) <script>alert(1)</script> | a | b |",
    "html entity": "&lt;b&gt; &amp; <b>bold</b>",
}

# Lines and names (one line, no separators or tabs, as typed in a name field).
NAMES: dict[str, str] = {name: " ".join(text.split()) for name, text in TEXTS.items()
                         if "\n" not in text and name not in ("line separators",)}

BIG_TEXT = "1 MB paste " + "x" * (1024 * 1024)
INVALID_UTF8 = b"caf\xe9 cr\xe8me \xff\xfe broken"
DEEP_TOML = "a = " + "[" * 5000 + "]" * 5000 + "\n"  # 5,000 nested arrays
DEEP_TABLES = "".join(f"[{'.'.join(['t'] * depth)}]\n" for depth in (1, 2000))  # a 2,000-deep dotted key


def unsafe_in(text: str, *, allow_crlf: bool = False) -> list[str]:
    """The unsafe characters (of domain.text's table) present in `text`, as U+XXXX."""
    import re

    if allow_crlf:
        text = text.replace("\r\n", "\n")
    return sorted({f"U+{ord(ch):04X}" for ch in re.findall(f"[{UNSAFE_CHARACTERS}]", text)})
