"""Hypothesis strategies for netgen inventories: valid ones, and mutations of any inventory.

``inventories()`` draws inventories (plain data, ready to dump as YAML or JSON) that follow
every rule of docs/inventory.md and docs/diagnostics.md, so netgen must accept them without an
error diagnostic (warnings are allowed: unstable link names, vmxnet3, nodeIPExclude off the node network, ...). Every
prefix is derived from the cluster's and network's index, so pod, service and node prefixes
never overlap; addresses inside a network come from an :class:`Allocator`, so host
addresses, gateways, route gateways, VIPs, resolvers, MetalLB pools and the addresses an
attachment's IPAM hands out never collide. On about a third of the hosts a network is carried
by a bond, a VLAN or a bridge instead of a NIC (:class:`HostLinks`); networks get static routes
to prefixes outside the cluster's, clusters and hosts resolvers, search domains and time servers.

``mutated_data()`` and ``mutated_text()`` break an inventory at the data level (delete a key,
change a type, garbage or other valid addresses, unknown keys, out-of-range numbers, ...) and
at the text level (truncate, random bytes, lost colons or indentation, ...).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from netgen.targets import ENSLAVED_ALIAS_FIXED_IN, TALOS, TALOS_DEFAULT

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Draw = Callable[[st.SearchStrategy[Any]], Any]

TALOS_VERSIONS = tuple(str(target.version) for target in TALOS)
LEGACY_TALOS = tuple(str(target.version) for target in TALOS if target.dialect == "legacy")
# Talos 1.12 and 1.13 apply no link alias to a NIC that is already a bond or bridge member, so
# members need their kernel name there (NG119)
FRAGILE_ALIAS_TALOS = tuple(
    str(t.version) for t in TALOS if t.dialect != "legacy" and t.version < ENSLAVED_ALIAS_FIXED_IN
)
FAMILY_ORDERS = (["ipv4"], ["ipv6"], ["ipv4", "ipv6"], ["ipv6", "ipv4"])
MODES = ("bridge", "private", "vepa", "passthru")
IPVLAN_MODES = ("l2", "l3", "l3s")
SRIOV_RESOURCES = ("intel.com/sriov_netdevice", "mellanox.com/cx6_vfs")
SYSCTLS = ("net.ipv6.conf.IFNAME.accept_ra", "net.ipv4.conf.IFNAME.arp_ignore", "net.ipv4.conf.all.arp_filter")
MODELS = ("virtio", "e1000", "e1000e", "vmxnet3", "ixgbe", "i40e", "mlx5_core")
# predictable kernel names; ethN names are allowed too (netgen warns, NG106, and selects by MAC)
# (enough of them for a host whose bond and bridge members all need one, NG119)
STABLE_NAMES = (
    "ens3", "ens4", "ens5", "ens6", "ens7", "ens8", "ens192", "ens224",
    "enp1s0", "enp2s0", "enp3s0", "enp1s0f0", "enp1s0f1", "eno1", "eno2",
)  # fmt: skip
UNSTABLE_NAMES = ("eth0", "eth1")
KERNEL_NAMES = STABLE_NAMES + UNSTABLE_NAMES
# bonds, bridges and VLANs: every name stays within the kernel's 15 characters (NG116), also as
# the parent of a VLAN (<parent>.<id>)
BOND_NAMES = ("bond0", "bond1", "bond2", "lacp0")
BRIDGE_NAMES = ("br0", "br1", "vmbr0", "br-vms")
BOND_MODES = ("802.3ad", "active-backup", "balance-xor", "balance-rr", "broadcast", "balance-tlb", "balance-alb")
LACP_MODES = ("802.3ad",)  # lacpRate (NG114)
HASH_MODES = ("802.3ad", "balance-xor", "balance-tlb")  # hashPolicy (NG114)
HASH_POLICIES = ("layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4")
# a VLAN's own name (Talos >= 1.12, NG118) is <prefix>_<id>: no DNS label, so never a network's
# alias, and never a NIC's, bond's or bridge's name
VLAN_NAME_PREFIXES = ("vl", "Prod", "tag")
# the link that carries a network under one name on every host (what an attachment's master
# needs, NG601): a bond, a bridge or a named VLAN; or the VLAN <trunk>.<id> on a bond or bridge
SHARED_LINK_NAMES = ("uplink", "data0", "bond0", "br0")
SHARED_TRUNK_NAMES = ("bond0", "trunk0", "br0")
# what a network's name may not look like: its NICs' alias would read as a bond, bridge or VLAN
# name, or as another alias (<bond>-port<n>, nic-<mac>)
LOGICAL_NAME = re.compile(r"^(bond|br|vmbr|lacp|uplink|data|trunk|vlan|nic-)")
UNSTABLE_NAME = re.compile(r"^(enx[0-9a-f]{12}|eth[0-9]+)$")
# route destinations: outside every prefix a cluster of this strategy uses (10.0-10.2/16 pods,
# 10.200 exclusions, 100.64+ services, 172.16+ networks, 198.18 pools; fd00, fd10, 2001:db8)
ROUTE_SPACE = {"ipv4": ipaddress.ip_network("10.64.0.0/10"), "ipv6": ipaddress.ip_network("fd20::/16")}
# resolvers and time servers outside the clusters; 1:2:3:4:5:6:7:8 is a YAML 1.1 (sexagesimal) integer
PUBLIC_RESOLVERS = {
    "ipv4": ("1.1.1.1", "8.8.8.8", "9.9.9.9"),
    "ipv6": ("2606:4700:4700::1111", "2001:4860:4860::8888", "1:2:3:4:5:6:7:8"),
}
# names a YAML 1.1 reader takes for booleans, null or numbers among them
TIME_SERVER_NAMES = (
    "pool.ntp.org",
    "0.pool.ntp.org",
    "time.cloudflare.com",
    "ntp1.example.com.",
    "NTP.Example.COM",
    "on",
    "1e3",
)
DOMAIN = r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\.[a-zA-Z0-9]([-a-z0-9]{0,8}[a-z0-9])?){0,3}\.?"
SEARCH_DOMAINS = (
    "example.com",
    "rack1.example.com",
    "svc.cluster.local.",
    "Corp.Example.NET",
    "lan",
    "yes",
    "null",
    "0x1F",
)
# a small pool of everyday names makes clashes between generated names (pool-1 next to pool)
# likely; the regex adds arbitrary DNS-1123 labels up to the 63-character limit
COMMON_NAMES = ("lab", "mgmt", "storage", "public", "pool", "pool-1", "pool-2", "a", "a-1", "cp-1", "worker-1", "x")


def label() -> st.SearchStrategy[str]:
    """A DNS-1123 label."""
    return st.one_of(
        st.sampled_from(COMMON_NAMES),
        st.from_regex(r"[a-z]([-a-z0-9]{0,14}[a-z0-9])?", fullmatch=True),
        st.from_regex(r"[a-z0-9][-a-z0-9]{61}[a-z0-9]", fullmatch=True),
    )


def network_label() -> st.SearchStrategy[str]:
    # NG108: on Talos >= 1.12 a network's name becomes a link alias, which must not equal a
    # kernel name on the same host; a network named like a NIC is refused, so avoid it
    # (and so is one named like the host's bonds, bridges and VLANs, or like another alias)
    return label().filter(lambda name: name not in KERNEL_NAMES and not LOGICAL_NAME.match(name))


def unique_labels(draw: Draw, count: int, strategy: st.SearchStrategy[str] | None = None) -> list[str]:
    names: list[str] = draw(
        st.lists(label() if strategy is None else strategy, min_size=count, max_size=count, unique=True)
    )
    return names


# --- address space -----------------------------------------------------------------------


class Allocator:
    """Free addresses of one prefix: everything handed out is taken, nothing twice."""

    def __init__(self, net: IPNetwork) -> None:
        self.net = net
        self.lo, self.hi = int(net.network_address), int(net.broadcast_address)
        # the subnet address (and IPv4 broadcast) is never a host, VIP, pool or IPAM address
        self.taken: list[tuple[int, int]] = [(self.lo, self.lo)]
        if net.version == 4 and self.hi != self.lo:
            self.taken.append((self.hi, self.hi))

    def ip(self, value: int) -> IPAddress:
        return ipaddress.IPv4Address(value) if self.net.version == 4 else ipaddress.IPv6Address(value)

    def _gaps(self) -> list[tuple[int, int]]:
        gaps, start = [], self.lo
        for first, last in sorted(self.taken):
            if first > start:
                gaps.append((start, first - 1))
            start = max(start, last + 1)
        if start <= self.hi:
            gaps.append((start, self.hi))
        return gaps

    def find(self, start: int, length: int, align: int = 1) -> int | None:
        """The first free run of ``length`` addresses at or after ``start`` (wrapping around),
        starting at a multiple of ``align`` relative to the prefix."""
        for floor in (start, self.lo):
            for gap_first, gap_last in self._gaps():
                candidate = max(gap_first, floor)
                offset = (candidate - self.lo) % align
                if offset:
                    candidate += align - offset
                if candidate + length - 1 <= gap_last:
                    return candidate
        return None

    def take(self, first: int, last: int) -> None:
        self.taken.append((first, last))

    def draw_run(self, draw: Draw, length: int, align: int = 1) -> tuple[int, int] | None:
        start = draw(st.integers(self.lo, self.hi))
        first = self.find(start, length, align)
        if first is None:
            return None
        self.take(first, first + length - 1)
        return first, first + length - 1

    def draw_address(self, draw: Draw) -> IPAddress:
        run = self.draw_run(draw, 1)
        assert run is not None, f"{self.net} is full"
        return self.ip(run[0])


def family_of(value: IPNetwork | IPAddress) -> str:
    return "ipv4" if value.version == 4 else "ipv6"


def pod_cidr(draw: Draw, ci: int, family: str) -> IPNetwork:
    if family == "ipv4":
        return ipaddress.ip_network(f"10.{ci}.0.0/{draw(st.integers(16, 24))}")
    return ipaddress.ip_network(f"fd00:{ci}:244::/{draw(st.sampled_from([48, 56, 64, 80, 112]))}")


def service_cidr(draw: Draw, ci: int, family: str) -> IPNetwork:
    # kube-apiserver's limits (NG209): IPv4 /12 to /29, IPv6 /108 to /125
    if family == "ipv4":
        return ipaddress.ip_network(f"100.{64 + 16 * ci}.0.0/{draw(st.integers(12, 29))}")
    return ipaddress.ip_network(f"fd00:{ci}:96::/{draw(st.integers(108, 125))}")


def network_cidr(draw: Draw, ci: int, ni: int, family: str, hosts: int) -> IPNetwork:
    # room for every host, a gateway, a VIP and some pool and IPAM addresses
    need = 3 * hosts + 24
    if family == "ipv4":
        longest = 32 - need.bit_length()
        return ipaddress.ip_network(f"172.{16 + ci}.{16 * ni}.0/{draw(st.integers(20, longest))}")
    length = draw(st.sampled_from([64, 64, 64, 80, 96, 112, 120]))
    return ipaddress.ip_network(f"2001:db8:{ci}:{ni}::/{length}")


def outside_cidr(ci: int, family: str) -> IPNetwork:
    """Per cluster, a prefix in no network and no pod or service range: pools may use it."""
    return ipaddress.ip_network(f"198.18.{ci}.0/24" if family == "ipv4" else f"2001:db8:ff{ci}::/64")


def exclude_outside(ci: int, family: str) -> IPNetwork:
    """A prefix never to pick as node IP that holds no address of the cluster (a SLAAC /64)."""
    return ipaddress.ip_network(f"10.200.{ci}.0/24" if family == "ipv4" else f"fd10:{ci}:2::/64")


# --- MACs ----------------------------------------------------------------------------------


@dataclass
class Macs:
    """Unique unicast MACs across the whole inventory (NG103, NG104, NG603)."""

    used: set[int] = field(default_factory=set)

    def draw(self, draw: Draw) -> int:
        value = draw(st.integers(1, 2**48 - 1))
        while True:
            value &= ~(1 << 40)  # the multicast bit: the lowest bit of the first octet
            if value and value not in self.used:
                break
            value = (value + 2**41 + 2) % 2**48
        self.used.add(value)
        return value


def mac_text(draw: Draw, value: int) -> str:
    """A MAC in any accepted spelling: either case, ':' or '-' separated."""
    digits = f"{value:012x}"
    if draw(st.booleans()):
        digits = digits.upper()
    separator = draw(st.sampled_from([":", ":", "-"]))
    return separator.join(digits[i : i + 2] for i in range(0, 12, 2))


# --- valid inventories ---------------------------------------------------------------------


@dataclass
class NetworkPlan:
    name: str
    cidrs: list[IPNetwork]
    allocators: dict[str, Allocator]
    #: every host has a NIC here
    everywhere: bool
    #: the kernel name of the NIC on this network on every host (then attachments may use it)
    consistent_name: str | None = None
    #: consistent, named (each NIC a name, not the same) or mixed (some names)
    naming: str = "mixed"
    gateways: dict[str, IPAddress] = field(default_factory=dict)
    #: the network's MTU; None: Talos's (1500)
    mtu: int | None = None
    routes: list[dict[str, Any]] = field(default_factory=list)
    #: what carries a consistent network on every host: a NIC named ``consistent_name``, a
    #: ``link`` of that name (bond, bridge or named VLAN), or a ``vlan``
    #: ``<consistent_trunk>.<consistent_vlan>`` on a bond or bridge
    carrier: str = "nic"
    consistent_trunk: str | None = None
    consistent_vlan: int | None = None


@dataclass
class Trunk:
    """A link VLANs may go on: a NIC (referenced by its MAC), a bond or a bridge (by name)."""

    entry: dict[str, Any]
    kind: str
    #: VLAN ids taken on it (NG115)
    ids: set[int] = field(default_factory=set)


class HostLinks:
    """The links of one host as they are drawn: NICs, bonds, VLANs and bridges, and the kernel
    names taken on the host (NG107, NG116).

    A network is carried by a NIC, a bond of two NICs, a VLAN (on a NIC, a bond or a bridge) or
    a bridge (over one or two NICs, a bond or a VLAN). Members carry no network (NG111) and have
    a stable kernel name where the Talos target needs one (NG119); a VLAN's MTU never exceeds
    its parent's (NG117); NICs with a stable name may turn their offloads off (NG120).
    """

    def __init__(self, draw: Draw, version: str, macs: Macs, networks: list[NetworkPlan], reserved: set[str]) -> None:
        self.draw, self.macs = draw, macs
        self.multidoc = version not in LEGACY_TALOS
        self.mtus = {n.name: n.mtu for n in networks}
        #: kernel names in use, and the names the host's consistent networks will take
        self.taken = set(reserved)
        self.nics: list[dict[str, Any]] = []
        self.bonds: list[dict[str, Any]] = []
        self.vlans: list[dict[str, Any]] = []
        self.bridges: list[dict[str, Any]] = []
        self.trunks: list[Trunk] = []
        self.shared_trunks: dict[str, Trunk] = {}
        #: the VLAN ids the consistent networks take on each shared trunk
        self.shared_ids: dict[str, set[int]] = {}
        for network in networks:
            if network.consistent_trunk is not None and network.consistent_vlan is not None:
                self.shared_ids.setdefault(network.consistent_trunk, set()).add(network.consistent_vlan)
        self._macs: dict[int, int] = {}
        # before 1.12 a bridge takes its ports by name; 1.12 and 1.13 lose members selected by MAC
        self.stable_members = {
            "bond": version in FRAGILE_ALIAS_TALOS,
            "bridge": version in FRAGILE_ALIAS_TALOS or not self.multidoc,
        }

    # --- names

    def free_stable(self) -> list[str]:
        return [n for n in STABLE_NAMES if n not in self.taken]

    def logical_name(self, pool: tuple[str, ...]) -> str:
        """A bond or bridge name not yet taken on the host."""
        base: str = self.draw(st.sampled_from(pool))
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base.rstrip('0123456789')}{n}"
        self.taken.add(name)
        return name

    def mac_reference(self, entry: dict[str, Any]) -> str:
        """A NIC as bonds, bridges and VLANs name it: its MAC, in any spelling."""
        return mac_text(self.draw, self._macs[id(entry)])

    def vlan_name(self, trunk: Trunk, vid: int, own: str | None) -> str | None:
        """The kernel name the VLAN gets (docs/inventory.md, VLANs); None where it is unknown."""
        if own is not None:
            return own
        if trunk.kind != "nic":
            return f"{trunk.entry['name']}.{vid}"
        name = trunk.entry.get("name")
        # a multi-document config names the VLAN after a stable name, else vlan<id>; before
        # 1.12 Talos names it after the NIC's name, unknown for a NIC without one (or an enx name)
        if self.multidoc:
            return f"{name}.{vid}" if name is not None and not UNSTABLE_NAME.match(name) else f"vlan{vid}"
        return f"{name}.{vid}" if name is not None and not name.startswith("enx") else None

    def mtu(self, entry: dict[str, Any]) -> int:
        """A link's MTU as NG117 reads it: its own, else its network's, else 1500."""
        own: int | None = entry.get("mtu")
        return own or self.mtus.get(entry.get("network", "")) or 1500

    def own_mtu(self, entry: dict[str, Any]) -> None:
        if self.draw(st.integers(0, 4)) == 0:
            entry["mtu"] = self.draw(st.sampled_from([1280, 1500, 9000]) | st.integers(1280, 9216))

    # --- links

    def nic(
        self, network: NetworkPlan | None = None, *, naming: str = "maybe", name: str | None = None
    ) -> dict[str, Any]:
        """A new NIC. ``naming``: ``stable`` (a free predictable name: check ``free_stable``
        first), ``named`` (a usable name, ethN too, where one is free) or ``maybe`` (any name
        or none); ``name`` a given one."""
        mac = self.macs.draw(self.draw)
        nic: dict[str, Any] = {"mac": mac_text(self.draw, mac)}
        self._macs[id(nic)] = mac
        if network is not None:
            nic["network"] = network.name
        if name is not None:
            nic["name"] = name
        elif naming == "stable":
            nic["name"] = self.draw(st.sampled_from(self.free_stable()))
            self.taken.add(nic["name"])
        else:
            _maybe_name(self.draw, nic, mac, self.taken, always=naming == "named")
        _maybe_model(self.draw, nic)
        if "name" in nic and not UNSTABLE_NAME.match(nic["name"]):
            choice = self.draw(st.integers(0, 9))
            if choice <= 2:  # the vmxnet3 remedy, by kernel name (NG120)
                nic["disableOffloads"] = True
            elif choice == 3:
                nic["disableOffloads"] = False
        self.nics.append(nic)
        return nic

    def members(self, master: str, count: int) -> list[dict[str, Any]] | None:
        """``count`` new member NICs of a bond or bridge; None without enough free stable names."""
        stable = self.stable_members[master]
        if stable and len(self.free_stable()) < count:
            return None
        return [self.nic(naming="stable" if stable else "maybe") for _ in range(count)]

    def bond(
        self, network: NetworkPlan | None = None, *, name: str | None = None, member: bool = False
    ) -> dict[str, Any] | None:
        """A bond of two new NICs, its options fitting its mode (NG113, NG114)."""
        nics = self.members("bond", 2)
        if nics is None:
            return None
        bond: dict[str, Any] = {
            "name": name or self.logical_name(BOND_NAMES),
            "members": [self.mac_reference(nic) for nic in nics],
            "mode": self.draw(st.sampled_from(BOND_MODES)),
        }
        if bond["mode"] in LACP_MODES and self.draw(st.booleans()):
            bond["lacpRate"] = self.draw(st.sampled_from(["slow", "fast"]))
        if bond["mode"] in HASH_MODES and self.draw(st.booleans()):
            bond["hashPolicy"] = self.draw(st.sampled_from(HASH_POLICIES))
        if self.draw(st.booleans()):
            bond["miimon"] = self.draw(st.sampled_from([0, 100, 250]) | st.integers(0, 10000))
        if network is not None:
            bond["network"] = network.name
        self.bonds.append(bond)
        if not member:
            self.own_mtu(bond)
            self.trunks.append(Trunk(bond, "bond"))
        return bond

    def bridge(
        self, network: NetworkPlan | None = None, *, name: str | None = None, over_vlan: bool = True
    ) -> dict[str, Any] | None:
        """A bridge over one or two new NICs, a new bond or a new VLAN."""
        over = self.draw(st.sampled_from(["nics", "bond", "vlan"] if over_vlan else ["nics", "bond"]))
        references: list[str] = []
        if over == "nics":
            nics = self.members("bridge", self.draw(st.integers(1, 2)))
            if nics is None:
                over = "bond"
            else:
                references = [self.mac_reference(nic) for nic in nics]
        if over == "bond":
            bond = self.bond(member=True)
            if bond is None:
                return None
            references = [bond["name"]]
        elif over == "vlan":
            references = [self.vlan(None, bridged=True)[1]]
        bridge: dict[str, Any] = {"name": name or self.logical_name(BRIDGE_NAMES), "members": references}
        if self.draw(st.booleans()):
            bridge["stp"] = self.draw(st.booleans())
        if network is not None:
            bridge["network"] = network.name
        self.bridges.append(bridge)
        self.own_mtu(bridge)
        self.trunks.append(Trunk(bridge, "bridge"))
        return bridge

    def trunk(self, *, bridged: bool) -> Trunk:
        """A parent for a new VLAN: a link of the host already, or a new NIC, bond or bridge.
        A VLAN a bridge takes is named by its kernel name, which must be known (and before
        Talos 1.12 be the same as the one ``Host.member`` reads: a bond's, bridge's or stable
        NIC name)."""
        usable = [t for t in self.trunks if self._names_vlans(t, bridged=bridged)]
        if usable and self.draw(st.booleans()):
            trunk: Trunk = self.draw(st.sampled_from(usable))
            return trunk
        kind = self.draw(st.sampled_from(["nic", "bond", "bridge"]))
        if kind == "nic":
            nic = self._trunk_nic(bridged=bridged)
            if nic is not None:
                self.own_mtu(nic)
                self.trunks.append(Trunk(nic, "nic"))
                return self.trunks[-1]
        made = self.bridge(over_vlan=False) if kind == "bridge" else None
        if made is None:
            made = self.bond()
        if made is None:  # Talos 1.12/1.13 with the stable names used up: a NIC by MAC
            nic = self.nic()
            self.trunks.append(Trunk(nic, "nic"))
        return self.trunks[-1]

    def _names_vlans(self, trunk: Trunk, *, bridged: bool) -> bool:
        """Whether a VLAN may go on ``trunk``: before Talos 1.12 a bridged VLAN on a NIC needs
        the NIC's stable name (the bridge names its member VLAN by it)."""
        if trunk.kind != "nic" or self.multidoc or not bridged:
            return True
        name = trunk.entry.get("name")
        return name is not None and not UNSTABLE_NAME.match(name)

    def _trunk_nic(self, *, bridged: bool) -> dict[str, Any] | None:
        """A new NIC for VLANs (None where it would need a name and none is free)."""
        if self.multidoc:
            return self.nic()
        if bridged:
            return self.nic(naming="stable") if self.free_stable() else None
        return self.nic()

    def shared_trunk(self, name: str) -> Trunk:
        """The bond or bridge of that name that carries VLANs of consistent networks."""
        if name not in self.shared_trunks:
            made = self.bridge(name=name, over_vlan=False) if self.draw(st.booleans()) else None
            if made is None:
                made = self.bond(name=name)
            assert made is not None, "a host has stable names for its shared trunk"
            trunk = self.trunks[-1]
            trunk.ids |= self.shared_ids.get(name, set())
            self.shared_trunks[name] = trunk
        return self.shared_trunks[name]

    def vlan(
        self,
        network: NetworkPlan | None,
        *,
        trunk: Trunk | None = None,
        vid: int | None = None,
        name: str | None = None,
        bridged: bool = False,
    ) -> tuple[dict[str, Any], str]:
        """A VLAN on ``trunk`` (else a parent drawn by ``trunk()``), with its id once per parent
        (NG115) and a kernel name not taken on the host (NG116); returns it and that name
        (``""`` where it is unknown)."""
        if trunk is None:
            trunk = self.trunk(bridged=bridged)
        if vid is None:
            vid = self.draw(st.integers(1, 4094))
            while vid in trunk.ids or self.vlan_name(trunk, vid, None) in self.taken:
                vid = vid % 4094 + 1
            if name is None and self.multidoc and self.draw(st.integers(0, 3)) == 0:
                name = f"{self.draw(st.sampled_from(VLAN_NAME_PREFIXES))}_{vid}"
                if name in self.taken:  # the same id on another parent
                    name = None
        trunk.ids.add(vid)
        kernel_name = self.vlan_name(trunk, vid, name)
        if kernel_name is not None:
            self.taken.add(kernel_name)
        parent = self.mac_reference(trunk.entry) if trunk.kind == "nic" else trunk.entry["name"]
        vlan: dict[str, Any] = {"id": vid, "parent": parent}
        if name is not None:
            vlan["name"] = name
        if network is not None:
            vlan["network"] = network.name
        # NG117: the VLAN's MTU (its own, else its network's) fits in its parent's
        parent_mtu = self.mtu(trunk.entry)
        if self.draw(st.integers(0, 4)) == 0:
            vlan["mtu"] = self.draw(st.integers(1280, parent_mtu))
        wanted = vlan.get("mtu") or (network.mtu if network is not None else None)
        if wanted is not None and wanted > parent_mtu:
            if self.draw(st.booleans()):
                trunk.entry["mtu"] = self.draw(st.sampled_from([wanted, 9216]) | st.integers(wanted, 9216))
            else:
                vlan["mtu"] = self.draw(st.integers(1280, parent_mtu))
        self.vlans.append(vlan)
        return vlan, kernel_name or ""

    def carrier(self, kind: str, network: NetworkPlan) -> dict[str, Any]:
        """The link of that kind that carries ``network`` (a NIC where a bond or bridge cannot
        get the stable names its members need)."""
        link: dict[str, Any] | None = None
        if kind == "bond":
            link = self.bond(network)
        elif kind == "bridge":
            link = self.bridge(network)
        elif kind == "vlan":
            link = self.vlan(network)[0]
        if link is None:
            naming = "named" if network.naming == "named" else "maybe"
            link = self.nic(network, naming=naming, name=network.consistent_name)
            self.own_mtu(link)
            self.trunks.append(Trunk(link, "nic"))
        return link

    def shared(self, network: NetworkPlan) -> dict[str, Any]:
        """The link of a consistent network, named alike on every host."""
        if network.carrier == "vlan":
            assert network.consistent_trunk is not None
            trunk = self.shared_trunk(network.consistent_trunk)
            return self.vlan(network, trunk=trunk, vid=network.consistent_vlan)[0]
        assert network.consistent_name is not None
        kinds = ["bond", "bridge", "vlan"] if self.multidoc else ["bond", "bridge"]
        kind = self.draw(st.sampled_from(kinds))
        link = None
        if kind == "bond":
            link = self.bond(network, name=network.consistent_name)
        elif kind == "bridge":
            link = self.bridge(network, name=network.consistent_name)
        if link is None and self.multidoc:
            # a VLAN named like that (its id free on its parent)
            trunk = self.trunk(bridged=False)
            vid = self.draw(st.integers(1, 4094))
            while vid in trunk.ids:
                vid = vid % 4094 + 1
            link = self.vlan(network, trunk=trunk, vid=vid, name=network.consistent_name)[0]
        assert link is not None, "a legacy bond takes its members by MAC"
        return link


