"""A small libcni-like runner for CNI network configuration lists (tests only).

It executes the reference plugins (Debian's ``containernetworking-plugins`` in ``/usr/lib/cni``)
the way libcni (``containernetworking/cni libcni/api.go``) and Multus do:

- ADD runs the plugins in order. Each plugin's request is its own configuration with ``name`` and
  ``cniVersion`` from the list, ``prevResult`` = the previous plugin's result (none for the first),
  and ``runtimeConfig`` holding only the capability args the plugin declares ``true`` in
  ``capabilities`` (omitted when none apply); ``capabilities`` itself is not sent.
- CHECK runs the plugins in order, each with the final ADD result as ``prevResult``
  (skipped when the list sets ``disableCheck``).
- DEL runs the plugins in reverse order, each with the final ADD result as ``prevResult``.

A plugin that exits non-zero raises :class:`CniError` carrying its JSON error
(``code``, ``msg``, ``details``). Every plugin run is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLUGIN_DIR = Path("/usr/lib/cni")
DEFAULT_TIMEOUT = 30.0

JSONObject = dict[str, Any]

_PLUGIN_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class CniError(Exception):
    """A plugin failed: its CNI error object (or why there is none) and its raw output."""

    def __init__(
        self,
        *,
        plugin: str,
        command: str,
        msg: str,
        code: int | None = None,
        details: str = "",
        returncode: int | None = None,
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        self.plugin = plugin
        self.command = command
        self.code = code
        self.msg = msg
        self.details = details
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        text = f"{plugin} {command} failed"
        if code is not None:
            text += f" (CNI error code {code})"
        text += f": {msg}"
        if details:
            text += f" ({details})"
        if stderr.strip():
            text += f"; stderr: {stderr.strip()}"
        super().__init__(text)

    @property
    def error(self) -> JSONObject:
        """The plugin's error as the CNI spec's JSON error object."""
        obj: JSONObject = {"msg": self.msg}
        if self.code is not None:
            obj["code"] = self.code
        if self.details:
            obj["details"] = self.details
        return obj


@dataclass(frozen=True)
class RuntimeConf:
    """What the runtime knows about the attachment: libcni's ``RuntimeConf``."""

    container_id: str
    netns: str
    ifname: str
    capability_args: Mapping[str, Any] = field(default_factory=dict)
    cni_args: str = ""


@dataclass(frozen=True)
class Invocation:
    """One plugin run, kept for assertions and failure messages."""

    plugin: str
    command: str
    request: JSONObject
    result: JSONObject | None


def multus_cni_args(
    *,
    pod_namespace: str,
    pod_name: str,
    infra_container_id: str,
    pod_uid: str,
    mac: str | None = None,
) -> str:
    """``CNI_ARGS`` as Multus sends them (``createRuntimeConf``; ``MAC=`` appended by ``DelegateAdd``)."""
    args = (
        f"IgnoreUnknown=true;K8S_POD_NAMESPACE={pod_namespace};K8S_POD_NAME={pod_name};"
        f"K8S_POD_INFRA_CONTAINER_ID={infra_container_id};K8S_POD_UID={pod_uid}"
    )
    if mac is not None:
        args += f";MAC={mac}"
    return args


def plugin_request(
    network: Mapping[str, Any],
    plugin: Mapping[str, Any],
    capability_args: Mapping[str, Any],
    prev_result: Mapping[str, Any] | None,
) -> JSONObject:
    """The configuration one plugin receives on stdin (libcni ``buildOneConfig`` + ``injectRuntimeConfig``)."""
    request: JSONObject = json.loads(json.dumps(plugin))  # a deep copy that is plain JSON
    capabilities = request.pop("capabilities", None) or {}
    if not isinstance(capabilities, dict):
        raise ValueError(f"plugin {plugin.get('type')!r}: capabilities must be an object, got {capabilities!r}")
    request["name"] = network["name"]
    request["cniVersion"] = network["cniVersion"]
    runtime_config = {
        key: capability_args[key] for key, enabled in capabilities.items() if enabled is True and key in capability_args
    }
    if runtime_config:
        request["runtimeConfig"] = runtime_config
    else:
        request.pop("runtimeConfig", None)
    if prev_result is not None:
        request["prevResult"] = json.loads(json.dumps(prev_result))
    else:
        request.pop("prevResult", None)
    return request


