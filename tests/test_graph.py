"""`netgen graph`: each cluster's topology as Mermaid, SVG and HTML, with every host, link,
network, VIP, pool, BGP peer and attachment in it, escaped, deterministic, self-contained;
checked with the real Mermaid parser and in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import netgen
from conftest import ROOT
from netgen.cli import GraphFormat
from netgen.diagnostics import Severity
from netgen.graph import (
    ClusterGraph,
    Edge,
    EdgeKind,
    HostGroup,
    Kind,
    Node,
    build,
    clean,
    cluster_graph,
    mermaid,
    output,
    svg,
)
from netgen.graph import html as html_writer
from netgen.model import Bond, Bridge, Cluster, Inventory, Nic, Vlan
from strategies import inventory_texts

SVG_NS = "{http://www.w3.org/2000/svg}"
XHTML_NS = "{http://www.w3.org/1999/xhtml}"

INVENTORIES = [
    ROOT / "inventories" / "bare-metal.yaml",
    ROOT / "inventories" / "example.yaml",
    ROOT / "inventories" / "metallb-bgp.yaml",
    ROOT / "inventories" / "secondary-networks.yaml",
    ROOT / "tests" / "golden" / "attach-devices" / "inventory.yaml",
]
IDS = [p.relative_to(ROOT).as_posix() for p in INVENTORIES]

# a name, a MAC and a label with every character the writers must escape
HOSTILE = 'x"]; click c0n0 href "javascript:alert(1)" %% <script>alert(\'&amp;\')</script> #35; `md` |pipe| end'


def load(path: Path, facts: list[Path] | None = None) -> Inventory:
    return netgen.load(path, facts=facts or [])


def expected_texts(cluster: Cluster) -> list[str]:
    """What a reviewer must find in every picture of ``cluster``, read from the model."""
    texts = [cluster.name]
    for network in cluster.networks:
        texts += [network.name, *(str(c) for c in network.cidrs), *(str(g) for g in network.gateways)]
    for host in cluster.hosts:
        texts += [host.name, str(host.role)]
        for link in host.links:
            texts += link_texts(link)
            name = host.kernel_name(link)
            if name is not None:
                texts.append(name)
            texts += [str(a) for a in link.addresses]
    texts += [str(vip) for vip in cluster.control_plane.vips]
    if cluster.metallb is not None:
        for pool in cluster.metallb.pools:
            texts += [pool.name, *(block.text for block in pool.addresses)]
        for peer in cluster.metallb.peers:
            texts += [peer.name, str(peer.address), str(peer.asn)]
    for attachment in cluster.attachments:
        texts += [attachment.name, attachment.namespace, attachment.type]
    return texts


def link_texts(link: Nic | Bond | Vlan | Bridge) -> list[str]:
    if isinstance(link, Nic):
        return [str(link.mac), *([link.model] if link.model is not None else [])]
    if isinstance(link, Bond):
        return [link.name, link.mode]
    if isinstance(link, Vlan):
        return [f"VLAN {link.id}"]
    return [link.name]


def assert_all_in(texts: list[str], shown: str) -> None:
    missing = [t for t in texts if t not in shown]
    assert missing == []


def svg_text(root: ET.Element) -> str:
    return "\n".join("".join(e.itertext()) for e in root.iter(f"{SVG_NS}text"))


# ---------------------------------------------------------------- the graph itself


def test_bare_metal_graph_has_every_link_and_how_they_stack() -> None:
    (graph,) = build(load(ROOT / "inventories" / "bare-metal.yaml"))
    assert [h.name for h in graph.hosts] == ["cp-1", "cp-2", "cp-3", "worker-1"]
    assert [n.title for n in graph.networks] == ["network prod", "network storage", "network vms"]
    nodes = {n.id: n for n in graph.nodes}
    edges = {(nodes[e.source].title, nodes[e.target].title, e.kind) for e in graph.edges}
    host = graph.hosts[0]
    titles = [link.title for link in host.links]
    assert titles == ["NIC enp1s0f0", "NIC enp1s0f1", "NIC enp2s0", "bond bond0", "VLAN 120", "VLAN 130", "bridge br0"]
    assert [link.level for link in host.links] == [0, 0, 0, 1, 2, 2, 1]
    assert [link.kernel_name for link in host.links] == [
        "enp1s0f0",
        "enp1s0f1",
        "enp2s0",
        "bond0",
        "bond0.120",
        "bond0.130",
        "br0",
    ]
    bond = host.links[3]
    assert bond.value("mode") == "802.3ad" and bond.value("members") == "enp1s0f0, enp1s0f1"
    assert host.links[0].value("MAC") == "a0:36:9f:11:00:01"
    assert {
        ("NIC enp1s0f0", "bond bond0", EdgeKind.MEMBER),
        ("NIC enp1s0f1", "bond bond0", EdgeKind.MEMBER),
        ("bond bond0", "VLAN 120", EdgeKind.PARENT),
        ("bond bond0", "VLAN 130", EdgeKind.PARENT),
        ("NIC enp2s0", "bridge br0", EdgeKind.MEMBER),
        ("VLAN 120", "network prod", EdgeKind.CARRIES),
        ("VLAN 130", "network storage", EdgeKind.CARRIES),
        ("bridge br0", "network vms", EdgeKind.CARRIES),
        ("network prod", "VIP 10.20.0.100", EdgeKind.VIP),
        ("network prod", "pool public", EdgeKind.L2),
        ("network storage", "attachment storage", EdgeKind.ATTACHES),
    } <= edges
    # every host's links are connected the same way: 8 edges per host, 3 beside the networks
    assert len(graph.edges) == 4 * 8 + 3
    (vip,) = (n for n in graph.services if n.kind is Kind.VIP)
    assert (vip.network, vip.value("on")) == ("prod", "cp-1, cp-2, cp-3")
    (attachment,) = (n for n in graph.services if n.kind is Kind.ATTACHMENT)
    assert attachment.value("type") == "macvlan bridge" and attachment.value("host link") == "bond0.130"


def test_bgp_pools_point_at_their_peers_and_peers_sit_on_their_network() -> None:
    (graph,) = build(load(ROOT / "inventories" / "metallb-bgp.yaml"))
    nodes = {n.id: n for n in graph.nodes}
    bgp = sorted((nodes[e.source].title, nodes[e.target].title) for e in graph.edges if e.kind is EdgeKind.BGP)
    assert bgp == [
        ("pool anycast", "BGP peer tor-a"),
        ("pool anycast", "BGP peer tor-b"),
        ("pool services", "BGP peer tor-a"),
        ("pool services", "BGP peer tor-b"),
    ]
    reached = sorted(nodes[e.target].title for e in graph.edges if e.kind is EdgeKind.REACHED)
    assert reached == ["BGP peer tor-a", "BGP peer tor-b"]
    peers = {n.title: n for n in graph.services if n.kind is Kind.PEER}
    tor_b = peers["BGP peer tor-b"]
    assert tor_b.value("address") == "2001:db8:50::3" and tor_b.value("ASN") == "65002 (eBGP, my ASN 64512)"
    assert tor_b.value("from") == "worker-2, worker-1" and tor_b.network == "lan"
    assert peers["BGP peer tor-a"].value("BFD") == "fast"
    pools = {n.title: n for n in graph.services if n.kind is Kind.POOL}
    assert pools["pool anycast"].value("aggregated to") == "/27 (IPv4), /120 (IPv6)"
    assert pools["pool anycast"].value("communities") == "64512:100, large:64512:1:2"
    assert pools["pool services"].value("L2 on") == "lan"
    # the BGP-only pool sits beside the network its peers are reached on
    assert pools["pool anycast"].network == "lan"


def test_attachments_of_every_cni_type_are_drawn_with_their_devices() -> None:
    (graph,) = build(load(ROOT / "tests" / "golden" / "attach-devices" / "inventory.yaml"))
    attachments = {n.title: n for n in graph.services if n.kind is Kind.ATTACHMENT}
    assert attachments["attachment routed"].value("type") == "ipvlan l3s"
    assert attachments["attachment routed"].value("host link") == "ens4"
    assert attachments["attachment nvme"].value("device") == "PCI 0000:41:00.0"
    assert attachments["attachment vf"].value("resource") == "mellanox.com/cx6_vfs"
    assert attachments["attachment vf"].value("MAC") == "02:00:00:20:00:01"
    # a type without a host link names none
    assert attachments["attachment vf"].value("host link") is None
    labels = {e.label for e in graph.edges if e.kind is EdgeKind.ATTACHES}
    assert labels == {"ipvlan", "host-device", "sriov"}


def test_kernel_names_come_from_facts() -> None:
    inventory = ROOT / "tests" / "golden" / "f1-facts" / "inventory.yaml"
    facts = ROOT / "tests" / "golden" / "f1-facts" / "facts"
    (bare,) = build(load(inventory))
    (known,) = build(load(inventory, [facts]))
    assert bare.hosts[0].links[0].kernel_name is None
    assert bare.hosts[0].links[0].value("kernel name") == "unknown (selected by MAC)"
    assert bare.hosts[0].links[0].value("alias") == "backend"  # the Talos link alias it is configured by
    assert [link.kernel_name for link in known.hosts[0].links] == ["ens7", "ens8"]
    assert known.hosts[0].links[0].value("model") == "virtio"
    assert [link.kernel_name for link in known.hosts[2].links] == ["eno1", "eno2"]


def test_unknown_cluster_is_a_usage_error() -> None:
    with pytest.raises(netgen.UsageError, match="no cluster named nope; the inventory has lab"):
        build(load(ROOT / "inventories" / "example.yaml"), ["nope"])


# ---------------------------------------------------------------- every format shows everything


@pytest.mark.parametrize("path", INVENTORIES, ids=IDS)
def test_every_format_shows_every_host_link_and_service(path: Path) -> None:
    inventory = load(path)
    graphs = build(inventory)
    expected = [t for cluster in inventory.clusters for t in expected_texts(cluster)]
    assert_all_in(expected, mermaid.flowchart(graphs))
    assert_all_in(expected, svg_text(ET.fromstring(svg.document(graphs, "x.yaml"))))
    page = ET.fromstring(html_writer.document(graphs, "x.yaml"))
    # the page's headings name the clusters; its pictures show everything else
    assert_all_in([c.name for c in inventory.clusters], "".join(page.itertext()))
    assert_all_in([t for t in expected if t not in {c.name for c in inventory.clusters}], svg_text(page))
    table = "\n".join("".join(td.itertext()) for td in page.iter(f"{XHTML_NS}td"))
    nics = [str(link.mac) for cluster in inventory.clusters for host in cluster.hosts for link in host.nics]
    assert_all_in(nics, table)


@pytest.mark.parametrize("path", INVENTORIES, ids=IDS)
def test_output_is_deterministic_and_independent_of_where_the_inventory_is(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / path.name
    copy.parent.mkdir()
    shutil.copy(path, copy)
    for fmt in output.FORMATS:
        first = output.draw(build(load(path)), fmt, title=path.name)
        again = output.draw(build(load(copy)), fmt, title=copy.name)
        assert first == again
    assert output.draw(build(load(path)), "svg", title="t") == output.draw(build(load(path)), "svg", title="t")


# ---------------------------------------------------------------- Mermaid

_LABEL = r'"[^"\n]*"'
_SHAPE = "|".join(
    rf"{re.escape(start)}{_LABEL}{re.escape(end)}"
    for start, end in (("{{", "}}"), ("[", "]"), ("([", "])"), ("[/", "/]"), ("[[", "]]"), (">", "]"))
)
_STATEMENTS = [
    re.compile(r"flowchart LR"),
    re.compile(rf"\s*subgraph (?P<subgraph>c\d+(h\d+)?)\[{_LABEL}\]"),
    re.compile(r"\s*end"),
    re.compile(rf"\s*(?P<node>c\d+[a-z]\d+(l\d+)?)(?:{_SHAPE})"),
    re.compile(rf"\s*(?P<source>c\d+[a-z]\d+(l\d+)?) (-\.->|==>|-->)(\|{_LABEL}\|)? (?P<target>c\d+[a-z]\d+(l\d+)?)"),
    re.compile(r"\s*classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}"),
    re.compile(r"\s*class (?P<members>c[0-9a-z,]+) [a-z]+"),
]


def check_mermaid_structure(text: str) -> None:
    """The subset of Mermaid flowchart syntax the writer emits, strictly: every line one known
    statement, labels quoted with nothing inside that ends or escapes them, subgraphs closed,
    every edge and class between declared nodes."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR" and text.endswith("\n")
    depth, nodes, used = 0, set(), set()
    for line in lines[1:]:
        match = next((m for p in _STATEMENTS if (m := p.fullmatch(line))), None)
        assert match is not None, f"not a statement netgen emits: {line!r}"
        groups = match.groupdict()
        if groups.get("subgraph"):
            depth += 1
        elif line.strip() == "end":
            depth -= 1
            assert depth >= 0
        if groups.get("node"):
            assert groups["node"] not in nodes
            nodes.add(groups["node"])
        if groups.get("source"):
            used |= {groups["source"], groups["target"]}
        if groups.get("members"):
            used |= set(groups["members"].split(","))
        for label in re.findall(r'"([^"]*)"', line):
            # inside a label: text, Mermaid entity codes and the line breaks netgen puts there
            text = label.replace("<br>", "")
            assert not set(text) & set("<>`|\n"), label
            assert re.fullmatch(r"([^#&]|#[a-z0-9]+;)*", text), label
    assert depth == 0
    assert used <= nodes


