"""netgen: network configuration for Talos, Multus, MetalLB and vcluster, correct by construction.

The whole library API::

    inventory = netgen.load("inventory.yaml", facts=["facts/"])
    diagnostics = netgen.validate(inventory)
    rendered = netgen.render(inventory)          # a Rendering: files, clusters, inputs, warnings
    result = netgen.write(rendered, "out/", check=False)   # removes stale files only where rendered
"""

from netgen.api import Rendering, __version__, load, render, validate, write
from netgen.diagnostics import Diagnostic, Origin, Severity
from netgen.errors import (
    DiagnosticsError,
    InventoryError,
    NetgenError,
    OutputError,
    UsageError,
    VerificationError,
)
from netgen.model import Inventory
from netgen.write import WriteResult

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
