"""ipvlan, host-device and sriov chains (docs/kubernetes.md), as far as this machine can run them.

- **host-device** runs with the reference plugin: a veth pair made for the test stands in for the
  node's spare NIC, with the golden's MAC (``hwaddr``). The plugin must move it into the pod's
  namespace keeping its MAC, ``tuning`` must set the network's MTU, promiscuous mode and sysctls,
  the IPAM address must be on it; CHECK passes, and DEL must give it back to the host under its own
  name with its MTU restored. A chain that selects the NIC by PCI address runs the same way with
  the test NIC selected by ``hwaddr`` instead (no PCI NIC to spare here); the address is checked
  against the plugin's format.
- **ipvlan** runs the same way off the sandbox veth where the kernel has IPVLAN: the pod's
  interface must carry its master's MAC and the chain's mode. A kernel without CONFIG_IPVLAN (this
  machine's) cannot create the link: the test then proves that the plugin accepted the config
  up to the kernel's refusal ("failed to create ipvlan"), and skips with that reason.
- **sriov** cannot run: there is no VF and no sriov-cni here. Each golden config is checked
  against sriov-cni's documented configuration (docs/configuration-reference.md): its keys, the
  VLAN range, the MAC, and what Multus adds before the plugin sees it (``deviceID`` from the
  device plugin's allocation of the ``k8s.v1.cni.cncf.io/resourceName`` resource, ``runtimeConfig.mac``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cni_runtime import CniError, CniRuntime, multus_cni_args
from test_cni import (  # noqa: F401 (netns_run_dir and sandbox are fixtures used through request)
    GOLDEN,
    GOLDEN_ATTACHMENTS,
    IFNAME,
    IP_TIMEOUT,
    MAIN_PLUGINS,
    TEST_NET_ADDRESS,
    Sandbox,
    _attachment,
    _files,
    _ip,
    _nad_documents,
    eui64_link_local,
    main_type,
    netns_run_dir,
    prepare_for_run,
    sandbox,
)

#: the chains run in this module, by the type of their first plugin
DEVICE_TYPES = ("ipvlan", "host-device", "sriov")
RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName"
#: every key sriov-cni documents for its config (docs/configuration-reference.md), and the CNI
#: keys every plugin takes; ``deviceID`` and ``runtimeConfig`` are Multus's to add
SRIOV_KEYS = {
    "name", "type", "ipam", "deviceID", "vlan", "vlanQoS", "vlanProto", "mac", "spoofchk", "trust",
    "link_state", "min_tx_rate", "max_tx_rate", "logLevel", "logFile", "cniVersion", "capabilities",
    "runtimeConfig",
}  # fmt: skip


def _of_type(kind: str) -> list[Path]:
    return [path for path in GOLDEN_ATTACHMENTS if main_type(path) == kind]


def _params(kind: str) -> list[Any]:
    return [pytest.param(p, id=p.relative_to(GOLDEN).as_posix()) for p in _of_type(kind)] or [
        pytest.param(None, id=f"no-{kind}-attachments")
    ]


def test_every_golden_chain_is_run_or_checked() -> None:
    """Each golden attachment's chain starts with a type one of the CNI test modules runs."""
    kinds = {main_type(path) for path in GOLDEN_ATTACHMENTS}
    assert kinds <= {*MAIN_PLUGINS, *DEVICE_TYPES}, sorted(kinds - {*MAIN_PLUGINS, *DEVICE_TYPES})
    assert set(DEVICE_TYPES) <= kinds, f"no golden attachment of type {sorted(set(DEVICE_TYPES) - kinds)}"


def _netns_exec(box: Sandbox, *command: str) -> str:
    proc = subprocess.run(
        ["ip", "netns", "exec", box.netns, *command], capture_output=True, text=True, timeout=IP_TIMEOUT, check=True
    )
    return proc.stdout


def _sysctl_path(key: str, ifname: str) -> str:
    return "/proc/sys/" + key.replace("IFNAME", ifname).replace(".", "/")


