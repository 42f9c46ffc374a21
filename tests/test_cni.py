"""netgen's CNI attachment chains, run with the real reference plugins in a network namespace
(docs/kubernetes.md, failure F4).

Every NetworkAttachmentDefinition in the golden trees (``tests/golden/*/expected/**/kubernetes/attachments/``)
is run the way Multus runs it: ``macvlan`` on a veth pair standing in for the host NIC, in a fresh network
namespace, Kube-OVN IPAM replaced by ``static`` for the run. The test then reads the interface back from
the namespace: its MAC must be the requested (per-pod, via the ``mac`` capability and ``CNI_ARGS MAC=``)
or the fixed one, and its IPv6 link-local address must be the EUI-64 one derived from that MAC, which
holds only when macvlan itself set the MAC at creation (a MAC changed later by ``tuning`` leaves the
link-local derived from the old random MAC). CHECK and DEL must succeed and DEL must remove the interface.

A ``bridge`` chain runs the same way on a Linux bridge made for the test (the sandbox veth as its
uplink), removed by name afterwards; the host end of the pod's veth must be a port of it (with
``vlan``, a port whose PVID is that VLAN: without bridge VLAN filtering in the kernel that part skips).

Needs root, ``/usr/lib/cni`` (Debian ``containernetworking-plugins``) and ``ip netns`` (``iproute2``);
without them the tests skip, except under ``CI``, where they fail.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import netgen
from cni_runtime import PLUGIN_DIR, CniError, CniRuntime, RuntimeConf, interface_mac, multus_cni_args, plugin_request
from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
GOLDEN_ATTACHMENTS = sorted(GOLDEN.glob("*/expected/**/kubernetes/attachments/**/*.yaml"))
NEEDED_PLUGINS = ("macvlan", "bridge", "ipvlan", "host-device", "tuning", "static", "host-local")
#: the plugins that create a pod interface with a MAC of its own, first in the chains run here;
#: ipvlan, host-device and sriov chains run in tests/test_cni_devices.py
MAIN_PLUGINS = ("macvlan", "bridge")
#: the plugins whose ``master`` or ``bridge`` names a host link, replaced by a test link for the run
MASTER_PLUGINS = ("macvlan", "bridge", "ipvlan")
IFNAME = "net1"
TEST_NET_ADDRESS = "192.0.2.10/24"  # RFC 5737 TEST-NET-1
NETNS_RUN_DIR = Path("/run/netns")
IP_TIMEOUT = 10.0
LINK_LOCAL_WAIT = 2.0
LINK_LOCAL_POLL = 0.05
KUBE_OVN_SOCKET = "/run/openvswitch/kube-ovn-daemon.sock"

_serial = itertools.count(1)


# --- environment -----------------------------------------------------------------------------------------------


def _skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under CI fail instead, since CI must run these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the CNI tests must run here, see .ci/run)")
    pytest.skip(reason)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _missing_requirement() -> str | None:
    if os.geteuid() != 0:
        return "the CNI tests need root (network namespaces, veth, macvlan)"
    missing = [name for name in NEEDED_PLUGINS if not os.access(PLUGIN_DIR / name, os.X_OK)]
    if missing:
        return f"CNI plugins {', '.join(missing)} missing in {PLUGIN_DIR} (Debian package containernetworking-plugins)"
    if shutil.which("ip") is None:
        return "`ip` is missing (Debian package iproute2)"
    try:
        _ip("netns", "list")
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns` is unavailable: {exc}"
    return None


def _netns_mounted() -> bool:
    mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    return any(line.split()[4] == str(NETNS_RUN_DIR) for line in mountinfo.splitlines() if len(line.split()) > 4)


@pytest.fixture(scope="session")
def netns_run_dir() -> Iterator[None]:
    """``ip netns add`` creates (and mounts) /run/netns: if this session created it, remove it when empty."""
    existed = NETNS_RUN_DIR.exists()
    yield
    if existed or not NETNS_RUN_DIR.is_dir() or any(NETNS_RUN_DIR.iterdir()):
        return
    if _netns_mounted():
        umount = subprocess.run(
            ["umount", str(NETNS_RUN_DIR)], capture_output=True, text=True, timeout=IP_TIMEOUT, check=False
        )
        if umount.returncode != 0:
            return  # in use by someone else now: leave it
    NETNS_RUN_DIR.rmdir()


# --- the sandbox: a veth master and a network namespace ----------------------------------------------------------


@dataclass(frozen=True)
class Sandbox:
    serial: int
    master: str
    peer: str
    netns: str
    container_id: str
    host_local_dir: Path
    tuning_dir: Path

    @property
    def netns_path(self) -> str:
        return str(NETNS_RUN_DIR / self.netns)

    def runtime_conf(self, *, capability_args: Mapping[str, Any] | None = None, cni_args: str = "") -> RuntimeConf:
        return RuntimeConf(
            container_id=self.container_id,
            netns=self.netns_path,
            ifname=IFNAME,
            capability_args=dict(capability_args or {}),
            cni_args=cni_args,
        )

    def link(self, ifname: str = IFNAME) -> dict[str, Any] | None:
        """``ip -j link show`` of ``ifname`` inside the namespace, None when it does not exist."""
        proc = _ip("-j", "-n", self.netns, "link", "show", ifname, check=False)
        if proc.returncode != 0:
            if "does not exist" in proc.stderr:
                return None
            raise AssertionError(f"ip -n {self.netns} link show {ifname}: {proc.stderr.strip()}")
        links = json.loads(proc.stdout)
        assert len(links) == 1, links
        link: dict[str, Any] = links[0]
        return link

    def addresses(self, ifname: str = IFNAME, *, family: str = "") -> list[dict[str, Any]]:
        """The ``addr_info`` entries of ``ifname`` inside the namespace (``family`` "-6"/"-4" to filter)."""
        args = ["-j", "-n", self.netns, *([family] if family else []), "addr", "show", "dev", ifname]
        shown = json.loads(_ip(*args).stdout)
        return [info for entry in shown for info in entry.get("addr_info", [])]

    def link_locals(self, ifname: str = IFNAME) -> list[ipaddress.IPv6Address]:
        """The interface's IPv6 link-local addresses, waiting at most LINK_LOCAL_WAIT for one to appear."""
        found: list[ipaddress.IPv6Address] = []
        for _ in range(int(LINK_LOCAL_WAIT / LINK_LOCAL_POLL) + 1):
            found = [
                address
                for info in self.addresses(ifname, family="-6")
                if (address := ipaddress.IPv6Address(info["local"])).is_link_local
            ]
            if found:
                break
            time.sleep(LINK_LOCAL_POLL)
        return found

    def set_master_mtu(self, mtu: int) -> None:
        """macvlan's MTU may not exceed its master's: raise the veth's MTU when a chain asks for more."""
        _ip("link", "set", "dev", self.master, "mtu", str(mtu))


