"""The terminal driver: Textual's LinuxDriver, made to survive a hostile terminal or one that goes away.

Textual 8's input thread decodes stdin as strict UTF-8 (one Latin-1 byte ends the app with a
UnicodeDecodeError), spins at full speed on end of input (a hung-up terminal reads as EOF forever),
and parses a bracketed paste one character at a time (a 1 MB paste takes most of a second before
the next key). This driver reads the same way, but:

- bytes that are not UTF-8 become U+FFFD and the app gets `UndecodableInput` to say so;
- end of input, a read error (EIO) or a write error on the terminal post `TerminalGone` once,
  and the input thread stops, so the app can leave by itself whoever started it;
- the body of a bracketed paste is cut out with `str.find` and posted as one `events.Paste`;
- Escape and a character typed right behind it (within the parser's 100 ms wait, which makes
  them one `alt+h` key) come out as the two keys they were: Escape closes the dialog, and the
  character is typed where the focus lands, instead of the Escape being lost and the character
  typed into the dialog. warroom binds no Alt key.
"""

from __future__ import annotations

import codecs
import itertools
import os
import re
import selectors
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from textual import events
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
READ_SIZE = 64 * 1024  # a 1 MB paste in 16 reads instead of 256
REPLACEMENT = "\ufffd"
_handler_names = itertools.count()


@dataclass
class TerminalGone(Message):
    """The terminal hung up, closed, or cannot be read or written any more."""

    reason: str


@dataclass
class UndecodableInput(Message):
    """`count` bytes (or byte runs) that are not UTF-8 arrived and were replaced by U+FFFD."""

    count: int


class TerminalDecoder:
    """Incremental UTF-8 that never raises: each invalid byte run becomes U+FFFD and is counted."""

    def __init__(self) -> None:
        self.replaced = 0
        name = f"warroom-terminal-{next(_handler_names)}"
        codecs.register_error(name, self._replace)
        self._decode = codecs.getincrementaldecoder("utf-8")(errors=name).decode

    def _replace(self, error: UnicodeDecodeError) -> tuple[str, int]:
        self.replaced += 1
        return REPLACEMENT, error.end

    def decode(self, data: bytes, final: bool = False) -> str:
        return self._decode(data, final)

    def take_replaced(self) -> int:
        """How many replacements were made since the last call."""
        count, self.replaced = self.replaced, 0
        return count


_ESC_BEFORE_CONTROL = re.compile("\x1b(?=[\x00-\x07\x0a-\x1a\x1c-\x1f])")  # not Tab, Backspace


def parse_keys(parser: XTermParser, text: str) -> list[Message]:
    """`parser.feed(text)`, except that Escape typed right before a control key (Esc then Ctrl+N:
    ESC 0x0e) comes out as Escape and that key; the parser would drop the Escape."""
    out: list[Message] = []
    for index, piece in enumerate(_ESC_BEFORE_CONTROL.split(text)):
        if index:
            out.append(events.Key("escape", "\x1b"))
        if piece:
            out.extend(parser.feed(piece))
    return out


def split_alt(parser: XTermParser, messages: Iterable[Message]) -> list[Message]:
    """`alt+X` keys with a printable X (Escape, then X, within the escape delay) as Escape and X."""
    out: list[Message] = []
    for message in messages:
        character = getattr(message, "character", None)
        if (isinstance(message, events.Key) and message.key.startswith("alt+") and character
                and len(character) == 1 and character.isprintable()):
            out.append(events.Key("escape", "\x1b"))
            out.extend(parser._sequence_to_key_events(character))
        else:
            out.append(message)
    return out


