"""Writing rendered files into OUT: atomic, minimal, and only ever netgen's own files.

- Files whose bytes are unchanged are not touched (their mtime stays, so make does not
  rebuild what depends on them).
- Files netgen wrote before (listed in ``OUT/netgen-manifest.json``) and no longer
  renders are removed; a file netgen did not write is never touched.
- All changes are staged inside OUT first and then moved into place; if anything fails,
  every change made so far is undone, so OUT is left as it was.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from netgen.errors import OutputError

MANIFEST = "netgen-manifest.json"
GENERATOR = "netgen"


@dataclass(frozen=True, slots=True)
class WriteResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    #: unified diff of every change, as ``render --check`` prints it
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def write_tree(
    files: Mapping[str, str],
    out: Path,
    *,
    inputs: Mapping[str, str],
    version: str,
    verifier: str | None = None,
    stale_scope: Collection[str] | None,
    check: bool = False,
) -> WriteResult:
    """Bring OUT in line with ``files`` (paths relative to OUT).

    ``verifier`` (see :func:`netgen.emit.verify.verifier`) is recorded when every file was verified
    by it. ``stale_scope`` says where files netgen wrote before and ``files`` no longer has
    are removed: the folders of those clusters (an empty collection: nowhere), or with None
    all of OUT's netgen files. Files out of scope stay, and so do their manifest entries.
    """
    for path in files:
        _require_safe(path)
    try:
        _require_directory(out)
        if check:
            return _compare(files, out, inputs, _claim(version, verifier), stale_scope=stale_scope, check=True)
        with _exclusive(out):
            return _compare(files, out, inputs, _claim(version, verifier), stale_scope=stale_scope, check=False)
    except OSError as error:
        # looking at OUT can fail too (a name too long, no permission): before anything changed
        raise OutputError(f"cannot write to {out}: {error.strerror or error}") from error


def _compare(
    files: Mapping[str, str],
    out: Path,
    inputs: Mapping[str, str],
    claim: dict[str, str],
    *,
    stale_scope: Collection[str] | None,
    check: bool,
) -> WriteResult:
    """``claim``: the manifest's generator, and the verifier if every file was verified."""
    tree = _Tree(out)
    previous_manifest = _read_manifest(out, tree)
    previous = previous_manifest.get("files", {})

    def in_scope(path: str) -> bool:
        return stale_scope is None or PurePosixPath(path).parts[0] in stale_scope

    kept = {p: h for p, h in previous.items() if not in_scope(p)}
    stale = sorted(p for p in previous if in_scope(p) and p not in files and tree.kind(p) == "file")

    manifest_files = dict(kept)
    manifest_files.update({p: hashlib.sha256(t.encode()).hexdigest() for p, t in files.items()})
    # files kept from an earlier render were verified by whatever verified them then
    if kept and any(previous_manifest.get(key) != value for key, value in claim.items()):
        claim = {"generator": claim["generator"]}
    manifest = {**claim, "inputs": dict(sorted(inputs.items())), "files": dict(sorted(manifest_files.items()))}
    wanted = dict(files)
    wanted[MANIFEST] = json.dumps(manifest, indent=2) + "\n"

    created, updated, unchanged = [], [], []
    for path in sorted(wanted):
        current = _read(tree, path)
        if current is None:
            created.append(path)
        elif current != wanted[path].encode():
            updated.append(path)
        else:
            unchanged.append(path)
    diff = _diff(tree, wanted, created + updated, stale) if check else ""
    result = WriteResult(tuple(created), tuple(updated), tuple(stale), tuple(unchanged), diff)
    if not check and result.changed:
        _commit(tree, {p: wanted[p] for p in created + updated}, stale)
    return result


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold OUT for one render: a second render into it at the same time fails at once
    instead of interleaving. The lock is on OUT's directory itself, so no lock file is left
    in OUT; OUT is created for it, and removed again if the render then fails."""
    created: list[Path] = []
    try:
        for directory in reversed([out, *out.parents]):
            if not directory.exists():
                with suppress(FileExistsError):
                    directory.mkdir()
                    created.append(directory)
        descriptor = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        _remove_if_empty(created)
        raise OutputError(f"cannot write to {out}: {error.strerror}") from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another netgen render is writing {out} right now; run again when it is done") from None
        yield
    except BaseException:
        os.close(descriptor)
        _remove_if_empty(created)
        raise
    os.close(descriptor)


def _remove_if_empty(directories: list[Path]) -> None:
    for directory in reversed(directories):
        with suppress(OSError):
            directory.rmdir()


def _require_safe(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(part in ("", ".", "..") for part in pure.parts) or "\0" in path:
        raise OutputError(f"refusing to write {path!r}: output paths must stay inside OUT")


def _require_directory(out: Path) -> None:
    if out.is_symlink():
        raise OutputError(f"{out} is a symbolic link; give the real output directory")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory")


def _read_manifest(out: Path, tree: _Tree | None = None) -> dict[str, Any]:
    """OUT's manifest, with ``files`` checked; empty when there is none."""
    raw = _read(tree or _Tree(out), MANIFEST)
    return {} if raw is None else _parse_manifest(out, raw)


