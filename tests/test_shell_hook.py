"""`warroom shell-hook bash`, for real: an interactive bash on a pseudo-terminal with the snippet
loaded logs the commands typed while `warroom_log on` is in force, marks its prompt, and stops."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import time

import pytest
from db_access import everything_stored, rows_now

from probe_servers import until

PROMPT = re.compile(rb"\$ $")


class Shell:
    """An interactive shell on a pseudo-terminal; `type` sends a line and waits for the next prompt."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the shell
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        self.screen = self.wait_for_prompt()

    def wait_for_prompt(self, timeout: float = 60) -> str:
        seen = b""
        deadline = time.monotonic() + timeout
        while not PROMPT.search(seen):
            left = deadline - time.monotonic()
            assert left > 0, f"no prompt within {timeout} s: {seen!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                seen += os.read(self.fd, 65536)
        return seen.decode("utf-8", "replace")

    def type(self, line: str) -> str:
        os.write(self.fd, line.encode() + b"\r")
        self.screen = self.wait_for_prompt()
        return self.screen

    def close(self) -> None:
        os.write(self.fd, b"exit\r")
        try:
            while os.read(self.fd, 65536):
                pass
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def logged(database) -> list[dict]:
    rows = rows_now(database, "SELECT text, data FROM entries WHERE kind = 'command' ORDER BY occurred_at")
    return [{"text": text, **json.loads(data)} for text, data in rows]


def prompt_line(screen: str) -> str:
    return screen.splitlines()[-1].split("\x1b[?2004h")[-1]


async def test_bash_hook_logs_typed_commands_while_on_and_marks_the_prompt(run_cli, cli_env, database, tmp_path):
    incident_id = run_cli("declare", "Hooked", "--severity", "SEV-2").stdout.strip()
    hook = run_cli("shell-hook", "bash")
    assert hook.returncode == 0 and "warroom_log()" in hook.stdout
    rc = tmp_path / "bashrc"
    rc.write_text(hook.stdout + "\nPS1='$ '\n")
    env = {**cli_env, "HOME": str(tmp_path), "HISTFILE": str(tmp_path / "history"), "TERM": "dumb"}
    shell = Shell(["bash", "--noprofile", "--rcfile", str(rc), "-i"], env, tmp_path)
    try:
        shell.type("echo before")
        screen = shell.type("warroom_log on")  # the only open incident
        assert f"warroom: logging every command of this shell to {incident_id}" in screen
        assert prompt_line(screen) == f"[rec {incident_id}] $ "
        assert "hi" in shell.type("echo hi; false")
        shell.type("")  # an empty line is no command
        shell.type("true --password=hunter2 https://ops:pw-4433@example.com/ && true")
        shell.type(" export API_TOKEN=tok-777")
        assert f"logging to {incident_id}" in shell.type("warroom_log status")
        screen = shell.type("warroom_log off")
        assert f"stopped logging to {incident_id}" in screen and prompt_line(screen) == "$ "
        shell.type("echo after")
        shell.type(f"warroom_log on {incident_id}")
        shell.type("echo marker")
        await until(lambda: _logged_all(database, 4, "echo marker"), timeout=60)  # each is logged in the background
        shell.type("warroom_log off")
    finally:
        shell.close()
    entries = logged(database)
    assert [e["command"] for e in entries] == [
        "echo hi; false",
        "true --password=<redacted> https://ops:<redacted>@example.com/ && true",
        "export API_TOKEN=<redacted>",
        "echo marker",
    ]
    first = entries[0]
    assert (first["exit_code"], first["source"], first["output"], first["output_lines"]) == (1, "shell", [], None)
    assert first["cwd"] == str(tmp_path) and 0 <= first["duration_s"] < 30
    assert first["text"].startswith("echo hi; false → exit 1 after ")
    stored = everything_stored(database)
    assert b"hunter2" not in stored and b"pw-4433" not in stored and b"tok-777" not in stored
    assert run_cli("verify", incident_id).returncode == 0


async def _logged_all(database, count: int, last: str) -> bool:
    entries = logged(database)
    return len(entries) >= count and any(entry["command"] == last for entry in entries)


def test_turning_on_for_an_unknown_incident_says_so_and_changes_nothing(run_cli, cli_env, tmp_path):
    hook = run_cli("shell-hook", "bash").stdout
    rc = tmp_path / "bashrc"
    rc.write_text(hook + "\nPS1='$ '\n")
    shell = Shell(["bash", "--noprofile", "--rcfile", str(rc), "-i"],
                  {**cli_env, "HOME": str(tmp_path), "HISTFILE": str(tmp_path / "history"), "TERM": "dumb"}, tmp_path)
    try:
        screen = shell.type("warroom_log on INC-19990101-001")
        assert "warroom: error: no incident 'INC-19990101-001'" in screen and prompt_line(screen) == "$ "
        assert "not logging" in shell.type("warroom_log")
    finally:
        shell.close()


def test_the_zsh_snippet_embeds_the_same_warroom_and_hooks():
    from warroom.service.shellhook import snippet

    text = snippet("zsh", ["/opt/py thon", "-m", "warroom", "--db", "/d b/w.db"])
    assert "__warroom_cmd=('/opt/py thon' -m warroom --db '/d b/w.db')" in text
    assert "add-zsh-hook preexec __warroom_preexec" in text and "precmd_functions=(__warroom_precmd" in text


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed here")
def test_the_zsh_snippet_parses(run_cli, tmp_path):
    import subprocess

    path = tmp_path / "hook.zsh"
    path.write_text(run_cli("shell-hook", "zsh").stdout)
    assert subprocess.run(["zsh", "-n", str(path)], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(shutil.which("zsh") is None and os.environ.get("CI") != "true", reason="zsh is not installed here")
async def test_zsh_hook_logs_typed_commands_while_on_and_marks_the_prompt(run_cli, cli_env, database, tmp_path):
    incident_id = run_cli("declare", "Hooked in zsh", "--severity", "SEV-2").stdout.strip()
    plain_prompt = "\nPS1='$ '\nunsetopt PROMPT_SP\nunset zle_bracketed_paste\n"  # what the test waits for
    (tmp_path / ".zshrc").write_text(run_cli("shell-hook", "zsh").stdout + plain_prompt)
    env = {**cli_env, "HOME": str(tmp_path), "ZDOTDIR": str(tmp_path), "HISTFILE": str(tmp_path / "history"),
           "TERM": "dumb"}
    shell = Shell(["zsh", "-i"], env, tmp_path)
    try:
        shell.type("echo before")
        screen = shell.type("warroom_log on")
        assert f"warroom: logging every command of this shell to {incident_id}" in screen
        assert prompt_line(screen).endswith(f"[rec {incident_id}] $ ")
        shell.type("echo hi; false")
        shell.type("true --password=hunter2 && true")
        await until(lambda: _logged_all(database, 2, "true --password=<redacted> && true"), timeout=60)
        screen = shell.type("warroom_log off")
        assert f"stopped logging to {incident_id}" in screen
        shell.type("echo after")
    finally:
        shell.close()
    entries = logged(database)
    assert [e["command"] for e in entries] == ["echo hi; false", "true --password=<redacted> && true"]
    assert entries[0]["exit_code"] == 1 and entries[0]["cwd"] == str(tmp_path)
