"""The ``netgen.netgen.render`` action: `netgen render INVENTORY -o OUT` as an Ansible task.

It runs on the controller, like ``ansible.builtin.template`` renders there: the inventory,
the facts and OUT are controller paths, so no connection to the task's host is made. Its
documentation is in ``plugins/modules/render.py``, where ``ansible-doc`` looks for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.netgen.netgen.plugins.plugin_utils.report import (
    NETGEN_MISSING,
    inventory_errors,
    located,
    verification_errors,
)

if NETGEN_MISSING is None:
    import netgen

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "inventory": {"type": "path"},
    "inventory_text": {"type": "str"},
    "name": {"type": "str"},
    "out": {"type": "path", "required": True},
    "facts": {"type": "list", "elements": "path", "default": []},
    "clusters": {"type": "list", "elements": "str"},
    "strict": {"type": "bool", "default": False},
    "templates": {"type": "path"},
}
ONE_SOURCE = [("inventory", "inventory_text")]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        _, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC, mutually_exclusive=ONE_SOURCE, required_one_of=ONE_SOURCE
        )
        result = super().run(tmp, task_vars)
        if NETGEN_MISSING is not None:
            return {**result, "failed": True, "msg": NETGEN_MISSING}
        try:
            return {**result, **self._render(args)}
        except netgen.InventoryError as error:
            return {**result, **_failure(inventory_errors(error), error.diagnostics)}
        except netgen.VerificationError as error:
            return {**result, **_failure(verification_errors(error), error.diagnostics)}
        except (netgen.UsageError, netgen.OutputError) as error:
            return {**result, "failed": True, "msg": str(error)}

    def _path(self, given: str) -> Path:
        # relative to the playbook's directory, as for lookup('file'): not to wherever ansible-playbook was started
        return Path(self._loader.path_dwim(given))

    def _render(self, args: dict[str, Any]) -> dict[str, Any]:
        if args["inventory_text"] is not None:
            # bytes, because netgen.load takes a str without a line break for a path
            source: bytes | Path = args["inventory_text"].encode()
            name = args["name"] or "inventory.yaml"
        else:
            source = self._path(args["inventory"])
            name = args["name"] or str(source)
        inventory = netgen.load(source, facts=[self._path(f) for f in args["facts"]], name=name)
        templates = self._path(args["templates"]) if args["templates"] is not None else None
        out = self._path(args["out"])
        rendering = netgen.render(inventory, clusters=args["clusters"], templates=templates, previous=out)
        warnings = [located([w]) for w in rendering.warnings]
        if args["strict"] and warnings:
            return _failure(
                f"warnings are errors under strict; nothing was written:\n{located(rendering.warnings)}",
                rendering.warnings,
            )
        preview: netgen.WriteResult | None
        if self._task.check_mode:
            outcome = preview = netgen.write(rendering, out, check=True)
        else:
            # only a comparison (check=True) yields the diff, so diff mode compares before it writes
            preview = netgen.write(rendering, out, check=True) if self._task.diff else None
            outcome = netgen.write(rendering, out)
        result: dict[str, Any] = {
            "changed": outcome.changed,
            "created": list(outcome.created),
            "updated": list(outcome.updated),
            "removed": list(outcome.removed),
            "unchanged": list(outcome.unchanged),
            "msg": (
                f"{out}: {len(outcome.created)} created, {len(outcome.updated)} updated, "
                f"{len(outcome.removed)} removed, {len(outcome.unchanged)} unchanged"
                + (" (check mode: nothing written)" if self._task.check_mode else "")
            ),
        }
        if warnings:
            # Ansible shows a result's `warnings` as warnings, one per netgen warning
            result["warnings"] = warnings
        if self._task.diff and preview is not None and preview.diff:
            # netgen's unified diff, as `netgen render --check` prints it, manifest and removed files included
            result["diff"] = [{"prepared": preview.diff}]
        return result


def _failure(message: str, diagnostics: list[netgen.Diagnostic]) -> dict[str, Any]:
    return {"failed": True, "changed": False, "msg": message, "diagnostics": [d.as_dict() for d in diagnostics]}
