"""The library API: ``load`` → ``validate`` → ``render`` → ``write``.

The CLI, the Ansible plugins and the Terraform data source all go through these four
functions. Problems in the user's input are raised as :class:`InventoryError` carrying
every diagnostic, each located at its file, line and column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from netgen.checks import run_checks
from netgen.diagnostics import Diagnostic, Origin, has_errors
from netgen.emit.files import emit_clusters
from netgen.emit.verify import verifier
from netgen.errors import InventoryError, UsageError, VerificationError
from netgen.load.builder import build_clusters
from netgen.load.facts import load_facts
from netgen.load.facts_match import apply_facts
from netgen.load.positions import locate_all
from netgen.load.reader import decode, load_documents, read_limited
from netgen.load.structure import INVALID_VALUE, check_structure
from netgen.model import Cluster, Inventory
from netgen.version import __version__
from netgen.write import WriteResult, verified_files, write_tree

Source = str | bytes | os.PathLike[str]


@dataclass(frozen=True, slots=True, eq=False)
class Rendering(Mapping[str, str]):
    """What :func:`render` produced: the files (path relative to OUT → text) and what
    :func:`write` needs to know about them. Immutable; reads like the mapping of its files.

    ``write`` removes stale files only inside what was rendered: the folders of ``clusters``,
    or all of OUT's netgen files when ``complete`` (every cluster of the inventory). A plain
    mapping, ``dict(rendering)`` included, carries no such scope: ``write`` then removes nothing.
    """

    files: Mapping[str, str]
    #: the clusters rendered, in inventory order
    clusters: tuple[str, ...]
    #: the whole inventory was rendered, no selection of clusters (so the files of clusters
    #: it no longer has are removed too)
    complete: bool
    #: sha256 of each input file by display name, recorded in the manifest
    inputs: Mapping[str, str]
    warnings: tuple[Diagnostic, ...] = ()
    #: the digest of the verification every file passed (see :func:`netgen.emit.verify.verifier`);
    #: None when nothing vouches for the files
    verifier: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "clusters", tuple(self.clusters))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def __getitem__(self, path: str) -> str:
        return self.files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rendering):
            return NotImplemented
        return (self.files, self.clusters, self.complete, self.inputs, self.warnings, self.verifier) == (
            other.files,
            other.clusters,
            other.complete,
            other.inputs,
            other.warnings,
            other.verifier,
        )

    __hash__ = None  # type: ignore[assignment]  # a mapping of texts, compared by value

    def stale_scope(self) -> tuple[str, ...] | None:
        """The cluster folders whose files no longer rendered ``write`` removes (None: all)."""
        return None if self.complete else self.clusters


def load(source: Source, *, facts: Iterable[str | os.PathLike[str]] = (), name: str | None = None) -> Inventory:
    """Read an inventory (a path, or YAML text or bytes) and the facts files or directories.

    A ``str`` with a line break is YAML text; any other ``str`` is a path. Raises
    :class:`InventoryError` with all diagnostics when the inventory cannot be modelled
    (syntax, structure or values), :class:`UsageError` when a file cannot be read. Problems
    of the facts do not stop the model: :func:`validate` reports them with the cross-checks.
    """
    data, name = _read_source(source, name)
    text, diagnostics = decode(data, name)
    if text is None:
        raise InventoryError(diagnostics)
    documents, diagnostics = load_documents(text, name)
    if len(documents) > 1:
        diagnostics.append(
            INVALID_VALUE.at(Origin(name, (1,)), "an inventory is one YAML document", "remove the second document")
        )
    if not diagnostics:
        diagnostics = check_structure(documents[0], name)
    # the manifest names inputs by file name only: it must not change with the working directory
    sources, digests = {name: text}, {Path(name).name: hashlib.sha256(data).hexdigest()}
    if diagnostics:
        raise InventoryError(_report(diagnostics, sources))
    clusters, value_errors = build_clusters(documents[0], name)
    facts_load = load_facts([Path(p) for p in facts])
    sources |= facts_load.sources
    digests |= {f"facts/{Path(n).name}": digest for n, digest in facts_load.digests.items()}
    if value_errors:
        raise InventoryError(_report([*value_errors, *facts_load.diagnostics], sources))
    clusters, mismatches = apply_facts(clusters, facts_load.hosts)
    return Inventory(
        clusters=clusters,
        name=name,
        sources=sources,
        digests=digests,
        facts_diagnostics=(*facts_load.diagnostics, *mismatches),
    )


def validate(inventory: Inventory) -> list[Diagnostic]:
    """Every problem of the inventory and its facts: the facts' own and every cross-check (docs/diagnostics.md)."""
    return _report([*inventory.facts_diagnostics, *run_checks(inventory.clusters)], inventory.sources)


