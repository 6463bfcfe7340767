"""The post-incident report (the war room's F6) written by a process of its own.

Rendering a report of 100,000 entries takes seconds of Python. In a thread of the war room it
shared the interpreter with the screen: each key waited for the GIL behind it, and on a machine
loaded several times over a key waited up to 438 ms. Here a child process, at a lower priority
(nice +10), opens the same database read-only, reads the incident as the screen's service would
(the same policy, the same moment: the service's clock), writes the Markdown to a private
`.partial` file and says how far it is, a line at a time; the war room puts the file in its place
when the child has finished. Nothing the child does can write to the record.

The job goes to the child on its stdin (the database's password too, for a server: never in its
arguments, its environment or a message). The child is `python -m warroom.service.report_process`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Callable

from warroom.domain.errors import WarroomError

PROGRESS_EVERY = 0.25  # seconds between two lines on how far the child is
NICE = 10  # how much lower than the war room's the child's priority is
CHILD = "warroom.service.report_process"


async def write_report_apart(service, incident_id: str, path: Path,
                             on_progress: Callable[[int, int], None]) -> None:
    """Write `incident_id`'s report to `path` (whole, or not at all) by a child process, calling
    `on_progress(read, total)` as it reads the timeline. WarroomError (one line) when it could not
    be written; cancelled, the child is stopped and nothing is left."""
    from warroom.domain.clock import to_stored
    from warroom.service.files import private_folder

    incident = await service.incident(incident_id)
    location, password = service.db.address()
    job = {"database": location, "password": password, "incident": incident_id, "output": "",
           "now": to_stored(service.now()), "policy_id": incident.policy_id,
           "policy": _policy_json(service.policy_for(incident)), "progress_every": PROGRESS_EVERY}
    try:
        private_folder(path.parent)
    except OSError as error:
        raise WarroomError(f"cannot write {path.parent}: {error.strerror or error}") from None
    partial = path.with_name(path.name + ".partial")
    job["output"] = str(partial)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", CHILD, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        child.stdin.write(json.dumps(job).encode("utf-8"))
        await child.stdin.drain()
        child.stdin.close()
        errors = asyncio.ensure_future(child.stderr.read())
        async for line in child.stdout:
            words = line.split()
            if len(words) == 3 and words[0] == b"read":
                on_progress(int(words[1]), int(words[2]))
        said, code = await errors, await child.wait()
    except BaseException:
        if child.returncode is None:
            child.kill()
            await child.wait()
        _discard(partial)
        raise
    if code != 0:
        _discard(partial)
        raise WarroomError(_problem(said, code))
    os.replace(partial, path)


def _discard(partial: Path) -> None:
    """Remove what a child that did not finish left (a folder in its way is not ours: left)."""
    try:
        partial.unlink(missing_ok=True)
    except OSError:
        pass


def _policy_json(policy) -> str:
    import msgspec

    return msgspec.json.encode(policy).decode("utf-8")


def _problem(said: bytes, code: int) -> str:
    """The child's last line on stderr, made inert (its error message), else its exit code."""
    from warroom.domain.text import visible

    lines = [line for line in said.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return f"the report's process ended with code {code}"
    return visible(lines[-1].removeprefix("warroom: error: "))[:300]


# ---- the child ----------------------------------------------------------------------------------


def _child() -> int:
    """Read the job from stdin, write the report, say how far it is on stdout: the exit code."""
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: the report is written at the war room's priority
        pass
    try:
        job = json.loads(sys.stdin.buffer.read())
        location = job["database"]
        from warroom.store import is_server_url

        if is_server_url(location):
            asyncio.run(_write(job, blocking=False))
        else:
            from warroom.store.blocking import run_to_end

            run_to_end(_write(job, blocking=True))
    except WarroomError as error:
        print(f"warroom: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"warroom: error: cannot write the report: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


async def _write(job: dict, *, blocking: bool) -> None:
    import time

    import msgspec

    from warroom.domain.clock import from_stored
    from warroom.domain.policy import Policy, PolicyBook
    from warroom.domain.postmortem import markdown_pieces
    from warroom.service.exports import streamed_record, write_pieces
    from warroom.service.files import open_private
    from warroom.service.incidents import IncidentService
    from warroom.store.backend import open_database

    policies = PolicyBook({job["policy_id"]: msgspec.json.decode(job["policy"], type=Policy)})
    moment = from_stored(job["now"])
    db = await open_database(job["database"], read_only=True, password=job["password"], blocking=blocking)
    try:
        service = IncidentService(db, policies, lambda: moment)
        record = await streamed_record(service, job["incident"])
        entries, said, every = record.entries, [time.monotonic()], float(job["progress_every"])

        def told(pieces):
            for piece in pieces:
                yield piece
                now = time.monotonic()
                if now - said[0] >= every:
                    said[0] = now
                    sys.stdout.write(f"read {entries.read} {len(entries)}\n")
                    sys.stdout.flush()

        sys.stdout.write(f"read 0 {len(entries)}\n")
        sys.stdout.flush()
        with open_private(job["output"]) as sink:
            await write_pieces(lambda: told(markdown_pieces(record)), sink, blocking=blocking)
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(_child())
