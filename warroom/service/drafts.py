"""Drafts: the unsent text of an entry bar, kept on disk so no exit, crash or hangup loses it.

Layout: DRAFTS_DIR/<database key>/<incident key>/<slot>.txt, where the database key is a hash of
the database's resolved path (a server's: its URL, password left out) and each open war-room screen owns one slot for its lifetime (held
by an flock on <slot>.lock, so two screens on one incident never overwrite each other). A slot
whose lock nobody holds belongs to a screen that has gone (quit, crashed, killed): its text is
offered back by the next screen that opens the incident, which then takes it over.

Folders are 0700 and files 0600 whatever the umask; every write goes to a temporary file that
is fsynced and renamed over the draft, so a draft is always either the old text or the new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warroom.service.config import config_dir
from warroom.store import describe, is_server_url

DRAFTS_FOLDER = "drafts"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def drafts_root() -> Path:
    """Where drafts live: the config/state folder (see config.state_path) / drafts."""
    return config_dir() / DRAFTS_FOLDER


def _key(name: str) -> str:
    """A file name for `name`: itself when plainly safe, else a hash of it."""
    if _SAFE_NAME.fullmatch(name):
        return name
    return "h-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _private_dirs(root: Path, path: Path) -> None:
    """Create `root` and every folder from it down to `path`, each 0700 (mkdir -p would use the umask)."""
    levels = [path, *path.parents]
    for folder in reversed(levels[: levels.index(root) + 1]):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temporary file, fsync, rename), mode 0600."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb", closefd=True) as handle:
            handle.write(text.encode("utf-8", "surrogatepass"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@dataclass(frozen=True)
class Draft:
    """Text a screen that has gone did not send, and when it was last saved."""

    text: str
    saved_at: datetime
    path: Path


class DraftSlot:
    """One screen's draft of one incident. `open()` takes the slot's lock; `save(text)` replaces the
    draft (an empty text removes it); `close()` lets go, leaving a non-empty draft for the next open."""

    def __init__(self, root: Path, folder: Path, name: str | None = None) -> None:
        self.root, self.folder = root, folder
        self.name = name or f"{os.getpid()}-{secrets.token_hex(3)}"
        self.path = folder / f"{self.name}.txt"
        self._lock_path = folder / f"{self.name}.lock"
        self._lock: int | None = None
        self._saved = ""

    def open(self) -> "DraftSlot":
        _private_dirs(self.root, self.folder)
        self._lock = _take_lock(self._lock_path)
        if self._lock is None:
            raise OSError(f"draft slot {self.path} is in use")
        return self

    def leftovers(self) -> list[Draft]:
        """Drafts of screens that have gone, oldest first (their locks are free)."""
        found = []
        for path in sorted(self.folder.glob("*.txt")):
            if path == self.path:
                continue
            lock = _take_lock(path.with_suffix(".lock"))
            if lock is None:  # a live screen's draft
                continue
            try:
                text = path.read_bytes().decode("utf-8", "replace")
                saved_at = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
            except OSError:
                continue
            finally:
                os.close(lock)
            if text:
                found.append(Draft(text, saved_at, path))
        return sorted(found, key=lambda draft: draft.saved_at)

    def take_over(self, drafts: list[Draft], text: str) -> None:
        """Save `text` (what the screen now holds, the leftovers included) here, then remove the
        leftovers: in that order, so a crash in between leaves a copy, never none."""
        self.save(text)
        for draft in drafts:
            draft.path.unlink(missing_ok=True)
            draft.path.with_suffix(".lock").unlink(missing_ok=True)

    def save(self, text: str) -> None:
        if text == self._saved:
            return
        if text:
            write_private(self.path, text)
        else:
            self.path.unlink(missing_ok=True)
        self._saved = text

    def close(self) -> None:
        if self._lock is None:
            return
        if not self._saved:
            self.path.unlink(missing_ok=True)
        self._lock_path.unlink(missing_ok=True)
        os.close(self._lock)
        self._lock = None


def _take_lock(path: Path) -> int | None:
    """An exclusive flock on `path` (created 0600), or None when another process holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


class DraftStore:
    """The drafts of one database. `lasting` is False for a demo, whose drafts go with its folder."""

    def __init__(self, root: Path, database: Path | str, *, lasting: bool = True) -> None:
        # A file by its resolved path; a server's database by its URL without the password.
        self.database = describe(database) if is_server_url(database) else Path(database).expanduser().resolve()
        digest = hashlib.sha256(str(self.database).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self.root = Path(root)
        self.folder = self.root / digest
        self.lasting = lasting

    def slot(self, incident_id: str) -> DraftSlot:
        """A new slot for a screen on `incident_id` (call open() on it)."""
        return DraftSlot(self.root, self.folder / _key(incident_id))