def _subset(draw: Draw, items: list[str]) -> list[str]:
    chosen: list[str] = draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True))
    return chosen


@st.composite
def cluster_data(draw: Draw, ci: int, name: str, macs: Macs) -> dict[str, Any]:  # noqa: PLR0912
    version = draw(st.sampled_from(TALOS_VERSIONS))
    families: list[str] = draw(st.sampled_from(FAMILY_ORDERS))
    host_count = draw(st.integers(1, 8))
    network_count = draw(st.integers(1, 3))
    network_names = unique_labels(draw, network_count, network_label())
    node_ni = draw(st.integers(0, network_count - 1))

    # networks: the node network has every family of the cluster, the others some
    networks: list[NetworkPlan] = []
    for ni, network_name in enumerate(network_names):
        net_families = list(families) if ni == node_ni else _subset(draw, families)
        if draw(st.booleans()):
            net_families.reverse()
        cidrs = [network_cidr(draw, ci, ni, f, host_count) for f in net_families]
        everywhere = ni == node_ni or draw(st.booleans())
        network = NetworkPlan(network_name, cidrs, {family_of(c): Allocator(c) for c in cidrs}, everywhere)
        if draw(st.booleans()):
            network.mtu = draw(st.sampled_from([1280, 1500, 9000, 9216]) | st.integers(1280, 9216))
        networks.append(network)
    node = networks[node_ni]

    # VIPs: one network, at most one per family, one in all before Talos 1.12 (NG304)
    vip_network: NetworkPlan | None = None
    vip_families: list[str] = []
    if draw(st.booleans()):
        vip_network = draw(st.sampled_from(networks))
        available = [f for f in families if f in vip_network.allocators]
        vip_families = _subset(draw, available)
        if version in LEGACY_TALOS:
            vip_families = vip_families[:1]
    explicit_node_network = (
        (vip_network is not None and vip_network is not node)
        or (vip_network is None and network_count > 1)
        or draw(st.booleans())
    )

    # gateways first, then the hosts' static addresses, then the VIPs
    gateway_texts: dict[str, list[str]] = {}
    for network in networks:
        texts = []
        for cidr in network.cidrs:
            family = family_of(cidr)
            if not draw(st.booleans()):
                continue
            if family == "ipv6" and draw(st.integers(0, 3)) == 0:
                texts.append("fe80::1")  # link-local: on-link everywhere (NG204)
                continue
            gateway = network.allocators[family].draw_address(draw)
            network.gateways[family] = gateway
            texts.append(str(gateway))
        gateway_texts[network.name] = texts
    destinations: set[IPNetwork] = set()
    for network in networks:
        if draw(st.integers(0, 2)) == 0:
            network.routes = _routes(draw, network, destinations)
    # resolvers and time servers: public ones, and up to two servers on the cluster's networks
    servers = {f: list(PUBLIC_RESOLVERS[f]) for f in families}
    for _ in range(draw(st.integers(0, 2))):
        allocator = draw(st.sampled_from([a for n in networks for a in n.allocators.values()]))
        servers[family_of(allocator.net)].append(str(allocator.draw_address(draw)))

    # which hosts have a NIC on which network
    roles = [draw(st.sampled_from(["controlplane", "worker"])) for _ in range(host_count)]
    membership: list[list[NetworkPlan]] = []
    for index in range(host_count):
        on = []
        for network in networks:
            needed = network.everywhere or (network is vip_network and roles[index] == "controlplane")
            if needed or draw(st.booleans()):
                on.append(network)
        membership.append(on)
    # how the NICs of a network are named: the same name on every host (the only way an
    # attachment can use the network, NG601/NG602), a name on every NIC but not the same one
    # (MetalLB then writes one L2Advertisement per name), or some names (NG106 for ethN/enx)
    for network in networks:
        everywhere = all(network in on for on in membership)
        network.naming = draw(st.sampled_from(["consistent", "named", "mixed"] if everywhere else ["named", "mixed"]))
        if network.naming == "consistent":
            _consistent_carrier(draw, network, networks)

    hosts: list[dict[str, Any]] = []
    host_names = unique_labels(draw, host_count)
    static: dict[str, list[tuple[str, IPAddress]]] = {}  # host -> node-network static addresses
    for index, host_name in enumerate(host_names):
        on = membership[index]
        reserved = {n.consistent_name for n in on if n.consistent_name} | {
            n.consistent_trunk for n in on if n.consistent_trunk
        }
        links = HostLinks(draw, version, macs, networks, reserved)
        # on about a third of the hosts, bonds, VLANs and bridges carry networks too
        logical = draw(st.integers(0, 2)) == 0
        for network in on:
            if network.carrier != "nic":
                link = links.shared(network)
            else:
                kind = draw(st.sampled_from(["nic", "bond", "vlan", "bridge"])) if logical else "nic"
                link = links.carrier("nic" if network.consistent_name else kind, network)
            addresses = []
            for cidr in network.cidrs:
                if draw(st.integers(0, 3)) > 0:  # static, else DHCP/SLAAC for that family
                    address = network.allocators[family_of(cidr)].draw_address(draw)
                    addresses.append(f"{address}/{cidr.prefixlen}")
                    if network is node:
                        static.setdefault(host_name, []).append((family_of(cidr), address))
            if addresses:
                link["addresses"] = draw(st.permutations(addresses))
        if len(links.nics) < 3 and draw(st.integers(0, 3)) == 0:
            links.nic()  # a NIC netgen leaves alone
        host: dict[str, Any] = {"name": host_name, "role": roles[index], "nics": draw(st.permutations(links.nics))}
        for key, entries in (("bonds", links.bonds), ("vlans", links.vlans), ("bridges", links.bridges)):
            if entries:
                host[key] = draw(st.permutations(entries))
        exclude = _node_ip_exclude(draw, ci, families, node, static.get(host_name, []))
        if exclude is not None:
            host["nodeIPExclude"] = exclude
        # a host's own resolvers and time servers replace the cluster's
        if draw(st.integers(0, 5)) == 0:
            host["nameservers"] = _servers(draw, servers)
        if draw(st.integers(0, 5)) == 0:
            host["timeServers"] = _servers(draw, servers, TIME_SERVER_NAMES)
        hosts.append(host)

    vips = []
    if vip_network is not None:
        vips = [str(vip_network.allocators[f].draw_address(draw)) for f in vip_families]

    network_data = []
    for network in networks:
        entry: dict[str, Any] = {"name": network.name, "cidrs": [str(c) for c in network.cidrs]}
        if gateway_texts[network.name]:
            entry["gateways"] = gateway_texts[network.name]
        if network.mtu is not None:
            entry["mtu"] = network.mtu
        if network.routes:
            entry["routes"] = network.routes
        # nodeIPExclude off the node network only warns (NG309); on it, it must spare every address
        if network is node or draw(st.integers(0, 5)) == 0:
            every_static = [a for addresses in static.values() for a in addresses] if network is node else []
            exclude = _node_ip_exclude(draw, ci, families, node, every_static)
            if exclude is not None:
                entry["nodeIPExclude"] = exclude
        network_data.append(entry)

    kubernetes: dict[str, Any] = {
        "podCIDRs": [str(pod_cidr(draw, ci, f)) for f in families],
        "serviceCIDRs": [str(service_cidr(draw, ci, f)) for f in families],
    }
    if explicit_node_network:
        kubernetes["nodeNetwork"] = node.name

    cluster: dict[str, Any] = {"name": name}
    if version != str(TALOS_DEFAULT) or draw(st.booleans()):
        cluster["talos"] = {"version": version}
    cluster |= {"families": families, "kubernetes": kubernetes, "networks": network_data}
    control_plane: dict[str, Any] = {}
    if vips:
        control_plane["vips"] = vips
    if draw(st.integers(0, 3)) == 0:
        control_plane["endpoint"] = draw(
            st.sampled_from(["https://api.example.com:6443", "https://[2001:db8::10]:6443", "https://10.0.0.10/"])
        )
    if control_plane or draw(st.booleans()):
        cluster["controlPlane"] = control_plane
    cluster["hosts"] = hosts
    if draw(st.booleans()):
        cluster["nameservers"] = _servers(draw, servers)
    if draw(st.integers(0, 2)) == 0:
        domains = st.sampled_from(SEARCH_DOMAINS) | st.from_regex(DOMAIN, fullmatch=True)
        cluster["searchDomains"] = draw(st.lists(domains, max_size=3, unique=True))
    if draw(st.booleans()):
        cluster["timeServers"] = _servers(draw, servers, TIME_SERVER_NAMES)

    # MetalLB pools and attachments share what the hosts, gateways and VIPs left free
    outside = {f: Allocator(outside_cidr(ci, f)) for f in families}
    attachment_networks = [n for n in networks if n.consistent_name]
    order = draw(st.permutations(["metallb", "attachments"]))
    for part in order:
        if part == "metallb" and draw(st.booleans()):
            cluster["metallb"] = _metallb(draw, networks, outside)
        if part == "attachments" and attachment_networks and draw(st.booleans()):
            cluster["attachments"] = _attachments(draw, attachment_networks, macs, host_count)
    if draw(st.booleans()):
        cluster["vclusters"] = _vclusters(draw, dual_stack=len(families) == 2)
    return cluster


