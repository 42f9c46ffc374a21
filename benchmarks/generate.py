"""Synthetic but realistic inventories for the benchmark: N hosts in clusters of 3 to 50.

Every cluster is dual-stack with a management network (static addresses, two VIPs), a
storage network and, on some hosts, a third NIC left alone; a MetalLB pool announced on the
management network, a per-pod macvlan attachment with Kube-OVN IPAM, and a vcluster. Every
second cluster is bare metal on Talos 1.14: each host bonds its two NICs (LACP) and carries
both networks as VLANs on the bond, with a static route, resolvers and time servers. The
output is deterministic for a given N and seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path


def cluster_sizes(hosts: int, rng: random.Random) -> list[int]:
    sizes = []
    while hosts > 0:
        size = min(rng.randint(3, 50), hosts)
        if hosts - size < 3 and hosts - size > 0:
            size = hosts
        sizes.append(size)
        hosts -= size
    return sizes


def mac(cluster: int, host: int, nic: int) -> str:
    return f"52:54:{cluster >> 8:02x}:{cluster & 0xFF:02x}:{host:02x}:{nic:02x}"


def render_cluster(index: int, size: int, rng: random.Random) -> str:
    a, b = index // 250, index % 250  # 10.<a*?>: keeps every cluster's ranges distinct
    name = f"c{index:03d}"
    v4_mgmt = f"10.{120 + a}.{b}"
    v6_mgmt = f"2001:db8:{index:x}:1"
    bare_metal = index % 2 == 0
    talos = "1.14" if bare_metal else "1.13"
    lines = [
        f"  - name: {name}",
        f'    talos: {{version: "{talos}"}}',
        "    families: [ipv4, ipv6]",
        "    kubernetes:",
        '      podCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"]',
        '      serviceCIDRs: ["10.96.0.0/12", "fd00:10:96::/112"]',
        "      nodeNetwork: mgmt",
        "    networks:",
        "      - name: mgmt",
        f'        cidrs: ["{v4_mgmt}.0/24", "{v6_mgmt}::/64"]',
        f'        gateways: ["{v4_mgmt}.1", "{v6_mgmt}::1"]',
        *([f'        routes: [{{destination: 10.250.0.0/16, gateway: "{v4_mgmt}.254", metric: 100}}]'] * bare_metal),
        "      - name: storage",
        f'        cidrs: ["172.{16 + a}.{b}.0/24"]',
        "        mtu: 9000",
        "    controlPlane:",
        f'      vips: ["{v4_mgmt}.5", "{v6_mgmt}::5"]',
        "    hosts:",
    ]
    if bare_metal:
        lines[3:3] = ['    nameservers: ["10.10.0.53", "2001:db8:100::53"]', '    timeServers: ["ntp1.example.com"]']
    for host in range(size):
        role = "controlplane" if host < 3 else "worker"
        if bare_metal:
            lines += [
                f"      - name: node-{host:02d}",
                f"        role: {role}",
                "        nics:",
                f'          - {{mac: "{mac(index, host, 1)}", name: enp1s0f0}}',
                f'          - {{mac: "{mac(index, host, 2)}", name: enp1s0f1}}',
                "        bonds:",
                f'          - {{name: bond0, members: ["{mac(index, host, 1)}", "{mac(index, host, 2)}"], '
                "mode: 802.3ad, lacpRate: fast, hashPolicy: layer3+4, mtu: 9000}",
                "        vlans:",
                f'          - {{id: 120, parent: bond0, network: mgmt, addresses: ["{v4_mgmt}.{10 + host}/24", '
                f'"{v6_mgmt}::{10 + host:x}/64"]}}',
                f"          - {{id: 130, parent: bond0, network: storage, "
                f'addresses: ["172.{16 + a}.{b}.{10 + host}/24"]}}',
            ]
            continue
        lines += [
            f"      - name: node-{host:02d}",
            f"        role: {role}",
            "        nics:",
            f'          - {{mac: "{mac(index, host, 1)}", network: mgmt, name: ens3, '
            f'addresses: ["{v4_mgmt}.{10 + host}/24", "{v6_mgmt}::{10 + host:x}/64"]}}',
            f'          - {{mac: "{mac(index, host, 2)}", network: storage, name: ens4, '
            f'addresses: ["172.{16 + a}.{b}.{10 + host}/24"]}}',
        ]
        if rng.random() < 0.5:
            lines.append(f'          - {{mac: "{mac(index, host, 3)}"}}')
    lines += [
        "    metallb:",
        "      pools:",
        f'        - {{name: public, addresses: ["{v4_mgmt}.200-{v4_mgmt}.250", "{v6_mgmt}::f000/120"], '
        "l2: {network: mgmt}}",
        "    attachments:",
        "      - name: storage",
        "        namespace: storage",
        "        network: storage",
        "        ipam:",
        "          type: kube-ovn",
        f'          cidrs: ["172.{16 + a}.{b}.0/24"]',
        f'          exclude: ["172.{16 + a}.{b}.1..172.{16 + a}.{b}.99"]',
        "    vclusters:",
        '      - {name: team, namespace: vc-team, version: "0.36"}',
    ]
    return "\n".join(lines) + "\n"


def inventory(hosts: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    header = "apiVersion: netgen/v1alpha1\nkind: Inventory\nclusters:\n"
    return header + "".join(render_cluster(i, size, rng) for i, size in enumerate(cluster_sizes(hosts, rng)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hosts", type=int)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    text = inventory(arguments.hosts, arguments.seed)
    if arguments.output:
        arguments.output.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
