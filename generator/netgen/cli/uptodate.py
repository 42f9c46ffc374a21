"""``netgen render`` when OUT is up to date: done without running the pipeline.

A render whose fingerprint (:mod:`netgen.fingerprint`) is the one recorded with OUT's
manifest, while every file in OUT is still as the manifest lists it, would write nothing and
report nothing (see :func:`netgen.write.up_to_date`); it prints what that render prints and
exits 0, with ``--check`` too. The ``netgen`` command tries this before its command line
parser starts (:func:`parse_render` reads the plain forms of a render command line, the
parser the rest) and the render command again with the parser's arguments.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netgen.cli.reporters import REPORTERS
from netgen.fingerprint import Fingerprint, fingerprint
from netgen.write import up_to_date

FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class RenderRequest:
    """The arguments of ``netgen render`` that decide what it does."""

    inventory: Path
    out: Path
    facts: tuple[Path, ...] = ()
    #: the clusters selected with --cluster, None for all
    clusters: tuple[str, ...] | None = None
    templates: Path | None = None
    check: bool = False
    output_format: str = "text"

    def fingerprint(self) -> Fingerprint | None:
        return fingerprint(self.inventory, self.facts, self.templates, self.clusters)


def finish_if_up_to_date(request: RenderRequest, record: Fingerprint | None) -> bool:
    """If the render of ``record`` (the request's fingerprint) would find OUT as it is, print
    what it prints and say so; otherwise print nothing: the render must run."""
    if record is None:
        return False
    unchanged = up_to_date(request.out, record.digest, record.inputs, lock=not request.check)
    if unchanged is None:
        return False
    # no diagnostics: the json format prints its empty list, the others nothing
    if request.output_format == "json":
        sys.stdout.write(REPORTERS["json"]([]))
    if not request.check and request.output_format == "text":
        sys.stderr.write(f"netgen: {request.out}: 0 created, 0 updated, 0 removed, {unchanged} unchanged\n")
    return True


# the render options that take a value, and the flags; any other option is left to the parser
_VALUES = {
    "-o": "out",
    "--out": "out",
    "--facts": "facts",
    "--cluster": "cluster",
    "--templates": "templates",
    "--format": "format",
}
_FLAGS = {"--check": "check", "--strict": "strict", "--debug": "debug"}


def parse_render(argv: Sequence[str]) -> RenderRequest | None:
    """``netgen render`` as the command line parser reads ``argv``, when it is written in the
    plain forms only: ``--debug`` before ``render``; then one INVENTORY and options written
    whole, a value apart (``-o OUT``) or after ``=`` (``--out=OUT``), no value that starts
    with ``-``, no single-valued option twice. None for anything else (help, another command,
    ``--``, a usage error), which the parser then reads itself."""
    arguments = list(argv)
    while arguments[:1] == ["--debug"]:
        arguments.pop(0)
    if arguments[:1] != ["render"]:
        return None
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    positional: list[str] = []
    rest = arguments[1:]
    while rest:
        token = rest.pop(0)
        name, equals, attached = token.partition("=") if token.startswith("--") else (token, "", "")
        if token in _FLAGS:
            flags.add(_FLAGS[token])
        elif name in _VALUES:
            if not equals:
                if not rest:
                    return None
                attached = rest.pop(0)
            if attached.startswith("-"):
                return None
            values.setdefault(_VALUES[name], []).append(attached)
        elif token.startswith("-"):
            return None
        else:
            positional.append(token)
    single = ("out", "templates", "format")
    if len(positional) != 1 or "out" not in values or any(len(values.get(key, [])) > 1 for key in single):
        return None
    output_format = values.get("format", ["text"])[0]
    if output_format not in FORMATS:
        return None
    templates = values.get("templates")
    return RenderRequest(
        inventory=Path(positional[0]),
        out=Path(values["out"][0]),
        facts=tuple(Path(p) for p in values.get("facts", [])),
        clusters=tuple(values["cluster"]) if "cluster" in values else None,
        templates=Path(templates[0]) if templates else None,
        check="check" in flags,
        output_format=output_format,
    )