def _consistent_carrier(draw: Draw, network: NetworkPlan, networks: list[NetworkPlan]) -> None:
    """What carries a network under one kernel name on every host: a NIC of that name, a
    bond, bridge or (Talos >= 1.12) VLAN of that name, or the VLAN <trunk>.<id> on a bond or
    bridge named alike on every host (as bond0.120 and bond0.130 in inventories/bare-metal.yaml)."""
    names = {m.consistent_name for m in networks}
    trunks = {m.consistent_trunk for m in networks}
    network.carrier = draw(st.sampled_from(["nic", "nic", "link", "vlan"]))
    if network.carrier == "link":
        free = [n for n in SHARED_LINK_NAMES if n not in names and n not in trunks]
        if free:
            network.consistent_name = draw(st.sampled_from(free))
            return
        network.carrier = "nic"
    if network.carrier == "vlan":
        trunk = draw(st.sampled_from([n for n in SHARED_TRUNK_NAMES if n not in names]))
        ids = {m.consistent_vlan for m in networks if m.consistent_trunk == trunk}
        vid = draw(st.integers(1, 4094).filter(lambda v: v not in ids))
        network.consistent_trunk, network.consistent_vlan = trunk, vid
        network.consistent_name = f"{trunk}.{vid}"
        return
    network.consistent_name = draw(st.sampled_from([n for n in KERNEL_NAMES if n not in names]))


