"""The rule framework: one rule, one function, one code.

A rule is a generator of :class:`Finding`; the decorator that registers it binds its
code, and the rule's docstring is the code's explanation (`netgen explain`). Rules
must tolerate a model that other rules find wrong: they skip what they cannot judge
and leave it to the rule that owns that problem.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from netgen.diagnostics import Code, Diagnostic, Origin, Severity, register
from netgen.model import Cluster


@dataclass(frozen=True, slots=True)
class Finding:
    origin: Origin
    message: str
    hint: str


InventoryCheck = Callable[[Sequence[Cluster]], Iterable[Finding]]
ClusterCheck = Callable[[Cluster], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: Code
    #: exactly one of the two: a rule looks at all clusters at once, or at one at a time
    inventory_check: InventoryCheck | None = None
    cluster_check: ClusterCheck | None = None

    def diagnostics(self, findings: Iterable[Finding]) -> list[Diagnostic]:
        return [self.code.at(finding.origin, finding.message, finding.hint) for finding in findings]


RULES: list[Rule] = []


def inventory_rule(id: str, severity: Severity, title: str) -> Callable[[InventoryCheck], InventoryCheck]:
    """Register a rule that looks at all clusters at once (e.g. MACs unique inventory-wide)."""

    def decorate(check: InventoryCheck) -> InventoryCheck:
        RULES.append(Rule(register(id, severity, title, inspect.getdoc(check) or title), inventory_check=check))
        return check

    return decorate


def cluster_rule(id: str, severity: Severity, title: str) -> Callable[[ClusterCheck], ClusterCheck]:
    """Register a rule that looks at one cluster at a time."""

    def decorate(check: ClusterCheck) -> ClusterCheck:
        RULES.append(Rule(register(id, severity, title, inspect.getdoc(check) or title), cluster_check=check))
        return check

    return decorate