@pytest.mark.parametrize("path", INVENTORIES, ids=IDS)
def test_mermaid_is_the_flowchart_subset_netgen_emits(path: Path) -> None:
    graphs = build(load(path))
    text = mermaid.flowchart(graphs)
    check_mermaid_structure(text)
    assert text.count("  subgraph c0[") == 1
    assert text.count("    subgraph c0h") == len(graphs[0].hosts)


def hostile_graph() -> ClusterGraph:
    nic = Node("c0h0l0", Kind.NIC, f"NIC {HOSTILE}", (("MAC", "52:54:00:00:00:01"), ("model", HOSTILE)), "n")
    network = Node("c0n0", Kind.NETWORK, f"network {HOSTILE}", (("CIDR", "10.0.0.0/24"),), "n")
    pool = Node("c0p0", Kind.POOL, "pool <b>", (("addresses", "a&b"),), "n")
    peer = Node("c0g0", Kind.PEER, 'peer "quoted"', (), None)
    return ClusterGraph(
        id="c0",
        name=HOSTILE,
        summary=(("Talos", HOSTILE),),
        hosts=(HostGroup("c0h0", HOSTILE, "worker", (nic,)),),
        networks=(network,),
        services=(pool, peer),
        edges=(
            Edge("c0h0l0", "c0n0", EdgeKind.CARRIES),
            Edge("c0n0", "c0p0", EdgeKind.L2, HOSTILE),
            Edge("c0p0", "c0g0", EdgeKind.BGP, "BGP"),
        ),
    )