def _route_destination(draw: Draw, family: str) -> IPNetwork:
    space = ROUTE_SPACE[family]
    longest = 32 if family == "ipv4" else 128
    length = draw(st.integers(space.prefixlen, longest))
    value = draw(st.integers(int(space.network_address), int(space.broadcast_address)))
    return ipaddress.ip_network((value, length), strict=False)


def _routes(draw: Draw, network: NetworkPlan, destinations: set[IPNetwork]) -> list[dict[str, Any]]:
    """Static routes through a router of the network (its gateway, another of its addresses or,
    for IPv6, a link-local one; NG211) to prefixes outside every prefix of the cluster; each
    destination once in the cluster."""
    routes = []
    for _ in range(draw(st.integers(1, 3))):
        cidr = draw(st.sampled_from(network.cidrs))
        family = family_of(cidr)
        destination = _route_destination(draw, family)
        if destination in destinations:
            continue
        destinations.add(destination)
        gateway = network.gateways.get(family)
        choice = draw(st.integers(0, 3))
        if choice == 0 and gateway is not None:
            router = str(gateway)
        elif choice == 1 and family == "ipv6":
            router = draw(st.sampled_from(["fe80::1", "fe80::fe"]))
        else:
            router = str(network.allocators[family].draw_address(draw))
        route: dict[str, Any] = {"destination": str(destination), "gateway": router}
        if draw(st.booleans()):
            route["metric"] = draw(st.sampled_from([1, 100, 1024, 2**32 - 1]) | st.integers(1, 2**32 - 1))
        routes.append(route)
    return routes


