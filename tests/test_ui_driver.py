"""The terminal driver (warroom.ui.driver): any bytes on stdin, fast bracketed pastes, and a terminal
that goes away, fed through a real pseudo-terminal to the input thread Textual would run."""

from __future__ import annotations

import os
import pty
import signal
import threading
import time
import tty

import pytest
from probe_servers import until
from test_ui_support import make_app, screen_text, small_database, wait_for, war_room_ready
from textual import events
from textual._xterm_parser import XTermParser

from warroom.ui.driver import (
    PASTE_END, PASTE_START, InputSplitter, TerminalDecoder, TerminalGone, UndecodableInput, WarRoomDriver,
    _TerminalOutput,
)


def test_bytes_that_are_not_utf8_become_a_replacement_character_and_are_counted():
    decoder = TerminalDecoder()
    assert decoder.decode(b"caf\xe9 ok") == "caf\ufffd ok"  # Latin-1 é, as `tmux send-keys -H e9` sends it
    assert decoder.take_replaced() == 1
    assert decoder.decode(b"\xc3") + decoder.decode(b"\xa9") == "é"  # a real é split over two reads
    assert decoder.decode(b"\xff\xfe\x80") == "\ufffd" * 3
    assert decoder.take_replaced() == 3 and decoder.take_replaced() == 0


def keys_and_pastes(messages) -> list[str]:
    return [f"paste:{m.text}" if isinstance(m, events.Paste) else m.key for m in messages]


def test_a_bracketed_paste_comes_out_whole_and_in_order_however_it_is_cut():
    body = "line one\r\nline\x00 two\r\n" * 3
    data = "a\x1b" + PASTE_START + body + PASTE_END + "b"  # a lone Escape just before the paste
    for cut in range(1, len(data)):  # every place a read can end, the paste markers included
        splitter = InputSplitter(XTermParser())
        messages = list(splitter.feed(data[:cut])) + list(splitter.feed(data[cut:]))
        shown = keys_and_pastes(messages)  # (a start marker cut in two: Textual's parser takes it, slowly)
        assert shown == ["a", "escape", f"paste:{body.replace(chr(0), '')}", "b"], cut


def test_a_one_megabyte_paste_is_cut_out_at_once():
    body = ("x" * 99 + "\n") * 10_000
    splitter = InputSplitter(XTermParser())
    data = PASTE_START + body + PASTE_END + "Z"
    messages = []
    for offset in range(0, len(data), 4096):  # as a pty delivers it
        messages += splitter.feed(data[offset:offset + 4096])
    assert keys_and_pastes(messages) == [f"paste:{body}", "Z"]


def test_a_terminal_that_cannot_be_written_is_reported_once_and_never_blocks():
    class Dead:
        def write(self, text):
            raise OSError(5, "Input/output error")

        flush = write

    reasons = []
    output = _TerminalOutput(Dead(), reasons.append)
    for _ in range(100):
        output.write("frame")
        output.flush()
    assert reasons == ["cannot write to the terminal: Input/output error"]


class FakeApp:
    """What the driver's input thread talks to."""

    def __init__(self) -> None:
        self.messages: list = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True

    async def _post_message(self, message) -> bool:
        self.messages.append(message)
        return True


@pytest.fixture
async def pty_driver():
    """A WarRoomDriver whose input is the slave side of a fresh pseudo-terminal."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    master, slave = pty.openpty()
    app = FakeApp()
    driver = WarRoomDriver(app)
    driver.fileno = slave
    yield driver, app, master
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def holds(condition):
    """`condition` as the coroutine function probe_servers.until waits on."""
    async def check() -> bool:
        return condition()
    return check


async def test_invalid_utf8_on_the_terminal_keeps_the_input_thread_alive(pty_driver):
    driver, app, master = pty_driver
    tty.setraw(driver.fileno)  # as the driver's application mode sets it: bytes as they come
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    os.write(master, b"ab\xe9c")
    os.write(master, (PASTE_START + "pasted\nlines" + PASTE_END).encode() + b"\xff")
    await until(holds(lambda: sum(m.count for m in app.messages if isinstance(m, UndecodableInput)) == 2))
    await until(holds(lambda: len([m for m in app.messages if isinstance(m, (events.Key, events.Paste))]) == 6))
    typed = [m for m in app.messages if isinstance(m, (events.Key, events.Paste))]
    assert keys_and_pastes(typed)[:2] == ["a", "b"]
    assert typed[2].character == "\ufffd" and typed[3].key == "c"
    assert typed[4].text == "pasted\nlines" and typed[5].character == "\ufffd"
    assert thread.is_alive()
    driver.exit_event.set()
    thread.join(2)
    assert not thread.is_alive()


async def test_the_input_thread_reports_a_closed_terminal_and_stops(pty_driver):
    driver, app, master = pty_driver
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    os.close(master)  # what `tmux kill-session` or a dropped ssh connection does
    thread.join(2)
    assert not thread.is_alive()  # Textual 8's own thread would spin on EOF here, for ever
    gone = [m for m in app.messages if isinstance(m, TerminalGone)]
    assert len(gone) == 1 and "terminal" in gone[0].reason


async def test_the_bar_says_when_bytes_were_not_utf8(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        app.post_message(UndecodableInput(1))
        await wait_for(pilot, lambda: "1 byte from the terminal was not UTF-8" in screen_text(app))
        app.post_message(UndecodableInput(2))  # the typed é, then a pasted Latin-1 "été": 3 so far
        await wait_for(pilot, lambda: "3 bytes from the terminal were not UTF-8" in screen_text(app))
        assert app.is_running


def test_escape_and_a_key_typed_right_behind_it_are_two_keys_not_one_alt_key():
    """Within the parser's escape delay `ESC h` reads as alt+h: the Escape was lost and the `h`
    typed into the dialog it should have closed."""
    import time

    for data, expected in [("\x1bhi", ["escape", "h", "i"]), ("\x1bH", ["escape", "H"]),
                           ("\x1b[A", ["up"]), ("\x1b\x1b", ["escape", "escape"]),
                           ("\x1b\x0e", ["escape", "ctrl+n"]), ("x\x1b\x0fy", ["x", "escape", "ctrl+o", "y"])]:
        splitter = InputSplitter(XTermParser())
        messages = list(splitter.feed(data))
        deadline = time.monotonic() + 2
        while len(messages) < len(expected) and time.monotonic() < deadline:  # the parser's own timeout
            messages += splitter.tick()
        assert [m.key for m in messages] == expected, data
        assert [m.character for m in messages if m.key == "escape"] == ["\x1b"] * expected.count("escape")


def test_escape_and_a_control_key_in_two_reads_are_two_keys():
    """tmux and ssh may deliver Esc and a Ctrl+N typed right after it in two reads: the parser alone
    would give only ctrl+n (the Escape that closes the dialog lost); an ESC left alone is Escape."""
    import time

    for reads, expected in [(["\x1b", "\x0e"], ["escape", "ctrl+n"]), (["\x1b", "[A"], ["up"]),
                            (["a\x1b", "h"], ["a", "escape", "h"]), (["\x1b"], ["escape"])]:
        splitter = InputSplitter(XTermParser())
        messages = [m for data in reads for m in splitter.feed(data)]
        deadline = time.monotonic() + 2
        while len(messages) < len(expected) and time.monotonic() < deadline:  # the wait for a lone ESC
            messages += splitter.tick()
        assert [m.key for m in messages] == expected, reads