def _unique_names(serial: int) -> tuple[str, str, str]:
    pid = os.getpid()
    master, peer, netns = f"ngt{pid}m{serial}", f"ngt{pid}p{serial}", f"ngt-{pid}-{serial}"
    assert max(len(master), len(peer)) <= 15, (master, peer)  # IFNAMSIZ - 1
    return master, peer, netns


@pytest.fixture
def sandbox(tmp_path: Path, netns_run_dir: None) -> Iterator[Sandbox]:
    """A veth pair (one end up as the macvlan master, the peer up for carrier) and a fresh network namespace.

    Teardown removes exactly what was created here, by name: the namespace (and so anything a failed
    test left inside it), the veth pair, and the IPAM/tuning state directories under ``tmp_path``.
    """
    missing = _missing_requirement()
    if missing:
        _skip_or_fail(missing)
    serial = next(_serial)
    master, peer, netns = _unique_names(serial)
    state = tmp_path / "cni-state"
    box = Sandbox(
        serial=serial,
        master=master,
        peer=peer,
        netns=netns,
        container_id=uuid.uuid4().hex + uuid.uuid4().hex,  # 64 hex digits, like a pod sandbox id
        host_local_dir=state / "host-local",
        tuning_dir=state / "tuning",
    )
    for name in (master, peer):
        assert _ip("link", "show", "dev", name, check=False).returncode != 0, f"{name} exists already"
    assert not (NETNS_RUN_DIR / netns).exists(), f"network namespace {netns} exists already"
    created_link = created_netns = False
    try:
        _ip("link", "add", master, "type", "veth", "peer", "name", peer)
        created_link = True
        _ip("link", "set", "dev", master, "up")
        _ip("link", "set", "dev", peer, "up")
        _ip("netns", "add", netns)
        created_netns = True
        yield box
    finally:
        problems = []
        if created_netns:
            proc = _ip("netns", "delete", netns, check=False)
            if proc.returncode != 0 or (NETNS_RUN_DIR / netns).exists():
                problems.append(f"netns {netns}: {proc.stderr.strip()}")
        if created_link:
            proc = _ip("link", "delete", "dev", master, check=False)
            if proc.returncode != 0 or _ip("link", "show", "dev", peer, check=False).returncode == 0:
                problems.append(f"veth {master}/{peer}: {proc.stderr.strip()}")
        shutil.rmtree(state, ignore_errors=True)
        if problems:
            pytest.fail(f"cleanup failed, left behind: {'; '.join(problems)}")


# --- what the test computes --------------------------------------------------------------------------------------


def eui64_link_local(mac: str) -> ipaddress.IPv6Address:
    """The link-local address the kernel derives from ``mac`` (RFC 4291 app. A: flip U/L, insert ff:fe)."""
    octets = bytes(int(part, 16) for part in mac.split(":"))
    assert len(octets) == 6, mac
    iid = bytes([octets[0] ^ 0x02, *octets[1:3], 0xFF, 0xFE, *octets[3:6]])
    return ipaddress.IPv6Address(bytes([0xFE, 0x80, *[0] * 6]) + iid)


def requested_mac(serial: int) -> str:
    """A per-pod MAC for the test: locally administered, unicast, distinct per sandbox."""
    return f"02:00:5e:10:{(serial >> 8) & 0xFF:02x}:{serial & 0xFF:02x}"


def _nad_documents(path: Path) -> list[dict[str, Any]]:
    docs = [doc for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if doc is not None]
    assert all(isinstance(doc, dict) for doc in docs), f"{path}: every document must be a mapping"
    return docs


def _attachment(docs: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """The NetworkAttachmentDefinition among ``docs`` and its ``spec.config`` parsed."""
    nads = [doc for doc in docs if doc.get("kind") == "NetworkAttachmentDefinition"]
    assert len(nads) == 1, f"expected exactly one NetworkAttachmentDefinition, found {len(nads)}"
    nad = nads[0]
    assert nad.get("apiVersion") == "k8s.cni.cncf.io/v1", nad.get("apiVersion")
    config = nad["spec"]["config"]
    assert isinstance(config, str), "spec.config must be a JSON string"
    conflist = json.loads(config)
    assert isinstance(conflist, dict), conflist
    return nad, conflist


def _subnet_address(docs: Sequence[Mapping[str, Any]], provider: str) -> list[dict[str, str]]:
    """Static addresses for a Kube-OVN IPAM run: one host of each CIDR of the provider's Subnet, else TEST-NET."""
    subnets = [
        doc
        for doc in docs
        if doc.get("kind") == "Subnet" and str(doc.get("apiVersion", "")).startswith("kubeovn.io/")
        if (doc.get("spec") or {}).get("provider") == provider
    ]
    if not subnets:
        return [{"address": TEST_NET_ADDRESS}]
    spec = subnets[0]["spec"]
    reserved = {ipaddress.ip_address(g.strip()) for g in str(spec.get("gateway") or "").split(",") if g.strip()}
    excluded: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]] = []
    for item in spec.get("excludeIps") or []:
        bounds = tuple(ipaddress.ip_address(part.strip()) for part in str(item).split(".."))
        excluded.append(bounds)
    addresses = []
    for cidr in str(spec.get("cidrBlock") or "").split(","):
        if not cidr.strip():
            continue
        network = ipaddress.ip_network(cidr.strip(), strict=True)
        for host in itertools.islice(network.hosts(), 4096):
            if host in reserved or any(b[0] <= host <= b[-1] for b in excluded if b[0].version == host.version):
                continue
            addresses.append({"address": f"{host}/{network.prefixlen}"})
            break
        else:
            raise AssertionError(f"Subnet {cidr}: no free address among its first hosts")
    return addresses or [{"address": TEST_NET_ADDRESS}]


