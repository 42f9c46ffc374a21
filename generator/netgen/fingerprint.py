"""A render's fingerprint: a digest of everything that decides what it writes and reports.

``netgen render`` records the fingerprint of a render that succeeded without a diagnostic
with OUT's manifest (:func:`netgen.write.remember`). When the next render has the same
fingerprint and every file in OUT is still what the manifest says, rendering again would
write the same bytes and report nothing, so it is skipped (:func:`netgen.write.up_to_date`).

The fingerprint covers the inventory and every facts file netgen reads (the same files, by
the same rule: their paths as given, and their bytes as the manifest's ``inputs`` record
them), every file of the template overrides, the clusters selected, netgen's own code,
templates and schemas, the Python that runs it and the name and version of every installed
distribution (so jinja2 or ruamel.yaml, which decide how text is read and written, are part
of it). Anything it cannot read, or any symbolic link among the overrides, leaves no
fingerprint, and the render runs in full.

This module reads files only: it imports nothing of the pipeline.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from netgen.errors import UsageError

#: changes whenever what a fingerprint covers changes
_FORMAT = b"netgen render fingerprint 1"
_PACKAGE = Path(__file__).resolve().parent
# reading stops here, as the inventory reader refuses larger files (netgen.load.reader)
_MAX_BYTES = 64 << 20


def facts_files(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """The facts files under ``paths`` as they are read, with their display names: a file
    as given; in a directory, its files that are not hidden, by name. A missing or unreadable
    path raises :class:`UsageError`."""
    files: list[tuple[str, Path]] = []
    for path in paths:
        try:
            is_directory = path.is_dir()
            if not is_directory and not path.exists():
                raise UsageError(f"facts path {path} does not exist")
        except OSError as error:
            raise UsageError(f"cannot read facts path {path}: {error.strerror or error}") from error
        if not is_directory:
            files.append((str(path), path))
            continue
        try:
            entries = sorted(path.iterdir(), key=lambda entry: entry.name)
        except OSError as error:
            raise UsageError(f"cannot list facts directory {path}: {error.strerror or error}") from error
        files.extend((str(path / e.name), e) for e in entries if not e.name.startswith(".") and e.is_file())
    return files


@dataclass(frozen=True)
class Fingerprint:
    """What decides a render's output: ``digest`` covers all of it but the inventory's and
    facts files' bytes, which ``inputs`` has as the manifest records them (display name →
    sha256), so they are compared with the bytes the render that wrote OUT really read."""

    digest: str
    inputs: dict[str, str]


def fingerprint(
    inventory: Path, facts: Sequence[Path], templates: Path | None, clusters: Sequence[str] | None
) -> Fingerprint | None:
    """The fingerprint of ``netgen render`` with these arguments, or None when one of its
    inputs cannot be read as a plain file (the render then reports why, or runs in full)."""
    digest = hashlib.sha256(_FORMAT)

    def add(label: str, data: bytes) -> None:
        digest.update(b"%d:%s\0%d:" % (len(label.encode()), label.encode(), len(data)))
        digest.update(data)

    try:
        add("python", f"{sys.version}\0{sys.implementation.cache_tag}".encode())
        add("distributions", "\0".join(_distributions()).encode())
        for name, data in _tree(_PACKAGE, skip="__pycache__"):
            add(f"netgen/{name}", data)
        for resource in ("templates", "schemas"):
            for name, data in _tree(_resource_dir(resource)):
                add(f"{resource}/{name}", data)
        # named as netgen.load names them in the manifest
        inputs = {inventory.name: hashlib.sha256(_read_plain(inventory)).hexdigest()}
        add("inventory", str(inventory).encode())
        for display, path in facts_files(list(facts)):
            name = f"facts/{Path(display).name}"
            if name in inputs:
                return None  # two facts files of one name: the manifest records one of them
            inputs[name] = hashlib.sha256(_read_plain(path)).hexdigest()
            add("facts", display.encode())
        if templates is not None:
            add("templates", str(templates).encode())
            for name, data in _tree(templates, refuse_links=True):
                add(f"override/{name}", data)
        add("clusters", "\0".join(clusters).encode() if clusters is not None else b"*all*")
    except (OSError, UsageError, _Unsure):
        return None
    return Fingerprint(digest.hexdigest(), inputs)


class _Unsure(Exception):
    """An input the fingerprint cannot vouch for."""


def _read_plain(path: Path) -> bytes:
    """A regular file's bytes (never a pipe or device, which reading would consume)."""
    # opened without blocking, so a FIFO with no writer is refused, not waited on
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _Unsure(path)
        data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise _Unsure(path)
    return data


def _tree(root: Path, *, skip: str | None = None, refuse_links: bool = False) -> Iterator[tuple[str, bytes]]:
    """Every file under ``root`` (path relative to it, bytes), in a stable order."""
    if not root.is_dir():
        raise _Unsure(root)
    for directory, folders, names in os.walk(root, onerror=_raise):
        base = Path(directory)
        folders[:] = sorted(f for f in folders if f != skip)
        if refuse_links and any((base / name).is_symlink() for name in [*folders, *names]):
            raise _Unsure(base)
        for name in sorted(names):
            path = base / name
            yield path.relative_to(root).as_posix(), _read_plain(path)


def _raise(error: OSError) -> None:
    raise error


def _resource_dir(name: str) -> Path:
    """Where ``templates/`` and ``schemas/`` are, as :func:`netgen.resources.resource_dir` finds
    them (inside the package in a wheel; at the top of a source checkout)."""
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _PACKAGE.parents[1] / name


def _distributions() -> list[str]:
    """The installed distributions with their versions, as their metadata folders are named
    (``jinja2-3.1.6.dist-info``), on every path Python imports from."""
    found = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                found += [f"{entry}/{item.name}" for item in listing if item.name.endswith((".dist-info", ".egg-info"))]
        except (NotADirectoryError, FileNotFoundError):
            continue  # a zip file or a folder that is not there: Python skips it too
    return sorted(found)
