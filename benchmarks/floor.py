"""The floor the benchmark compares netgen with: the least any generator must do.

Load the inventory with ruamel.yaml's C loader, then render and write the same output
files with bare jinja2 (one template call per file, no planning, checks or verification).
The files' texts come from a netgen render made beforehand (``expected``), so the floor
writes exactly what netgen writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jinja2
from ruamel.yaml import YAML


def floor(inventory: Path, expected: Path, out: Path) -> int:
    YAML(typ="safe", pure=False).load(inventory.read_text())
    template = jinja2.Environment(keep_trailing_newline=True, autoescape=False).from_string("{{ body }}")
    written = 0
    for source in sorted(p for p in expected.rglob("*") if p.is_file()):
        target = out / source.relative_to(expected)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.render(body=source.read_text()))
        written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inventory", type=Path)
    parser.add_argument("expected", type=Path, help="a netgen render of the inventory")
    parser.add_argument("out", type=Path)
    arguments = parser.parse_args()
    floor(arguments.inventory, arguments.expected, arguments.out)


if __name__ == "__main__":
    main()
