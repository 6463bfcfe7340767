"""A program under a pseudo-terminal (the real driver, as in tmux or ssh), for benchmarks that
time what a person sees: when text shows on screen, what the process costs meanwhile."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Terminal:
    """`argv` under a pseudo-terminal of `columns` x `rows`; `started` is when it was forked."""

    def __init__(self, argv: list[str], env: dict[str, str], columns: int = 120, rows: int = 40) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.seen = b""
        self.status: int | None = None
        self.watched: dict[bytes, float | None] = {}  # needle -> when first drawn (perf_counter)
        self._tail = b""

    def read_until(self, needle: bytes, timeout: float) -> float:
        """Seconds until `needle` shows (TimeoutError after `timeout`)."""
        return self.read_until_all([needle], timeout)

    def read_until_all(self, needles: list[bytes], timeout: float) -> float:
        """Seconds from now until every one of `needles` has been written to the screen."""
        started = time.perf_counter()
        while not all(needle in self.seen for needle in needles):
            left = timeout - (time.perf_counter() - started)
            if left <= 0:
                missing = [needle for needle in needles if needle not in self.seen]
                raise TimeoutError(f"{missing!r} not seen in {timeout} s")
            self.pump(left)
        return time.perf_counter() - started

    def read_until_any(self, needles: list[bytes], timeout: float) -> float:
        """Seconds from now until one of `needles` has been written to the screen."""
        started = time.perf_counter()
        while not any(needle in self.seen for needle in needles):
            left = timeout - (time.perf_counter() - started)
            if left <= 0:
                raise TimeoutError(f"none of {needles!r} seen in {timeout} s")
            self.pump(left)
        return time.perf_counter() - started

    def watch(self, needle: bytes) -> None:
        """Note when `needle` is first drawn from now on, whatever else reads the screen (`watched`)."""
        self.watched[needle] = None
        self._tail = b""

    def pump(self, timeout: float) -> None:
        """Read what the program wrote within `timeout` seconds (keeps its output flowing)."""
        if select.select([self.fd], [], [], timeout)[0]:
            try:
                self._received(os.read(self.fd, 1 << 20))
            except OSError:  # the program is gone
                time.sleep(min(timeout, 0.01))

    def _received(self, data: bytes) -> None:
        self.seen += data
        if self.watched:
            now, text = time.perf_counter(), self._tail + data
            for needle, at in self.watched.items():
                if at is None and needle in text:
                    self.watched[needle] = now
            self._tail = text[-256:]

    def idle(self, seconds: float) -> None:
        """Let it run for `seconds`, reading (and forgetting) what it draws."""
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            self.pump(left)
            self.seen = self.seen[-4096:]

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0.3)[0]:
            try:
                os.read(self.fd, 1 << 20)
            except OSError:
                break
        self.seen = b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            readable, writable, _ = select.select([self.fd], [self.fd], [], 5)
            if readable:
                self._received(os.read(self.fd, 1 << 20))  # keep the screen output flowing
            if writable:
                view = view[os.write(self.fd, view[:65536]):]

    def cpu_seconds(self) -> float:
        """The program's user + system CPU so far (its threads included)."""
        text = Path(f"/proc/{self.pid}/stat").read_text()
        fields = text[text.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def peak_rss_mib(self) -> float:
        """The program's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self, timeout: float = 10.0) -> None:
        """Hang up (the program sees its terminal go) and wait for it; killed if it lingers."""
        os.close(self.fd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return
            time.sleep(0.02)
        os.kill(self.pid, signal.SIGKILL)
        _, self.status = os.waitpid(self.pid, 0)
