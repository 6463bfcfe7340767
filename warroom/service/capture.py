"""Running a responder's command for `warroom run`: in their environment and working directory,
its output streamed live and the tail of it kept for the record.

On a terminal the command writes to a pseudo-terminal of the same size (so it still sees a
terminal: colours, line buffering, progress bars) whose output is copied to ours; stdin stays the
real terminal. Otherwise its stdout and stderr are pipes copied to ours. Ctrl-C reaches the command
(same process group) and warroom waits for it, so an interrupted command is recorded too.
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO, Callable

TAIL_BYTES = 64 * 1024  # output kept in memory, from which the last lines are taken


@dataclass(frozen=True, slots=True)
class Finished:
    """How a command ended: exit code as a shell reports it (128+N for signal N, 127 not found)."""

    exit_code: int
    signal: int | None
    duration: timedelta
    tail: bytes
    lines: int


class _Tail:
    """The last TAIL_BYTES of a stream, and how many lines went through."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.lines = 0
        self.last = b"\n"

    def feed(self, chunk: bytes) -> None:
        self.lines += chunk.count(b"\n")
        self.last = chunk[-1:]
        self.chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(self.chunks[0]) >= TAIL_BYTES:
            self.size -= len(self.chunks.popleft())

    def value(self) -> bytes:
        return b"".join(self.chunks)[-TAIL_BYTES:]

    def line_count(self) -> int:
        return self.lines + (0 if self.last == b"\n" else 1)


def run_streaming(argv: list[str], out: BinaryIO | None = None, err: BinaryIO | None = None) -> Finished:
    """Run argv to the end, copying its output to `out`/`err` (default: ours) as it comes."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr.buffer
    tail = _Tail()
    use_pty = out is sys.stdout.buffer and _is_terminal(sys.stdout)
    # The command gets Ctrl-C and Ctrl-\ from the terminal; warroom waits for it and records it.
    previous = {number: signal.signal(number, _ignore) for number in (signal.SIGINT, signal.SIGQUIT)}
    started = time.monotonic()
    try:
        try:
            process, sources = _start(argv, out, err, use_pty)
        except OSError as error:
            code = 127 if error.errno == errno.ENOENT else 126
            message = f"warroom: {argv[0]}: {'command not found' if code == 127 else error.strerror}\n".encode()
            _write(err, message)
            tail.feed(message)
            return Finished(code, None, timedelta(seconds=time.monotonic() - started), tail.value(), 1)
        if use_pty:
            master = sources[0].fd
            previous[signal.SIGWINCH] = signal.signal(
                signal.SIGWINCH, lambda *_: _copy_window_size(sys.stdout.fileno(), master))
        _copy(sources, tail)
        returncode = process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    duration = timedelta(seconds=time.monotonic() - started)
    if returncode < 0:
        return Finished(128 - returncode, -returncode, duration, tail.value(), tail.line_count())
    return Finished(returncode, None, duration, tail.value(), tail.line_count())


@dataclass
class _Source:
    fd: int
    sink: BinaryIO | None  # None once writing to it failed (a closed pipe): the tail is still kept
    close: Callable[[], None]


def _ignore(signum, frame) -> None:  # a handler, not SIG_IGN: the command must not inherit "ignore"
    pass


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _start(argv: list[str], out: BinaryIO, err: BinaryIO, use_pty: bool) -> tuple[subprocess.Popen, list[_Source]]:
    if use_pty:
        import pty

        master, slave = pty.openpty()
        _copy_window_size(sys.stdout.fileno(), slave)
        try:
            process = subprocess.Popen(argv, stdout=slave, stderr=slave)
        except OSError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return process, [_Source(master, out, lambda: os.close(master))]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return process, [_Source(process.stdout.fileno(), out, process.stdout.close),
                     _Source(process.stderr.fileno(), err, process.stderr.close)]


def _copy_window_size(source: int, target: int) -> None:
    try:
        import fcntl
        import termios

        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except (OSError, ImportError):
        pass


def _write(sink: BinaryIO, chunk: bytes) -> bool:
    try:
        sink.write(chunk)
        sink.flush()
        return True
    except (BrokenPipeError, ValueError, OSError):
        return False


def _copy(sources: list[_Source], tail: _Tail) -> None:
    """Copy every source to its sink until each is closed (a pty master reports EIO at the end)."""
    by_fd = {source.fd: source for source in sources}
    with selectors.DefaultSelector() as selector:
        for source in sources:
            selector.register(source.fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                source = by_fd[key.fd]
                try:
                    chunk = os.read(key.fd, 65536)
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    chunk = b""
                if not chunk:
                    selector.unregister(key.fd)
                    source.close()
                    continue
                if source.sink is not None and not _write(source.sink, chunk):
                    source.sink = None
                tail.feed(chunk)