def test_hostile_labels_stay_inside_their_mermaid_strings() -> None:
    text = mermaid.flowchart([hostile_graph()])
    check_mermaid_structure(text)
    assert "<script>" not in text
    assert 'c0h0l0["NIC x#quot;]; click c0n0 href #quot;javascript:alert(1)#quot; %% #lt;script#gt;' in text
    assert '-->|"x#quot;]; click' in text
    # a backtick cannot open a Markdown string, nor a fence in a Markdown document
    assert "`" not in text
    document = mermaid.markdown([hostile_graph()], "a`b``c.yaml")
    assert document.startswith("# Network topology of ```a`b``c.yaml```\n")
    assert document.count("```mermaid\n") == 1


def test_markdown_holds_one_fence_per_cluster(tmp_path: Path) -> None:
    inventory = two_clusters(tmp_path)
    graphs = build(load(inventory))
    document = mermaid.markdown(graphs, inventory.name)
    fences = re.findall(r"^## Cluster `(\w+)`\n\n```mermaid\n(.*?)```\n", document, re.MULTILINE | re.DOTALL)
    assert [name for name, _ in fences] == ["rack", "lab"]
    assert [body for _, body in fences] == [mermaid.flowchart([g]) for g in graphs]
    raw = mermaid.flowchart(graphs)
    check_mermaid_structure(raw)
    assert raw.count("  subgraph c0[") == 1 and raw.count("  subgraph c1[") == 1


