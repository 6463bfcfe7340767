"""Reading the user's own text files (config, policies, probes, themes): the one size and kind
rule, and which policy files a folder holds. The stdlib alone, so a plain `warroom log` can tell
that there is no config file and no policy of the user's to check without loading a parser."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024


def read_text_file(path: Path) -> str:
    """The UTF-8 text of a config, policy, probe or theme file. Raises OSError (FileNotFoundError
    when missing) for anything but a regular file of at most 10 MB: a FIFO would block forever,
    /dev/zero never end; UnicodeDecodeError for bytes that are not UTF-8."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return Path(path).read_text(encoding="utf-8")


def toml_files(folder: Path | None) -> list[Path]:
    """The `*.toml` files of `folder` in name order (none when it is None or not a folder)."""
    if folder is None or not folder.is_dir():
        return []
    return sorted(folder.glob("*.toml"))


def packaged_policy_dir() -> Path:
    """The folder of the policies warroom ships (in the package, beside its code)."""
    return Path(__file__).resolve().parent.parent / "policies"