def _parse_manifest(out: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not a mapping")
        for path in files:
            _require_safe(path)
    except (ValueError, KeyError, TypeError, OutputError) as error:
        raise OutputError(f"{out / MANIFEST} is not a netgen manifest ({error}); remove it and render again") from error
    return {**manifest, "files": {str(p): str(h) for p, h in files.items()}}


def verified_files(out: Path, *, version: str, verifier: str) -> dict[str, str]:
    """What OUT's manifest says this netgen wrote there and verified with ``verifier``
    (path → sha256 of the text): a text rendered again with that digest needs no second
    verification. Empty when the manifest is missing, unreadable or from another netgen."""
    try:
        manifest = _read_manifest(out) if out.is_dir() else {}
    except (OutputError, OSError):
        # whatever keeps it from being read is reported when OUT is written
        return {}
    if any(manifest.get(key) != value for key, value in _claim(version, verifier).items()):
        return {}
    files: dict[str, str] = manifest["files"]
    return files


#: the extended attribute of OUT's manifest that says which render left OUT as it is: that
#: render's fingerprint (:mod:`netgen.fingerprint`), the manifest's sha256, the files it counted
RECORD = "user.netgen.render"


def remember(out: Path, fingerprint: str, files: int) -> None:
    """Record with OUT's manifest that the render of ``fingerprint`` (``files`` files, the
    manifest included) left OUT as it is and reported nothing. A file system without
    extended attributes keeps no record, and every render there runs in full."""
    manifest = out / MANIFEST
    try:
        raw = _read(_Tree(out), MANIFEST)
        if raw is None or not hasattr(os, "setxattr"):
            return
        record = f"{fingerprint} {hashlib.sha256(raw).hexdigest()} {files}".encode()
        if _record(manifest) != record:
            os.setxattr(manifest, RECORD, record, follow_symlinks=False)
    except (OSError, OutputError):
        return


def up_to_date(out: Path, fingerprint: str, inputs: Mapping[str, str], *, lock: bool) -> int | None:
    """How many files (the manifest included) a render of ``fingerprint`` reading ``inputs``
    (their sha256 by the names the manifest gives them) would find unchanged in OUT, if it
    would change nothing: its record is the manifest's (see :func:`remember`), the manifest
    records the same inputs, and every file it lists is on disk with the bytes it lists.
    None when that cannot be shown. With ``lock``, only while no render is writing OUT."""
    if not hasattr(os, "getxattr"):
        return None
    try:
        # never through a symbolic link; any error (a name too long, no permission) is left
        # to the render, which reports it
        descriptor = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if lock:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return _unchanged(out, fingerprint, inputs)
    except (OSError, OutputError, ValueError):
        return None
    finally:
        os.close(descriptor)


def _unchanged(out: Path, fingerprint: str, inputs: Mapping[str, str]) -> int | None:
    tree = _Tree(out)
    raw = _read(tree, MANIFEST)
    record = _record(out / MANIFEST) if raw is not None else None
    if raw is None or record is None:
        return None
    recorded, manifest_digest, files = record.decode().split(" ")
    if recorded != fingerprint or manifest_digest != hashlib.sha256(raw).hexdigest():
        return None
    manifest = _parse_manifest(out, raw)
    if manifest.get("inputs") != dict(inputs):
        return None
    for path, digest in manifest["files"].items():
        current = _read(tree, path)
        if current is None or hashlib.sha256(current).hexdigest() != digest:
            return None
    return int(files)


def _record(manifest: Path) -> bytes | None:
    try:
        return os.getxattr(manifest, RECORD, follow_symlinks=False)
    except OSError:
        return None


def _claim(version: str, verifier: str | None) -> dict[str, str]:
    """What the manifest says of where its files came from: this netgen, and the verifier
    that verified them all (when they all were)."""
    return {"generator": f"{GENERATOR} {version}"} | ({"verifier": verifier} if verifier is not None else {})


class _Tree:
    """What OUT holds on the way to the paths netgen asks about. Each directory on the way is
    listed once (``os.scandir``, no symbolic link followed), so asking about a path costs no
    system call of its own; the writer records here what it creates."""

    def __init__(self, out: Path) -> None:
        self.out = os.fspath(out)
        self._listed: dict[str, dict[str, str] | None] = {}

    def path(self, relative: str) -> str:
        return os.path.join(self.out, relative)

    def kind(self, relative: str) -> str | None:
        """``dir`` or ``file`` (a real directory or regular file, reached through real
        directories of OUT), ``other`` (a symbolic link, device, FIFO …), or None (nothing)."""
        parent, _, name = relative.rpartition("/")
        entries = self._entries(parent)
        return None if entries is None else entries.get(name)

    def add(self, relative: str, kind: str) -> None:
        parent, _, name = relative.rpartition("/")
        entries = self._entries(parent)
        if entries is not None:
            entries[name] = kind
        if kind == "dir":
            self._listed[relative] = {}

    def _entries(self, directory: str) -> dict[str, str] | None:
        if directory in self._listed:
            return self._listed[directory]
        entries = None
        if not directory or self.kind(directory) == "dir":
            try:
                with os.scandir(self.path(directory)) as scan:
                    entries = {entry.name: _kind(entry) for entry in scan}
            except (FileNotFoundError, NotADirectoryError):
                entries = None
        self._listed[directory] = entries
        return entries


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "file" if entry.is_file(follow_symlinks=False) else "other"


def _read(tree: _Tree, path: str) -> bytes | None:
    """The bytes of a regular file of OUT, or None if there is none at ``path``."""
    if tree.kind(path) != "file":
        return None
    try:
        descriptor = os.open(tree.path(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with open(descriptor, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise OutputError(f"cannot read {tree.path(path)}: {error.strerror}") from error


def _diff(tree: _Tree, wanted: Mapping[str, str], changed: list[str], stale: list[str]) -> str:
    chunks = []
    for path in sorted([*changed, *stale]):
        old_bytes = _read(tree, path)
        old = old_bytes.decode(errors="replace").splitlines(keepends=True) if old_bytes is not None else []
        new = wanted[path].splitlines(keepends=True) if path in wanted else []
        before = f"a/{path}" if old_bytes is not None else "/dev/null"
        after = f"b/{path}" if path in wanted else "/dev/null"
        chunks.append("".join(difflib.unified_diff(old, new, before, after)))
    return "".join(chunks)


class _Transaction:
    """Changes to OUT that can be undone: every step is recorded before the next one runs."""

    def __init__(self, tree: _Tree) -> None:
        self.tree = tree
        self.undo: list[tuple[str, str, str | None]] = []
        self.scratch: str | None = None

    def begin(self) -> str:
        """A scratch directory inside OUT (same file system, so every move below is an
        atomic rename)."""
        self.scratch = tempfile.mkdtemp(prefix=".netgen-staging-", dir=self.tree.out)
        self.undo.append(("rmtree", self.scratch, None))
        return self.scratch

    def mkdir(self, relative: str) -> None:
        directory = self.tree.path(relative)
        os.mkdir(directory)
        self.tree.add(relative, "dir")
        self.undo.append(("rmdir", directory, None))

    def put(self, staged: str, relative: str, backup: str) -> None:
        target = self.tree.path(relative)
        if self.tree.kind(relative) is not None:
            self.remove(target, backup)
        os.replace(staged, target)
        self.tree.add(relative, "file")
        self.undo.append(("unlink", target, None))

    def remove(self, target: str, backup: str) -> None:
        os.replace(target, backup)
        self.undo.append(("restore", target, backup))

    def rollback(self) -> list[str]:
        """Undo every step, newest first; returns what could not be undone."""
        failures: list[str] = []
        for action, target, backup in reversed(self.undo):
            try:
                if action == "rmtree":
                    # the scratch directory holds the backups: drop it only if all came back
                    if not failures:
                        shutil.rmtree(target)
                elif action == "rmdir":
                    os.rmdir(target)
                elif action == "unlink":
                    os.unlink(target)
                elif backup is not None:
                    os.replace(backup, target)
            except OSError as error:
                failures.append(f"{target}: {error.strerror}")
        return failures


def _commit(tree: _Tree, changes: Mapping[str, str], stale: list[str]) -> None:
    for path in changes:
        if tree.kind(path) == "dir":
            raise OutputError(
                f"{tree.path(path)} is a directory, where netgen writes a file; move it away and render again"
            )
    transaction = _Transaction(tree)
    try:
        _apply(transaction, transaction.begin(), changes, stale)
    except BaseException as error:
        failures = transaction.rollback()
        if failures:
            raise OutputError(
                f"cannot write to {tree.out} ({error}), and undoing failed for {'; '.join(failures)}; "
                f"the previous files are kept in {transaction.scratch}"
            ) from error
        if isinstance(error, OSError):
            reason = f"{error.strerror}: {error.filename}" if error.strerror and error.filename else str(error)
            raise OutputError(f"cannot write to {tree.out} ({reason}); nothing was changed") from error
        raise
    if transaction.scratch is not None:
        shutil.rmtree(transaction.scratch, ignore_errors=True)
    out = Path(tree.out)
    for path in sorted(stale, key=lambda p: -len(PurePosixPath(p).parts)):
        _remove_empty_parents(out, out / path)


#: staging this many files or more is shared among threads: creating a file waits on the
#: file system more than on Python, and the waits overlap
STAGING_THREADS, STAGING_THREADS_FROM = 4, 64


def _apply(transaction: _Transaction, scratch: str, changes: Mapping[str, str], stale: list[str]) -> None:
    """Stage every new file first, so that a full disk fails before OUT is touched."""
    paths = sorted(changes)
    staged = [os.path.join(scratch, f"new-{index}") for index in range(len(paths))]
    jobs = [(file, changes[path]) for file, path in zip(staged, paths, strict=True)]
    if len(jobs) < STAGING_THREADS_FROM:
        _stage(jobs)
    else:
        with ThreadPoolExecutor(STAGING_THREADS) as pool:
            shares = [pool.submit(_stage, jobs[k::STAGING_THREADS]) for k in range(STAGING_THREADS)]
        for share in shares:
            share.result()
    backups = os.path.join(scratch, "old")
    os.mkdir(backups)
    for index, (path, file) in enumerate(zip(paths, staged, strict=True)):
        for directory in _missing_parents(transaction.tree, path):
            transaction.mkdir(directory)
        transaction.put(file, path, os.path.join(backups, f"{index}"))
    for index, path in enumerate(stale):
        transaction.remove(transaction.tree.path(path), os.path.join(backups, f"stale-{index}"))


def _stage(jobs: list[tuple[str, str]]) -> None:
    for file, text in jobs:
        _create(file, text.encode())


def _create(file: str, data: bytes) -> None:
    """A new file (never one that exists) holding ``data``."""
    with open(file, "xb") as handle:
        handle.write(data)


def _missing_parents(tree: _Tree, path: str) -> list[str]:
    """The directories of OUT that ``path`` needs and that do not exist, outermost first."""
    missing, prefix = [], ""
    for part in path.split("/")[:-1]:
        prefix = f"{prefix}/{part}" if prefix else part
        kind = tree.kind(prefix)
        if kind == "dir":
            continue
        if kind is not None:
            raise OutputError(f"{tree.path(prefix)} is not a directory of OUT; remove it and render again")
        missing.append(prefix)
    return missing


def _remove_empty_parents(out: Path, removed: Path) -> None:
    for parent in removed.relative_to(out).parents:
        directory = out / parent
        if directory == out:
            return
        if not directory.is_dir() or directory.is_symlink() or any(directory.iterdir()):
            continue
        directory.rmdir()