def _verify_interface(box: Sandbox, run: Mapping[str, Any], result: Mapping[str, Any], mac: str) -> None:
    """The pod's interface as the chain leaves it: MAC, MTU, promiscuous mode, sysctls, addresses."""
    link = box.link()
    assert link is not None, f"{IFNAME} missing in {box.netns} after ADD"
    assert link["address"] == mac, f"MAC in the namespace is {link['address']}, expected {mac}"
    tuning = next((p for p in run["plugins"] if p["type"] == "tuning"), {})
    mtu = tuning.get("mtu") or run["plugins"][0].get("mtu")
    if isinstance(mtu, int):
        assert link["mtu"] == mtu, f"MTU {link['mtu']}, the chain sets {mtu}"
    shown = json.loads(_ip("-d", "-j", "-n", box.netns, "link", "show", IFNAME).stdout)[0]
    if tuning.get("promisc"):
        assert shown.get("promiscuity", 0) >= 1, f"{IFNAME} is not promiscuous: {shown.get('flags')}"
    for key, value in (tuning.get("sysctl") or {}).items():
        got = _netns_exec(box, "cat", _sysctl_path(key, IFNAME)).strip()
        assert got == value, f"sysctl {key} is {got}, the chain sets {value}"
    on_link = {f"{info['local']}/{info['prefixlen']}" for info in box.addresses()}
    for ip in result.get("ips", []):
        assert ip["address"] in on_link, f"IPAM address {ip['address']} not on {IFNAME}: {sorted(on_link)}"
    assert result.get("ips") or run["plugins"][0].get("ipam") == {}, f"no IPAM address in {result}"


def _runtime_conf(box: Sandbox, run: Mapping[str, Any], namespace: str) -> Any:
    capability_args: dict[str, Any] = {}
    if any((p.get("capabilities") or {}).get("ips") is True for p in run["plugins"]):
        capability_args["ips"] = [TEST_NET_ADDRESS]  # static IPAM: the pod's annotation names its addresses
    cni_args = multus_cni_args(
        pod_namespace=namespace,
        pod_name=f"netgen-cni-test-{box.serial}",
        infra_container_id=box.container_id,
        pod_uid="00000000-0000-4000-8000-000000000000",
        mac=None,
    )
    return box.runtime_conf(capability_args=capability_args, cni_args=cni_args)


def check(runtime: CniRuntime, run: Mapping[str, Any], rt: Any, result: Mapping[str, Any]) -> None:
    """CHECK the chain. The tuning plugin before v1.3.0 (Debian bookworm ships 1.1.1) substitutes
    ``IFNAME`` in sysctl keys on ADD but not on CHECK (fixed upstream by "tuning: fix cmdCheck
    when using IFNAME"), so there CHECK fails on exactly that path; anything else is a failure."""
    try:
        runtime.check(run, rt, result)
    except CniError as error:
        keys = [k for p in run["plugins"] if p["type"] == "tuning" for k in p.get("sysctl") or {} if "IFNAME" in k]
        unsubstituted = f"open {_sysctl_path(keys[0], 'IFNAME')}: no such file" if keys else None
        if error.plugin != "tuning" or unsubstituted is None or unsubstituted not in error.msg:
            raise


# --- host-device ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def spare_nic(box: Sandbox, mac: str) -> Iterator[str]:
    """A veth pair standing in for the node's spare NIC (the end given the MAC) and its peer,
    removed by name afterwards, wherever the NIC is then (a failed DEL can leave it in the pod)."""
    nic, peer = f"ngt{os.getpid()}h{box.serial}", f"ngt{os.getpid()}i{box.serial}"
    assert max(len(nic), len(peer)) <= 15
    for name in (nic, peer):
        assert _ip("link", "show", "dev", name, check=False).returncode != 0, f"{name} exists already"
    _ip("link", "add", nic, "type", "veth", "peer", "name", peer)
    try:
        _ip("link", "set", "dev", nic, "address", mac)
        _ip("link", "set", "dev", peer, "up")
        yield nic
    finally:
        if _ip("link", "show", "dev", peer, check=False).returncode == 0:
            _ip("link", "delete", "dev", peer, check=False)  # takes the NIC end with it, in any namespace
        left = [n for n in (nic, peer) if _ip("link", "show", "dev", n, check=False).returncode == 0]
        if left:
            pytest.fail(f"cleanup failed, left behind {', '.join(left)}")


PCI_ADDRESS = "0000:41:00.0"


