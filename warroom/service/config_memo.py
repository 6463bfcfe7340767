"""What a plain `warroom log` remembers of a config it has checked: the user and the database the
config file names, under a digest of everything the check read (the config file, the user's policy
files) and of what does the check (the packaged policies and the modules of the check: their
names, sizes and times, which an upgrade or an edit changes).

The next plain note from the same files takes those two names without loading the config's parser
(msgspec: some 20 ms of a 60 ms command); a change to any of those files is a new digest, and the
full check runs again. Only a check that passed is remembered. The memo is warroom's own file in
the config folder (0600, replaced whole); one that cannot be read or written is no memo.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from warroom.domain.text_files import packaged_policy_dir, read_text_file, toml_files

MEMO_NAME = "checked-config.json"
CHECKERS = ("service/config.py", "service/places.py", "domain/policy.py", "domain/policy_checks.py",
            "domain/tomlspot.py", "domain/clock.py")
"""The modules whose code decides whether a config passes (in the warroom package)."""


def digest(config_text: str | None, policy_files: list[Path]) -> str:
    """The digest of what a config check reads: this config text, these user policy files (read
    here), and the packaged policies and the check's modules as they are on disk."""
    seen = hashlib.sha256(b"config\0" + (config_text or "").encode("utf-8", "surrogatepass"))
    for path in policy_files:
        seen.update(b"\0policy\0" + path.name.encode("utf-8", "surrogatepass") + b"\0")
        seen.update(read_text_file(path).encode("utf-8", "surrogatepass"))
    package = packaged_policy_dir().parent
    for path in [*toml_files(packaged_policy_dir()), *(package / name for name in CHECKERS)]:
        info = path.stat()
        seen.update(f"\0{path}\0{info.st_size}\0{info.st_mtime_ns}".encode("utf-8", "surrogatepass"))
    return seen.hexdigest()


def recall(folder: Path, key: str) -> tuple[str | None, str | None] | None:
    """(user, database) remembered under `key` in `folder`, or None (no memo, another key, or one
    that cannot be read)."""
    try:
        memo = json.loads(read_text_file(folder / MEMO_NAME))
        if memo.get("digest") != key:
            return None
        user, database = memo["user"], memo["database"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(value is None or isinstance(value, str) for value in (user, database)):
        return None
    return user, database


def remember(folder: Path, key: str, user: str | None, database: str | None) -> None:
    """Keep (user, database) under `key` in `folder` (a failure to write is no memo, said nowhere)."""
    memo = json.dumps({"digest": key, "user": user, "database": database}, ensure_ascii=True)
    temporary = folder / f".{MEMO_NAME}.{os.getpid()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(memo)
        os.replace(temporary, folder / MEMO_NAME)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
