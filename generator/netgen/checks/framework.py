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
    check: InventoryCheck

    def run(self, clusters: Sequence[Cluster]) -> Iterable[Diagnostic]:
        for finding in self.check(clusters):
            yield self.code.at(finding.origin, finding.message, finding.hint)


RULES: list[Rule] = []


def inventory_rule(id: str, severity: Severity, title: str) -> Callable[[InventoryCheck], InventoryCheck]:
    """Register a rule that looks at all clusters at once (e.g. MACs unique inventory-wide)."""

    def decorate(check: InventoryCheck) -> InventoryCheck:
        RULES.append(Rule(register(id, severity, title, inspect.getdoc(check) or title), check))
        return check

    return decorate


def cluster_rule(id: str, severity: Severity, title: str) -> Callable[[ClusterCheck], ClusterCheck]:
    """Register a rule that looks at one cluster at a time."""

    def decorate(check: ClusterCheck) -> ClusterCheck:
        def each_cluster(clusters: Sequence[Cluster]) -> Iterable[Finding]:
            for cluster in clusters:
                yield from check(cluster)

        RULES.append(Rule(register(id, severity, title, inspect.getdoc(check) or title), each_cluster))
        return check

    return decorate
