"""One file that a command writes (``netgen graph -o FILE``, ``netgen init PATH``).

The file is written beside its final name and renamed into place, so no reader ever sees half
of it; a file it replaces keeps its permissions. What is not a regular file (``/dev/stdout``, a
named pipe, a device) is written to and never replaced. Every failure is an error with the
path in it (:class:`UsageError` for a path that cannot name a file, :class:`OutputError` for
a write that failed), never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from netgen.errors import OutputError, UsageError


def write_file(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Put ``data`` at ``path``. Without ``replace``, never over anything that exists there,
    not even a file that appears while this one is written."""
    existing = _lstat(path)
    if existing is not None and stat.S_ISLNK(existing.st_mode):
        existing = _stat(path)  # a link is written through, as `>` in a shell does
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise UsageError(f"{path} is a directory; name the file to write")
    if existing is not None and not replace:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    try:
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            with path.open("wb") as stream:
                stream.write(data)
            return
        parent = _stat(path.parent)
        if parent is None or not stat.S_ISDIR(parent.st_mode):
            state = "is not a directory" if parent is not None else "does not exist"
            raise UsageError(f"cannot write {path}: {path.parent} {state}")
        _stage(path, data, existing, replace=replace)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def _stage(path: Path, data: bytes, existing: os.stat_result | None, *, replace: bool) -> None:
    target = path.resolve() if existing is not None else path  # a link stays a link
    # a short name, so that a final name near the file system's limit still gets one
    staged = target.with_name(f".netgen-{os.urandom(6).hex()}.tmp")
    try:
        with staged.open("xb") as stream:  # a new file gets the permissions of any new file (umask)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if existing is not None:
            staged.chmod(stat.S_IMODE(existing.st_mode))
        if replace:
            staged.replace(target)
            return
        try:
            os.link(staged, target)  # fails if something is there, however recently it appeared
        except FileExistsError:
            raise UsageError(f"{path} exists; pass --force to overwrite it") from None
        except OSError:  # a file system without hard links
            if _lstat(target) is not None:
                raise UsageError(f"{path} exists; pass --force to overwrite it") from None
            staged.replace(target)
    finally:
        staged.unlink(missing_ok=True)


def _lstat(path: Path) -> os.stat_result | None:
    return _status(path, follow=False)


def _stat(path: Path) -> os.stat_result | None:
    return _status(path, follow=True)


def _status(path: Path, *, follow: bool) -> os.stat_result | None:
    """``path``'s status, None when nothing is there (a dangling link: nothing to write through)."""
    try:
        return path.stat(follow_symlinks=follow)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
