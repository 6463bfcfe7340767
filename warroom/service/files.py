"""Files warroom writes for people (posted updates, reports, exports): private whatever the umask.

Folders warroom creates are 0700 and files 0600: an update or a report may quote customer names,
hosts or worse, and a world-readable home directory is common.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path | str) -> Path:
    """`path` and any missing parents, each created 0700 (folders already there are left alone)."""
    path = Path(path).expanduser()
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made by another process a moment ago
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode passes through the umask
    return path


def open_private(path: Path | str, *, exclusive: bool = False) -> BinaryIO:
    """`path` opened for writing (binary) with mode 0600. `exclusive`: fail with FileExistsError
    rather than replace a file. A file replaced is made 0600 too; devices and pipes (`-o /dev/stdout`)
    are written to as they are."""
    path = Path(path).expanduser()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path | str, text: str, *, exclusive: bool = False) -> Path:
    """Write `text` (UTF-8) to `path` with mode 0600 (see open_private)."""
    with open_private(path, exclusive=exclusive) as file:
        file.write(text.encode("utf-8"))
    return Path(path).expanduser()