def _servers(draw: Draw, addresses: dict[str, list[str]], names: tuple[str, ...] = ()) -> list[str]:
    """One to three resolvers or time servers, each once: addresses of the cluster's families
    (by family), or host ``names``."""
    choices = [*(a for family in addresses.values() for a in family), *names]
    servers: list[str] = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True))
    return servers


def _maybe_name(draw: Draw, nic: dict[str, Any], mac: int, taken: set[str], *, always: bool = False) -> None:
    """An optional kernel name, unique on the host (NG107): predictable, ethN (NG106) or the
    NIC's own enx altname (never used as a link name, NG106); ``always`` a usable name."""
    choice = draw(st.integers(1, 2) if always else st.integers(0, 5))
    if choice == 0:
        name = f"enx{mac:012x}"
    elif choice <= 2:
        free = [n for n in KERNEL_NAMES if n not in taken]
        if not free:
            return
        name = draw(st.sampled_from(free))
    else:
        return
    taken.add(name)
    nic["name"] = name


def _maybe_model(draw: Draw, nic: dict[str, Any]) -> None:
    if draw(st.integers(0, 3)) == 0:
        nic["model"] = draw(st.sampled_from(MODELS))  # vmxnet3 warns (NG505)


def _node_ip_exclude(
    draw: Draw, ci: int, families: list[str], node: NetworkPlan, spared: list[tuple[str, IPAddress]]
) -> list[str] | None:
    """Prefixes never to pick as node IP: a SLAAC-like prefix outside every network, or a part
    of the node network that holds none of the ``spared`` static addresses and is smaller than
    the node network (so DHCP hosts keep a candidate, NG308)."""
    if draw(st.integers(0, 2)) > 0:
        return None
    prefixes: list[str] = []
    for family in draw(st.lists(st.sampled_from(families), max_size=2)):
        if draw(st.booleans()):
            prefixes.append(str(exclude_outside(ci, family)))
            continue
        cidr = node.allocators[family].net
        longest = 32 if family == "ipv4" else 128
        if cidr.prefixlen >= longest - 1:
            continue
        length = draw(st.integers(cidr.prefixlen + 1, min(longest, cidr.prefixlen + 16)))
        subnets = 2 ** (length - cidr.prefixlen)
        part = draw(st.integers(0, subnets - 1))
        size = 2 ** (longest - length)
        sub = ipaddress.ip_network((int(cidr.network_address) + part * size, length))
        if not any(address in sub for f, address in spared if f == family):
            prefixes.append(str(sub))
    return list(dict.fromkeys(prefixes)) or None


