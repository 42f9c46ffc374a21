"""Documentation of every diagnostic code, for `netgen explain` and docs/diagnostics.md."""

from __future__ import annotations

import textwrap

import netgen.api  # noqa: F401  (importing the pipeline registers every code)
from netgen.diagnostics import CODES, Code


def _ordered() -> list[Code]:
    return [CODES[code] for code in sorted(CODES)]


def explain(code_id: str) -> str | None:
    code = CODES.get(code_id.upper())
    if code is None:
        return None
    body = textwrap.fill(" ".join(code.explanation.split()), width=88)
    return f"{code.id} ({code.severity}): {code.title}\n\n{body}\n"


def listing() -> str:
    return "".join(f"{code.id}  {code.severity:<7}  {code.title}\n" for code in _ordered())


def markdown() -> str:
    parts = [
        "# Diagnostic codes\n\n",
        "Every problem netgen reports has one of these codes. `netgen explain CODE` prints the same text.\n\n",
        "| code | severity | title |\n|---|---|---|\n",
        *(f"| [{c.id}](#{c.id.lower()}) | {c.severity} | {c.title} |\n" for c in _ordered()),
    ]
    for code in _ordered():
        parts.append(f"\n## {code.id}\n\n**{code.title}** ({code.severity})\n\n{' '.join(code.explanation.split())}\n")
    return "".join(parts)