@pytest.mark.parametrize("nad_path", _params("host-device"))
def test_golden_host_device_attachment_runs(nad_path: Path | None, request: pytest.FixtureRequest) -> None:
    if nad_path is None:
        pytest.fail("no golden attachment of type host-device")
    box: Sandbox = request.getfixturevalue("sandbox")
    docs = _nad_documents(nad_path)
    nad, conflist = _attachment(docs)
    main = conflist["plugins"][0]
    assert [k for k in ("device", "hwaddr", "kernelpath", "pciBusID") if k in main] in (["hwaddr"], ["pciBusID"]), main
    assert "mac" not in main and "capabilities" not in json.dumps(conflist["plugins"][1:]), conflist
    run = prepare_for_run(conflist, docs, box)
    if "pciBusID" in main:
        address = main["pciBusID"]
        assert len(address) == len(PCI_ADDRESS) and int(address.replace(":", "").replace(".", ""), 16) >= 0, address
        mac = "02:00:5e:30:00:01"  # no PCI NIC to spare here: the test NIC is selected by its MAC
        run["plugins"][0] = {k: v for k, v in run["plugins"][0].items() if k != "pciBusID"} | {"hwaddr": mac}
    else:
        mac = main["hwaddr"]
    with spare_nic(box, mac) as nic:
        rt = _runtime_conf(box, run, nad["metadata"]["namespace"])
        runtime = CniRuntime()
        result = runtime.add(run, rt)
        deleted = False
        try:
            assert _ip("link", "show", "dev", nic, check=False).returncode != 0, f"{nic} still on the host after ADD"
            _verify_interface(box, run, result, mac)
            assert box.link_locals() == [eui64_link_local(mac)], "the NIC's link-local address is not its own"
            check(runtime, run, rt, result)
            runtime.delete(run, rt, result)
            deleted = True
            assert box.link() is None, f"{IFNAME} still in {box.netns} after DEL"
            back = json.loads(_ip("-d", "-j", "link", "show", "dev", nic).stdout)[0]
            assert back["address"] == mac and back["mtu"] == 1500, f"DEL gave back {back}"
            assert back.get("promiscuity", 0) == 0, "tuning DEL left the NIC promiscuous"
            assert not _files(box.tuning_dir), "tuning DEL left its backup file"
        finally:
            if not deleted:
                with contextlib.suppress(CniError):
                    runtime.delete(run, rt, result)


# --- ipvlan --------------------------------------------------------------------------------------------------------


def _kernel_has_ipvlan(box: Sandbox) -> str | None:
    """None when this kernel makes ipvlan links, else what ``ip`` said."""
    probe = f"ngt{os.getpid()}q{box.serial}"
    made = _ip("link", "add", "link", box.master, "name", probe, "type", "ipvlan", "mode", "l2", check=False)
    if made.returncode == 0:
        _ip("link", "delete", "dev", probe)
        return None
    return made.stderr.strip()


@pytest.mark.parametrize("nad_path", _params("ipvlan"))
def test_golden_ipvlan_attachment_runs(nad_path: Path | None, request: pytest.FixtureRequest) -> None:
    """An ipvlan chain off the sandbox veth (a VLAN master such as ``bond0.130`` runs off the veth
    itself: what ipvlan does is the same on any master)."""
    if nad_path is None:
        pytest.fail("no golden attachment of type ipvlan")
    box: Sandbox = request.getfixturevalue("sandbox")
    docs = _nad_documents(nad_path)
    nad, conflist = _attachment(docs)
    main = conflist["plugins"][0]
    assert main["mode"] in ("l2", "l3", "l3s") and "mac" not in main, main
    assert main.get("ipam", {}).get("type"), "ipvlan runs its IPAM plugin first in a chain: it needs one"
    assert all("mac" not in p and "mac" not in (p.get("capabilities") or {}) for p in conflist["plugins"]), conflist
    run = prepare_for_run(conflist, docs, box)
    mtu = main.get("mtu")
    if isinstance(mtu, int) and mtu > 1500:
        box.set_master_mtu(mtu)
    rt = _runtime_conf(box, run, nad["metadata"]["namespace"])
    runtime = CniRuntime()
    missing = _kernel_has_ipvlan(box)
    if missing is not None:
        # the plugin parses the config, checks the mode and finds the master before it asks the kernel
        with pytest.raises(CniError, match="failed to create ipvlan"):
            runtime.add(run, rt)
        assert box.link() is None
        pytest.skip(
            f"this kernel ({os.uname().release}) has no IPVLAN (CONFIG_IPVLAN): {missing}; the plugin accepted "
            "the config up to the kernel's refusal"
        )
    master_mac = json.loads(_ip("-j", "link", "show", "dev", box.master).stdout)[0]["address"]
    result = runtime.add(run, rt)
    deleted = False
    try:
        _verify_interface(box, run, result, master_mac)  # ipvlan links carry their master's MAC
        shown = json.loads(_ip("-d", "-j", "-n", box.netns, "link", "show", IFNAME).stdout)[0]
        assert shown["linkinfo"]["info_kind"] == "ipvlan", shown["linkinfo"]
        assert shown["linkinfo"]["info_data"]["mode"] == main["mode"], shown["linkinfo"]
        check(runtime, run, rt, result)
        runtime.delete(run, rt, result)
        deleted = True
        assert box.link() is None, f"{IFNAME} still in {box.netns} after DEL"
    finally:
        if not deleted:
            with contextlib.suppress(CniError):
                runtime.delete(run, rt, result)