def prepare_for_run(
    conflist: Mapping[str, Any], docs: Sequence[Mapping[str, Any]], box: Sandbox, master: str | None = None
) -> dict[str, Any]:
    """The chain as run here: master → the sandbox veth (or ``master``, a link on it), a bridge
    plugin's ``bridge`` → ``master`` (a test bridge), Kube-OVN IPAM → static, state dirs → tmp_path."""
    run = copy.deepcopy(dict(conflist))
    for plugin in run["plugins"]:
        for key in ("master", "bridge") if plugin.get("type") in MASTER_PLUGINS else ():
            if key in plugin:
                assert isinstance(plugin[key], str), plugin[key]
                assert plugin[key], f"empty {key}"
                assert key == "master" or master is not None, "a bridge chain runs on a test bridge"
                plugin[key] = master or box.master
        if plugin.get("type") == "tuning":
            plugin["dataDir"] = str(box.tuning_dir)
        ipam = plugin.get("ipam")
        if ipam is None:
            continue
        match ipam.get("type"):
            case None:
                assert ipam == {}, f"IPAM without a type must be empty: {ipam}"
            case "kube-ovn":
                assert ipam.get("server_socket") == KUBE_OVN_SOCKET, ipam
                plugin["ipam"] = {"type": "static", "addresses": _subnet_address(docs, ipam["provider"])}
            case "host-local":
                ipam["dataDir"] = str(box.host_local_dir)
            case "whereabouts":
                # whereabouts keeps its leases in Kubernetes CRs (no API here): run the chain with the
                # addresses its range logic hands out first to an empty pool (whereabouts_first_addresses)
                plugin["ipam"] = {"type": "static", "addresses": whereabouts_first_addresses(ipam)}
            case "dhcp":
                # the dhcp plugin needs its daemon and a DHCP server on the segment: the chain runs with
                # a TEST-NET address instead, the dhcp IPAM config is checked by test_dhcp_ipam_config
                assert ipam == {"type": "dhcp"}, ipam
                plugin["ipam"] = {"type": "static", "addresses": [{"address": TEST_NET_ADDRESS}]}
            case "static":
                pass
            case other:
                pytest.fail(f"IPAM type {other!r} cannot be run locally; extend tests/test_cni.py")
    return run


#: every key whereabouts reads from its IPAM config (k8snetworkplumbingwg/whereabouts pkg/types/types.go
#: IPAMConfig, v0.9.4), and those of one ipRanges entry (RangeConfiguration)
WHEREABOUTS_KEYS = {
    "type", "range", "range_start", "range_end", "exclude", "ipRanges", "gateway", "routes", "dns", "addresses",
    "enable_overlapping_ranges", "network_name", "node_slice_size", "kubernetes", "configuration_path",
    "log_file", "log_level", "leader_lease_duration", "leader_renew_deadline", "leader_retry_period",
    "reconciler_cron_expression", "sleep_for_race",
}  # fmt: skip
WHEREABOUTS_RANGE_KEYS = {"range", "range_start", "range_end", "exclude"}


