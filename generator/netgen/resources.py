"""Where the templates and schemas that ship with netgen live."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A wheel carries ``templates/`` and ``schemas/`` inside the package; a source
    checkout (and so an editable install) keeps them at the top of the repository."""
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _PACKAGE.parents[1] / name


@cache
def schema(name: str) -> dict[str, Any]:
    """A schema from ``schemas/``, by file name without ``.schema.json``."""
    with (resource_dir("schemas") / f"{name}.schema.json").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded
