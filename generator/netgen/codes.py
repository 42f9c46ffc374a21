"""The table of every diagnostic code netgen reports, and their documentation.

Each stage declares the codes it reports next to the code that reports them (a rule's
docstring is its code's explanation); this table lists them all, once, in code order. It is
what `netgen explain` prints and what docs/diagnostics.md is made from (`make docs`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from netgen.checks import RULES
from netgen.diagnostics import Code
from netgen.emit import templates, verify
from netgen.load import builder, facts, facts_match, reader, structure


def _table(codes: Iterable[Code]) -> Mapping[str, Code]:
    table: dict[str, Code] = {}
    for code in codes:
        if code.id in table:
            raise ValueError(f"diagnostic code {code.id} is declared twice")
        table[code.id] = code
    return MappingProxyType(dict(sorted(table.items())))


CODES: Mapping[str, Code] = _table(
    [
        *reader.CODES,
        *structure.CODES,
        *builder.CODES,
        *facts.CODES,
        *facts_match.CODES,
        *(rule.code for rule in RULES),
        *templates.CODES,
        *verify.CODES,
    ]
)


def explain(code_id: str) -> str | None:
    code = CODES.get(code_id.upper())
    if code is None:
        return None
    body = textwrap.fill(" ".join(code.explanation.split()), width=88)
    return f"{code.id} ({code.severity}): {code.title}\n\n{body}\n"


def listing() -> str:
    return "".join(f"{code.id}  {code.severity:<7}  {code.title}\n" for code in CODES.values())


def markdown() -> str:
    parts = [
        "# Diagnostic codes\n\n",
        "Every problem netgen reports has one of these codes. `netgen explain CODE` prints the same text.\n\n",
        "| code | severity | title |\n|---|---|---|\n",
        *(f"| [{c.id}](#{c.id.lower()}) | {c.severity} | {c.title} |\n" for c in CODES.values()),
    ]
    for code in CODES.values():
        parts.append(f"\n## {code.id}\n\n**{code.title}** ({code.severity})\n\n{' '.join(code.explanation.split())}\n")
    return "".join(parts)