class CniRuntime:
    """Runs a network configuration list's plugins from ``plugin_dir``."""

    def __init__(self, plugin_dir: Path = PLUGIN_DIR, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.plugin_dir = plugin_dir
        self.timeout = timeout
        self.invocations: list[Invocation] = []

    def add(self, network: Mapping[str, Any], rt: RuntimeConf) -> JSONObject:
        """ADD every plugin in order; returns the final result (what libcni caches)."""
        prev: JSONObject | None = None
        for plugin in _plugins(network):
            result = self._exec("ADD", network, plugin, rt, prev)
            if result is None:
                raise CniError(plugin=str(plugin["type"]), command="ADD", msg="plugin returned no result")
            prev = result
        if prev is None:
            raise ValueError(f"network {network.get('name')!r} has no plugins")
        return prev

    def check(self, network: Mapping[str, Any], rt: RuntimeConf, result: Mapping[str, Any]) -> None:
        """CHECK every plugin in order against the final ADD result."""
        if network.get("disableCheck") is True:
            return
        for plugin in _plugins(network):
            self._exec("CHECK", network, plugin, rt, result)

    def delete(self, network: Mapping[str, Any], rt: RuntimeConf, result: Mapping[str, Any] | None) -> None:
        """DEL every plugin in reverse order with the final ADD result (``None`` if ADD never finished)."""
        for plugin in reversed(_plugins(network)):
            self._exec("DEL", network, plugin, rt, result)

    def version(self, plugin_type: str) -> JSONObject:
        """The plugin's VERSION answer (``supportedVersions``)."""
        result = self._run(plugin_type, "VERSION", {"cniVersion": "0.1.0"}, env={})
        if result is None:
            raise CniError(plugin=plugin_type, command="VERSION", msg="plugin returned no result")
        return result

    def _exec(
        self,
        command: str,
        network: Mapping[str, Any],
        plugin: Mapping[str, Any],
        rt: RuntimeConf,
        prev_result: Mapping[str, Any] | None,
    ) -> JSONObject | None:
        request = plugin_request(network, plugin, rt.capability_args, prev_result)
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": rt.container_id,
            "CNI_NETNS": rt.netns,
            "CNI_IFNAME": rt.ifname,
            "CNI_ARGS": rt.cni_args,
            "CNI_PATH": str(self.plugin_dir),
        }
        result = self._run(str(plugin["type"]), command, request, env)
        self.invocations.append(Invocation(str(plugin["type"]), command, request, result))
        return result

    def _run(
        self, plugin_type: str, command: str, request: Mapping[str, Any], env: Mapping[str, str]
    ) -> JSONObject | None:
        if not _PLUGIN_TYPE.fullmatch(plugin_type):
            raise CniError(plugin=plugin_type, command=command, msg="invalid plugin type")
        binary = self.plugin_dir / plugin_type
        if not binary.is_file():
            raise CniError(plugin=plugin_type, command=command, msg=f"failed to find plugin in {self.plugin_dir}")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
        environ.update(env, CNI_COMMAND=command)
        try:
            proc = subprocess.run(
                [str(binary)],
                input=json.dumps(request).encode(),
                env=environ,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CniError(
                plugin=plugin_type,
                command=command,
                msg=f"timed out after {self.timeout:g} s",
                stdout=_text(exc.stdout),
                stderr=_text(exc.stderr),
            ) from None
        stdout, stderr = _text(proc.stdout), _text(proc.stderr)
        if proc.returncode != 0:
            error = _json_object(stdout)
            if error is None:
                raise CniError(
                    plugin=plugin_type,
                    command=command,
                    msg=f"exited {proc.returncode} without a JSON error",
                    returncode=proc.returncode,
                    stdout=stdout,
                    stderr=stderr,
                )
            code = error.get("code")
            raise CniError(
                plugin=plugin_type,
                command=command,
                code=code if isinstance(code, int) else None,
                msg=str(error.get("msg", "")),
                details=str(error.get("details", "")),
                returncode=proc.returncode,
                stdout=stdout,
                stderr=stderr,
            )
        if not stdout.strip():
            return None
        result = _json_object(stdout)
        if result is None:
            raise CniError(
                plugin=plugin_type, command=command, msg="output is not a JSON object", stdout=stdout, stderr=stderr
            )
        return result


def interface_mac(result: Mapping[str, Any], ifname: str, netns: str) -> str | None:
    """The MAC the result reports for ``ifname`` inside the sandbox ``netns`` (None if absent)."""
    for iface in _objects(result.get("interfaces", [])):
        if iface.get("name") == ifname and iface.get("sandbox") == netns:
            mac = iface.get("mac")
            return str(mac) if mac is not None else None
    return None


def _plugins(network: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    for key in ("name", "cniVersion"):
        if not isinstance(network.get(key), str):
            raise ValueError(f"network configuration list needs a string {key!r}")
    plugins = network.get("plugins")
    if not isinstance(plugins, list) or not plugins:
        raise ValueError("network configuration list needs a non-empty 'plugins' list")
    for plugin in plugins:
        if not isinstance(plugin, dict) or not isinstance(plugin.get("type"), str):
            raise ValueError(f"every plugin needs a string 'type': {plugin!r}")
    return plugins


def _objects(items: Any) -> Iterable[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _json_object(text: str) -> JSONObject | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