def whereabouts_ranges(ipam: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ranges whereabouts allocates from: the top-level ``range`` (with the top-level
    ``range_start``/``range_end``/``exclude``) as entry 0, then ``ipRanges`` (config.go)."""
    ranges: list[Mapping[str, Any]] = []
    if "range" in ipam:
        ranges.append({k: ipam[k] for k in WHEREABOUTS_RANGE_KEYS if k in ipam})
    ranges += ipam.get("ipRanges", [])
    return ranges


def whereabouts_first_addresses(ipam: Mapping[str, Any]) -> list[dict[str, str]]:
    """What whereabouts hands out first from an empty pool, one address per range: the lowest
    address in [max(range_start, network+1), min(range_end, broadcast-1)] outside every
    ``exclude`` CIDR (allocate.IterateForAssignment, iphelpers.GetIPRange: the span is the
    same for IPv4 and IPv6). It must never be the ``gateway``, which whereabouts does not skip."""
    assert set(ipam) <= WHEREABOUTS_KEYS, sorted(set(ipam) - WHEREABOUTS_KEYS)
    addresses = []
    for entry in whereabouts_ranges(ipam):
        assert set(entry) <= WHEREABOUTS_RANGE_KEYS, entry
        network = ipaddress.ip_network(entry["range"], strict=True)
        low, high = int(network.network_address) + 1, int(network.broadcast_address) - 1
        if "range_start" in entry:
            start = int(ipaddress.ip_address(entry["range_start"]))
            assert low <= start <= high, f"range_start {entry['range_start']} outside {network}: whereabouts ignores it"
            low = start
        if "range_end" in entry:
            end = int(ipaddress.ip_address(entry["range_end"]))
            assert low <= end <= high, f"range_end {entry['range_end']} outside {network}: whereabouts ignores it"
            high = end
        excluded = [ipaddress.ip_network(e, strict=True) for e in entry.get("exclude", [])]
        assert all(e.version == network.version for e in excluded), excluded
        make = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
        candidate = low
        while candidate <= high:
            hole = next((e for e in excluded if make(candidate) in e), None)
            if hole is None:
                break
            candidate = int(hole.broadcast_address) + 1
        assert candidate <= high, f"{entry}: nothing left to hand out"
        address = make(candidate)
        assert str(address) != ipam.get("gateway"), f"whereabouts would hand out its gateway {address}"
        addresses.append({"address": f"{address}/{network.prefixlen}"})
    assert addresses, f"whereabouts IPAM without a range: {ipam}"
    return addresses


@dataclass(frozen=True)
class MacPlan:
    expected: str
    per_pod: bool


def plan_mac(conflist: Mapping[str, Any], box: Sandbox) -> MacPlan:
    """What MAC the chain must produce: the fixed one in its config (``mac``, or the bridge
    plugin's ``args.cni.mac``), or one requested per pod."""
    plugins = conflist["plugins"]
    fixed = {str(p["mac"]).lower() for p in plugins if "mac" in p}
    fixed |= {str(mac).lower() for p in plugins if (mac := p.get("args", {}).get("cni", {}).get("mac"))}
    if fixed:
        assert len(fixed) == 1, f"the plugins disagree on the fixed MAC: {sorted(fixed)}"
        return MacPlan(fixed.pop(), per_pod=False)
    if any((p.get("capabilities") or {}).get("mac") is True for p in plugins):
        return MacPlan(requested_mac(box.serial), per_pod=True)
    raise AssertionError("the chain can set no MAC: neither a fixed `mac` nor the `mac` capability (F4)")


def run_and_verify(
    box: Sandbox,
    conflist: dict[str, Any],
    plan: MacPlan,
    *,
    pod_namespace: str = "default",
    mac_in_cni_args: bool = True,
) -> dict[str, Any]:
    """ADD the chain as Multus does, read the interface back, CHECK, DEL; returns the ADD result."""
    main = conflist["plugins"][0]
    assert main.get("type") in MAIN_PLUGINS, f"the chain starts with {main.get('type')!r}, not {MAIN_PLUGINS}"
    mtu = main.get("mtu")
    if isinstance(mtu, int) and mtu > 1500 and main["type"] == "macvlan":
        box.set_master_mtu(mtu)
    cni_args = multus_cni_args(
        pod_namespace=pod_namespace,
        pod_name=f"netgen-cni-test-{box.serial}",
        infra_container_id=box.container_id,
        pod_uid=str(uuid.uuid4()),
        mac=plan.expected if plan.per_pod and mac_in_cni_args else None,
    )
    capability_args: dict[str, Any] = {"mac": plan.expected} if plan.per_pod else {}
    if any((p.get("capabilities") or {}).get("ips") is True for p in conflist["plugins"]):
        # static IPAM: the pod names its addresses in the networks annotation; Multus passes them on
        capability_args["ips"] = [TEST_NET_ADDRESS]
    rt = box.runtime_conf(capability_args=capability_args, cni_args=cni_args)
    runtime = CniRuntime()
    result: dict[str, Any] | None = None
    deleted = False
    try:
        result = runtime.add(conflist, rt)
        link = box.link()
        assert link is not None, f"{IFNAME} missing in {box.netns} after ADD"
        assert link["address"] == plan.expected, f"MAC in the namespace is {link['address']}, expected {plan.expected}"
        if isinstance(mtu, int) and mtu > 0:
            assert link["mtu"] == mtu
        assert box.link_locals() == [eui64_link_local(plan.expected)], "IPv6 link-local is not derived from the MAC"
        assert (interface_mac(result, IFNAME, rt.netns) or "").lower() == plan.expected, result
        on_link = {f"{info['local']}/{info['prefixlen']}" for info in box.addresses()}
        for ip in result.get("ips", []):
            assert ip["address"] in on_link, f"IPAM address {ip['address']} not on {IFNAME}: {sorted(on_link)}"
        if main["type"] == "bridge":
            verify_bridge_port(main, result)
        runtime.check(conflist, rt, result)
        runtime.delete(conflist, rt, result)
        deleted = True
        assert box.link() is None, f"{IFNAME} still in {box.netns} after DEL"
        assert not _files(box.tuning_dir), "tuning DEL left its backup file"
        assert not [f for f in _files(box.host_local_dir) if _is_ip(f.name)], "host-local DEL kept a reservation"
        return result
    finally:
        if not deleted:  # release what the plugins hold; the netns teardown removes the rest
            with contextlib.suppress(CniError):
                runtime.delete(conflist, rt, result)


def verify_bridge_port(bridge: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    """The bridge plugin's host end: a veth enslaved to the bridge; with ``vlan``, the bridge
    filters VLANs and the port's PVID (untagged) is that VLAN."""
    name = bridge["bridge"]
    hosts = [i["name"] for i in result.get("interfaces", []) if not i.get("sandbox") and i["name"] != name]
    assert len(hosts) == 1, f"the result names no single host veth: {result.get('interfaces')}"
    port = json.loads(_ip("-d", "-j", "link", "show", "dev", hosts[0]).stdout)[0]
    assert port.get("master") == name, f"host veth {hosts[0]} is not a port of {name}: {port.get('master')}"
    shown = json.loads(_ip("-d", "-j", "link", "show", "dev", name).stdout)[0]
    filtering = shown["linkinfo"]["info_data"].get("vlan_filtering")
    if bridge.get("isGateway"):  # the plugin puts each result IP's gateway on the bridge
        on_bridge = {info["local"] for info in shown.get("addr_info", [])}
        if not on_bridge:
            on_bridge = {
                i["local"]
                for e in json.loads(_ip("-j", "addr", "show", "dev", name).stdout)
                for i in e.get("addr_info", [])
            }
        gateways = {ip["gateway"] for ip in result.get("ips", []) if "gateway" in ip}
        assert gateways and gateways <= on_bridge, f"isGateway: {sorted(gateways)} not on {name}: {sorted(on_bridge)}"
    if "vlan" not in bridge:
        assert not filtering, f"{name} filters VLANs though the chain gives none"
        return
    assert filtering == 1, f"{name} does not filter VLANs though the chain gives vlan {bridge['vlan']}"
    command = ["bridge", "-j", "vlan", "show", "dev", hosts[0]]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=IP_TIMEOUT, check=True)
    vlans = [v for entry in json.loads(proc.stdout) for v in entry.get("vlans", [])]
    pvids = [v["vlan"] for v in vlans if "PVID" in v.get("flags", [])]
    assert pvids == [bridge["vlan"]], f"port {hosts[0]} has PVID {pvids}, expected {bridge['vlan']}: {vlans}"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def verify_attachment_file(path: Path, box: Sandbox, master: str | None = None, *, without: Sequence[str] = ()) -> None:
    """Run the file's chain (``without``: keys of its first plugin left out for this run)."""
    docs = _nad_documents(path)
    nad, conflist = _attachment(docs)
    if without:
        conflist = copy.deepcopy(conflist)
        for key in without:
            conflist["plugins"][0].pop(key, None)
    name, namespace = nad["metadata"]["name"], nad["metadata"]["namespace"]
    assert conflist.get("cniVersion") == "1.0.0", (
        f"cniVersion {conflist.get('cniVersion')!r}: netgen writes 1.0.0 (Debian's plugins 1.1.1 reject 1.1.0)"
    )
    assert conflist.get("name") == name, "the CNI network name must be the attachment's name"
    assert conflist["plugins"][0]["type"] in MAIN_PLUGINS, "macvlan or bridge must come first (it creates the link)"
    plan = plan_mac(conflist, box)
    run = prepare_for_run(conflist, docs, box, master)
    # Multus today sends a requested MAC both as the `mac` capability and as the deprecated CNI_ARGS MAC=,
    # which macvlan also reads; the chain must work on the capability alone too (macvlan declaring it, F4).
    variants = {"multus": True, "capability-only": False} if plan.per_pod else {"fixed-mac": False}
    for variant, mac_in_cni_args in variants.items():
        try:
            run_and_verify(box, run, plan, pod_namespace=namespace, mac_in_cni_args=mac_in_cni_args)
        except (AssertionError, CniError) as exc:
            exc.add_note(f"while running {path.name} with the MAC delivered as: {variant}")
            raise


# --- golden attachments ------------------------------------------------------------------------------------------


def main_type(path: Path) -> str:
    """The type of the first plugin of a golden attachment's chain."""
    return str(_attachment(_nad_documents(path))[1]["plugins"][0]["type"])


MAC_CHAIN_ATTACHMENTS = [path for path in GOLDEN_ATTACHMENTS if main_type(path) in MAIN_PLUGINS]


@pytest.mark.parametrize(
    "nad_path",
    [pytest.param(path, id=path.relative_to(GOLDEN).as_posix()) for path in MAC_CHAIN_ATTACHMENTS]
    or [pytest.param(None, id="no-golden-attachments")],
)
def test_golden_attachment_runs_with_reference_plugins(nad_path: Path | None, request: pytest.FixtureRequest) -> None:
    if nad_path is None:
        _skip_or_fail(f"no golden attachment under {GOLDEN}/*/expected/**/kubernetes/attachments/ yet")
        return
    box: Sandbox = request.getfixturevalue("sandbox")
    if _attachment(_nad_documents(nad_path))[1]["plugins"][0]["type"] != "bridge":
        verify_attachment_file(nad_path, box)
        return
    with node_bridge(box) as (bridge, vlan_filtering):
        # without bridge VLAN filtering in the kernel the chain runs without its `vlan` here, and
        # test_golden_bridge_attachment_with_vlan runs (or skips) the VLAN part
        verify_attachment_file(nad_path, box, master=bridge, without=() if vlan_filtering else ("vlan",))


@contextlib.contextmanager
def node_bridge(box: Sandbox) -> Iterator[tuple[str, bool]]:
    """The node bridge a bridge chain plugs into: a bridge made for the test with the sandbox veth
    as its uplink (what hosts[].bridges makes on a node), removed by name afterwards; and whether
    this kernel filters VLANs on bridges (CONFIG_BRIDGE_VLAN_FILTERING), which the plugin's `vlan` needs."""
    bridge = f"ngt{os.getpid()}b{box.serial}"
    assert len(bridge) <= 15 and _ip("link", "show", "dev", bridge, check=False).returncode != 0
    _ip("link", "add", "name", bridge, "type", "bridge")
    try:
        _ip("link", "set", "dev", box.master, "master", bridge)
        _ip("link", "set", "dev", bridge, "up")
        probe = _ip("link", "set", "dev", bridge, "type", "bridge", "vlan_filtering", "1", check=False)
        if probe.returncode == 0:
            _ip("link", "set", "dev", bridge, "type", "bridge", "vlan_filtering", "0")
        yield bridge, probe.returncode == 0
    finally:
        proc = _ip("link", "delete", "dev", bridge, check=False)
        if proc.returncode != 0 and _ip("link", "show", "dev", bridge, check=False).returncode == 0:
            pytest.fail(f"cleanup failed, left behind bridge {bridge}: {proc.stderr.strip()}")


BRIDGE_VLAN_ATTACHMENTS = [
    path
    for path in GOLDEN_ATTACHMENTS
    if (main := _attachment(_nad_documents(path))[1]["plugins"][0])["type"] == "bridge" and "vlan" in main
]


@pytest.mark.parametrize(
    "nad_path",
    [pytest.param(path, id=path.relative_to(GOLDEN).as_posix()) for path in BRIDGE_VLAN_ATTACHMENTS]
    or [pytest.param(None, id="no-bridge-vlan-attachments")],
)
def test_golden_bridge_attachment_with_vlan(nad_path: Path | None, request: pytest.FixtureRequest) -> None:
    """A bridge chain with ``vlan``: the plugin turns VLAN filtering on and makes the VLAN the
    pod port's PVID (verify_bridge_port reads both back)."""
    if nad_path is None:
        _skip_or_fail("no golden bridge attachment has a vlan")
        return
    box: Sandbox = request.getfixturevalue("sandbox")
    with node_bridge(box) as (bridge, vlan_filtering):
        vlan = _attachment(_nad_documents(nad_path))[1]["plugins"][0]["vlan"]
        assert isinstance(vlan, int) and 1 <= vlan <= 4094, f"vlan {vlan!r}: the bridge plugin takes 0-4094, 0 untagged"
        if not vlan_filtering:
            # the bridge plugin fails with "failed to setup vlan tag on interface ...: operation not supported"
            pytest.skip(
                f"this kernel ({os.uname().release}) has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): "
                "the chain ran without its vlan in test_golden_attachment_runs_with_reference_plugins"
            )
        verify_attachment_file(nad_path, box, master=bridge)


def test_bridge_gateway_attachment_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    """A bridge attachment with ``isGateway`` and ``ipMasq`` on one host, as netgen renders it: the
    chain runs on a test bridge, which takes the IPAM gateway address. ``ipMasq`` is checked in the
    config only and left out of the run: it would add iptables rules to this machine's own tables."""
    inventory = (GOLDEN / "attach-bridge" / "inventory.yaml").read_text(encoding="utf-8")
    one_host = inventory.split("      - name: worker-1\n")[0] + inventory[inventory.index("    attachments:\n") :]
    gateway = one_host.split("    attachments:\n")[0].replace(
        '        gateways: ["10.40.0.1"]\n        mtu', "        mtu"
    )
    attachment = """    attachments:
      - name: routed
        namespace: virt
        network: vms
        type: bridge
        isGateway: true
        ipMasq: true
        ipam:
          type: host-local
          cidrs: ["10.40.0.0/24"]
          gateways: ["10.40.0.254"]
          exclude: ["10.40.0.0..10.40.0.127"]
"""
    loaded = netgen.load(gateway + attachment, name="bridge-gateway.yaml")
    assert not [d for d in netgen.validate(loaded) if d.severity.name == "ERROR"]
    netgen.write(netgen.render(loaded), tmp_path / "out")
    path = tmp_path / "out" / "lab" / "kubernetes" / "attachments" / "virt" / "routed.yaml"
    main = _attachment(_nad_documents(path))[1]["plugins"][0]
    assert main["type"] == "bridge" and main["isGateway"] is True and main["ipMasq"] is True, main
    with node_bridge(sandbox) as (bridge, _):
        verify_attachment_file(path, sandbox, master=bridge, without=("ipMasq",))


VLAN_MASTER = re.compile(r"^(?P<parent>[A-Za-z0-9_-][A-Za-z0-9_.-]*)\.(?P<id>[0-9]{1,4})$")
VLAN_ATTACHMENTS = [
    path
    for path in MAC_CHAIN_ATTACHMENTS
    if VLAN_MASTER.match(_attachment(_nad_documents(path))[1]["plugins"][0].get("master", ""))
]


@pytest.mark.parametrize(
    "nad_path",
    [pytest.param(path, id=path.relative_to(GOLDEN).as_posix()) for path in VLAN_ATTACHMENTS]
    or [pytest.param(None, id="no-vlan-attachments")],
)
def test_golden_attachment_on_a_vlan_master(nad_path: Path | None, request: pytest.FixtureRequest) -> None:
    """An attachment on a VLAN network hangs off the VLAN link (``bond0.130``): here a VLAN with
    the same id on the sandbox veth, created for the test and removed by name after it."""
    if nad_path is None:
        _skip_or_fail("no golden attachment has a VLAN link (<parent>.<id>) as its master")
        return
    box: Sandbox = request.getfixturevalue("sandbox")
    macvlan = _attachment(_nad_documents(nad_path))[1]["plugins"][0]
    match = VLAN_MASTER.match(macvlan["master"])
    assert match is not None
    vlan = f"ngt{os.getpid()}v{box.serial}"
    assert len(vlan) <= 15 and _ip("link", "show", "dev", vlan, check=False).returncode != 0
    made = _ip("link", "add", "link", box.master, "name", vlan, "type", "vlan", "id", match["id"], check=False)
    if made.returncode != 0 and "Unknown device type" in made.stderr:
        # a kernel without CONFIG_VLAN_8021Q (and no module loading) cannot make a VLAN link at all
        pytest.skip(f"this kernel ({os.uname().release}) has no 802.1Q VLAN support: {made.stderr.strip()}")
    assert made.returncode == 0, made.stderr
    try:
        mtu = macvlan.get("mtu")
        if isinstance(mtu, int) and mtu > 1500:  # the VLAN's parent first: a VLAN's MTU may not exceed it
            box.set_master_mtu(mtu)
            _ip("link", "set", "dev", vlan, "mtu", str(mtu))
        _ip("link", "set", "dev", vlan, "up")
        shown = json.loads(_ip("-d", "-j", "link", "show", "dev", vlan).stdout)[0]
        assert shown["linkinfo"]["info_kind"] == "vlan" and shown["linkinfo"]["info_data"]["id"] == int(match["id"])
        verify_attachment_file(nad_path, box, master=vlan)
    finally:
        proc = _ip("link", "delete", "dev", vlan, check=False)
        if proc.returncode != 0 and _ip("link", "show", "dev", vlan, check=False).returncode == 0:
            pytest.fail(f"cleanup failed, left behind VLAN {vlan}: {proc.stderr.strip()}")


# --- the harness itself, independent of the goldens --------------------------------------------------------------


def _chain(first: dict[str, Any], *, tuning: dict[str, Any] | None, name: str = "sec-net") -> dict[str, Any]:
    plugins = [{"type": "macvlan", "master": "replaced", "mode": "bridge", **first}]
    if tuning is not None:
        plugins.append({"type": "tuning", **tuning})
    return {"cniVersion": "1.0.0", "name": name, "plugins": plugins}


def _nad_yaml(
    tmp_path: Path, name: str, namespace: str, conflist: Mapping[str, Any], *extra: Mapping[str, Any]
) -> Path:
    nad = {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(conflist, separators=(",", ":"))},
    }
    path = tmp_path / "attachments" / namespace / f"{name}.yaml"
    path.parent.mkdir(parents=True)
    yaml = YAML()
    with path.open("w", encoding="utf-8") as out:
        yaml.dump_all([nad, *map(dict, extra)], out)
    return path


CAP = {"capabilities": {"mac": True}}
STATIC_DUAL = {"type": "static", "addresses": [{"address": "192.0.2.10/24"}, {"address": "2001:db8::10/64"}]}
HOST_LOCAL = {"type": "host-local", "ranges": [[{"subnet": "192.0.2.0/24", "rangeStart": "192.0.2.100"}]]}


@pytest.mark.parametrize(
    ("macvlan", "tuning", "mac_in_cni_args"),
    [
        pytest.param({**CAP, "mtu": 1400, "ipam": STATIC_DUAL}, CAP, True, id="per-pod-static-dual-stack"),
        pytest.param({**CAP, "ipam": HOST_LOCAL}, CAP, False, id="per-pod-capability-only"),
        pytest.param({**CAP, "ipam": {}}, CAP, True, id="per-pod-no-ipam"),
        pytest.param({**CAP, "mtu": 9000, "ipam": {}}, None, True, id="per-pod-macvlan-alone-jumbo"),
    ],
)
def test_per_pod_mac_chain(
    sandbox: Sandbox, macvlan: dict[str, Any], tuning: dict[str, Any] | None, mac_in_cni_args: bool
) -> None:
    conflist = _chain(macvlan, tuning=tuning)
    plan = plan_mac(conflist, sandbox)
    assert plan.per_pod
    result = run_and_verify(sandbox, prepare_for_run(conflist, [], sandbox), plan, mac_in_cni_args=mac_in_cni_args)
    assert result["cniVersion"] == "1.0.0"


def test_fixed_mac_chain(sandbox: Sandbox) -> None:
    fixed = "0a:58:c0:00:02:2a"
    conflist = _chain({"mac": fixed, "ipam": HOST_LOCAL}, tuning={"mac": fixed})
    plan = plan_mac(conflist, sandbox)
    assert plan == MacPlan(fixed, per_pod=False)
    result = run_and_verify(sandbox, prepare_for_run(conflist, [], sandbox), plan)
    assert [ip["address"] for ip in result["ips"]] == ["192.0.2.100/24"]


def test_kube_ovn_attachment_file_runs_with_static_ipam(sandbox: Sandbox, tmp_path: Path) -> None:
    """The golden path end to end on a hand-written NAD of netgen's shape (Kube-OVN IPAM + Subnet)."""
    ipam = {"type": "kube-ovn", "server_socket": KUBE_OVN_SOCKET, "provider": "storage.apps"}
    conflist = _chain({"mtu": 1450, "ipam": ipam, **CAP}, tuning=CAP, name="storage")
    subnet = {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": "apps-storage"},
        "spec": {
            "protocol": "Dual",
            "provider": "storage.apps",
            "cidrBlock": "198.51.100.0/24,2001:db8:51::/64",
            "gateway": "198.51.100.1,2001:db8:51::1",
            "excludeIps": ["198.51.100.1..198.51.100.9", "2001:db8:51::1"],
        },
    }
    path = _nad_yaml(tmp_path, "storage", "apps", conflist, subnet)
    docs = _nad_documents(path)
    run = prepare_for_run(_attachment(docs)[1], docs, sandbox)
    assert run["plugins"][0]["ipam"] == {
        "type": "static",
        "addresses": [{"address": "198.51.100.10/24"}, {"address": "2001:db8:51::2/64"}],
    }
    assert run["plugins"][0]["master"] == sandbox.master
    verify_attachment_file(path, sandbox)


def test_macvlan_without_mac_capability_keeps_a_random_mac(sandbox: Sandbox) -> None:
    """Negative control: the runtime offers the MAC, but macvlan does not declare the capability (kube-ovn#4834)."""
    conflist = prepare_for_run(_chain({"ipam": {}}, tuning=None), [], sandbox)
    wanted = requested_mac(sandbox.serial)
    rt = sandbox.runtime_conf(
        capability_args={"mac": wanted},
        cni_args=multus_cni_args(
            pod_namespace="default", pod_name="p", infra_container_id=sandbox.container_id, pod_uid="u"
        ),
    )
    runtime = CniRuntime()
    result = runtime.add(conflist, rt)
    try:
        link = sandbox.link()
        assert link is not None
        assert link["address"] != wanted
        assert interface_mac(result, IFNAME, rt.netns) == link["address"]
        assert "runtimeConfig" not in runtime.invocations[0].request
    finally:
        runtime.delete(conflist, rt, result)
    assert sandbox.link() is None


def test_mac_set_only_by_tuning_leaves_a_stale_link_local(sandbox: Sandbox) -> None:
    """Why macvlan must carry the capability: tuning alone fixes the MAC, not the IPv6 link-local (F4)."""
    conflist = prepare_for_run(_chain({"ipam": {}}, tuning=CAP), [], sandbox)
    wanted = requested_mac(sandbox.serial)
    rt = sandbox.runtime_conf(capability_args={"mac": wanted})
    runtime = CniRuntime()
    result = runtime.add(conflist, rt)
    try:
        link = sandbox.link()
        assert link is not None
        assert link["address"] == wanted
        link_locals = sandbox.link_locals()
        assert link_locals, "no IPv6 link-local address"
        assert eui64_link_local(wanted) not in link_locals
    finally:
        runtime.delete(conflist, rt, result)


def test_plugin_error_carries_the_cni_error(sandbox: Sandbox) -> None:
    conflist = _chain({"ipam": {}, **CAP}, tuning=CAP)
    conflist["plugins"][0]["master"] = f"{sandbox.master}x"  # no such link
    rt = sandbox.runtime_conf(capability_args={"mac": requested_mac(sandbox.serial)})
    with pytest.raises(CniError) as raised:
        CniRuntime().add(conflist, rt)
    assert raised.value.plugin == "macvlan"
    assert raised.value.command == "ADD"
    assert isinstance(raised.value.code, int)
    assert "not found" in raised.value.msg.lower()
    assert raised.value.error["msg"] == raised.value.msg
    assert sandbox.link() is None


# --- pure parts (no root needed) ---------------------------------------------------------------------------------


def test_eui64_link_local() -> None:
    assert eui64_link_local("02:00:5e:10:00:02") == ipaddress.IPv6Address("fe80::5eff:fe10:2")
    assert eui64_link_local("3e:52:29:1e:79:e3") == ipaddress.IPv6Address("fe80::3c52:29ff:fe1e:79e3")
    assert eui64_link_local("00:00:00:00:00:01") == ipaddress.IPv6Address("fe80::200:ff:fe00:1")


def test_plugin_request_injects_only_declared_capabilities() -> None:
    network = {"cniVersion": "1.0.0", "name": "n", "plugins": []}
    caps = {"mac": "02:00:5e:10:00:01", "ips": ["192.0.2.1/24"]}
    plugin = {"type": "macvlan", "capabilities": {"mac": True, "ips": False, "bandwidth": True}, "mode": "bridge"}
    request = plugin_request(network, plugin, caps, None)
    assert request == {
        "type": "macvlan",
        "mode": "bridge",
        "name": "n",
        "cniVersion": "1.0.0",
        "runtimeConfig": {"mac": "02:00:5e:10:00:01"},
    }
    assert "capabilities" in plugin, "the caller's config must not be modified"
    prev = {"cniVersion": "1.0.0", "interfaces": [{"name": "net1", "mac": "x"}]}
    request = plugin_request(network, {"type": "tuning"}, caps, prev)
    assert request == {"type": "tuning", "name": "n", "cniVersion": "1.0.0", "prevResult": prev}


def test_multus_cni_args() -> None:
    args = multus_cni_args(
        pod_namespace="ns", pod_name="p", infra_container_id="c", pod_uid="u", mac="02:00:00:00:00:01"
    )
    assert args == (
        "IgnoreUnknown=true;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u;"
        "MAC=02:00:00:00:00:01"
    )


FAKE_PLUGIN = """\
import json, os, sys
conf = json.load(sys.stdin)
env = {k: v for k, v in os.environ.items() if k.startswith("CNI_")}
with open(conf["log"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"conf": conf, "env": env}) + "\\n")
if env["CNI_COMMAND"] == "ADD":
    result = conf.get("prevResult") or {"cniVersion": conf["cniVersion"], "interfaces": []}
    result["interfaces"] = [*result["interfaces"], {"name": conf["type"]}]
    print(json.dumps(result))
"""


def _fake_plugins(tmp_path: Path, **bodies: str) -> Path:
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    for name, body in bodies.items():
        plugin = plugin_dir / name
        plugin.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
        plugin.chmod(0o755)
    return plugin_dir


def test_runtime_chains_like_libcni(tmp_path: Path) -> None:
    """ADD in order with prevResult chained, CHECK in order and DEL in reverse with the final result."""
    log = tmp_path / "calls.jsonl"
    runtime = CniRuntime(_fake_plugins(tmp_path, first=FAKE_PLUGIN, second=FAKE_PLUGIN))
    network = {
        "cniVersion": "1.0.0",
        "name": "chain",
        "plugins": [
            {"type": "first", "log": str(log), "capabilities": {"mac": True}},
            {"type": "second", "log": str(log), "capabilities": {"ips": True}},
        ],
    }
    rt = RuntimeConf("cid", "/run/netns/x", "net1", {"mac": "02:00:5e:10:00:01"}, "IgnoreUnknown=true;MAC=m")
    final = runtime.add(network, rt)
    assert final["interfaces"] == [{"name": "first"}, {"name": "second"}]
    runtime.check(network, rt, final)
    runtime.delete(network, rt, final)
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(c["env"]["CNI_COMMAND"], c["conf"]["type"]) for c in calls] == [
        ("ADD", "first"),
        ("ADD", "second"),
        ("CHECK", "first"),
        ("CHECK", "second"),
        ("DEL", "second"),
        ("DEL", "first"),
    ]
    assert "prevResult" not in calls[0]["conf"]
    assert calls[1]["conf"]["prevResult"] == {"cniVersion": "1.0.0", "interfaces": [{"name": "first"}]}
    assert all(c["conf"]["prevResult"] == final for c in calls[2:])
    assert all(
        c["conf"]["runtimeConfig"] == {"mac": "02:00:5e:10:00:01"} for c in calls if c["conf"]["type"] == "first"
    )
    assert all("runtimeConfig" not in c["conf"] for c in calls if c["conf"]["type"] == "second")  # ips not offered
    assert all("capabilities" not in c["conf"] for c in calls)
    assert all(c["conf"]["name"] == "chain" and c["conf"]["cniVersion"] == "1.0.0" for c in calls)
    assert {json.dumps(c["env"], sort_keys=True) for c in calls} == {
        json.dumps(
            {
                "CNI_ARGS": "IgnoreUnknown=true;MAC=m",
                "CNI_COMMAND": command,
                "CNI_CONTAINERID": "cid",
                "CNI_IFNAME": "net1",
                "CNI_NETNS": "/run/netns/x",
                "CNI_PATH": str(runtime.plugin_dir),
            },
            sort_keys=True,
        )
        for command in ("ADD", "CHECK", "DEL")
    }
    runtime.check({**network, "disableCheck": True}, rt, final)
    assert len(log.read_text(encoding="utf-8").splitlines()) == len(calls), "disableCheck must skip CHECK"


