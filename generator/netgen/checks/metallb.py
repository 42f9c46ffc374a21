"""MetalLB pools and their layer-2 announcements (docs/kubernetes.md; failure F3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import AddressRange, Cluster, Family
from netgen.targets import kernel_name


@dataclass(frozen=True, slots=True)
class _Block:
    block: AddressRange
    origin: Origin
    what: str


def _pool_blocks(cluster: Cluster) -> list[_Block]:
    if cluster.metallb is None:
        return []
    return [
        _Block(block, pool.origin / "addresses" / index, f"pool {pool.name}")
        for pool in cluster.metallb.pools
        for index, block in enumerate(pool.addresses)
    ]


@cluster_rule("NG502", Severity.ERROR, "pool overlaps")
def pools_disjoint(cluster: Cluster) -> Iterator[Finding]:
    """
    A MetalLB pool overlaps another pool, a pod CIDR, a service CIDR or the addresses an
    attachment's IPAM hands out. MetalLB refuses overlapping pools, a LoadBalancer address
    inside the pod or service range would be routed to the wrong place, and one an attachment
    also gives to a pod would be answered for twice. A pool inside a node network is fine: that is the usual
    layer-2 set-up.
    """
    k8s = cluster.origin / "kubernetes"
    ranges = [
        _Block(AddressRange(first=c.network_address, last=c.broadcast_address, text=str(c)), k8s / key / i, what)
        for key, what, cidrs in (
            ("podCIDRs", "pod CIDR", cluster.pod_cidrs),
            ("serviceCIDRs", "service CIDR", cluster.service_cidrs),
        )
        for i, c in enumerate(cidrs)
    ]
    ranges += [
        _Block(block, a.ipam.origin / "cidrs" / i, f"the addresses attachment {a.namespace}/{a.name} hands out")
        for a in cluster.attachments
        if a.ipam.hands_out
        for i, cidr in enumerate(a.ipam.cidrs)
        for block in a.ipam.allocatable(cidr)
    ]
    pools = _pool_blocks(cluster)
    # sorted by first address, each block can only overlap the ones still open where it starts
    everything = sorted([*ranges, *pools], key=lambda b: (b.block.first.version, int(b.block.first)))
    open_blocks: list[_Block] = []
    for item in everything:
        open_blocks = [o for o in open_blocks if o.block.overlaps(item.block)]
        for earlier in open_blocks:
            if earlier in pools or item in pools:
                pool, other = (item, earlier) if item in pools else (earlier, item)
                yield Finding(
                    pool.origin,
                    f"{pool.what} block {pool.block.text} overlaps {other.what} {other.block.text}",
                    "give each pool its own addresses, outside the pod and service CIDRs",
                )
        open_blocks.append(item)


@cluster_rule("NG503", Severity.ERROR, "pool contains a used address")
def pools_free(cluster: Cluster) -> Iterator[Finding]:
    """
    A MetalLB pool contains a host's static address, a gateway or a control-plane VIP.
    MetalLB would hand that address to a Service and answer ARP/NDP for it, stealing it
    from its owner. Leave those addresses out of the pool.
    """
    used = cluster.address_owners()
    for item in _pool_blocks(cluster):
        for address, owner in sorted(used.items(), key=lambda kv: (kv[0].version, int(kv[0]))):
            if item.block.contains(address):
                yield Finding(
                    item.origin,
                    f"{item.what} block {item.block.text} contains {address}, {owner}",
                    "leave host addresses, gateways and VIPs out of the pool (split it into ranges around them)",
                )


@cluster_rule("NG504", Severity.WARNING, "L2 interfaces unknown")
def l2_interfaces_known(cluster: Cluster) -> Iterator[Finding]:
    """
    A pool is announced over layer 2 on a network, but no host has a NIC there, or the kernel
    name of some host's NIC on that network is unknown (no `name` in the inventory, no facts). netgen then writes the
    L2Advertisement without `interfaces`, so MetalLB may answer ARP/NDP on every interface.
    Give the NICs their `name`, or pass `--facts`.
    """
    if cluster.metallb is None:
        return
    for pool in cluster.metallb.pools:
        if pool.l2_network is None or cluster.network(pool.l2_network) is None:
            continue
        on_network = [h for h in cluster.hosts if h.link_on(pool.l2_network)]
        if not on_network:
            yield Finding(
                pool.origin / "l2" / "network",
                f"pool {pool.name}: no host has a NIC on network {pool.l2_network}; "
                "the L2Advertisement will not be limited to it",
                "announce the pool on a network the hosts have a NIC on",
            )
        unnamed = [
            h.name for h in on_network if (link := h.link_on(pool.l2_network)) and kernel_name(cluster, h, link) is None
        ]
        if unnamed:
            yield Finding(
                pool.origin / "l2" / "network",
                f"pool {pool.name}: the link names on network {pool.l2_network} of {', '.join(unnamed)} are unknown; "
                "the L2Advertisement will not be limited to them",
                "add `name:` to those NICs, or pass their facts with --facts",
            )


@cluster_rule("NG505", Severity.WARNING, "vmxnet3 NIC with IPv6 or MetalLB L2")
def vmxnet3_offloads(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC uses the VMware vmxnet3 driver in a cluster that uses IPv6, or on a network MetalLB
    announces over layer 2. vmxnet3's checksum and VXLAN offloads break overlay traffic on
    ESXi 7+ (talos#3003, #7836; k3s#8804): CoreDNS fails intermittently and MetalLB's webhook
    times out (metallb#2566). Switch the VM NIC to e1000e, or set `disableOffloads: true` on
    the NIC: netgen then writes a Talos `EthernetConfig` that turns the checksum and UDP-tunnel
    offloads off (`tx-checksum-ip-generic`, `tx-udp_tnl-segmentation`,
    `tx-udp_tnl-csum-segmentation`), and this warning goes.
    """
    l2_networks = {p.l2_network for p in cluster.metallb.pools} if cluster.metallb else set()
    uses_ipv6 = Family.IPV6 in cluster.families
    for host in cluster.hosts:
        for nic in host.nics:
            if nic.model != "vmxnet3" or nic.disable_offloads:
                continue
            on_l2 = nic.network is not None and nic.network in l2_networks
            if uses_ipv6 or on_l2:
                reason = (
                    "a cluster that uses IPv6" if uses_ipv6 else f"network {nic.network}, which MetalLB announces on"
                )
                yield Finding(
                    nic.model_origin or nic.origin / "mac",
                    f"host {host.name}: NIC {nic.mac} is vmxnet3 in {reason}",
                    "use an e1000e NIC in the VM, or set `disableOffloads: true` on this NIC",
                )
