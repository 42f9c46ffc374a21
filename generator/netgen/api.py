"""The library API: ``load`` → ``validate`` → ``render`` → ``write``.

The CLI, the Ansible plugins and the Terraform data source all go through these four
functions. Problems in the user's input are raised as :class:`InventoryError` carrying
every diagnostic, each located at its file, line and column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import version as package_version
from pathlib import Path

from netgen.build import build_clusters
from netgen.checks import run_checks
from netgen.diagnostics import Diagnostic, Origin, has_errors
from netgen.errors import InventoryError, UsageError, VerificationError
from netgen.facts import load_facts
from netgen.factsmatch import apply_facts
from netgen.model import Cluster, Inventory
from netgen.positions import locate_all
from netgen.produce import produce_all
from netgen.structure import INVALID_VALUE, check_structure
from netgen.verify import verifier
from netgen.write import WriteResult, verified_files, write_tree
from netgen.yamlio import decode, load_documents, read_limited

__version__ = package_version("netgen")

Source = str | bytes | os.PathLike[str]


class Rendering(dict[str, str]):
    """Rendered files by path relative to OUT, plus what ``write`` records about them."""

    def __init__(
        self,
        files: Mapping[str, str],
        *,
        clusters: tuple[str, ...] | None,
        inputs: Mapping[str, str],
        warnings: Sequence[Diagnostic],
    ) -> None:
        super().__init__(files)
        #: the clusters rendered, when only some were selected (stale files are removed only there)
        self.clusters = clusters
        #: sha256 of each input file by display name
        self.inputs = dict(inputs)
        self.warnings = list(warnings)


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
    """Every problem of the inventory and its facts: the facts' own and every cross-check (SPEC §6)."""
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
    produced = produce_all(selected, Path(templates) if templates is not None else None, header, progress, verified)
    if produced.problems:
        raise VerificationError(produced.problems)
    return Rendering(
        produced.files,
        clusters=tuple(c.name for c in selected) if clusters is not None else None,
        inputs=inventory.digests,
        warnings=diagnostics,
    )


def write(rendered: Mapping[str, str], out: str | os.PathLike[str], check: bool = False) -> WriteResult:
    """Bring the directory ``out`` in line with ``rendered`` (see :mod:`netgen.write`).

    With ``check`` nothing is written; the result tells what would change, with a diff.
    """
    if isinstance(rendered, Rendering):
        # only render() makes a Rendering, and only of files it verified
        inputs, clusters, verified_by = rendered.inputs, rendered.clusters, verifier()
    else:
        inputs, clusters, verified_by = {}, None, None
    return write_tree(
        rendered,
        Path(out),
        inputs=inputs,
        version=__version__,
        verifier=verified_by,
        clusters=clusters,
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
