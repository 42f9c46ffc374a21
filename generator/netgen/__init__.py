"""netgen: network configuration for Talos, Multus, MetalLB and vcluster, correct by construction.

The whole library API::

    inventory = netgen.load("inventory.yaml", facts=["facts/"])
    diagnostics = netgen.validate(inventory)
    rendered = netgen.render(inventory)          # a Rendering: files, clusters, inputs, warnings
    result = netgen.write(rendered, "out/", check=False)   # removes stale files only where rendered
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from netgen.diagnostics import Diagnostic, Origin, Severity
from netgen.errors import (
    DiagnosticsError,
    InventoryError,
    NetgenError,
    OutputError,
    UsageError,
    VerificationError,
)
from netgen.write import WriteResult

if TYPE_CHECKING:
    from netgen.api import Rendering, load, render, validate, write
    from netgen.model import Inventory
    from netgen.version import __version__

# `load` and `write` also name a subpackage and a module: importing one binds its name in this
# package, so both are imported now and their names then left to the API functions below
importlib.import_module("netgen.load")
del globals()["load"], globals()["write"]

# the pipeline is imported when first used, so `netgen --help` does not load it
_LAZY = {
    "Inventory": "netgen.model",
    "Rendering": "netgen.api",
    "__version__": "netgen.version",
    "load": "netgen.api",
    "render": "netgen.api",
    "validate": "netgen.api",
    "write": "netgen.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Diagnostic",
    "DiagnosticsError",
    "Inventory",
    "InventoryError",
    "NetgenError",
    "Origin",
    "OutputError",
    "Rendering",
    "Severity",
    "UsageError",
    "VerificationError",
    "WriteResult",
    "__version__",
    "load",
    "render",
    "validate",
    "write",
]