def _block(draw: Draw, allocator: Allocator) -> str | None:
    """A free block as a MetalLB pool writes it: first-last, one address, or a prefix."""
    form = draw(st.sampled_from(["range", "single", "prefix"]))
    longest = 32 if allocator.net.version == 4 else 128
    if form == "prefix":
        bits = draw(st.integers(0, 4))
        if allocator.net.prefixlen > longest - bits:
            return None
        run = allocator.draw_run(draw, 2**bits, align=2**bits)
        if run is None:
            return None
        return str(ipaddress.ip_network((run[0], longest - bits)))
    run = allocator.draw_run(draw, 1 if form == "single" else draw(st.integers(1, 40)))
    if run is None:
        return None
    first, last = allocator.ip(run[0]), allocator.ip(run[1])
    return str(first) if form == "single" else f"{first}-{last}"


def _metallb(draw: Draw, networks: list[NetworkPlan], outside: dict[str, Allocator]) -> dict[str, Any]:
    metallb: dict[str, Any] = {}
    if draw(st.booleans()):
        metallb["namespace"] = draw(label())
    pools = []
    pool_names = st.sampled_from(["pool", "pool-1", "pool-2", "public"]) | label()
    for pool_name in unique_labels(draw, draw(st.integers(0, 3)), pool_names):
        allocators = [*outside.values(), *(a for n in networks for a in n.allocators.values())]
        blocks = []
        for _ in range(draw(st.integers(1, 3))):
            block = _block(draw, draw(st.sampled_from(allocators)))
            if block is not None:
                blocks.append(block)
        if not blocks:  # the outside prefixes always have room for a single address
            run = next(iter(outside.values())).draw_run(draw, 1)
            assert run is not None
            blocks = [str(next(iter(outside.values())).ip(run[0]))]
        pool: dict[str, Any] = {"name": pool_name, "addresses": blocks}
        if draw(st.booleans()):
            pool["autoAssign"] = draw(st.booleans())
        if draw(st.booleans()):
            pool["l2"] = {"network": draw(st.sampled_from(networks)).name}
        pools.append(pool)
    peers = _bgp_peers(draw, networks)
    if peers:
        metallb["bgp"] = {"peers": peers}
        if draw(st.booleans()):
            metallb["version"] = draw(st.sampled_from(["0.14", "0.15", "0.16"]))
        for pool in pools:
            if draw(st.booleans()):
                pool["bgp"] = _bgp_announcement(draw, peers)
    if pools or draw(st.booleans()):
        metallb["pools"] = pools
    return metallb


def _bgp_announcement(draw: Draw, peers: list[dict[str, Any]]) -> dict[str, Any]:
    """The defaults and full-length aggregation always fit the pool."""
    advertisement: dict[str, Any] = {}
    if draw(st.booleans()):
        advertisement["aggregationLength"] = 32
    if draw(st.booleans()):
        advertisement["peers"] = [draw(st.sampled_from(peers))["name"]]
    if draw(st.booleans()):
        advertisement["communities"] = ["64512:100"]
    return advertisement


def _bgp_peers(draw: Draw, networks: list[NetworkPlan]) -> list[dict[str, Any]]:
    """Up to two routers, each on a network every host has a NIC on, sharing one myASN."""
    everywhere = [n for n in networks if n.everywhere and n.allocators]
    if not everywhere or not draw(st.booleans()):
        return []
    my_asn = draw(st.integers(1, 2**32 - 1))
    peers = []
    for name in unique_labels(draw, draw(st.integers(1, 2)), st.sampled_from(["tor-a", "tor-b"]) | label()):
        allocator = draw(st.sampled_from(list(draw(st.sampled_from(everywhere)).allocators.values())))
        run = allocator.draw_run(draw, 1)
        if run is None:
            continue
        asn = draw(st.sampled_from([my_asn, draw(st.integers(1, 2**32 - 1))]))
        peers.append({"name": name, "address": str(allocator.ip(run[0])), "asn": asn, "myASN": my_asn})
    return peers


def _attachments(  # noqa: PLR0912
    draw: Draw, networks: list[NetworkPlan], macs: Macs, host_count: int
) -> list[dict[str, Any]]:
    attachments: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    subnets: set[str] = set()
    kube_ovn_networks: set[str] = set()
    #: the master type (and ipvlan mode) of each network's first macvlan/ipvlan attachment (NG622)
    masters: dict[str, tuple[str, str | None]] = {}
    pci_slots = iter(range(1, 256))
    for _ in range(draw(st.integers(1, 3))):
        name, namespace = draw(label()), draw(label())
        subnet = f"{namespace}-{name}"
        if (namespace, name) in seen:
            continue
        network = draw(st.sampled_from(networks))
        attachment: dict[str, Any] = {"name": name, "namespace": namespace, "network": network.name}
        cni = draw(st.sampled_from(["macvlan", "macvlan", "ipvlan", "sriov", "host-device"]))
        if cni in ("macvlan", "ipvlan"):
            cni, mode = masters.setdefault(network.name, (cni, draw(st.sampled_from(IPVLAN_MODES))))
            if cni == "ipvlan":
                attachment |= {"type": "ipvlan", **({"mode": mode} if mode != "l2" or draw(st.booleans()) else {})}
            else:
                if draw(st.booleans()):
                    attachment["type"] = "macvlan"
                if draw(st.booleans()):
                    attachment["mode"] = draw(st.sampled_from(MODES))
        elif cni == "sriov":
            attachment |= {"type": "sriov", "resourceName": draw(st.sampled_from(SRIOV_RESOURCES))}
            if draw(st.booleans()):
                attachment["vlan"] = draw(st.integers(1, 4094))
        else:  # one PCI slot per host-device attachment (NG619)
            attachment |= {"type": "host-device", "device": {"pciBusID": f"0000:{next(pci_slots):02x}:00.0"}}
        if draw(st.booleans()):
            attachment["tuning"] = _tuning(draw)
        own_mac = cni in ("macvlan", "sriov")
        fixed = own_mac and draw(st.booleans())
        if fixed:
            attachment["mac"] = mac_text(draw, macs.draw(draw))  # warns: one pod at a time (NG604)
        elif own_mac and draw(st.booleans()):
            attachment["mac"] = "perPod"
        kinds = ["kube-ovn", "whereabouts", "dhcp", "static"] + ([] if cni == "ipvlan" else ["none"])  # NG620
        if fixed or host_count == 1:
            kinds.append("host-local")  # else pods on two nodes may get one address (NG611)
        if subnet in subnets or network.name in kube_ovn_networks:
            # the cluster-wide Subnet <namespace>-<name> would clash (NG101), and Kube-OVN refuses
            # a second Subnet over the network's prefixes even with disjoint excludes (NG612)
            kinds.remove("kube-ovn")
        kind = draw(st.sampled_from(kinds))
        if kind in ("kube-ovn", "host-local", "whereabouts"):
            ipam = _allocating_ipam(draw, kind, network)
            if ipam is None:
                kind = "static"
            else:
                attachment["ipam"] = ipam
        if kind in ("static", "none", "dhcp") and (kind != "none" or draw(st.booleans())):
            attachment["ipam"] = {"type": kind}
        seen.add((namespace, name))
        if kind == "kube-ovn":
            subnets.add(subnet)
            kube_ovn_networks.add(network.name)
        attachments.append(attachment)
    return attachments