# --- sriov ---------------------------------------------------------------------------------------------------------


def _as_multus_delegates(conflist: Mapping[str, Any], mac: str | None) -> dict[str, Any]:
    """The sriov plugin's config as sriov-cni receives it: Multus adds the allocated VF's PCI
    address as ``deviceID`` and, with the mac capability, the pod's MAC as ``runtimeConfig.mac``."""
    plugin = dict(conflist["plugins"][0])
    plugin |= {"cniVersion": conflist["cniVersion"], "name": conflist["name"], "deviceID": "0000:03:02.3"}
    if mac is not None and (plugin.get("capabilities") or {}).get("mac") is True:
        plugin["runtimeConfig"] = {"mac": mac}
    return plugin


@pytest.mark.parametrize("nad_path", _params("sriov"))
def test_golden_sriov_configs_as_sriov_cni_reads_them(nad_path: Path | None) -> None:
    """No VF and no sriov-cni here: checked against sriov-cni's documented config only."""
    if nad_path is None:
        pytest.fail("no golden attachment of type sriov")
    nad, conflist = _attachment(_nad_documents(nad_path))
    resource = (nad["metadata"].get("annotations") or {}).get(RESOURCE_ANNOTATION)
    assert resource and "/" in resource, f"no {RESOURCE_ANNOTATION}: Multus would give sriov-cni no deviceID"
    main = conflist["plugins"][0]
    assert "deviceID" not in main, "deviceID is the VF the device plugin allocates per pod: Multus adds it"
    delegate = _as_multus_delegates(conflist, "02:00:5e:40:00:01")
    assert set(delegate) <= SRIOV_KEYS, sorted(set(delegate) - SRIOV_KEYS)
    assert {"name", "type", "deviceID"} <= set(delegate)  # required by the reference
    vlan = main.get("vlan", 0)
    assert isinstance(vlan, int) and 0 <= vlan <= 4094, f"vlan {vlan!r}: sriov-cni takes 0-4094"
    fixed = main.get("mac")
    tuning = conflist["plugins"][1]
    assert tuning["type"] == "tuning", conflist
    if fixed is not None:  # the VF and tuning agree on one MAC, unicast
        assert tuning.get("mac") == fixed and int(fixed.split(":")[0], 16) & 1 == 0, conflist
    else:
        assert delegate["runtimeConfig"] == {"mac": "02:00:5e:40:00:01"}
        assert tuning.get("capabilities") == {"mac": True}, tuning
    ipam = main.get("ipam") or {}
    if ipam.get("type") == "whereabouts":
        assert ipam["network_name"], ipam
    else:
        assert ipam.get("type") in (None, "static", "host-local", "dhcp", "kube-ovn"), ipam


def test_tuning_sysctl_keys_resolve_to_net_sysctls() -> None:
    """A tuning sysctl key netgen writes resolves, with the pod's interface name, below /proc/sys/net."""
    for path in GOLDEN_ATTACHMENTS:
        for plugin in _attachment(_nad_documents(path))[1]["plugins"]:
            for key in (plugin.get("sysctl") or {}) if plugin["type"] == "tuning" else ():
                resolved = _sysctl_path(key, IFNAME)
                assert resolved.startswith("/proc/sys/net/") and ".." not in resolved, (path, key)
