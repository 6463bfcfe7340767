"""Making hostile text inert: the one table of characters that must never reach a terminal, a
file or a browser as they are, and the ways warroom shows, strips or escapes them.

`visible` turns them into visible stand-ins (screen, CLI output); `sanitize` strips escape
sequences and them (text taken from probe targets); `inert_json` writes them as \\uXXXX
(JSON stays equal); `markdown_inline` also escapes Markdown's specials; `csv_cell` makes a CSV
cell safe to `cat` and to open in a spreadsheet.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 (U+009B is CSI), the line and paragraph separators,
# bidi embeddings, overrides and isolates, the Arabic letter mark, zero-width characters (space,
# non-joiner, joiner, LRM, RLM, word joiner and invisible operators) and the BOM: each can hide
# text, fake a name ("al\u200bice" looks like "alice") or move the cursor.
UNSAFE_CHARACTERS = (
    "\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff"
)
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
# Terminal escape sequences: OSC ... BEL/ST, CSI ... final, DCS/SOS/PM/APC ... ST, any other ESC x.
_ESCAPE_SEQUENCES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[\x20-\x7e]?"
)
# Inside a JSON string json.dumps already escapes C0; the rest of the table must be escaped too.
_JSON_RAW = re.compile(f"[{UNSAFE_CHARACTERS[UNSAFE_CHARACTERS.index(chr(0x7f)):]}]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␀ for NUL ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace every unsafe character with a visible stand-in (␛, ␀, <U+202E>, <U+200B>...).

    Tabs become spaces; newlines become ' ⏎ ' unless keep_newlines. The result can be printed
    to a terminal or a Rich Text without styling, linking or moving the cursor.
    """
    if text.isascii() and text.isprintable():  # the common case: nothing to replace (and 20x faster)
        return text
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    if not keep_newlines:
        text = text.replace("\n", " \u23ce ")
    return _UNSAFE.sub(_picture, text)


def size_words(text: str) -> str:
    """'12 lines, 3.4 kB': how much a block of text holds (sizes in UTF-8 bytes)."""
    lines = text.count("\n") + 1
    size = len(text.encode("utf-8", "surrogatepass"))
    amount = f"{size} B" if size < 1000 else f"{size / 1000:.1f} kB" if size < 999_950 else f"{size / 1_000_000:.1f} MB"
    return f"{lines} line{'s' if lines != 1 else ''}, {amount}"


def in_place(text: str) -> str:
    """Each unsafe character replaced by ONE visible character (␛, ␀, ␡ for C0 and DEL, ⍰ for the
    rest): the same length as `text`, so an editor's cursor and selection stay where they are."""
    return _UNSAFE.sub(lambda match: chr(0x2400 + ord(match.group())) if match.group() < " "
                       else "\u2421" if match.group() == "\x7f" else "\u2370", text)


def first_unsafe(text: str) -> str | None:
    """The first character of the table in `text` (None: the text is plain and needs no marking)."""
    found = _UNSAFE.search(text)
    return found.group() if found else None


def sanitize(text: str, limit: int, *, collapse: bool = True) -> str:
    """Printable one-line text: escape sequences and unsafe characters removed, whitespace
    collapsed (with collapse=False only tabs and line breaks become spaces, so columns stay), cut to
    `limit` characters with an ellipsis (for text taken from a probe target or a command's output)."""
    text = _ESCAPE_SEQUENCES.sub("", text)
    if collapse:
        text = " ".join(_UNSAFE.sub("", text).split())
    else:
        text = _UNSAFE.sub("", text.expandtabs(8).replace("\n", " ")).rstrip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inert_json(dumped: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with every unsafe character written as
    \\uXXXX. They only occur inside strings, so the JSON stays equal to what was dumped."""
    return _JSON_RAW.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


# Inline text never starts a line in our reports, so only these can change its structure.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|<>~&])")


def markdown_inline(text: str) -> str:
    """Text safe inside a Markdown paragraph, list item or table cell: one line, specials escaped."""
    flat = visible(text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat) if _MARKDOWN_SPECIAL.search(flat) else flat  # search: 5x faster


def all_plain(texts: list[str], *, markdown: bool = False, limit: int = 1 << 22) -> bool:
    """Whether `visible` (with `markdown`, also markdown_inline) gives each of `texts` back as it
    is: printable ASCII (no tab, no line break) and, for Markdown, none of its specials. One check
    of them all, for a chunk of timeline rows; False when they hold more than `limit` characters
    in all (not copied into one: checked one by one where they are written)."""
    if sum(map(len, texts)) > limit:
        return False
    together = " ".join(texts)  # a space: printable, no special, and no special spans two texts
    return together.isascii() and together.isprintable() and not (markdown and _MARKDOWN_SPECIAL.search(together))


# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...), +cmd|...);
# the fullwidth forms are read as the same by some.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: str) -> str:
    """One CSV cell, safe to print and to open in a spreadsheet: every unsafe character becomes its
    visible stand-in (tabs and line breaks stay, CRLF becomes LF; the csv module quotes them), and
    text a spreadsheet would run as a formula gets a leading apostrophe, which it shows as text."""
    text = _UNSAFE.sub(_picture, text.replace("\r\n", "\n"))
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_STARTS) else text
