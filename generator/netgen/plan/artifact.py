"""What a planner produces: one output file, described as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Artifact:
    #: output path relative to OUT, always starting with the cluster's name
    path: str
    template: str
    context: Mapping[str, Any]
    #: netgen schema (``schemas/<schema>.schema.json``) every document must satisfy
    schema: str
