"""MetalLB pools, their layer-2 and BGP announcements and BGP peers (docs/kubernetes.md; failure F3)."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import AddressRange, BgpPeer, Cluster, Family
from netgen.targets import kernel_name, metallb_target


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


def _peers(cluster: Cluster) -> tuple[BgpPeer, ...]:
    return cluster.metallb.peers if cluster.metallb else ()


@cluster_rule("NG506", Severity.WARNING, "pool not announced")
def pools_announced(cluster: Cluster) -> Iterator[Finding]:
    """
    A MetalLB pool has neither `l2` nor `bgp`, or has `bgp` in a cluster without BGP peers.
    MetalLB assigns its addresses to Services, but no router learns where they are, so they
    are unreachable from outside the nodes (unless you route them there yourself). Announce
    the pool with `l2: {network: …}` or `bgp: {}` (and `metallb.bgp.peers`), or both.
    """
    if cluster.metallb is None:
        return
    for pool in cluster.metallb.pools:
        if pool.l2_network is None and not pool.bgp:
            yield Finding(
                pool.origin / "name",
                f"pool {pool.name} is announced neither by L2 nor by BGP",
                "add `l2: {network: …}` or `bgp: {}` to the pool, or both",
            )
        elif pool.l2_network is None and not cluster.metallb.peers:
            yield Finding(
                pool.bgp[0].origin,
                f"pool {pool.name} is announced by BGP, but the cluster has no BGP peers",
                "add the routers under `metallb.bgp.peers`",
            )


@cluster_rule("NG507", Severity.ERROR, "BGP peer not on a node network")
def peers_reachable(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP peer's address is in no network of the cluster (of its IP family), or some host
    that peers with it has no NIC on that network. MetalLB opens the session from the node
    to the peer address directly; a router that is not on a connected network needs
    `ebgpMultiHop: true` (eBGP) and a route to it. Give the router's address on a node
    network, limit the peer to the hosts on that network with `hosts:`, or set `ebgpMultiHop`.
    """
    for peer in _peers(cluster):
        if peer.address is None or peer.ebgp_multihop:
            continue
        networks = [n for n in cluster.networks if any(peer.address in c for c in n.cidrs)]
        if not networks:
            yield Finding(
                peer.origin / "address",
                f"BGP peer {peer.name}: {peer.address} is in no network of the cluster",
                "use the router's address on a node network, or set `ebgpMultiHop: true` for a multi-hop eBGP peer",
            )
            continue
        hosts = [h for h in cluster.hosts if not peer.hosts or h.name in peer.hosts]
        away = [h.name for h in hosts if not any(h.link_on(n.name) for n in networks)]
        if away:
            yield Finding(
                peer.origin / "address",
                f"BGP peer {peer.name}: hosts {', '.join(away)} have no NIC on network "
                f"{', '.join(n.name for n in networks)}, where {peer.address} is",
                "limit the peer to the hosts on that network with `hosts:`",
            )


_ASN_MAX = 2**32 - 1


