"""Find the line of a field in TOML text, so validation errors can say file, line and field."""

from __future__ import annotations

import ast
import re
from typing import Callable, TypeVar

import msgspec

from warroom.domain.text import visible
from warroom.domain.text_files import MAX_FILE_BYTES, read_text_file  # noqa: F401 (re-exported)

_PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")
_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'""")


def load_toml(text: str) -> dict:
    """tomllib.loads, and arrays or tables nested too deeply for it (a RecursionError) reported
    as the TOMLDecodeError every loader already turns into its one-line error."""
    import tomllib  # here: a command that reads no TOML file (no config file) does without it

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("arrays or tables are nested too deeply") from None


T = TypeVar("T")


def decode_toml(text: str, source: str, into: type[T], error: type[Exception],
                hint: Callable[[str], str] = str) -> T:
    """TOML `text` validated as `into` (a msgspec Struct), or `error` with one line naming the
    file (`source`), the line and the field: the one way every loader reads its TOML."""
    import tomllib

    try:
        raw = load_toml(text)
    except tomllib.TOMLDecodeError as problem:
        found = re.search(r"at line (\d+)", str(problem))
        raise error(f"{source}{':' + found.group(1) if found else ''}: invalid TOML: {problem}") from None
    try:
        return msgspec.convert(raw, into)
    except msgspec.ValidationError as problem:
        raise error(located_message(text, source, hint(str(problem)))) from None


def split_path(path: str) -> list[str | int]:
    """Turn msgspec's '$.severity[2].label' into ['severity', 2, 'label']."""
    return [name if name else int(index) for name, index in _PATH_PART.findall(path)]


def line_of(text: str, parts: list[str | int]) -> int | None:
    """Best line number (1-based) for the field at `parts`, or None when it cannot be found.

    Handles the layouts policy and probe files use: `[table]`, `[[array]]` headers with
    keys below them, and top-level keys. Deeper paths fall back to their nearest found parent.
    """
    tables: list[tuple[str, int]] = []  # (header name, line) for every header in order
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match:
            tables.append((match.group(2).strip(), number))
    lines = text.splitlines()

    def key_line(start: int, end: int, key: str) -> int | None:
        for number in range(start, end):
            match = _KEY.match(lines[number - 1])
            if match and match.group(1).strip("\"'") == key:
                return number
        return None

    def section_end(start: int) -> int:
        for _, line in tables:
            if line > start:
                return line
        return len(lines) + 1

    if not parts:
        return None
    head = parts[0]
    if isinstance(head, int):
        return None
    if len(parts) >= 2 and isinstance(parts[1], int):
        occurrences = [line for name, line in tables if name == head]
        if parts[1] < len(occurrences):
            start = occurrences[parts[1]]
            if len(parts) >= 3 and isinstance(parts[2], str):
                return key_line(start + 1, section_end(start), parts[2]) or start
            return start
        found = key_line(1, section_end(0) if tables else len(lines) + 1, head)
        return found or (occurrences[-1] if occurrences else None)
    for name, line in tables:
        if name == head:
            if len(parts) >= 2 and isinstance(parts[1], str):
                return key_line(line + 1, section_end(line), parts[1]) or line
            return line
    first_header = tables[0][1] if tables else len(lines) + 1
    found = key_line(1, first_header, head)
    if found is None and all(isinstance(part, str) for part in parts):
        # A sub-table written as its own header, e.g. `[policy.extra]`.
        dotted = ".".join(str(part) for part in parts)
        found = next((line for name, line in tables if name == dotted), None)
    return found


def value_line(text: str, parts: list[str | int], value: str) -> tuple[int, str] | None:
    """Line (1-based) and key of the first string equal to `value` inside the entry at `parts`.

    `parts` names a table or an element of an array of tables (`['severity', 2]`); the search
    covers that entry's keys only, including values of multi-line arrays. None when not found.
    """
    lines = text.splitlines()
    headers = [(match.group(2).strip(), number)
               for number, line in enumerate(lines, start=1)
               if (match := _HEADER.match(line))]
    if not parts or not isinstance(parts[0], str):
        return None
    head = parts[0]
    start = None
    if len(parts) >= 2 and isinstance(parts[1], int):
        occurrences = [line for name, line in headers if name == head]
        if parts[1] < len(occurrences):
            start = occurrences[parts[1]]
    else:
        start = next((line for name, line in headers if name == head), None)
    if start is None:
        return None
    end = next((line for _, line in headers if line > start), len(lines) + 1)
    key = None
    for number in range(start + 1, end):
        line = lines[number - 1]
        match = _KEY.match(line)
        if match:
            key = match.group(1).strip("\"'")
            line = line[match.end():]
        if key is None:
            continue
        for found in _STRING.finditer(line):
            if (found.group(1) if found.group(1) is not None else found.group(2)) == value:
                return number, key
    return None


_NAMED_FIELD = re.compile(r"Object (contains unknown|missing required) field `([^`]+)`")
_DUPLICATE_NAME = re.compile(r"name ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") is used by two ")


def located_message(text: str, source: str, message: str) -> str:
    """'file:line: field X: what is wrong' from a msgspec validation message ('... - at `$.x[0]`')."""
    detail, _, path = message.rpartition(" - at `")
    path = path.rstrip("`")
    if not detail:  # msgspec gives no path for problems at the top level
        detail, path = message, "$"
    parts = split_path(path)
    line_parts = parts
    named = _NAMED_FIELD.search(detail)
    if named:
        # The field msgspec complains about is named in the message, not in the path.
        parts = [*parts, named.group(2)]
        if named.group(1) == "contains unknown":
            line_parts = parts  # it is in the file: point at its own line
    line = line_of(text, line_parts)
    duplicate = _DUPLICATE_NAME.match(detail)
    if duplicate and len(parts) >= 2:
        spot = value_line(text, parts[:2], ast.literal_eval(duplicate.group(1)))
        if spot:
            line, key = spot
            parts = [*parts[:2], key]
    field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in parts).replace(".[", "[")
    where = f"{source}:{line}" if line else source
    return visible(f"{where}: field {field or '(top level)'}: {detail}")  # a key may hold anything