def two_clusters(tmp_path: Path) -> Path:
    """An inventory with two clusters: metallb-bgp's rack, then example's lab."""
    first = (ROOT / "inventories" / "metallb-bgp.yaml").read_text()
    second = (ROOT / "inventories" / "example.yaml").read_text().split("clusters:\n", 1)[1]
    path = tmp_path / "two.yaml"
    path.write_text(first + second)
    assert [c.name for c in load(path).clusters] == ["rack", "lab"]
    return path


# ---------------------------------------------------------------- SVG and HTML


def assert_self_contained(root: ET.Element) -> None:
    """No element or attribute that loads or runs anything: no scripts, links, images, frames,
    no href/src, no url() other than a reference to an element of the same document."""
    banned = {"script", "link", "img", "image", "iframe", "object", "embed", "foreignObject", "use", "a", "audio"}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        assert tag not in banned, tag
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            assert local not in {"href", "src", "srcset", "action", "data"} and not local.startswith("on"), name
            assert re.sub(r"url\(#[\w-]+\)", "", value).find("url(") == -1, value
        if tag == "style":
            css = element.text or ""
            assert "@import" not in css and "url(" not in css


def test_svg_is_valid_xml_with_a_title_and_no_external_references() -> None:
    graphs = build(load(ROOT / "inventories" / "bare-metal.yaml"))
    text = svg.document(graphs, "bare-metal.yaml")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    root = ET.fromstring(text.encode())
    assert root.tag == f"{SVG_NS}svg"
    assert root.findtext(f"{SVG_NS}title") == "Network topology of bare-metal.yaml"
    width, height = int(root.attrib["width"]), int(root.attrib["height"])
    assert root.attrib["viewBox"] == f"0 0 {width} {height}"
    assert_self_contained(root)
    check_layout(root, graphs[0])


