"""One self-contained HTML page of cluster graphs: per cluster a heading, its SVG picture and
a table of its hosts and links. No scripts, no external references (styles are inline), and
the markup is well-formed XML as well as HTML, so any parser reads it."""

from __future__ import annotations

import html
from collections.abc import Sequence

from netgen.graph import ClusterGraph, HostGroup
from netgen.graph import svg as svg_writer

_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#111827;background:#ffffff}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px}"
    ".summary{color:#374151}"
    ".picture{overflow-x:auto;border:1px solid #e5e7eb;margin:12px 0}"
    "table{border-collapse:collapse;font-size:13px}"
    "th,td{border:1px solid #d1d5db;padding:3px 8px;text-align:left;vertical-align:top}"
    "thead th{background:#f3f4f6}"
    "td.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace}"
)

_COLUMNS = ("host", "role", "link", "MAC", "kernel name", "model", "network", "addresses")


def _x(text: str) -> str:
    return html.escape(text, quote=True)


def _rows(host: HostGroup) -> list[str]:
    if not host.links:
        return [f'<tr><th scope="row">{_x(host.name)}</th><td>{_x(host.role)}</td><td colspan="6">no links</td></tr>']
    rows = []
    for index, link in enumerate(host.links):
        cells = [
            link.title,
            link.value("MAC") or "",
            link.kernel_name or "unknown",
            link.value("model") or "",
            link.network or "",
            link.value("addresses") or "",
        ]
        head = (
            f'<th scope="row" rowspan="{len(host.links)}">{_x(host.name)}</th>'
            f'<td rowspan="{len(host.links)}">{_x(host.role)}</td>'
            if index == 0
            else ""
        )
        rows.append(
            f"<tr>{head}" + "".join(f'<td class="mono">{_x(c)}</td>' if c else "<td></td>" for c in cells) + "</tr>"
        )
    return rows


def _section(graph: ClusterGraph, title: str) -> str:
    summary = " · ".join(f"{label} {value}" for label, value in graph.summary)
    picture = svg_writer.element(graph, f"Cluster {graph.name} of {title}")
    head = "".join(f'<th scope="col">{_x(c)}</th>' for c in _COLUMNS)
    body = "\n".join(row for host in graph.hosts for row in _rows(host))
    return (
        f'<section id="{graph.id}">\n<h2>Cluster {_x(graph.name)}</h2>\n'
        f'<p class="summary">{_x(summary)}</p>\n'
        f'<div class="picture">{picture}</div>\n'
        f"<table>\n<caption>Hosts and links of cluster {_x(graph.name)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</section>\n"
    )


def document(graphs: Sequence[ClusterGraph], title: str) -> str:
    """The page for ``graphs``, drawn from the inventory named ``title``."""
    clusters = ", ".join(g.name for g in graphs) or "none"
    return (
        "<!DOCTYPE html>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="generator" content="netgen graph"/>\n'
        f"<title>Network topology of {_x(title)}</title>\n"
        f"<style>{_PAGE_STYLE}{svg_writer.style()}</style>\n</head>\n<body>\n"
        f"<h1>Network topology of {_x(title)}</h1>\n"
        f"<p>Drawn by netgen graph from {_x(title)}; clusters: {_x(clusters)}.</p>\n"
        + "".join(_section(graph, title) for graph in graphs)
        + "</body>\n</html>\n"
    )