@cluster_rule("NG508", Severity.ERROR, "invalid ASN")
def asns_valid(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP peer's `asn` or `myASN` is not a 32-bit AS number from 1 to 4294967295. MetalLB's
    CRD refuses larger values and its webhook refuses `myASN: 0` ("missing local ASN") and a
    peer ASN of 0 ("missing peer ASN"). Private ASNs are 64512-65534 and 4200000000-4294967294.
    """
    for peer in _peers(cluster):
        for key, value in (("asn", peer.asn), ("myASN", peer.my_asn)):
            if not 1 <= value <= _ASN_MAX:
                yield Finding(
                    peer.origin / key,
                    f"BGP peer {peer.name}: {key} {value} is not an AS number",
                    "an ASN is from 1 to 4294967295 (private: 64512-65534, 4200000000-4294967294)",
                )


@cluster_rule("NG509", Severity.ERROR, "eBGP multi-hop on an iBGP peer")
def ibgp_single_hop(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP peer has `ebgpMultiHop: true` but its `asn` equals `myASN`, so the session is iBGP.
    MetalLB's webhook refuses it ("invalid ebgp-multihop parameter set for an ibgp peer").
    Drop `ebgpMultiHop`, or correct the ASN if the router is in another AS.
    """
    for peer in _peers(cluster):
        if peer.ebgp_multihop and peer.ibgp:
            yield Finding(
                peer.origin / "ebgpMultiHop",
                f"BGP peer {peer.name}: ebgpMultiHop on an iBGP peer (asn and myASN are both {peer.asn})",
                "remove `ebgpMultiHop`, or give the router's own ASN in `asn`",
            )


def _shortest_prefix(block: AddressRange) -> int:
    """The shortest prefix length among the CIDRs a pool block is made of (MetalLB's lowestMask)."""
    return min(n.prefixlen for n in ipaddress.summarize_address_range(block.first, block.last))


@cluster_rule("NG510", Severity.ERROR, "aggregation length does not fit the pool")
def aggregation_fits(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP announcement's `aggregationLength` (IPv4) or `aggregationLengthV6` is longer than
    the address size (32, 128) or shorter than a prefix of the pool. MetalLB's webhook refuses
    both ("invalid aggregation length …: prefix … in this pool is more specific than the
    aggregation length"): a /27 pool may be announced as /27 to /32, not as /24. A range
    counts as the prefixes it is made of.
    """
    if cluster.metallb is None:
        return
    for pool in cluster.metallb.pools:
        for adv in pool.bgp:
            for key, length, version, size in (
                ("aggregationLength", adv.aggregation_length, 4, 32),
                ("aggregationLengthV6", adv.aggregation_length_v6, 6, 128),
            ):
                if length is None:
                    continue
                if length > size:
                    yield Finding(
                        adv.origin / key,
                        f"pool {pool.name}: {key} {length} is longer than an IPv{version} address",
                        f"use an {key} from the pool's prefix length to {size}",
                    )
                    continue
                blocks = [b for b in pool.addresses if b.first.version == version]
                if blocks and length < (shortest := min(_shortest_prefix(b) for b in blocks)):
                    yield Finding(
                        adv.origin / key,
                        f"pool {pool.name}: {key} {length} is shorter than the pool's /{shortest}",
                        f"use an {key} from {shortest} to {size}",
                    )


@cluster_rule("NG511", Severity.ERROR, "BGP announcements of a pool disagree on localPref")
def local_pref_agrees(cluster: Cluster) -> Iterator[Finding]:
    """
    Several BGP announcements of one pool set different `localPref` (one that leaves it out
    counts as 0). MetalLB's webhook refuses two advertisements of one pool whose updates are
    of the same kind with different local preferences ("invalid local preference … already
    set for the same type of BGP update"); netgen requires all announcements of a pool to
    agree, which is always accepted. Give them the same `localPref`.
    """
    if cluster.metallb is None:
        return
    for pool in cluster.metallb.pools:
        if not pool.bgp:
            continue
        first = pool.bgp[0].local_pref or 0
        for adv in pool.bgp[1:]:
            if (adv.local_pref or 0) != first:
                yield Finding(
                    adv.origin / "localPref" if adv.local_pref is not None else adv.origin,
                    f"pool {pool.name}: localPref {adv.local_pref or 0} differs from the first announcement's {first}",
                    "give every BGP announcement of the pool the same `localPref`",
                )


@cluster_rule("NG512", Severity.ERROR, "password and passwordSecret")
def one_password(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP peer has both `password` and `passwordSecret`. MetalLB's webhook refuses them
    together. Keep `passwordSecret` (a Secret of type `kubernetes.io/basic-auth` with the key
    `password`, in MetalLB's namespace), which keeps the password out of the inventory.
    """
    for peer in _peers(cluster):
        if peer.password is not None and peer.password_secret is not None:
            yield Finding(
                peer.origin / "password",
                f"BGP peer {peer.name} has both password and passwordSecret",
                "remove `password` and keep `passwordSecret`",
            )


@cluster_rule("NG513", Severity.ERROR, "unknown or duplicate BGP name")
def bgp_names(cluster: Cluster) -> Iterator[Finding]:
    """
    A BGP name is unknown or used twice: two peers or two BFD profiles with one name, a pool's
    `bgp.peers` naming no peer of `metallb.bgp.peers`, a peer's `bfdProfile` naming no profile
    of `metallb.bfdProfiles`, or a peer's `hosts` naming no host of the cluster. MetalLB would
    not find the object (or keep only one of two). Check the spelling.
    """
    if cluster.metallb is None:
        return
    for what, items in (("BGP peer", cluster.metallb.peers), ("BFD profile", cluster.metallb.bfd_profiles)):
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                yield Finding(
                    item.origin / "name", f"{what} {item.name} is defined twice", f"give each {what} its own name"
                )
            seen.add(item.name)
    peers = {p.name for p in cluster.metallb.peers}
    for pool in cluster.metallb.pools:
        for adv in pool.bgp:
            for index, name in enumerate(adv.peers):
                if name not in peers:
                    yield Finding(
                        adv.origin / "peers" / index,
                        f"pool {pool.name}: no BGP peer {name}",
                        _did_you_mean(name, peers, "name a peer of `metallb.bgp.peers`"),
                    )
    profiles = {p.name for p in cluster.metallb.bfd_profiles}
    hosts = {h.name for h in cluster.hosts}
    for peer in cluster.metallb.peers:
        if peer.bfd_profile is not None and peer.bfd_profile not in profiles:
            yield Finding(
                peer.origin / "bfdProfile",
                f"BGP peer {peer.name}: no BFD profile {peer.bfd_profile}",
                _did_you_mean(peer.bfd_profile, profiles, "define it under `metallb.bfdProfiles`"),
            )
        for index, host in enumerate(peer.hosts):
            if host not in hosts:
                yield Finding(
                    peer.origin / "hosts" / index,
                    f"BGP peer {peer.name}: no host {host} in cluster {cluster.name}",
                    _did_you_mean(host, hosts, "name a host of the cluster"),
                )


def _did_you_mean(name: str, known: set[str], otherwise: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean {close[0]}?" if close else otherwise


@cluster_rule("NG514", Severity.ERROR, "BGP peers of a node differ in myASN")
def one_local_asn(cluster: Cluster) -> Iterator[Finding]:
    """
    Two BGP peers have different `myASN` although one node peers with both (MetalLB 0.16),
    or at all (0.14 and 0.15). In FRR mode, the MetalLB default, one FRR router runs per node
    with one local AS, and the webhook refuses peers with different `myASN`. Use one `myASN`,
    or (0.16) limit the peers to disjoint `hosts`.
    """
    if cluster.metallb is None:
        return
    per_node = metallb_target(cluster.metallb.version).peers_checked_per_node
    every = {h.name for h in cluster.hosts}
    peers = cluster.metallb.peers
    for index, peer in enumerate(peers):
        for earlier in peers[:index]:
            if earlier.my_asn == peer.my_asn:
                continue
            shared = (set(earlier.hosts) or every) & (set(peer.hosts) or every)
            if per_node and not shared:
                continue
            yield Finding(
                peer.origin / "myASN",
                f"BGP peer {peer.name}: myASN {peer.my_asn} differs from peer {earlier.name}'s {earlier.my_asn}"
                + (f" on host {min(shared)}" if per_node else ""),
                "use one myASN for every peer" + ("" if per_node else " (MetalLB 0.16 allows others on other hosts)"),
            )
            break