def check_layout(root: ET.Element, graph: ClusterGraph) -> None:
    """Every node box inside the picture, none overlapping another, every edge drawn with an
    arrowhead the picture defines."""
    width, height = int(root.attrib["width"]), int(root.attrib["height"])
    boxes = []
    for group in root.iter(f"{SVG_NS}g"):
        if "node" in group.attrib.get("class", "").split():
            rect = group.find(f"{SVG_NS}rect")
            assert rect is not None
            x, y, w, h = (int(rect.attrib[k]) for k in ("x", "y", "width", "height"))
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
            boxes.append((x, y, x + w, y + h))
    assert len(boxes) == len(graph.nodes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    paths = [p for p in root.iter(f"{SVG_NS}path") if p.find(f"{SVG_NS}title") is not None]
    assert len(paths) == len(graph.edges)
    markers = {m.attrib["id"] for m in root.iter(f"{SVG_NS}marker")}
    assert {p.attrib["marker-end"] for p in paths} <= {f"url(#{m})" for m in markers}


@settings(
    max_examples=int(os.environ.get("NETGEN_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    derandomize=os.environ.get("NETGEN_HYPOTHESIS_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(generated=inventory_texts())
def test_every_valid_inventory_is_drawn_whole_in_every_format(generated: tuple[dict[str, Any], str]) -> None:
    _, text = generated
    inventory = netgen.load(text, name="random.yaml")
    assert not [d for d in netgen.validate(inventory) if d.severity is Severity.ERROR]
    graphs = build(inventory)
    check_mermaid_structure(mermaid.flowchart(graphs))
    for cluster, graph in zip(inventory.clusters, graphs, strict=True):
        assert [len(h.links) for h in graph.hosts] == [len(h.links) for h in cluster.hosts]
        expected = expected_texts(cluster)
        assert_all_in(expected, mermaid.flowchart([graph]))
        picture = ET.fromstring(svg.element(graph, "random.yaml"))
        assert_self_contained(picture)
        check_layout(picture, graph)
        assert_all_in([t for t in expected if t != cluster.name], svg_text(picture))
    page = ET.fromstring(html_writer.document(graphs, "random.yaml"))
    assert_self_contained(page)


def test_svg_of_several_clusters_stacks_them(tmp_path: Path) -> None:
    graphs = build(load(two_clusters(tmp_path)))
    root = ET.fromstring(svg.document(graphs, "two.yaml"))
    clusters = [g for g in root.findall(f"{SVG_NS}g") if g.attrib.get("class") == "cluster"]
    assert [g.attrib["id"] for g in clusters] == ["c0", "c1"]
    assert clusters[0].attrib["transform"] == "translate(0 0)" and clusters[1].attrib["transform"] != "translate(0 0)"
    ids = [e.attrib["id"] for e in root.iter() if "id" in e.attrib]
    assert len(ids) == len(set(ids))


def test_hostile_text_round_trips_through_svg_and_html() -> None:
    graph = hostile_graph()
    root = ET.fromstring(svg.document([graph], HOSTILE))
    assert root.findtext(f"{SVG_NS}title") == f"Network topology of {HOSTILE}"
    shown = [("".join(t.itertext())) for t in root.iter(f"{SVG_NS}text")]
    assert f"NIC {HOSTILE}" in shown and f"model {HOSTILE}" in shown and f"cluster {HOSTILE}" in shown
    assert_self_contained(root)
    page = html_writer.document([graph], HOSTILE)
    tree = ET.fromstring(page)
    assert tree.findtext(f"{XHTML_NS}head/{XHTML_NS}title") == f"Network topology of {HOSTILE}"
    assert tree.findtext(f"{XHTML_NS}body/{XHTML_NS}h1") == f"Network topology of {HOSTILE}"
    assert_self_contained(tree)
    assert "<script>" not in page


def test_text_that_xml_cannot_hold_is_replaced() -> None:
    assert clean("a\x00b\x1bc\udcffd\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert clean("two\nlines") == "two lines"
    graph = cluster_graph(load(ROOT / "inventories" / "example.yaml").clusters[0])
    text = svg.document([graph], clean("bad\udcff\x07name.yaml"))
    ET.fromstring(text.encode("utf-8"))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_is_one_well_formed_self_contained_page(tmp_path: Path) -> None:
    inventory = load(two_clusters(tmp_path))
    graphs = build(inventory)
    page = html_writer.document(graphs, "two.yaml")
    assert page.startswith("<!DOCTYPE html>\n")
    root = ET.fromstring(page)  # well-formed XML as well as HTML
    assert root.tag == f"{XHTML_NS}html"
    assert_self_contained(root)
    body = root.find(f"{XHTML_NS}body")
    assert body is not None
    assert ["".join(h.itertext()) for h in body.iter(f"{XHTML_NS}h2")] == ["Cluster rack", "Cluster lab"]
    sections = body.findall(f"{XHTML_NS}section")
    assert [len(list(s.iter(f"{SVG_NS}svg"))) for s in sections] == [1, 1]
    rows = [r for s in sections for r in s.iter(f"{XHTML_NS}tr") if r.find(f"{XHTML_NS}td") is not None]
    assert len(rows) == sum(len(h.links) for c in inventory.clusters for h in c.hosts)
    parser = _Elements()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") == 2 and parser.tags.count("table") == 2 and "script" not in parser.tags


# ---------------------------------------------------------------- the command


def test_graph_prints_mermaid_by_default(run_cli) -> None:
    result = run_cli("graph", ROOT / "inventories" / "bare-metal.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == mermaid.flowchart(build(load(ROOT / "inventories" / "bare-metal.yaml")))


@pytest.mark.parametrize(
    ("name", "extra", "start"),
    [
        ("topology.html", [], "<!DOCTYPE html>"),
        ("topology.HTM", [], "<!DOCTYPE html>"),
        ("topology.svg", [], "<?xml"),
        ("topology.mmd", [], "flowchart LR"),
        ("topology.md", [], "# Network topology of `example.yaml`"),
        ("picture.html", ["--format", "svg"], "<?xml"),
        ("topology.txt", ["--format", "mermaid"], "flowchart LR"),
    ],
)
def test_graph_writes_the_format_of_the_suffix_or_flag(
    run_cli, tmp_path: Path, name: str, extra: list[str], start: str
) -> None:
    out = tmp_path / name
    result = run_cli("graph", ROOT / "inventories" / "example.yaml", "-o", out, *extra)
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", f"netgen: wrote {out}\n")
    assert out.read_text().startswith(start)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_graph_replaces_an_existing_file_and_draws_facts(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    out.write_text("old")
    base = ROOT / "tests" / "golden" / "f1-facts"
    result = run_cli("graph", base / "inventory.yaml", "--facts", base / "facts", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "NIC ens7" in svg_text(ET.fromstring(out.read_bytes()))


def test_graph_selects_clusters(run_cli, tmp_path: Path) -> None:
    inventory = two_clusters(tmp_path)
    result = run_cli("graph", inventory, "--cluster", "lab")
    assert result.exit_code == 0, result.stderr
    assert "subgraph c1[" in result.stdout and "subgraph c0[" not in result.stdout
    assert "rack" not in result.stdout
    # the selected cluster is drawn exactly as in the whole picture
    whole = run_cli("graph", inventory).stdout
    assert all(line in whole.splitlines() for line in result.stdout.splitlines() if not line.startswith("  class "))


def test_graph_warnings_are_reported_and_the_picture_is_written(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    result = run_cli("graph", ROOT / "tests" / "golden" / "attach-devices" / "inventory.yaml", "-o", out)
    assert result.exit_code == 0
    assert "warning[NG604]" in result.stderr
    assert out.is_file()


@pytest.mark.parametrize("bad", ["duplicate-mac.yaml", "latin1-comment.yaml", "duplicate-key.yaml"])
def test_graph_of_a_bad_inventory_exits_1_and_writes_nothing(run_cli, tmp_path: Path, bad: str) -> None:
    inventory = ROOT / "tests" / "bad" / bad
    assert inventory.is_file()
    out = tmp_path / "topology.html"
    result = run_cli("graph", inventory, "-o", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert re.search(rf"{re.escape(str(inventory))}:\d+:\d+: error\[NG\d+\]", result.stderr)
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
    # an earlier picture stays as it was
    out.write_text("earlier")
    assert run_cli("graph", inventory, "-o", out).exit_code == 1
    assert out.read_text() == "earlier"
    printed = run_cli("graph", inventory)
    assert (printed.exit_code, printed.stdout) == (1, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "'png' is not one of"),
        (["-o", "{tmp}/topology.png"], "cannot tell the format from"),
        (["--cluster", "nope"], "no cluster named nope"),
        (["-o", "{tmp}/missing/topology.html"], "does not exist"),
        (["-o", "{tmp}/file/topology.html"], "is not a directory"),
        (["--format", "html", "-o", "{tmp}"], "is a directory"),
        (["--bogus"], "No such option"),
    ],
)
def test_graph_usage_errors_exit_2(run_cli, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    result = run_cli("graph", ROOT / "inventories" / "example.yaml", *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_graph_keeps_permissions_and_never_replaces_what_is_not_a_file(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    out.write_text("old")
    out.chmod(0o640)
    assert run_cli("graph", ROOT / "inventories" / "example.yaml", "-o", out).exit_code == 0
    assert (out.stat().st_mode & 0o777, out.read_text().startswith("<?xml")) == (0o640, True)
    # a device is written to, not renamed over
    null = Path(os.devnull)
    assert run_cli("graph", ROOT / "inventories" / "example.yaml", "-o", null, "--format", "svg").exit_code == 0
    assert stat.S_ISCHR(null.stat().st_mode)


def test_graph_into_a_name_too_long_exits_1(run_cli, tmp_path: Path) -> None:
    result = run_cli("graph", ROOT / "inventories" / "example.yaml", "-o", tmp_path / ("o" * 300 + ".svg"))
    assert result.exit_code == 1
    assert "File name too long" in result.stderr and "internal error" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_graph_of_a_missing_inventory_exits_2(run_cli, tmp_path: Path) -> None:
    result = run_cli("graph", tmp_path / "none.yaml", "-o", tmp_path / "t.html")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_graph_formats_are_the_cli_choices() -> None:
    assert tuple(f.value for f in GraphFormat) == output.FORMATS
    assert set(output.SUFFIXES.values()) == set(output.FORMATS)


def test_the_cli_does_not_import_the_graph_writers() -> None:
    code = "import sys, netgen.cli; print(sorted(m for m in sys.modules if m.startswith('netgen.graph')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_a_hostile_inventory_file_name_is_escaped_everywhere(run_cli, tmp_path: Path) -> None:
    name = "we<i>rd&\"'#`|.yaml"
    inventory = tmp_path / name
    shutil.copy(ROOT / "inventories" / "example.yaml", inventory)
    for suffix in (".svg", ".html", ".md"):
        out = tmp_path / f"t{suffix}"
        assert run_cli("graph", inventory, "-o", out).exit_code == 0
        text = out.read_text()
        if suffix == ".md":
            assert text.startswith(f"# Network topology of ``{name}``\n")
            continue
        root = ET.fromstring(text.encode())
        title = root.find(f".//{SVG_NS}title") if suffix == ".svg" else root.find(f"{XHTML_NS}head/{XHTML_NS}title")
        assert title is not None and title.text == f"Network topology of {name}"


# ---------------------------------------------------------------- in a real browser

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # nothing on a page may reach a network: every host name resolves to nothing
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
BROWSER_TIMEOUT = 120  # seconds; a bound on a hung browser, not a speed requirement


def _required(what: str, why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: {why} (.ci/run installs it)")
    pytest.skip(f"{what} is missing ({why}); .ci/run installs it")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        _required("chromium", "the browser tests of netgen graph need Debian's chromium")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def mermaid_js() -> Path:
    given = os.environ.get("NETGEN_MERMAID_JS")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netgen-ci"
    found = sorted(cache.glob("mermaid-*/node_modules/mermaid/dist/mermaid.min.js"))
    path = Path(given) if given else (found[-1] if found else None)
    if path is None or not path.is_file():
        _required("the npm package mermaid", f"NETGEN_MERMAID_JS or {cache}/mermaid-*/ must hold mermaid.min.js")
    assert path is not None
    return path


def browse(chromium: str, tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [chromium, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def png_pixels(data: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of colours of an 8-bit RGB(A) PNG, as Chromium writes it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    idat = b""
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at : at + 4]), data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if kind == b"IDAT":
            idat += body
        chunks[kind] = body
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    colours: set[tuple[int, int, int]] = set()
    previous = bytearray(stride)
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        colours |= {(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, step)}
        previous = line
    return width, height, colours


def test_chromium_shows_the_html_page(run_cli, chromium: str, tmp_path: Path) -> None:
    inventory = ROOT / "inventories" / "bare-metal.yaml"
    page = tmp_path / "topology.html"
    assert run_cli("graph", inventory, "-o", page).exit_code == 0
    dumped = browse(chromium, tmp_path, page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert "<svg" in dom and 'class="netgen-graph"' in dom and "<table>" in dom
    for host in load(inventory).clusters[0].hosts:
        assert f"host {host.name} ({host.role})" in dom
        assert f'<th scope="row" rowspan="{len(host.links)}">{host.name}</th>' in dom
    # the browser built the SVG's elements: every node and edge of the graph is in its DOM
    (graph,) = build(load(inventory))
    assert all(f'id="{node.id}"' in dom for node in graph.nodes)
    screenshot = tmp_path / "topology.png"
    shot = browse(chromium, tmp_path, page, f"--screenshot={screenshot}", "--window-size=1400,1000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    width, height, colours = png_pixels(screenshot.read_bytes())
    assert (width, height) == (1400, 1000)
    # the boxes are painted in their colours: NIC, bond, VLAN, bridge, network
    painted = {
        tuple(int(mermaid.COLOURS[kind][0][i : i + 2], 16) for i in (1, 3, 5))
        for kind in (Kind.NIC, Kind.BOND, Kind.VLAN, Kind.BRIDGE, Kind.NETWORK)
    }
    assert painted <= colours


def run_mermaid(chromium: str, mermaid_js: Path, tmp_path: Path, texts: list[str]) -> list[dict[str, Any]]:
    """Parse and render each text with the real Mermaid in Chromium; per text, whether it
    parsed and the texts of the rendered labels, or the parser's error."""
    areas = "".join(f'<textarea class="source">{html.escape(t)}</textarea>' for t in texts)
    page = tmp_path / "mermaid.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{mermaid_js.as_uri()}"></script></head>'
        f'<body>{areas}<pre id="result">pending</pre><script>\n'
        'mermaid.initialize({startOnLoad: false, securityLevel: "strict"});\n'
        "(async () => {\n"
        "  const results = [];\n"
        "  let index = 0;\n"
        '  for (const area of document.querySelectorAll("textarea.source")) {\n'
        "    try {\n"
        "      await mermaid.parse(area.value);\n"
        '      const rendered = await mermaid.render("diagram" + index++, area.value);\n'
        '      const holder = document.createElement("div");\n'
        "      holder.innerHTML = rendered.svg;\n"
        "      document.body.appendChild(holder);\n"
        '      const nodes = [...holder.querySelectorAll(".node .nodeLabel")].map(e => e.innerText);\n'
        '      const clusters = [...holder.querySelectorAll(".cluster-label")].map(e => e.textContent);\n'
        '      const edges = [...holder.querySelectorAll(".edgeLabel")].map(e => e.innerText);\n'
        '      const scripts = holder.querySelectorAll("script").length;\n'
        "      results.push({ok: true, nodes, clusters, edges, scripts});\n"
        "    } catch (error) {\n"
        "      results.push({ok: false, error: String((error && error.message) || error)});\n"
        "    }\n"
        "  }\n"
        '  document.getElementById("result").textContent = JSON.stringify(results);\n'
        "})();\n"
        "</script></body></html>",
        encoding="utf-8",
    )
    dumped = browse(chromium, tmp_path, page, "--virtual-time-budget=60000", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    match = re.search(r'<pre id="result">(.*?)</pre>', dumped.stdout, re.DOTALL)
    assert match is not None and match.group(1) != "pending", dumped.stdout[-2000:]
    results: list[dict[str, Any]] = json.loads(html.unescape(match.group(1)))
    assert len(results) == len(texts)
    return results


def test_real_mermaid_parses_and_renders_every_example(chromium: str, mermaid_js: Path, tmp_path: Path) -> None:
    graphs = [build(load(path)) for path in INVENTORIES]
    texts = [mermaid.flowchart(g) for g in graphs]
    texts.append(mermaid.flowchart(build(load(two_clusters(tmp_path)))))
    results = run_mermaid(chromium, mermaid_js, tmp_path, texts)
    for path, result, drawn in zip(INVENTORIES, results, graphs, strict=False):
        assert result["ok"], (path, result.get("error"))
        nodes = result["nodes"]
        assert isinstance(nodes, list)
        # each node's label, line by line, as Mermaid shows it
        expected = ["\n".join((n.title, *n.lines)) for g in drawn for n in g.nodes]
        assert sorted(nodes) == sorted(expected)
        assert_all_in([f"host {h.name} ({h.role})" for g in drawn for h in g.hosts], "\n".join(result["clusters"]))
    assert results[-1]["ok"], results[-1].get("error")


def test_real_mermaid_shows_hostile_labels_as_text(chromium: str, mermaid_js: Path, tmp_path: Path) -> None:
    graph = hostile_graph()
    (result,) = run_mermaid(chromium, mermaid_js, tmp_path, [mermaid.flowchart([graph])])
    assert result["ok"], result.get("error")
    assert result["scripts"] == 0
    assert sorted(result["nodes"]) == sorted("\n".join((n.title, *n.lines)) for n in graph.nodes)
    assert HOSTILE in result["edges"]
    assert f"host {HOSTILE} (worker)" in result["clusters"]


def test_real_mermaid_rejects_what_the_structure_check_rejects(chromium: str, mermaid_js: Path, tmp_path: Path) -> None:
    # the structural check and the parser agree on a label that ends its string early
    broken = 'flowchart LR\n  c0n0["a"b"]\n'
    with pytest.raises(AssertionError):
        check_mermaid_structure(broken)
    (result,) = run_mermaid(chromium, mermaid_js, tmp_path, [broken])
    assert result["ok"] is False
