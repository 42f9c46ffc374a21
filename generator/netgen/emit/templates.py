"""Rendering planned artifacts through jinja2 templates.

Templates run with ``StrictUndefined``: a missing value is an error, never an empty
string. Every value reaches the output through the ``yaml`` filter, which quotes whatever
a YAML 1.1 or 1.2 reader could take for anything but the same string. With template
overrides (``--templates DIR``) every template runs in jinja2's immutable sandbox: an
override can be included from a built-in template too. The built-in templates alone are
netgen's own code and run without the sandbox's checks on every attribute access.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from netgen.diagnostics import Code, Origin, Severity
from netgen.plan.artifact import Artifact
from netgen.resources import resource_dir

TEMPLATE_FAILED = Code(
    "NG902",
    Severity.ERROR,
    "template failed",
    """
    A template could not be rendered: a syntax error, or a value the template asks for that
    the plan does not have. With the built-in templates this is a bug in netgen; with
    `--templates DIR` it is a mistake in the override named in the message.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (TEMPLATE_FAILED,)

# plain scalars that every YAML reader takes as the same string: start with a letter,
# then letters, digits and a few safe punctuation marks
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")
# words YAML 1.1 (or 1.2) would read as booleans or null
_RESERVED = re.compile(r"^(y|n|yes|no|on|off|true|false|null)$", re.IGNORECASE)


def yaml_scalar(value: object) -> str:
    """A scalar as YAML text that reads back as the same value under YAML 1.1 and 1.2."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if not isinstance(value, str):
        raise TypeError(f"the yaml filter takes strings, numbers and booleans, not {type(value).__name__}")
    if _PLAIN.match(value) and not _RESERVED.match(value):
        return value
    if '"' in value and "'" not in value and value.isprintable():
        return f"'{value}'"
    return json.dumps(value)


def json_block(value: object) -> str:
    """JSON for a YAML block scalar (``key: |``): indented, one key per line, no trailing spaces."""
    return json.dumps(value, indent=2)


class RenderError(Exception):
    def __init__(self, artifact: Artifact, message: str) -> None:
        self.diagnostic = TEMPLATE_FAILED.at(
            Origin(artifact.path), f"template {artifact.template}: {message}", "fix the template"
        )
        super().__init__(message)


class Renderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        search_path = [resource_dir("templates")]
        if override_dir is not None:
            search_path.insert(0, override_dir)
        environment = jinja2.Environment if override_dir is None else ImmutableSandboxedEnvironment
        self.environment = environment(
            loader=jinja2.FileSystemLoader(search_path),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.environment.filters["yaml"] = yaml_scalar
        self.environment.filters["json"] = json_block

    def is_override(self, template: str) -> bool:
        return self.override_dir is not None and (self.override_dir / template).is_file()

    def render(self, artifact: Artifact, header: str) -> str:
        try:
            body = self.environment.get_template(artifact.template).render(artifact.context)
        except jinja2.TemplateSyntaxError as error:
            raise RenderError(artifact, f"line {error.lineno}: {error.message}") from error
        except (jinja2.TemplateError, TypeError) as error:
            raise RenderError(artifact, str(error)) from error
        return header + body
