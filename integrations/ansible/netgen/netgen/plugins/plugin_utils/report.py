"""What the netgen plugins tell the user: netgen's own diagnostics text, never a traceback.

Both plugins run on the controller and import ``netgen`` from the controller's Python.
A missing ``netgen`` is a setup mistake, so the import error is kept and reported as
a task failure that says how to fix it, instead of the plugin failing to load.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

try:
    import netgen
    from netgen.cli.reporters import text
except ImportError as error:
    NETGEN_MISSING: str | None = (
        f"the netgen Python package is not importable by the Ansible controller's Python ({sys.executable}): "
        f"{error}; install it there with `{sys.executable} -m pip install netgen` (or the path of a netgen checkout)"
    )
else:
    NETGEN_MISSING = None


def located(diagnostics: Sequence[netgen.Diagnostic]) -> str:
    """The diagnostics as `netgen render` prints them: ``file:line:col: severity[CODE]: message``, then the hint."""
    return text(diagnostics).rstrip("\n")


def inventory_errors(error: netgen.InventoryError) -> str:
    return f"the inventory has errors:\n{located(error.diagnostics)}"


def verification_errors(error: netgen.VerificationError) -> str:
    # the user's inventory is fine here: point at the templates instead
    return f"a rendered file is invalid (a bad template override, or a bug in netgen):\n{located(error.diagnostics)}"