def _tuning(draw: Draw) -> dict[str, Any]:
    """What tuning sets besides MAC and MTU: network sysctls (NG621), promiscuous mode."""
    tuning: dict[str, Any] = {}
    keys = draw(st.lists(st.sampled_from(SYSCTLS), max_size=2, unique=True))
    if keys:
        tuning["sysctls"] = {key: draw(st.sampled_from(["0", "1", 1])) for key in keys}
    if draw(st.booleans()) or not keys:
        tuning["promisc"] = draw(st.booleans())
    return tuning


def _allocating_ipam(draw: Draw, kind: str, network: NetworkPlan) -> dict[str, Any] | None:
    """Kube-OVN, host-local or whereabouts IPAM over the network's prefixes that hands out only a free
    window: everything else (hosts, gateways, VIPs, pools, other attachments) is excluded
    (NG605, NG606, NG608, NG609; MetalLB pools avoid the window, NG502)."""
    cidrs, gateways, exclude = [], [], []
    for cidr in draw(st.permutations(network.cidrs)):
        allocator = network.allocators[family_of(cidr)]
        run = allocator.draw_run(draw, draw(st.integers(1, 32)))
        if run is None:
            continue
        first = allocator.lo + 1
        last = allocator.hi - (1 if cidr.version == 4 else 0)
        for low, high in ((first, run[0] - 1), (run[1] + 1, last)):
            if low > high:
                continue
            ip_low, ip_high = allocator.ip(low), allocator.ip(high)
            exclude.append(str(ip_low) if low == high else f"{ip_low}..{ip_high}")
        cidrs.append(str(cidr))
        gateway = network.gateways.get(family_of(cidr))
        if gateway is not None and draw(st.booleans()):
            gateways.append(str(gateway))
    if not cidrs:
        return None
    ipam: dict[str, Any] = {"type": kind, "cidrs": cidrs}
    if gateways:
        ipam["gateways"] = gateways
    if exclude:
        ipam["exclude"] = draw(st.permutations(exclude))
    return ipam


def _vclusters(draw: Draw, *, dual_stack: bool) -> list[dict[str, Any]]:
    """vcluster.yaml (0.20+) with the distros each version has (NG703); 0.19 only with k0s
    (NG701), and k0s only on a single-stack host (NG702)."""
    vclusters = []
    for name in unique_labels(draw, draw(st.integers(1, 3))):
        # the minors with a stored values schema (0.35, 0.36) and the legacy 0.19 come often
        minor = draw(st.sampled_from([19, 35, 36]) | st.integers(19, 36))
        distros = ["k8s"]
        if 20 <= minor <= 32:
            distros.append("k3s")
        if minor <= 25 and not dual_stack:
            distros.append("k0s")
        if minor == 19:
            if dual_stack:
                minor = 36
            else:
                distros = ["k0s"]
        vcluster: dict[str, Any] = {"name": name, "namespace": draw(label()), "version": f"0.{minor}"}
        distro = draw(st.sampled_from(distros))
        if distro != "k8s" or draw(st.booleans()):
            vcluster["distro"] = distro
        vclusters.append(vcluster)
    return vclusters


@st.composite
def inventories(draw: Draw, max_clusters: int = 3) -> dict[str, Any]:
    """A valid inventory as plain data."""
    count = draw(st.integers(1, max_clusters))
    names = unique_labels(draw, count)
    macs = Macs()
    clusters = [draw(cluster_data(ci, name, macs)) for ci, name in enumerate(names)]
    return {"apiVersion": "netgen/v1alpha1", "kind": "Inventory", "clusters": clusters}


# --- text ----------------------------------------------------------------------------------


def dump_yaml(data: Any, *, flow: bool | None = False, width: int = 4096) -> str:
    """Data as YAML: block style by default, flow style (``flow=True``) or ruamel's mix (None)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.width = width
    stream = StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def dump(data: Any, style: str) -> str:
    """The inventory as text: block YAML, or JSON (valid YAML 1.2) indented or on one line."""
    if style == "yaml":
        return dump_yaml(data)
    if style == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(data, ensure_ascii=False) + "\n"


DUMP_STYLES = ("yaml", "json", "json-compact")


@st.composite
def inventory_texts(draw: Draw) -> tuple[dict[str, Any], str]:
    data = draw(inventories())
    return data, dump(data, draw(st.sampled_from(DUMP_STYLES)))


# --- mutations ------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def paths(data: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a node of the data (the root excluded)."""
    found: list[Path] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def parent_of(data: Any, path: Path) -> tuple[Any, str | int]:
    return get(data, path[:-1]), path[-1]


def _is_address_like(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    for parse in (ipaddress.ip_address, ipaddress.ip_interface, ipaddress.ip_network):
        try:
            parse(value.split("-")[0].split("..")[0])
            return True
        except ValueError:
            pass
    return len(value) == 17 and value[2] in ":-"


def ip_texts() -> st.SearchStrategy[str]:
    """Valid addresses, prefixes and interfaces of either family, including odd ones."""
    v4 = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
    v6 = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1))
    address = st.one_of(v4, v6, st.sampled_from(["::", "::1", "fe80::1", "::ffff:10.0.0.1", "255.255.255.255"]))
    interface = st.builds(
        lambda a, n: f"{a}/{n % (33 if a.version == 4 else 129)}", st.one_of(v4, v6), st.integers(0, 128)
    )
    network = interface.map(lambda text: str(ipaddress.ip_interface(text).network))
    ranges = st.builds(lambda a, b, sep: f"{a}{sep}{b}", address, address, st.sampled_from(["-", ".."]))
    return st.one_of(address.map(str), interface, network, ranges)


def mac_texts() -> st.SearchStrategy[str]:
    any_mac = st.integers(0, 2**48 - 1).map(lambda v: ":".join(f"{v:012x}"[i : i + 2] for i in range(0, 12, 2)))
    return st.one_of(any_mac, st.sampled_from(["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"]))


def garbage_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=30),
        st.just(""),
        st.sampled_from(["\n", " ", "~", "null", "on", "0x10", "1e3", "-", "..", "/", "%", "::/", "1.2.3.4%eth0"]),
        st.text(alphabet=string.hexdigits + ":.-/%", max_size=45),
        st.integers(1, 20_000).map(lambda n: "a" * n),
        st.text(min_size=200, max_size=400),
    )


def scalar_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, -1, 1279, 9217, 2**63, 1.5, 9000.0, float("inf")]),
        st.floats(allow_nan=False),
        garbage_texts(),
    )


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)


def any_values() -> st.SearchStrategy[Any]:
    return st.recursive(scalar_values(), _containers, max_leaves=6)


def _nearby(draw: Draw, text: str) -> str:
    """The same kind of value a little off: an address moved by a few, another prefix length."""
    head, slash, length = text.partition("/")
    try:
        address = ipaddress.ip_address(head)
    except ValueError:
        return text
    longest = 32 if address.version == 4 else 128
    moved = int(address) + draw(st.integers(-16, 16))
    head = str(
        ipaddress.ip_address(moved % 2**longest) if address.version == 6 else ipaddress.IPv4Address(moved % 2**32)
    )
    if slash:
        length = str(max(0, min(longest, int(length) + draw(st.integers(-3, 3))))) if length.isdigit() else length
    return head + slash + length


