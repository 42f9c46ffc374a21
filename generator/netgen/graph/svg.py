"""SVG pictures of cluster graphs, laid out here (no layout engine needed).

Each cluster is drawn in three columns: the hosts on the left, each a box whose links are
stacked by level (NICs, then the bonds over them, then the VLANs on those, …); the networks in
the middle, each placed level with the links that carry it; and beside each network what sits
on it (VIPs, MetalLB pools, BGP peers, attachments). Edges are drawn under the boxes. Text is
monospace, so a box's width follows from its longest line; every coordinate is an integer,
so the same graph always gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from netgen.graph import LINK_KINDS, ClusterGraph, Edge, EdgeKind, Kind, Node
from netgen.graph.mermaid import COLOURS

FONT_SIZE = 12
#: the advance of one character of a 12px monospace font, with some room to spare
CHAR_WIDTH = 7.4
LINE_HEIGHT = 15
PAD_X = 8
PAD_Y = 6
MIN_WIDTH = 120
#: host boxes: inner padding, header height, gap between the levels of links, between links
HOST_PAD = 10
HOST_HEAD = 24
LEVEL_GAP = 40
LINK_GAP = 10
HOST_GAP = 16
#: horizontal room for the edges between the columns
COLUMN_GAP = 120
ROW_GAP = 24
MARGIN = 20
HEADING = 60
LEGEND = 40

_EDGE_NAMES = {
    EdgeKind.MEMBER: "member of",
    EdgeKind.PARENT: "VLAN on",
    EdgeKind.CARRIES: "carries",
    EdgeKind.VIP: "VIP on",
    EdgeKind.L2: "L2 announcement on",
    EdgeKind.REACHED: "BGP peer reached on",
    EdgeKind.BGP: "BGP announcement to",
    EdgeKind.ATTACHES: "attachment on",
}

_EDGE_STYLES = {
    EdgeKind.MEMBER: "stroke:#6b7280;stroke-dasharray:4 3",
    EdgeKind.PARENT: "stroke:#6d28d9;stroke-dasharray:4 3",
    EdgeKind.CARRIES: "stroke:#1d4ed8;stroke-width:2",
    EdgeKind.VIP: "stroke:#be185d",
    EdgeKind.L2: "stroke:#c2410c",
    EdgeKind.REACHED: "stroke:#b91c1c",
    EdgeKind.BGP: "stroke:#b91c1c;stroke-dasharray:7 3",
    EdgeKind.ATTACHES: "stroke:#0f766e",
}

#: the legend: which edge kinds it shows, and as what
_LEGEND = (
    (EdgeKind.CARRIES, "link carries network"),
    (EdgeKind.MEMBER, "member of bond/bridge"),
    (EdgeKind.PARENT, "VLAN on parent"),
    (EdgeKind.VIP, "VIP"),
    (EdgeKind.L2, "L2 pool"),
    (EdgeKind.REACHED, "BGP peer"),
    (EdgeKind.BGP, "BGP announcement"),
    (EdgeKind.ATTACHES, "attachment"),
)


def style() -> str:
    """The CSS of every picture (scoped to ``svg.netgen-graph``)."""
    rules = [
        "svg.netgen-graph text{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
        f"font-size:{FONT_SIZE}px;fill:#111827}}",
        "svg.netgen-graph .heading{font-family:system-ui,sans-serif;font-size:16px;font-weight:bold}",
        "svg.netgen-graph .summary{fill:#374151}",
        "svg.netgen-graph .title{font-weight:bold}",
        "svg.netgen-graph .host{fill:#f9fafb;stroke:#9ca3af;stroke-width:1}",
        "svg.netgen-graph .edge{fill:none;stroke-width:1.5}",
        "svg.netgen-graph .unplaced{fill:#6b7280;font-style:italic}",
    ]
    rules += [
        f"svg.netgen-graph .node-{kind} rect{{fill:{fill};stroke:{stroke}}}" for kind, (fill, stroke) in COLOURS.items()
    ]
    rules += [f"svg.netgen-graph .edge-{kind}{{{css}}}" for kind, css in _EDGE_STYLES.items()]
    return "".join(rules)


def _x(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True, slots=True)
class _Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def left(self) -> tuple[int, int]:
        return self.x, self.y + self.height // 2

    @property
    def right(self) -> tuple[int, int]:
        return self.x + self.width, self.y + self.height // 2

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


def _width(node: Node) -> int:
    longest = max(len(line) for line in (node.title, *node.lines))
    return max(MIN_WIDTH, round(longest * CHAR_WIDTH) + 2 * PAD_X)


def _height(node: Node) -> int:
    return 2 * PAD_Y + LINE_HEIGHT * (1 + len(node.lines))


class _Picture:
    """The layout of one cluster: boxes by node id, then its SVG elements."""

    def __init__(self, graph: ClusterGraph, *, heading: bool = True) -> None:
        self.graph = graph
        self.heading = heading
        self.top = HEADING if heading else MARGIN
        self.boxes: dict[str, _Box] = {}
        self.hosts: list[tuple[_Box, str]] = []
        self.unplaced: tuple[int, int] | None = None
        links = [link for host in graph.hosts for link in host.links]
        levels = 1 + max((link.level for link in links), default=0)
        # a link that carries a network and that no other link stacks on goes in the last
        # column, next to the networks, so its edge does not cross the links of the columns between
        below = {e.source for e in graph.edges if e.kind in (EdgeKind.MEMBER, EdgeKind.PARENT)}
        column = {
            link.id: levels - 1 if link.network is not None and link.id not in below else link.level for link in links
        }
        level_width = [max((_width(n) for n in links if column[n.id] == lv), default=MIN_WIDTH) for lv in range(levels)]
        level_x = [MARGIN + HOST_PAD + sum(level_width[:lv]) + LEVEL_GAP * lv for lv in range(levels)]
        host_width = 2 * HOST_PAD + sum(level_width) + LEVEL_GAP * (levels - 1)
        y = self.top
        for host in graph.hosts:
            column_y = [y + HOST_HEAD] * levels
            for link in host.links:
                height = _height(link)
                at = column[link.id]
                self.boxes[link.id] = _Box(level_x[at], column_y[at], level_width[at], height)
                column_y[at] += height + LINK_GAP
            bottom = max(column_y) - (LINK_GAP if host.links else 0) + HOST_PAD
            self.hosts.append((_Box(MARGIN, y, host_width, bottom - y), f"{host.name} ({host.role})"))
            y = bottom + HOST_GAP
        hosts_bottom = y - HOST_GAP if graph.hosts else self.top
        network_x = MARGIN + host_width + COLUMN_GAP
        network_width = max((_width(n) for n in graph.networks), default=MIN_WIDTH)
        service_x = network_x + network_width + COLUMN_GAP
        service_width = max((_width(n) for n in graph.services), default=MIN_WIDTH)
        bottom = self._rows(network_x, network_width, service_x, service_width)
        self.width = service_x + service_width + COLUMN_GAP // 2 + MARGIN
        self.height = max(hosts_bottom, bottom) + LEGEND + MARGIN
        self.legend_y = max(hosts_bottom, bottom) + MARGIN

    def _rows(self, network_x: int, network_width: int, service_x: int, service_width: int) -> int:
        """Place each network level with the links that carry it (in that order, without
        overlap) and what sits on it beside it; returns the bottom of the last row."""
        graph = self.graph
        carried: dict[str, list[int]] = {}
        for edge in graph.edges:
            if edge.kind is EdgeKind.CARRIES and edge.source in self.boxes:
                carried.setdefault(edge.target, []).append(self.boxes[edge.source].middle)
        by_network = {n.id: [s for s in graph.services if s.network == n.network] for n in graph.networks}
        rows = []
        for index, network in enumerate(graph.networks):
            services = by_network[network.id]
            height = max(_height(network), sum(_height(s) for s in services) + LINK_GAP * max(len(services) - 1, 0))
            middles = carried.get(network.id)
            wanted = sum(middles) // len(middles) - height // 2 if middles else None
            rows.append((wanted if wanted is not None else 1 << 30, index, network, services, height))
        y = self.top
        for wanted, _, network, services, height in sorted(rows, key=lambda row: (row[0], row[1])):
            top = max(y, wanted) if wanted != 1 << 30 else y
            network_height = _height(network)
            self.boxes[network.id] = _Box(
                network_x, top + (height - network_height) // 2, network_width, network_height
            )
            self._stack(services, service_x, service_width, top)
            y = top + height + ROW_GAP
        placed = {s.id for row in rows for s in row[3]}
        rest = [s for s in graph.services if s.id not in placed]
        if rest:
            self.unplaced = (service_x, y + LINE_HEIGHT)
            y = self._stack(rest, service_x, service_width, y + LINE_HEIGHT + PAD_Y) + ROW_GAP
        return y - ROW_GAP

    def _stack(self, nodes: Sequence[Node], x: int, width: int, y: int) -> int:
        for node in nodes:
            height = _height(node)
            self.boxes[node.id] = _Box(x, y, width, height)
            y += height + LINK_GAP
        return y

    def elements(self, marker: str) -> list[str]:
        graph = self.graph
        summary = " · ".join(f"{label} {value}" for label, value in graph.summary)
        out = []
        if self.heading:
            out += [
                f'<text class="heading" x="{MARGIN}" y="{MARGIN + 8}">cluster {_x(graph.name)}</text>',
                f'<text class="summary" x="{MARGIN}" y="{MARGIN + 28}">{_x(summary)}</text>',
            ]
        for box, label in self.hosts:
            out.append(
                f'<g class="host-group"><title>host {_x(label)}</title>'
                f'<rect class="host" x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="6"/>'
                f'<text class="title" x="{box.x + HOST_PAD}" y="{box.y + 17}">host {_x(label)}</text></g>'
            )
        if self.unplaced is not None:
            x, y = self.unplaced
            out.append(f'<text class="unplaced" x="{x}" y="{y}">not on a cluster network</text>')
        titles = {node.id: node.title for node in graph.nodes}
        hosts = {link.id: host.name for host in graph.hosts for link in host.links}
        out += [self._edge(edge, titles, hosts, marker) for edge in graph.edges if self._drawable(edge)]
        out += [self._node(node, hosts.get(node.id)) for node in graph.nodes]
        out += self._legend(marker)
        return out

    def _drawable(self, edge: Edge) -> bool:
        return edge.source in self.boxes and edge.target in self.boxes

    def _edge(self, edge: Edge, titles: dict[str, str], hosts: dict[str, str], marker: str) -> str:
        source, target = self.boxes[edge.source], self.boxes[edge.target]
        if edge.kind is EdgeKind.BGP:
            # pool and peer share the services column: an arc out to the right
            (x1, y1), (x2, y2) = source.right, target.right
            bulge = max(x1, x2) + COLUMN_GAP // 3
            path = f"M{x1} {y1} C{bulge} {y1} {bulge} {y2} {x2} {y2}"
        else:
            (x1, y1), (x2, y2) = source.right, target.left
            middle = (x1 + x2) // 2
            path = f"M{x1} {y1} C{middle} {y1} {middle} {y2} {x2} {y2}"
        where = f"{hosts[edge.source]}: " if edge.source in hosts else ""
        tip = f"{where}{titles[edge.source]} → {_EDGE_NAMES[edge.kind]} → {titles[edge.target]}"
        if edge.kind is EdgeKind.ATTACHES and edge.label:
            tip += f" ({edge.label})"
        return (
            f'<path class="edge edge-{edge.kind}" d="{path}" marker-end="url(#{marker})">'
            f"<title>{_x(tip)}</title></path>"
        )

    def _node(self, node: Node, host: str | None) -> str:
        box = self.boxes[node.id]
        tip = f"{host}: {node.title}" if host is not None and node.kind in LINK_KINDS else node.title
        lines = [
            f'<text class="title" x="{box.x + PAD_X}" y="{box.y + PAD_Y + 11}">{_x(node.title)}</text>',
            *(
                f'<text x="{box.x + PAD_X}" y="{box.y + PAD_Y + 11 + LINE_HEIGHT * (i + 1)}">{_x(line)}</text>'
                for i, line in enumerate(node.lines)
            ),
        ]
        rx = 12 if node.kind in (Kind.VIP, Kind.NETWORK) else 3
        return (
            f'<g class="node node-{node.kind}" id="{node.id}"><title>{_x(tip)}</title>'
            f'<rect x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="{rx}"/>'
            + "".join(lines)
            + "</g>"
        )

    def _legend(self, marker: str) -> list[str]:
        out = []
        x, y = MARGIN, self.legend_y + 10
        for kind, label in _LEGEND:
            out.append(
                f'<path class="edge edge-{kind}" d="M{x} {y} L{x + 30} {y}" marker-end="url(#{marker})"/>'
                f'<text x="{x + 36}" y="{y + 4}">{_x(label)}</text>'
            )
            x += 36 + round(len(label) * CHAR_WIDTH) + 24
        return out


def _defs(marker: str) -> str:
    return (
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#4b5563"/></marker></defs>'
    )


def element(graph: ClusterGraph, title: str) -> str:
    """One cluster as an ``<svg>`` element for inline use in HTML, without the heading the
    page gives it (and without the styles: :func:`style` goes into the page's)."""
    picture = _Picture(graph, heading=False)
    marker = f"{graph.id}-arrow"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="netgen-graph" width="{picture.width}" '
        f'height="{picture.height}" viewBox="0 0 {picture.width} {picture.height}" role="img">'
        f"<title>{_x(title)}</title>{_defs(marker)}\n" + "\n".join(picture.elements(marker)) + "\n</svg>"
    )


def document(graphs: Sequence[ClusterGraph], title: str) -> str:
    """A standalone SVG file: the clusters one below the other."""
    pictures = [_Picture(graph) for graph in graphs]
    width = max((p.width for p in pictures), default=2 * MARGIN)
    height = sum(p.height for p in pictures) or 2 * MARGIN
    clusters = ", ".join(g.name for g in graphs) or "none"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" class="netgen-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>Network topology of {_x(title)}</title>",
        f"<desc>Drawn by netgen graph from {_x(title)}; clusters: {_x(clusters)}</desc>",
        f"<style>{style()}</style>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    y = 0
    for graph, picture in zip(graphs, pictures, strict=True):
        marker = f"{graph.id}-arrow"
        out.append(f'<g class="cluster" id="{graph.id}" transform="translate(0 {y})">{_defs(marker)}')
        out += picture.elements(marker)
        out.append("</g>")
        y += picture.height
    out.append("</svg>")
    return "\n".join(out) + "\n"
