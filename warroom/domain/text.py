"""Making hostile text inert: control characters become visible pictures, never escapes."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␀ for NUL ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace control, C1 and bidi-override characters with visible stand-ins.

    Tabs become spaces; newlines become ' ⏎ ' unless keep_newlines. The result can be printed
    to a terminal or a Rich Text without styling, linking or moving the cursor.
    """
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    if not keep_newlines:
        text = text.replace("\n", " \u23ce ")
    return _CONTROL.sub(_picture, text)


# Inline text never starts a line in our reports, so only these can change its structure.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|<>~&])")


def markdown_inline(text: str) -> str:
    """Text safe inside a Markdown paragraph, list item or table cell: one line, specials escaped."""
    flat = visible(text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