def _respell(draw: Draw, text: str) -> str:
    """The same value spelt differently: upper case, an exploded IPv6 address, '-' in a MAC."""
    head, slash, length = text.partition("/")
    try:
        address = ipaddress.ip_address(head)
    except ValueError:
        return text.upper() if draw(st.booleans()) else text.replace(":", "-")
    if address.version == 6 and draw(st.booleans()):
        head = address.exploded
    return (head.upper() if draw(st.booleans()) else head) + slash + length


UNKNOWN_KEYS = ("nmae", "mac_address", "vip", "gateway", "extra", "", " ", "ipv4", "Name", "名前", "1", "null")
SUFFIXES = ("\n", " ", "-", "\u00e9", "\u200b", ".", "0", "\t", "\r\n")


@st.composite
def mutate_once(draw: Draw, data: Any) -> Any:  # noqa: PLR0912
    """``data`` with one random mutation (data is changed in place and returned; the root may
    be replaced)."""
    every = paths(data)
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "retype",
                "string",
                "suffix",
                "duplicate",
                "swap",
                "unknown-key",
                "number",
                "address",
                "mac",
                "copy-address",
                "copy-string",
                "nearby",
                "nearby",
                "respell",
                "empty",
            ]
        )
    )
    if not every:
        return draw(any_values())
    path = draw(st.sampled_from(every))
    parent, key = parent_of(data, path)
    value = get(data, path)
    if kind == "delete":
        del parent[key]
    elif kind == "retype":
        parent[key] = draw(any_values().filter(lambda v: type(v) is not type(value)))
    elif kind == "string":
        strings = [p for p in every if isinstance(get(data, p), str)] or [path]
        where = draw(st.sampled_from(strings))
        container, at = parent_of(data, where)
        container[at] = draw(garbage_texts())
    elif kind == "suffix":
        strings = [p for p in every if isinstance(get(data, p), str)] or [path]
        where = draw(st.sampled_from(strings))
        container, at = parent_of(data, where)
        suffix = draw(st.sampled_from(SUFFIXES))
        text = str(get(data, where))
        container[at] = suffix + text if draw(st.booleans()) else text + suffix
    elif kind == "duplicate":
        lists = [p for p in every if isinstance(get(data, p), list) and get(data, p)]
        if lists:
            items = get(data, draw(st.sampled_from(lists)))
            items.insert(draw(st.integers(0, len(items))), copy.deepcopy(draw(st.sampled_from(items))))
        elif isinstance(data.get("clusters") if isinstance(data, dict) else None, list):
            data["clusters"].append(copy.deepcopy(data["clusters"][0]) if data["clusters"] else {})
    elif kind == "swap":
        other = draw(st.sampled_from(every))
        if not (other[: len(path)] == path or path[: len(other)] == other):
            other_parent, other_key = parent_of(data, other)
            parent[key], other_parent[other_key] = copy.deepcopy(get(data, other)), copy.deepcopy(value)
    elif kind == "unknown-key":
        mappings = [p for p in every if isinstance(get(data, p), dict)]
        target = get(data, draw(st.sampled_from(mappings))) if mappings and draw(st.booleans()) else data
        if isinstance(target, dict):
            target[draw(st.sampled_from(UNKNOWN_KEYS) | st.text(max_size=10))] = draw(any_values())
    elif kind == "number":
        numeric = [p for p in every if p[-1] in ("mtu", "version") or isinstance(get(data, p), int | bool)] or [path]
        where = draw(st.sampled_from(numeric))
        container, at = parent_of(data, where)
        container[at] = draw(
            st.one_of(
                st.integers(-(2**64), 2**64),
                st.sampled_from([0, 1279, 9217, 1.13, 1.1, 0.36]),
                st.sampled_from(
                    ["1.9", "1.16", "1.10.1", "0.19", "0.37", "0.0", "0.999999999999", "0.\u0661", "0.36\n"]
                ),
            )
        )
    elif kind in ("address", "mac"):
        candidates = [p for p in every if _is_address_like(get(data, p))] or [path]
        where = draw(st.sampled_from(candidates))
        container, at = parent_of(data, where)
        replacement = ip_texts() if kind == "address" else mac_texts()
        container[at] = draw(st.one_of(replacement, replacement, garbage_texts()))
    elif kind == "copy-address":
        candidates = [p for p in every if _is_address_like(get(data, p))]
        if len(candidates) > 1:
            source, target = draw(st.sampled_from(candidates)), draw(st.sampled_from(candidates))
            container, at = parent_of(data, target)
            container[at] = get(data, source)
    elif kind in ("nearby", "respell"):
        candidates = [p for p in every if _is_address_like(get(data, p))]
        if candidates:
            where = draw(st.sampled_from(candidates))
            container, at = parent_of(data, where)
            text = get(data, where)
            container[at] = _nearby(draw, text) if kind == "nearby" else _respell(draw, text)
    elif kind == "copy-string":
        strings = [p for p in every if isinstance(get(data, p), str)]
        if len(strings) > 1:
            source, target = draw(st.sampled_from(strings)), draw(st.sampled_from(strings))
            container, at = parent_of(data, target)
            container[at] = get(data, source)
    elif kind == "empty":
        parent[key] = draw(st.sampled_from([[], {}, "", None]))
    return data


@st.composite
def mutated_data(draw: Draw, data: Any) -> Any:
    """A deep copy of ``data`` with one to four random mutations."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutate_once(data))
    return data


# YAML indicators, and characters YAML 1.1 (libyaml) and YAML 1.2 treat differently: NEL, LS
# and PS are line breaks only to 1.1; a BOM or NUL inside the text; CR alone
SPECIAL_CHARACTERS = (*":-[]{}#&*!|>'\"%@`, ?", "\x85", "\u2028", "\u2029", "\ufeff", "\r", "\x00", "\t")
ALIAS_EDITS = ("anchor", "alias", "merge")


def _alias_edit(draw: Draw, lines: list[bytes], kind: str) -> list[bytes]:
    """Anchors, aliases and merge keys on random lines: ``key: &a value``, ``key: *a``, ``<<: *a``."""
    keyed = [i for i, line in enumerate(lines) if b": " in line or line.rstrip().endswith(b":")]
    if not keyed:
        return lines
    index = draw(st.sampled_from(keyed))
    line = lines[index]
    key, _, value = line.partition(b":")
    if kind == "anchor":
        lines[index] = key + b": &a" + value
    elif kind == "alias":
        lines[index] = key + b": *a"
    else:
        indent = line[: len(line) - len(line.lstrip(b" -"))].replace(b"-", b" ")
        lines.insert(index + 1, indent + b"<<: *a")
    return lines


@st.composite
def mutated_text(draw: Draw, text: str) -> bytes:  # noqa: PLR0912
    """The text's UTF-8 bytes with one to three random edits."""
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "truncate",
                    "byte",
                    "char",
                    "colon",
                    "indent",
                    "dedent",
                    "dup-line",
                    "drop-line",
                    "swap-lines",
                    "tab",
                    *ALIAS_EDITS,
                ]
            )
        )
        lines = bytes(data).split(b"\n")
        if kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "byte":
            data.insert(draw(st.integers(0, len(data))), draw(st.integers(0, 255)))
        elif kind == "char" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at : at + 1] = draw(st.characters(codec="utf-8") | st.sampled_from(SPECIAL_CHARACTERS)).encode()
        elif kind == "colon":
            colons = [i for i, b in enumerate(data) if b == ord(":")]
            if colons:
                del data[draw(st.sampled_from(colons))]
        elif kind in ("indent", "dedent", "tab") and lines:
            index = draw(st.integers(0, len(lines) - 1))
            line = lines[index]
            if kind == "indent":
                lines[index] = b" " * draw(st.integers(1, 4)) + line
            elif kind == "dedent":
                lines[index] = line.lstrip(b" ")
            else:
                lines[index] = b"\t" + line
            data = bytearray(b"\n".join(lines))
        elif kind in ALIAS_EDITS:
            data = bytearray(b"\n".join(_alias_edit(draw, lines, kind)))
        elif kind in ("dup-line", "drop-line", "swap-lines") and lines:
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "dup-line":
                lines.insert(index, lines[index])
            elif kind == "drop-line":
                del lines[index]
            else:
                other = draw(st.integers(0, len(lines) - 1))
                lines[index], lines[other] = lines[other], lines[index]
            data = bytearray(b"\n".join(lines))
    return bytes(data)