def test_runtime_errors_and_timeout(tmp_path: Path) -> None:
    runtime = CniRuntime(
        _fake_plugins(
            tmp_path,
            fails='import json\nprint(json.dumps({"cniVersion": "1.0.0", "code": 7, "msg": "boom", "details": "d"}))\n'
            "raise SystemExit(1)\n",
            garbage="print('not json')\nraise SystemExit(2)\n",
            hangs="import time\ntime.sleep(30)\n",
        ),
        timeout=0.5,
    )
    rt = RuntimeConf("cid", "/run/netns/x", "net1")

    def network(plugin: str) -> dict[str, Any]:
        return {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": plugin}]}

    with pytest.raises(CniError) as raised:
        runtime.add(network("fails"), rt)
    assert raised.value.error == {"code": 7, "msg": "boom", "details": "d"}
    assert raised.value.returncode == 1
    with pytest.raises(CniError, match="exited 2 without a JSON error") as raised:
        runtime.add(network("garbage"), rt)
    assert raised.value.stdout.strip() == "not json"
    started = time.monotonic()
    with pytest.raises(CniError, match="timed out"):
        runtime.add(network("hangs"), rt)
    assert time.monotonic() - started < 10
    with pytest.raises(CniError, match="failed to find plugin"):
        runtime.add(network("absent"), rt)
    with pytest.raises(CniError, match="invalid plugin type"):
        runtime.add(network("../bin/sh"), rt)


# --- whereabouts and dhcp IPAM (no Kubernetes API, no DHCP server here) ------------------------------------------


def _golden_ipams(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in GOLDEN_ATTACHMENTS:
        for plugin in _attachment(_nad_documents(path))[1]["plugins"]:
            if (plugin.get("ipam") or {}).get("type") == kind:
                found.append((path, plugin["ipam"]))
    return found


def _span(entry: Mapping[str, Any]) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address whereabouts may hand out from one range (small ranges only)."""
    network = ipaddress.ip_network(entry["range"])
    low = int(ipaddress.ip_address(entry.get("range_start", network.network_address + 1)))
    high = int(ipaddress.ip_address(entry.get("range_end", network.broadcast_address - 1)))
    excluded = [ipaddress.ip_network(e) for e in entry.get("exclude", [])]
    make = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
    for value in range(low, min(high, low + 4096) + 1):
        if not any(make(value) in e for e in excluded):
            yield make(value)


def test_whereabouts_golden_configs_as_whereabouts_reads_them() -> None:
    """whereabouts cannot run here (its leases are Kubernetes CRs): its range logic is reproduced in
    whereabouts_first_addresses and every golden config is checked against the keys and rules of
    whereabouts v0.9.4 (pkg/types/types.go, pkg/config/config.go)."""
    ipams = _golden_ipams("whereabouts")
    assert ipams, "no golden attachment uses whereabouts IPAM"
    for path, ipam in ipams:
        ranges = whereabouts_ranges(ipam)
        assert ipam["network_name"], path  # attachments on one network share pools and reservations
        assert ipam["enable_overlapping_ranges"] is True, path
        if "ipRanges" in ipam:
            # with ipRanges, a top-level exclude is dropped (OmitRanges = nil) and one gateway
            # would be reported for both families
            assert "exclude" not in ipam and "gateway" not in ipam and "range" not in ipam, path
            assert len({ipaddress.ip_network(r["range"]).version for r in ranges}) == len(ranges), path
        gateway = ipam.get("gateway")
        for entry in ranges:
            assert gateway is None or ipaddress.ip_address(gateway) not in set(_span(entry)), (path, gateway)
        assert len(whereabouts_first_addresses(ipam)) == len(ranges)


def test_whereabouts_first_addresses() -> None:
    ipam = {
        "type": "whereabouts",
        "ipRanges": [
            {"range": "2001:db8::/64", "range_start": "2001:db8::100"},
            {"range": "10.0.0.0/24", "range_start": "10.0.0.2", "exclude": ["10.0.0.2/31", "10.0.0.4/32"]},
        ],
    }
    assert whereabouts_first_addresses(ipam) == [{"address": "2001:db8::100/64"}, {"address": "10.0.0.5/24"}]
    with pytest.raises(AssertionError, match="would hand out its gateway"):
        whereabouts_first_addresses({"type": "whereabouts", "range": "10.0.0.0/24", "gateway": "10.0.0.1"})
    with pytest.raises(AssertionError, match="whereabouts ignores it"):
        whereabouts_first_addresses({"type": "whereabouts", "range": "10.0.0.0/24", "range_end": "10.0.0.255"})


def test_dhcp_ipam_config() -> None:
    """The reference dhcp plugin needs its daemon (``dhcp daemon``) and a DHCP server: the chains run with
    static addresses instead, and the config is checked here: type only (daemonSocketPath defaults to
    /run/cni/dhcp.sock, the daemon's socket), and the file's head says the daemon must run on every node."""
    ipams = _golden_ipams("dhcp")
    assert ipams, "no golden attachment uses dhcp IPAM"
    for path, ipam in ipams:
        assert ipam == {"type": "dhcp"}, path
        assert "the CNI dhcp daemon" in path.read_text(encoding="utf-8"), path
