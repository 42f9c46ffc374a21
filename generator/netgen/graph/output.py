"""Which picture ``netgen graph`` writes, and the text of it.

The format is the one given, else the one the output file's suffix names (``.mmd``, ``.md``
and ``.markdown`` Mermaid, ``.svg``, ``.html`` and ``.htm``), else (on stdout) Mermaid. Mermaid
goes into a Markdown file (``.md``, ``.markdown``) as a document with one ``mermaid`` fence per
cluster; anywhere else it is one raw flowchart with a subgraph per cluster.

The file is written by :func:`netgen.cli.files.write_file`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from netgen.errors import UsageError
from netgen.graph import ClusterGraph, html, mermaid, svg

FORMATS = ("mermaid", "svg", "html")

SUFFIXES = {
    ".mmd": "mermaid",
    ".md": "mermaid",
    ".markdown": "mermaid",
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
}

MARKDOWN_SUFFIXES = (".md", ".markdown")


def choose_format(given: str | None, out: Path | None) -> str:
    """The format to write; :class:`UsageError` when neither ``given`` nor the suffix of
    ``out`` names one."""
    if given is not None:
        if given not in FORMATS:
            raise UsageError(f"unknown graph format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    if out is None:
        return "mermaid"
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise UsageError(f"cannot tell the format from {out}'s suffix; name the file {known}, or pass --format")
    return SUFFIXES[suffix]


def draw(graphs: Sequence[ClusterGraph], output_format: str, *, title: str, out: Path | None = None) -> str:
    """The picture of ``graphs`` in ``output_format`` (see :func:`choose_format`), for a file
    ``out`` (None: stdout); ``title`` names the inventory."""
    if output_format == "svg":
        return svg.document(graphs, title)
    if output_format == "html":
        return html.document(graphs, title)
    if out is not None and out.suffix.lower() in MARKDOWN_SUFFIXES:
        return mermaid.markdown(graphs, title)
    return mermaid.flowchart(graphs)