class InputSplitter:
    """Feeds terminal text to Textual's parser, except bracketed pastes: those are found with
    str.find and come out as one events.Paste (NULs removed, as Textual does). Escape typed just
    before a character comes out as two keys (`split_alt`), and so does Escape before a control
    key, even when the two come in two reads: a lone ESC at the end of a read is kept here, not in
    the parser, until the next read or until ESCAPE_WAIT has passed."""

    ESCAPE_WAIT = 0.1  # seconds, as the parser waits for what follows a lone ESC

    def __init__(self, parser: XTermParser) -> None:
        self.parser = parser
        self._paste: list[str] | None = None  # the paste being collected
        self._carry = ""  # the end of the last chunk, which may hold the start of PASTE_END
        self._escape_at: float | None = None  # when a lone ESC kept back came

    def feed(self, text: str) -> Iterable[Message]:
        return split_alt(self.parser, self._feed(text))

    def _feed(self, text: str) -> Iterable[Message]:
        events_out: list[Message] = []
        if self._escape_at is not None and self._paste is None and text:
            text, self._escape_at = "\x1b" + text, None
        while text:
            if self._paste is not None:
                joined, self._carry = self._carry + text, ""
                end = joined.find(PASTE_END)
                if end < 0:
                    cut = max(0, len(joined) - (len(PASTE_END) - 1))
                    self._paste.append(joined[:cut])
                    self._carry = joined[cut:]
                    break
                self._paste.append(joined[:end])
                events_out.append(events.Paste("".join(self._paste).replace("\x00", "")))
                self._paste = None
                text = joined[end + len(PASTE_END):]
                continue
            start = text.find(PASTE_START)
            if start < 0:
                if (len(text) - len(text.rstrip("\x1b"))) % 2:  # ends with a lone ESC: keep it back
                    text, self._escape_at = text[:-1], time.monotonic()
                events_out.extend(parse_keys(self.parser, text))
                break
            # The parser gets what came before and an empty paste in place of this one, so a key
            # it holds (a lone ESC waiting for more) comes out now, in order, and its state stays right.
            parsed = parse_keys(self.parser, text[:start] + PASTE_START + PASTE_END)
            events_out.extend(e for e in parsed if not (isinstance(e, events.Paste) and not e.text))
            self._paste = []
            text = text[start + len(PASTE_START):]
        return events_out

    def tick(self) -> Iterable[Message]:
        held: list[Message] = []
        if self._escape_at is not None and time.monotonic() - self._escape_at >= self.ESCAPE_WAIT:
            self._escape_at = None
            held.append(events.Key("escape", "\x1b"))  # nothing came after it: a plain Escape
        return held + split_alt(self.parser, self.parser.tick())


class _TerminalOutput:
    """The terminal as the writer thread sees it: the first failed write reports the terminal gone
    and later writes are dropped, so the writer thread never dies and its queue never blocks."""

    def __init__(self, file, on_gone: Callable[[str], None]) -> None:
        self._file = file
        self._on_gone = on_gone
        self.gone = False

    def _fail(self, error: Exception) -> None:
        if not self.gone:
            self.gone = True
            self._on_gone(f"cannot write to the terminal: {getattr(error, 'strerror', None) or error}")

    def write(self, text: str) -> None:
        if not self.gone:
            try:
                self._file.write(text)
            except (OSError, ValueError) as error:
                self._fail(error)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except (OSError, ValueError) as error:
                self._fail(error)

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


class WarRoomDriver(LinuxDriver):
    """LinuxDriver with tolerant decoding, fast pastes and a terminal that may go away."""

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._gone_reported = False
        self._file = _TerminalOutput(sys.__stderr__, self._report_gone)

    def _report_gone(self, reason: str) -> None:
        if not self._gone_reported:
            self._gone_reported = True
            self._app.post_message(TerminalGone(reason))

    def run_input_thread(self) -> None:
        """Read the terminal until asked to stop or until it is gone (then report it and return)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        decoder = TerminalDecoder()
        splitter = InputSplitter(XTermParser(self._debug))
        try:
            while not self.exit_event.is_set():
                if selector.select(0.1):
                    try:
                        data = os.read(self.fileno, READ_SIZE)
                    except OSError as error:
                        self._report_gone(f"cannot read the terminal: {error.strerror or error}")
                        return
                    if not data:
                        self._report_gone("the terminal closed (end of input)")
                        return
                    self._dispatch(splitter.feed(decoder.decode(data)))
                    if replaced := decoder.take_replaced():
                        self._app.post_message(UndecodableInput(replaced))
                self._dispatch(splitter.tick())
        finally:
            selector.close()

    def _dispatch(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.process_message(message)
