"""End to end: warroom under a real pseudo-terminal whose master side goes away (what
`tmux kill-session`, a closed terminal window or a dropped ssh connection does).

Every process a test starts carries an environment marker; after the master is closed, no
process with that marker may be left after 2 s (found through /proc, so orphans re-parented to
init count too). Unsent text typed before must be offered on the next open.
"""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
WARROOM = str(Path(sys.executable).with_name("warroom"))
MARK = "WARROOM_TEST_RUN"
READY = b"Enter to log"  # the entry bar's placeholder: the war room is on screen
EXIT_WITHIN = 2.0


def marked_processes(mark: str) -> list[str]:
    """Command lines of the live processes whose environment holds MARK=mark."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone meanwhile, or a zombie (it has exited: not alive)
            continue
    return found


class Terminal:
    """A command on the slave side of a new 120x40 pseudo-terminal; its output is read all along
    (so the program never blocks writing) and kept for `wait_for`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child: a new session whose controlling terminal is the slave
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            with self._changed:
                if not data:
                    self._changed.notify_all()
                    return
                self.output += data
                self._changed.notify_all()

    def wait_for(self, needle: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while needle not in self.output:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"{needle!r} not on screen; last output: {bytes(self.output[-2000:])!r}")
                self._changed.wait(min(left, 0.2))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def hang_up(self) -> float:
        """Close the master side; returns when it was closed."""
        os.close(self.master)
        return time.monotonic()

    def reap(self) -> None:
        try:
            os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pass


def wait_until(condition, timeout: float, failure) -> None:
    """Poll `condition` until it holds; after `timeout` seconds fail with `failure()`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        time.sleep(0.02)


def assert_all_gone(mark: str, closed_at: float, terminal: Terminal) -> float:
    """Every process with the marker has exited within EXIT_WITHIN of `closed_at`; returns how long it took."""
    def gone() -> bool:
        terminal.reap()
        return not marked_processes(mark)

    wait_until(gone, EXIT_WITHIN, lambda: f"still running {EXIT_WITHIN} s after the end: {marked_processes(mark)}")
    return time.monotonic() - closed_at


@pytest.fixture
def run_env(tmp_path):
    """Environment for the processes a test starts: a private config dir and TMPDIR, and a marker.
    Whatever a failing test leaves running is killed afterwards."""
    mark = uuid.uuid4().hex
    env = {**os.environ, MARK: mark, "TERM": "xterm-256color", "WARROOM_CONFIG_DIR": str(tmp_path / "config"),
           "TMPDIR": str(tmp_path / "tmp"), "WARROOM_USER": "scribe"}
    env.pop("WARROOM_DB", None)
    (tmp_path / "tmp").mkdir()
    yield env
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"{MARK}={mark}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            continue


def declare(database: Path, env) -> str:
    done = subprocess.run([WARROOM, "--db", str(database), "declare", "Checkout down", "-s", "SEV-2"],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def drafts(env) -> list[str]:
    root = Path(env["WARROOM_CONFIG_DIR"]) / "drafts"
    return [path.read_text() for path in root.rglob("*.txt")]


# A parent that, like make, catches the hangup and waits for its child: warroom gets no SIGHUP,
# only the end of its input.
WAITING_PARENT = [sys.executable, "-c", "import signal, subprocess, sys; signal.signal(signal.SIGHUP, lambda *a: None);"
                  " sys.exit(subprocess.call(sys.argv[1:]))"]


@pytest.mark.parametrize("ending", ["hangup", "hangup behind a waiting parent", "kill -9"])
def test_unsent_text_typed_before_the_end_is_offered_on_the_next_open(tmp_path, run_env, ending):
    database = tmp_path / "war.db"
    incident_id = declare(database, run_env)
    command = [WARROOM, "--db", str(database), "open", incident_id]
    terminal = Terminal((WAITING_PARENT if "parent" in ending else []) + command, run_env)
    terminal.wait_for(READY)
    terminal.type("unsent words")
    terminal.wait_for(b"unsent words")  # on screen: what the scribe saw before the end
    if ending == "kill -9":
        # Saved within a fraction of a second of typing, while warroom runs.
        wait_until(lambda: drafts(run_env) == ["unsent words"], 2, lambda: drafts(run_env))
        os.kill(terminal.pid, signal.SIGKILL)
    took = assert_all_gone(run_env[MARK], terminal.hang_up(), terminal)
    print(f"{ending}: every process gone {took:.2f} s after the end")
    assert drafts(run_env) == ["unsent words"]

    again = Terminal(command, run_env)
    again.wait_for(b"Restored the draft that was not sent")
    again.wait_for(b"unsent words")
    assert_all_gone(run_env[MARK], again.hang_up(), again)
    assert drafts(run_env) == ["unsent words"]  # offered, not sent: still kept


@pytest.mark.skipif(shutil.which("make") is None and os.environ.get("CI") != "true", reason="make is not installed")
def test_make_demo_leaves_when_its_terminal_goes_away(tmp_path, run_env):
    """`make demo` in tmux, then `tmux kill-session`: make, warroom, the demo service and the
    temporary demo database must all be gone within 2 s."""
    bin_dir = str(Path(sys.executable).parent)
    # -o: take the installed .venv as up to date (no pip run in a test); BIN: this interpreter's warroom.
    terminal = Terminal(["make", "-s", "-C", str(REPO), "-o", ".venv/.installed", "demo", f"BIN={bin_dir}"], run_env)
    terminal.wait_for(READY)
    terminal.type("demo words")
    terminal.wait_for(b"demo words")
    demo_folders = list((tmp_path / "tmp").glob("warroom-demo-*"))
    assert len(demo_folders) == 1 and (demo_folders[0] / "demo.db").exists()
    took = assert_all_gone(run_env[MARK], terminal.hang_up(), terminal)
    print(f"make demo: every process gone {took:.2f} s after the terminal went away")
    assert not demo_folders[0].exists()  # the temporary demo database went with it
