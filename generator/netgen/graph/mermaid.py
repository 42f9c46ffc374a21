"""Mermaid flowcharts of cluster graphs (GitHub and GitLab draw them in Markdown).

A flowchart is ``flowchart LR`` with one subgraph per cluster and, inside it, one subgraph
per host holding its links; networks and what sits on them follow. Every label is a quoted
string in which the characters Mermaid reads (``"``, ``#``, ``<``, ``>``, ``&``, a backtick,
``|``) are written as Mermaid entity codes, so no name can end a label or inject markup;
``<br>`` separates a label's lines. Node ids are the graph's own (letters and digits).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from netgen.graph import ClusterGraph, EdgeKind, Kind, Node

#: the characters Mermaid reads inside a quoted label, as its entity codes
_ENTITIES = {
    '"': "#quot;",
    "#": "#35;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "|": "#124;",
}

#: a node's shape by kind: networks hexagons, links boxes, VIPs stadiums, pools parallelograms,
#: BGP peers subroutines, attachments flags
_SHAPES: dict[Kind, tuple[str, str]] = {
    Kind.NETWORK: ("{{", "}}"),
    Kind.NIC: ("[", "]"),
    Kind.BOND: ("[", "]"),
    Kind.VLAN: ("[", "]"),
    Kind.BRIDGE: ("[", "]"),
    Kind.VIP: ("([", "])"),
    Kind.POOL: ("[/", "/]"),
    Kind.PEER: ("[[", "]]"),
    Kind.ATTACHMENT: (">", "]"),
}

_ARROWS: dict[EdgeKind, str] = {
    EdgeKind.MEMBER: "-.->",
    EdgeKind.PARENT: "-.->",
    EdgeKind.CARRIES: "==>",
    EdgeKind.VIP: "-->",
    EdgeKind.L2: "-->",
    EdgeKind.REACHED: "-->",
    EdgeKind.BGP: "-.->",
    EdgeKind.ATTACHES: "-->",
}

#: fill and stroke of each kind (the SVG uses the same colours)
COLOURS: dict[Kind, tuple[str, str]] = {
    Kind.NETWORK: ("#dbeafe", "#1d4ed8"),
    Kind.NIC: ("#f3f4f6", "#4b5563"),
    Kind.BOND: ("#fef3c7", "#b45309"),
    Kind.VLAN: ("#ede9fe", "#6d28d9"),
    Kind.BRIDGE: ("#dcfce7", "#15803d"),
    Kind.VIP: ("#fce7f3", "#be185d"),
    Kind.POOL: ("#ffedd5", "#c2410c"),
    Kind.PEER: ("#fee2e2", "#b91c1c"),
    Kind.ATTACHMENT: ("#ccfbf1", "#0f766e"),
}


def text(value: str) -> str:
    """``value`` as the inside of a quoted Mermaid label (one line)."""
    return "".join(_ENTITIES.get(c, c) for c in value)


def _label(title: str, lines: Sequence[str]) -> str:
    return '"' + "<br>".join(text(line) for line in (title, *lines)) + '"'


def _node(node: Node) -> str:
    start, end = _SHAPES[node.kind]
    return f"{node.id}{start}{_label(node.title, node.lines)}{end}"


def flowchart(graphs: Sequence[ClusterGraph]) -> str:
    """One Mermaid flowchart holding ``graphs``, one subgraph per cluster."""
    out = ["flowchart LR"]
    for graph in graphs:
        summary = " · ".join(f"{label} {value}" for label, value in graph.summary[:2])
        out.append(f"  subgraph {graph.id}[{_label(f'cluster {graph.name} · {summary}', [])}]")
        for host in graph.hosts:
            out.append(f"    subgraph {host.id}[{_label(f'host {host.name} ({host.role})', [])}]")
            out += [f"      {_node(link)}" for link in host.links]
            out.append("    end")
        out += [f"    {_node(node)}" for node in (*graph.networks, *graph.services)]
        out.append("  end")
    for graph in graphs:
        for edge in graph.edges:
            label = f'|"{text(edge.label)}"|' if edge.label else ""
            out.append(f"  {edge.source} {_ARROWS[edge.kind]}{label} {edge.target}")
    for kind, (fill, stroke) in COLOURS.items():
        out.append(f"  classDef {kind} fill:{fill},stroke:{stroke},color:#111827")
    for kind in Kind:
        members = [node.id for graph in graphs for node in graph.nodes if node.kind is kind]
        if members:
            out.append(f"  class {','.join(members)} {kind}")
    return "\n".join(out) + "\n"


def markdown(graphs: Sequence[ClusterGraph], title: str) -> str:
    """A Markdown document: a heading per cluster over its flowchart in a ``mermaid`` fence."""
    parts = [
        f"# Network topology of {code_span(title)}\n\n"
        f"Drawn by `netgen graph` from {code_span(title)}; GitHub and GitLab show each diagram.\n"
    ]
    for graph in graphs:
        parts.append(f"\n## Cluster {code_span(graph.name)}\n\n```mermaid\n{flowchart([graph])}```\n")
    return "".join(parts)


def code_span(value: str) -> str:
    """``value`` as a Markdown code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"
