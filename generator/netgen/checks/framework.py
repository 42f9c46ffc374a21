"""The rule framework: one rule, one function, one code.

A rule is a generator of :class:`Finding`; the decorator turns it into a :class:`Rule`
bound to its code, and the rule's docstring is the code's explanation (`netgen explain`).
The rules that run are listed in :data:`netgen.checks.RULES`. Rules
must tolerate a model that other rules find wrong: they skip what they cannot judge
and leave it to the rule that owns that problem.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from netgen.diagnostics import Code, Diagnostic, Origin, Severity
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


def inventory_rule(id: str, severity: Severity, title: str) -> Callable[[InventoryCheck], Rule]:
    """A rule that looks at all clusters at once (e.g. MACs unique inventory-wide)."""

    def decorate(check: InventoryCheck) -> Rule:
        return Rule(Code(id, severity, title, inspect.getdoc(check) or title), inventory_check=check)

    return decorate


def cluster_rule(id: str, severity: Severity, title: str) -> Callable[[ClusterCheck], Rule]:
    """A rule that looks at one cluster at a time."""

    def decorate(check: ClusterCheck) -> Rule:
        return Rule(Code(id, severity, title, inspect.getdoc(check) or title), cluster_check=check)

    return decorate