def render(
    inventory: Inventory,
    *,
    clusters: Sequence[str] | None = None,
    templates: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    previous: str | os.PathLike[str] | None = None,
) -> Rendering:
    """Render every artifact (or only those of ``clusters``) and verify each document.

    ``progress`` is called with (clusters done, clusters in all) as clusters are done.
    ``previous`` is the OUT directory this rendering will be written to: a file whose text is
    exactly what this netgen rendered, verified and wrote there before (as its manifest
    records) is not verified a second time, which makes a render that changes little fast.

    Raises :class:`InventoryError` if the inventory has errors, and
    :class:`VerificationError` if a rendered document is invalid; nothing is returned then.
    """
    diagnostics = validate(inventory)
    if has_errors(diagnostics):
        raise InventoryError(diagnostics)
    selected = _select(inventory, clusters)
    if templates is not None and not Path(templates).is_dir():
        raise UsageError(f"template directory {templates} does not exist")
    source = Path(inventory.name).name
    header = f"# Generated by netgen from {source}; do not edit: change the inventory and render again.\n"
    verified = (
        verified_files(Path(previous), version=__version__, verifier=verifier()) if previous is not None else None
    )
    produced = emit_clusters(selected, Path(templates) if templates is not None else None, header, progress, verified)
    if produced.problems:
        raise VerificationError(produced.problems)
    return Rendering(
        files=produced.files,
        clusters=tuple(c.name for c in selected),
        # a selection, even of every cluster, limits what is removed to the clusters named
        complete=clusters is None,
        inputs=inventory.digests,
        warnings=tuple(diagnostics),
        verifier=verifier(),
    )


def write(rendered: Rendering | Mapping[str, str], out: str | os.PathLike[str], *, check: bool = False) -> WriteResult:
    """Bring the directory ``out`` in line with ``rendered`` (see :mod:`netgen.write`).

    A :class:`Rendering` also removes the files netgen wrote before in its scope and no longer
    renders (the clusters it rendered; all of OUT's netgen files for a complete render). Any
    other mapping of paths to texts is written as it is, and nothing else in OUT is removed.
    With ``check`` nothing is written; the result tells what would change, with a diff.
    """
    if isinstance(rendered, Rendering):
        inputs, scope, verified_by = rendered.inputs, rendered.stale_scope(), rendered.verifier
    elif isinstance(rendered, Mapping):
        inputs, scope, verified_by = {}, (), None
    else:
        given = type(rendered).__name__
        raise TypeError(f"write() takes what render() returned or a mapping of paths to texts, not {given}")
    return write_tree(
        rendered,
        Path(out),
        inputs=inputs,
        version=__version__,
        verifier=verified_by,
        stale_scope=scope,
        check=check,
    )


def _read_source(source: Source, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "<inventory>"
    if isinstance(source, str) and "\n" in source:
        return source.encode(), name or "<inventory>"
    path = Path(source)
    try:
        # shown as given, like compilers do, so editors and CI annotations find the file
        return read_limited(path), name or str(source)
    except FileNotFoundError:
        raise UsageError(f"inventory {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"inventory {path} is a directory, not a file") from None
    except OSError as error:
        raise UsageError(f"cannot read inventory {path}: {error.strerror}") from None


def _select(inventory: Inventory, names: Sequence[str] | None) -> list[Cluster]:
    if names is None:
        return list(inventory.clusters)
    known = {c.name: c for c in inventory.clusters}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"no cluster named {', '.join(unknown)}; the inventory has {', '.join(known)}")
    return [c for c in inventory.clusters if c.name in names]


def _report(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> list[Diagnostic]:
    """Diagnostics located and in reading order, errors and warnings alike."""
    return sorted(locate_all(diagnostics, sources), key=Diagnostic.sort_key)
